-- Jobs written in the same transaction as the data that caused them; a relay moves them to the broker.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL,
    version      smallint    NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);

-- The relay reads pending rows in id (UUIDv7, so creation) order; the partial index stays as small as the backlog.
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;
-- The janitor deletes rows published long ago.
CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL;
