-- Idempotency-Key claims (fnkit.idempotency): one row per (scope, owner, key). The unique key
-- decides which of two concurrent requests runs; the other waits and replays the stored outcome.
CREATE TABLE idempotency_keys (
    scope           text        NOT NULL,
    owner           text        NOT NULL,
    key             text        NOT NULL,
    fingerprint     text        NOT NULL,
    resource_id     text        NOT NULL,
    attempt         text        NOT NULL,
    locked_until    timestamptz NOT NULL,
    response_status integer,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (scope, owner, key)
);
CREATE INDEX idempotency_keys_completed ON idempotency_keys (completed_at) WHERE completed_at IS NOT NULL;
