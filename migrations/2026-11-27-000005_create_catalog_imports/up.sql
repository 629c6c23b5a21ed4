-- Catalog imports uploaded by admins and run by the worker. The uploaded file lives under the import directory
-- shared by the API and the worker; the row tracks progress, committed with each batch of foods, so that a
-- worker that dies mid-import resumes after the last committed batch.
CREATE TABLE catalog_imports (
    id              uuid        PRIMARY KEY,
    requested_by    uuid        REFERENCES users (id) ON DELETE SET NULL,
    format          text        NOT NULL CHECK (format IN ('off', 'csv')),
    file_name       text        NOT NULL,
    file_path       text        NOT NULL,
    file_bytes      bigint      NOT NULL CHECK (file_bytes >= 0),
    -- Retrying a creation with the same key answers with the same import.
    idempotency_key text,
    request_hash    text,
    status          text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    -- Rows of the file fully handled and committed: a resumed run skips them.
    rows_committed  bigint      NOT NULL DEFAULT 0,
    bytes_committed bigint      NOT NULL DEFAULT 0,
    report          jsonb       NOT NULL DEFAULT '{}',
    failure         text,
    attempts        integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX catalog_imports_idempotency_idx ON catalog_imports (requested_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX catalog_imports_created_idx ON catalog_imports (created_at DESC, id DESC);
