-- Refresh tokens rotate on every use; all tokens descending from one login form a family.
-- Presenting a token that was already rotated revokes its whole family (stolen-token detection).
CREATE TABLE refresh_token_families (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text        CHECK (revoked_reason IN ('logout', 'reuse', 'admin'))
);
CREATE INDEX refresh_token_families_by_user ON refresh_token_families (user_id);

-- Only the sha256 of a token is stored: a database leak yields no usable refresh token.
CREATE TABLE refresh_tokens (
    token_hash text        PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    family_id  uuid        NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
