-- Jobs whose side effect happened, so that a redelivered message is not acted on twice.
CREATE TABLE processed_jobs (
    job_id       uuid        PRIMARY KEY,
    kind         text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_jobs_processed_at_idx ON processed_jobs (processed_at);

-- One row per periodic task and period: the worker that inserts it runs the task, the others skip it.
CREATE TABLE scheduled_runs (
    task         text        NOT NULL,
    period_start timestamptz NOT NULL,
    claimed_by   text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text,
    PRIMARY KEY (task, period_start)
);
