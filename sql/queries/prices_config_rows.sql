-- prices_config_rows: the catalog's `config` layer as stored, in PriceRecord field order, to tell
-- whether the config file's [[prices]] changed since they were last applied.
-- Grain: one row per (provider, region, instance_type, price_model). Upstream: price_catalog.
SELECT provider, region, instance_type, price_model, origin, gpu_model, gpu_count, gpu_mem_gb,
       on_demand_usd_per_hour, spot_usd_per_hour_low, spot_usd_per_hour_high,
       source, as_of, verified, caveat, source_file, source_row, note
FROM price_catalog
WHERE origin = 'config'
ORDER BY provider, region, instance_type, price_model;
