DROP TABLE scheduled_runs;
DROP TABLE processed_jobs;
