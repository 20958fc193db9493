-- price_catalog_effective: the price in force for each instance and price model.
-- Grain: one row per (provider, region, instance_type, price_model).
-- Upstream: price_catalog. Precedence: config > import > shipped.
CREATE OR REPLACE VIEW price_catalog_effective AS
SELECT
    provider,
    region,
    instance_type,
    price_model,
    origin,
    gpu_model,
    gpu_count,
    gpu_mem_gb,
    on_demand_usd_per_hour,                                     -- USD/hour, whole instance
    spot_usd_per_hour_low,                                      -- USD/hour, whole instance
    spot_usd_per_hour_high,
    CASE WHEN price_model <> 'on_demand_vm_only'  -- a VM-only price has no GPU in it
        THEN CAST(on_demand_usd_per_hour / gpu_count AS DECIMAL(18, 6))
    END AS on_demand_usd_per_gpu_hour,                          -- USD per GPU-hour
    source,
    as_of,
    verified,
    caveat,                                                     -- shown beside every figure it prices
    note,                                                       -- how the row was gathered
    provider || '/' || region || '/' || instance_type AS price_ref
FROM price_catalog
QUALIFY row_number() OVER (
    PARTITION BY provider, region, instance_type, price_model
    ORDER BY CASE origin WHEN 'config' THEN 0 WHEN 'import' THEN 1 ELSE 2 END
) = 1;
