-- Content-similar neighbours (recommendations_train: TF-IDF over each live product's name,
-- category and description), the cold-start lists read after a product's co-purchase neighbours.
-- They belong to a model version like its co-purchase neighbours, so the same switch of `active`
-- changes both at once, and pruning a version removes them too (ON DELETE CASCADE). Versions
-- trained before this migration have none: readers then go on to the category's popular products.
--
-- One row per product, its neighbours as arrays (best first), not one row per neighbour as in
-- recommendation_neighbours: the content model lists nearly every live product (30 neighbours
-- each: 600k rows at 20,000 products), and a row per neighbour made the COPY 5 times slower
-- (1,188 products: 230 ms against 43 ms; the key, foreign key and checks cost per row).
CREATE TABLE recommendation_content_neighbours (
    version    bigint             NOT NULL REFERENCES recommendation_models (version) ON DELETE CASCADE,
    product_id uuid               NOT NULL,
    other_ids  uuid[]             NOT NULL,
    scores     double precision[] NOT NULL, -- cosine of the TF-IDF vectors, scores[i] that of other_ids[i]
    PRIMARY KEY (version, product_id),
    CHECK (cardinality(other_ids) > 0 AND cardinality(other_ids) = cardinality(scores)),
    CHECK (product_id <> ALL (other_ids)),
    CHECK (0 < ALL (scores) AND 1 >= ALL (scores))
);

-- What the content model of a version holds; 0 for versions trained before it existed.
ALTER TABLE recommendation_models
    ADD COLUMN content_products integer NOT NULL DEFAULT 0 CHECK (content_products >= 0), -- products with content neighbours
    ADD COLUMN content_terms    integer NOT NULL DEFAULT 0 CHECK (content_terms >= 0);    -- TF-IDF vocabulary size
