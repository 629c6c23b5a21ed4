-- The words of the catalog's search text (names and brands), three characters or more: the vocabulary that
-- misspelt queries are corrected against ("choclate" → "chocolate"). A few hundred thousand words at most where
-- the catalog has millions of foods, so a trigram look-up here takes milliseconds where one over the foods
-- rechecks a large share of them. Words are added as foods are written and never removed here: a word no food
-- uses any more is never offered as a correction, since corrections must be used by more foods than the word
-- they replace (see the adapter's food search).
CREATE TABLE search_words (
    word text COLLATE "C" PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

INSERT INTO search_words (word)
SELECT DISTINCT w.word
FROM foods AS f, unnest(string_to_array(f.search_text, ' ')) AS w(word)
WHERE length(w.word) >= 3;

-- The triggers that keep `food_words` now keep the vocabulary too. Words are inserted in order, so that two
-- writers adding the same new words cannot deadlock.
CREATE OR REPLACE FUNCTION foods_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO food_words (word, food_id)
    SELECT w.word, n.id FROM new_foods AS n, food_word_starts(n.search_text) AS w(word);
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM new_foods AS n, unnest(string_to_array(n.search_text, ' ')) AS w(word)
    WHERE length(w.word) >= 3
    ORDER BY w.word
    ON CONFLICT DO NOTHING;
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
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM old_foods AS o JOIN new_foods AS n ON n.id = o.id, unnest(string_to_array(n.search_text, ' ')) AS w(word)
    WHERE o.search_text IS DISTINCT FROM n.search_text AND length(w.word) >= 3
    ORDER BY w.word
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
