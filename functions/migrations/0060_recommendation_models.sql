-- Trained item-to-item models (recommendations_train), versioned. A training writes a whole new
-- version and switches `active` to it in the same transaction, so a reader (recommendations_get)
-- sees either the old model or the new one, never a mix. Older versions are pruned by the
-- training (ON DELETE CASCADE removes their rows).
CREATE TABLE recommendation_models (
    version     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active      boolean     NOT NULL DEFAULT false,
    trained_at  timestamptz NOT NULL DEFAULT now(),
    size        integer     NOT NULL CHECK (size > 0),   -- neighbours kept per product
    pairs       integer     NOT NULL CHECK (pairs >= 0), -- co-purchase pairs read
    products    integer     NOT NULL CHECK (products >= 0), -- products with neighbours
    training_ms integer     NOT NULL CHECK (training_ms >= 0)
);
-- At most one active model: readers look it up with `WHERE active`.
CREATE UNIQUE INDEX recommendation_models_one_active ON recommendation_models (active) WHERE active;

-- A product's neighbours in one model, best first (rank 1). Reads are one primary-key range scan.
CREATE TABLE recommendation_neighbours (
    version    bigint           NOT NULL REFERENCES recommendation_models (version) ON DELETE CASCADE,
    product_id uuid             NOT NULL,
    rank       smallint         NOT NULL CHECK (rank > 0),
    other_id   uuid             NOT NULL,
    score      double precision NOT NULL CHECK (score > 0 AND score <= 1),
    PRIMARY KEY (version, product_id, rank),
    CHECK (product_id <> other_id)
);

-- The cold-start fallback: live products of each category by paid orders, as of the training.
CREATE TABLE recommendation_category_popular (
    version    bigint   NOT NULL REFERENCES recommendation_models (version) ON DELETE CASCADE,
    category   text     NOT NULL,
    rank       smallint NOT NULL CHECK (rank > 0),
    product_id uuid     NOT NULL,
    orders     integer  NOT NULL CHECK (orders >= 0),
    PRIMARY KEY (version, category, rank)
);
