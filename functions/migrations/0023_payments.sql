-- Payments of orders. The amount is copied from the order, never taken from the client.
CREATE TABLE payments (
    id                   uuid        PRIMARY KEY,
    order_id             uuid        NOT NULL REFERENCES orders (id),
    user_id              text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed', 'partially_refunded', 'refunded')),
    amount_minor         bigint      NOT NULL CHECK (amount_minor > 0),
    currency             char(3)     NOT NULL,
    refunded_minor       bigint      NOT NULL DEFAULT 0,
    refund_pending_minor bigint      NOT NULL DEFAULT 0,
    method               jsonb       NOT NULL,
    provider_ref         text,
    failure_code         text,
    failure_message      text,
    attempts             integer     NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- never refund more than was captured, even with refunds in flight
    CHECK (refunded_minor >= 0 AND refund_pending_minor >= 0 AND refunded_minor + refund_pending_minor <= amount_minor)
);
-- An order is paid at most once: only failed payments may sit beside another one.
CREATE UNIQUE INDEX payments_one_live_per_order ON payments (order_id) WHERE status <> 'failed';
CREATE INDEX payments_by_order ON payments (order_id, created_at);

CREATE TABLE refunds (
    id           uuid        PRIMARY KEY,
    payment_id   uuid        NOT NULL REFERENCES payments (id),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    status       text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    reason       text,
    provider_ref text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at);
