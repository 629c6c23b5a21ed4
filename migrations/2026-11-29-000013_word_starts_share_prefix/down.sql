CREATE OR REPLACE FUNCTION foods_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO food_words (word, food_id, category_main, category_sub)
    SELECT w.word, n.id, n.category_main, n.category_sub
    FROM new_foods AS n, food_word_starts(n.search_text) AS w(word);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION foods_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM food_words AS w
    USING old_foods AS o JOIN new_foods AS n ON n.id = o.id
    WHERE w.food_id = o.id
      AND (o.search_text, o.category_main, o.category_sub)
          IS DISTINCT FROM (n.search_text, n.category_main, n.category_sub);
    INSERT INTO food_words (word, food_id, category_main, category_sub)
    SELECT w.word, n.id, n.category_main, n.category_sub
    FROM old_foods AS o JOIN new_foods AS n ON n.id = o.id, food_word_starts(n.search_text) AS w(word)
    WHERE (o.search_text, o.category_main, o.category_sub)
          IS DISTINCT FROM (n.search_text, n.category_main, n.category_sub);
    RETURN NULL;
END
$$;

DROP INDEX food_words_category_main_idx;
DROP INDEX food_words_category_sub_idx;
DROP INDEX food_words_food_idx;
ALTER TABLE food_words DROP CONSTRAINT food_words_pkey;
ALTER TABLE food_words DROP COLUMN shared;
ALTER TABLE food_words ADD CONSTRAINT food_words_pkey PRIMARY KEY (word, food_id);
CREATE INDEX food_words_food_idx ON food_words (food_id, word);
CREATE INDEX food_words_category_main_idx ON food_words (category_main, word, food_id)
    WHERE category_main IS NOT NULL;
CREATE INDEX food_words_category_sub_idx ON food_words (category_sub, word, food_id)
    WHERE category_sub IS NOT NULL;

DROP FUNCTION food_word_keys(text);
DROP FUNCTION shared_prefix_chars(text, text);
