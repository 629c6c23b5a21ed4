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

-- Words are inserted in order, so that two writers adding the same new words cannot deadlock. Inserted and
-- updated foods alike (an update's transition table holds the new rows; a trigger with a transition table
-- cannot be limited to the name columns, and words already known cost an index probe each).
CREATE FUNCTION foods_vocabulary_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT DISTINCT w.word
    FROM new_foods AS n, unnest(string_to_array(n.search_text, ' ')) AS w(word)
    WHERE length(w.word) >= 3
    ORDER BY w.word
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER foods_vocabulary_on_insert AFTER INSERT ON foods
    REFERENCING NEW TABLE AS new_foods FOR EACH STATEMENT EXECUTE FUNCTION foods_vocabulary_written();
CREATE TRIGGER foods_vocabulary_on_update AFTER UPDATE ON foods
    REFERENCING NEW TABLE AS new_foods FOR EACH STATEMENT EXECUTE FUNCTION foods_vocabulary_written();
