-- Two indexes that no statement uses: nothing looks foods up by code (imports meet foods by natural key), and the
-- suitability filter is checked on the rows that a search's ordered walk reads (`NOT (dietary_tags && …)` cannot
-- use a GIN index, and a required tag is never planned through it). Over every benchmark shape both stayed at zero
-- scans, while a first load of 700,000 foods spent 1.9 s building them and every write kept them up.
DROP INDEX foods_food_code_idx;
DROP INDEX foods_dietary_tags_idx;
