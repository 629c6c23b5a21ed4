-- What any viewer is shown of a food's analysis (the dietary engine's `AnalysisSummary`, JSON), stored beside the
-- full analysis: search results for anonymous viewers read this instead of the ingredient-by-ingredient analysis,
-- a tenth of its size, which was half of what such a search cost PostgreSQL and the API.
ALTER TABLE foods ADD COLUMN analysis_summary text;

-- The summary is the analysis without these parts (the application writes it from here on).
UPDATE foods
SET analysis_summary = (analysis::jsonb - '{ingredients,declared,unmapped_tags,nutrients,serving_size_g}'::text[])::text;

ALTER TABLE foods ALTER COLUMN analysis_summary SET NOT NULL;
