-- prices_refs: every instance the effective catalog can price, for "did you mean" errors.
-- Grain: one row per price_ref ("provider/region/instance_type"). Upstream: price_catalog_effective.
SELECT DISTINCT price_ref FROM price_catalog_effective ORDER BY price_ref;
