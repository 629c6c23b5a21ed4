ALTER TABLE foods DROP COLUMN analysis_summary;
