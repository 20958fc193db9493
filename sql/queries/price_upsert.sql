-- price_upsert: insert or replace one price_catalog row (natural key: provider, region,
-- instance_type, price_model, origin). Parameters in PriceRecord field order.
INSERT OR REPLACE INTO price_catalog (
    provider, region, instance_type, price_model, origin, gpu_model, gpu_count, gpu_mem_gb,
    on_demand_usd_per_hour, spot_usd_per_hour_low, spot_usd_per_hour_high,
    source, as_of, verified, caveat, source_file, source_row, note
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
