-- demo_gpu_price: USD per GPU-hour of a catalog instance, for the demo's bill (on-demand, a
-- price with the GPU in it). Grain: one row or none. Parameter: $price_ref. Upstream:
-- price_catalog_effective.
SELECT on_demand_usd_per_gpu_hour
FROM price_catalog_effective
WHERE price_ref = $price_ref AND price_model = 'on_demand';
