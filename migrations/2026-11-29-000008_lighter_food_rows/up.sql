-- A food's ingredient-by-ingredient analysis is no longer stored. It is a pure function of the food's own columns
-- (ingredient text, allergen, trace and label tags, nutrients, serving size) that the application computes in a
-- few microseconds, yet it was two thirds of every row: 1.1 kB of 1.7 kB, written by every import and read by
-- every verdict. What SQL and anonymous readers need of it stays: `analysis_summary`, `dietary_tags` and
-- `analysis_version`. Dropping a column is instant; the space comes back as rows are rewritten.
ALTER TABLE foods DROP COLUMN analysis;

-- Not STRICT, so that PostgreSQL inlines it into the query that calls it instead of running it as a function
-- call per food: the word-start trigger took twice as long (5.6 s of a 100,000-food import's 13 s). A null text
-- has no word starts either way.
CREATE OR REPLACE FUNCTION food_word_starts(search_text text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT left(array_to_string(words[i:], ' '), 32)
    FROM (SELECT string_to_array(search_text, ' ') AS words) AS split,
         generate_subscripts(words, 1) AS i
    WHERE i > 1 AND words[i] <> ''
$$;
