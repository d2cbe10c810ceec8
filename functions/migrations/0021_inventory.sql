-- Stock per product: `available` can be sold, `reserved` is held for unpaid orders. Both are
-- never negative (the CHECKs are the last line of defence; reserve_stock locks rows first).
CREATE TABLE inventory (
    product_id uuid        PRIMARY KEY REFERENCES products (id),
    available  integer     NOT NULL CHECK (available >= 0),
    reserved   integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One reservation per order (the order id is the idempotency key of reserve/commit/release).
CREATE TABLE reservations (
    order_id   uuid        PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('held', 'committed', 'released')),
    expires_at timestamptz NOT NULL,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The expiry sweep scans only held reservations, oldest deadline first.
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE status = 'held';

CREATE TABLE reservation_lines (
    order_id   uuid    NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    product_id uuid    NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);
