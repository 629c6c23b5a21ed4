CREATE INDEX foods_category_idx ON foods (category_main, category_sub);
DROP INDEX foods_category_main_name_idx;
DROP INDEX foods_category_sub_name_idx;
