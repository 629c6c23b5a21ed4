CREATE OR REPLACE FUNCTION foods_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO food_words (word, food_id)
    SELECT w.word, n.id FROM new_foods AS n, food_word_starts(n.search_text) AS w(word);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION foods_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM food_words AS w
    USING old_foods AS o JOIN new_foods AS n ON n.id = o.id
    WHERE w.food_id = o.id AND o.search_text IS DISTINCT FROM n.search_text;
    INSERT INTO food_words (word, food_id)
    SELECT w.word, n.id
    FROM old_foods AS o JOIN new_foods AS n ON n.id = o.id, food_word_starts(n.search_text) AS w(word)
    WHERE o.search_text IS DISTINCT FROM n.search_text;
    RETURN NULL;
END
$$;

DROP INDEX food_words_category_main_idx;
DROP INDEX food_words_category_sub_idx;
ALTER TABLE food_words DROP COLUMN category_main, DROP COLUMN category_sub;
