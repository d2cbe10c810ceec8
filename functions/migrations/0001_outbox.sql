-- Transactional outbox (fnkit.outbox / fnkit.relay): events written with the change they describe.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    attributes   jsonb       NOT NULL,
    data         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- The relay only ever scans unpublished rows, in id order.
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
