-- A category's foods in name order, as a main and as a sub category: a page of a category (with or without a
-- name prefix) is a range of one of these. They replace the index on (main, sub), whose leading column the
-- first one still serves, and whose sub-category look-ups the second one does.
CREATE INDEX foods_category_main_name_idx ON foods (category_main, search_name, id);
CREATE INDEX foods_category_sub_name_idx ON foods (category_sub, search_name, id);
DROP INDEX foods_category_idx;
