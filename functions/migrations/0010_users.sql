-- Accounts (auth function writes them; users function reads and edits the profile part).
-- Emails are stored normalised (trimmed, lower-case), so the plain unique index is the
-- case-insensitive uniqueness rule. password_hash is argon2id and never leaves the database.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (email = lower(btrim(email)) AND email <> ''),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role          text        NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    name          text,
    phone         text,
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_unique ON users (email);
