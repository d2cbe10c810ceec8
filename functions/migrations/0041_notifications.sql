-- What a user is told about their orders and payments (the notifications consumer). The id is
-- derived from the CloudEvent (uuid5 of source and id), so a redelivered event cannot add a twin.
CREATE TABLE notifications (
    id          uuid        PRIMARY KEY,
    user_id     text        NOT NULL,
    kind        text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    order_id    uuid,
    payment_id  uuid,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
-- "My notifications", newest first.
CREATE INDEX notifications_by_user ON notifications (user_id, occurred_at DESC, id DESC);

-- One row per user with notifications: `version` grows with every change to their list, under
-- this row's lock, so versions follow commit order and the Redis copy is replaced only by a
-- newer one (a slower writer can never put back an older list).
CREATE TABLE notification_feeds (
    user_id text   PRIMARY KEY,
    version bigint NOT NULL
);
