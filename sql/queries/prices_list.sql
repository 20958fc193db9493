-- prices_list: the effective catalog for `unitcost prices list`, one row per instance and
-- price model. Parameters: $gpu (GPU model, case-insensitive, NULL = all), $provider (NULL = all).
SELECT
    provider, region, instance_type, price_model, origin, gpu_model, gpu_count, gpu_mem_gb,
    on_demand_usd_per_hour, on_demand_usd_per_gpu_hour,
    spot_usd_per_hour_low, spot_usd_per_hour_high,
    source, as_of, verified, caveat, note
FROM price_catalog_effective
WHERE ($gpu IS NULL OR lower(gpu_model) = lower($gpu))
  AND ($provider IS NULL OR lower(provider) = lower($provider))
ORDER BY provider, gpu_model, on_demand_usd_per_gpu_hour NULLS LAST, instance_type, price_model;
