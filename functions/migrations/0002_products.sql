-- Catalog. Prices are integers in minor units with an ISO 4217 currency code.
CREATE TABLE products (
    id          uuid        PRIMARY KEY,
    sku         text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    category    text        NOT NULL,
    price_minor bigint      NOT NULL CHECK (price_minor >= 0),
    currency    char(3)     NOT NULL,
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
-- Keyset pagination walks (created_at, id) among live products.
CREATE INDEX products_live_by_created ON products (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX products_live_by_category ON products (category, created_at DESC, id DESC) WHERE deleted_at IS NULL;
