-- A user's address book. At most one default shipping address per user, enforced by the
-- partial unique index; the users function also serialises a user's address writes by
-- locking the users row, so "set a new default" unsets the old one atomically.
CREATE TABLE addresses (
    id                  uuid        PRIMARY KEY,
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label               text,
    recipient           text        NOT NULL,
    line1               text        NOT NULL,
    line2               text,
    city                text        NOT NULL,
    region              text,
    postal_code         text        NOT NULL,
    country             char(2)     NOT NULL,
    phone               text,
    is_default_shipping boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_by_user ON addresses (user_id, created_at, id);
CREATE UNIQUE INDEX addresses_one_default_shipping ON addresses (user_id) WHERE is_default_shipping;
