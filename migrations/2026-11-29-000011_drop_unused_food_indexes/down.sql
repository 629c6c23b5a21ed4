CREATE INDEX foods_food_code_idx ON foods (food_code);
CREATE INDEX foods_dietary_tags_idx ON foods USING gin (dietary_tags);
