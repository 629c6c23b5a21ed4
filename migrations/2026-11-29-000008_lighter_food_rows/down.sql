CREATE OR REPLACE FUNCTION food_word_starts(search_text text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT DISTINCT left(array_to_string(words[i:], ' '), 32)
    FROM (SELECT string_to_array(search_text, ' ') AS words) AS split,
         generate_subscripts(words, 1) AS i
    WHERE i > 1 AND words[i] <> ''
$$;

-- The full analyses are gone: summaries with empty ingredient parts stand in, marked stale, so that verdicts
-- re-analyse the food and the background re-analysis rewrites every one.
ALTER TABLE foods ADD COLUMN analysis text;
UPDATE foods
SET analysis = (analysis_summary::jsonb
                || '{"ingredients": [], "declared": [], "unmapped_tags": [], "nutrients": {}}'::jsonb)::text,
    analysis_version = 0;
ALTER TABLE foods ALTER COLUMN analysis SET NOT NULL;
