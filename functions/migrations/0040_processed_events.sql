-- Idempotent consumers (fnkit.consumer): one row per CloudEvent a consumer has applied, written
-- in the same transaction as the event's effect. Redelivery finds the row and changes nothing;
-- a rolled-back attempt leaves no row, so the retry applies the event. CloudEvents are unique
-- by (source, id), so both are part of the key.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_source text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_source, event_id)
);
-- For pruning rows older than the topics' retention (a redelivery cannot be older than that).
CREATE INDEX processed_events_by_time ON processed_events (processed_at);
