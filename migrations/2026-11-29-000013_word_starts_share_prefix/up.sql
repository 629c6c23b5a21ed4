-- Each word start records how many characters it shares with the previous word start of its food, in key order.
-- A search keeps each food once, at its first word start that matches the query's key. A food's word starts
-- that start with the key are consecutive in key order, so a word start is its food's first match exactly when
-- its previous word start does not also start with the key, that is when they share fewer characters than the
-- key has: `shared < length(key)`, read from the index entry that the search already reads. It replaces an
-- anti-join that descended `(food_id, word)` once per word start read: at 710,000 foods, the statement of a
-- three-letter search took 0.25–0.36 ms before, 0.19–0.26 ms after (docs/benchmarks.md). Nothing reads the word starts by food and word
-- any more: the food's index is only for the triggers' deletes and the foreign key, on `food_id` alone.
--
-- The table is rebuilt rather than updated in place, as in 000010; its keys keep their names.

-- The number of leading characters that `a` and `b` have in common.
CREATE FUNCTION shared_prefix_chars(a text, b text) RETURNS int2
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(min(i) - 1, least(length(a), length(b)))::int2
    FROM generate_series(1, least(length(a), length(b))) AS i
    WHERE substr(a, i, 1) <> substr(b, i, 1)
$$;

-- `food_word_starts`, each with the characters it shares with the one before it in key order (0 for the first).
CREATE FUNCTION food_word_keys(search_text text) RETURNS TABLE (word text, shared int2)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s.word, coalesce(shared_prefix_chars(s.word, lag(s.word) OVER (ORDER BY s.word COLLATE "C")), 0)
    FROM food_word_starts(search_text) AS s(word)
$$;

CREATE TABLE food_words_with_shared (
    word          text COLLATE "C" NOT NULL,
    food_id       uuid             NOT NULL,
    shared        int2             NOT NULL,
    category_main text,
    category_sub  text
);
INSERT INTO food_words_with_shared (word, food_id, shared, category_main, category_sub)
SELECT word, food_id,
       coalesce(shared_prefix_chars(word, lag(word) OVER (PARTITION BY food_id ORDER BY word)), 0),
       category_main, category_sub
FROM food_words
ORDER BY word, food_id;
DROP TABLE food_words;
ALTER TABLE food_words_with_shared RENAME TO food_words;
-- `shared` is carried in the indexes that the word tiers read, so that they stay index-only scans.
ALTER TABLE food_words
    ADD CONSTRAINT food_words_pkey PRIMARY KEY (word, food_id) INCLUDE (shared),
    ADD CONSTRAINT food_words_food_id_fkey FOREIGN KEY (food_id) REFERENCES foods (id) ON DELETE CASCADE;
CREATE INDEX food_words_food_idx ON food_words (food_id);
CREATE INDEX food_words_category_main_idx ON food_words (category_main, word, food_id) INCLUDE (shared)
    WHERE category_main IS NOT NULL;
CREATE INDEX food_words_category_sub_idx ON food_words (category_sub, word, food_id) INCLUDE (shared)
    WHERE category_sub IS NOT NULL;

CREATE OR REPLACE FUNCTION foods_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO food_words (word, food_id, shared, category_main, category_sub)
    SELECT w.word, n.id, w.shared, n.category_main, n.category_sub
    FROM new_foods AS n, food_word_keys(n.search_text) AS w;
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
    INSERT INTO food_words (word, food_id, shared, category_main, category_sub)
    SELECT w.word, n.id, w.shared, n.category_main, n.category_sub
    FROM old_foods AS o JOIN new_foods AS n ON n.id = o.id, food_word_keys(n.search_text) AS w
    WHERE (o.search_text, o.category_main, o.category_sub)
          IS DISTINCT FROM (n.search_text, n.category_main, n.category_sub);
    RETURN NULL;
END
$$;
