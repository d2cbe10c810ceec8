-- Full-text search over name (weight A), category (B) and description (C), plus price filters.
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(category, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(description, '')), 'C')
) STORED;
CREATE INDEX products_search ON products USING gin (search) WHERE deleted_at IS NULL;
CREATE INDEX products_live_by_price ON products (price_minor, id) WHERE deleted_at IS NULL;
