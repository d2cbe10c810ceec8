-- Co-purchases for the recommendation model (recorded from com.fnshop.order.paid): how many paid
-- orders contained both products. Each pair is stored in both directions, so "bought with X" is
-- one index range scan on product_id.
CREATE TABLE copurchases (
    product_id uuid        NOT NULL,
    other_id   uuid        NOT NULL,
    orders     integer     NOT NULL CHECK (orders > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, other_id),
    CHECK (product_id <> other_id)
);
-- Paid orders per product: the denominator of co-purchase scores (lift, cosine).
CREATE TABLE product_purchases (
    product_id uuid        PRIMARY KEY,
    orders     integer     NOT NULL CHECK (orders > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
