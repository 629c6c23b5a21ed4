DROP TABLE food_words;
DROP TABLE foods;
DROP FUNCTION foods_words_updated();
DROP FUNCTION foods_words_inserted();
DROP FUNCTION food_word_starts(text);
