-- recommend_prices: every effective price row a candidate could be priced at.
-- Grain: one row per (provider, region, instance_type, price_model). Upstream:
-- price_catalog_effective. on_demand_vm_only rows are returned so a candidate can say why
-- they are not a price for it (the GPU is billed as a separate SKU).
SELECT price_ref, price_model, lower(gpu_model) AS gpu_type, gpu_model, gpu_count,
       on_demand_usd_per_hour, spot_usd_per_hour_low, spot_usd_per_hour_high, source, as_of,
       verified, caveat
FROM price_catalog_effective
ORDER BY price_ref, price_model;
