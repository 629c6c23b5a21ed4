DROP TRIGGER foods_vocabulary_on_update ON foods;
DROP TRIGGER foods_vocabulary_on_insert ON foods;
DROP FUNCTION foods_vocabulary_written();
DROP TABLE search_words;
