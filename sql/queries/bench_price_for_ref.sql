-- bench_price_for_ref: the effective price of one instance, on-demand row preferred.
-- price_ref is "provider/region/instance_type". Upstream: price_catalog_effective.
SELECT price_ref, price_model, on_demand_usd_per_hour, spot_usd_per_hour_low,
       spot_usd_per_hour_high, gpu_count, source, as_of, verified, caveat
FROM price_catalog_effective
WHERE price_ref = $price_ref
ORDER BY CASE price_model WHEN 'on_demand' THEN 0 ELSE 1 END
LIMIT 1;
