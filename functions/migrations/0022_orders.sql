-- Orders and their lines, priced from the catalog when placed (integers, minor units).
CREATE TABLE orders (
    id               uuid        PRIMARY KEY,
    user_id          text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded')),
    currency         char(3)     NOT NULL,
    total_minor      bigint      NOT NULL CHECK (total_minor >= 0),
    item_count       integer     NOT NULL CHECK (item_count > 0),
    shipping_address jsonb       NOT NULL,
    payment_id       uuid,
    pay_by           timestamptz NOT NULL,
    version          integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- "My orders", newest first, keyset-paginated on (created_at, id).
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    product_id       uuid    NOT NULL,
    sku              text    NOT NULL,
    name             text    NOT NULL,
    unit_price_minor bigint  NOT NULL CHECK (unit_price_minor >= 0),
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    line_total_minor bigint  NOT NULL CHECK (line_total_minor >= 0),
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, product_id)
);
