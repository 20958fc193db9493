-- prices_for_ref: every effective price model of one instance, the one to price with first
-- (on-demand, then capacity block, then spot-only; VM-only rows last: they hold no GPU).
-- Grain: one row per price model. Parameter: $price_ref ("provider/region/instance_type").
-- Upstream: price_catalog_effective (config > import > shipped).
SELECT price_ref, price_model, origin, gpu_model, gpu_count,
       on_demand_usd_per_hour,                  -- USD/hour, whole instance
       spot_usd_per_hour_low, spot_usd_per_hour_high,
       source, as_of, verified, caveat, note
FROM price_catalog_effective
WHERE price_ref = $price_ref
ORDER BY CASE price_model
             WHEN 'on_demand' THEN 0 WHEN 'capacity_block' THEN 1 WHEN 'spot_only' THEN 2
             WHEN 'on_demand_vm_only' THEN 9 ELSE 3
         END,
         price_model;
