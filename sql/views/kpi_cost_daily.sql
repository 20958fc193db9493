-- kpi_cost_daily: what each deployment cost per UTC day and currency.
-- Grain: one row per (deployment_id, day, currency, cost_basis). Upstream:
-- billing_cost_by_deployment_daily (the bill, each line spread over its charge period),
-- kpi_usage_daily, deployments, price_catalog_effective.
-- cost_basis 'billed': billing lines mapped to the deployment that day (FOCUS EffectiveCost,
-- amortized). 'estimated': the deployment served or sat idle that day (telemetry) but no billing
-- line is mapped to it, so its cost is its GPU-hours (hours with telemetry x GPUs) x the
-- on-demand USD per GPU-hour of its price_ref (a self-hosted deployment is never free). When
-- no estimate is possible, effective_cost is NULL and estimate_gap says why.
CREATE OR REPLACE VIEW kpi_cost_daily AS
WITH billed AS (
    SELECT deployment_id, day, currency, provider, billed_cost, effective_cost,
           spot_effective_cost, committed_effective_cost
    FROM billing_cost_by_deployment_daily
),
gpu_price AS (
    -- A price with the GPU in it: never a VM-only row (on_demand_usd_per_gpu_hour is NULL
    -- there). On-demand first, then other GPU prices (capacity blocks).
    SELECT price_ref, on_demand_usd_per_gpu_hour, price_model, caveat
    FROM price_catalog_effective
    WHERE on_demand_usd_per_gpu_hour IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY price_ref
        ORDER BY CASE price_model WHEN 'on_demand' THEN 0 ELSE 1 END, price_model
    ) = 1
),
unbilled AS (
    SELECT u.deployment_id, u.day, u.observed_s
    FROM kpi_usage_daily u
    ANTI JOIN (SELECT DISTINCT deployment_id, day FROM billed) b
        ON b.deployment_id = u.deployment_id AND b.day = u.day
),
estimated AS (
    SELECT
        x.deployment_id,
        x.day,
        d.price_ref,
        p.price_model,
        p.caveat,
        p.on_demand_usd_per_gpu_hour,
        x.observed_s * d.gpu_count AS gpu_seconds,
        CASE
            WHEN d.deployment_id IS NULL THEN 'matches no deployment'
            WHEN d.price_ref IS NULL THEN 'no price_ref'
            WHEN d.gpu_count < 1 THEN 'gpu_count is 0'
            WHEN p.price_ref IS NULL THEN 'no GPU price for price_ref ' || d.price_ref
        END AS estimate_gap
    FROM unbilled x
    LEFT JOIN deployments d USING (deployment_id)
    LEFT JOIN gpu_price p ON p.price_ref = d.price_ref
)
SELECT
    deployment_id,
    day,
    currency,
    provider,
    'billed' AS cost_basis,
    billed_cost,                                   -- cash, currency
    effective_cost,                                -- amortized, currency
    spot_effective_cost,
    committed_effective_cost,
    CAST(NULL AS DOUBLE) AS gpu_hours_estimated,
    CAST(NULL AS VARCHAR) AS estimate_price_ref,
    CAST(NULL AS VARCHAR) AS estimate_caveat,
    CAST(NULL AS VARCHAR) AS estimate_gap
FROM billed
UNION ALL
SELECT
    deployment_id,
    day,
    CASE WHEN estimate_gap IS NULL THEN 'USD' END AS currency,  -- the catalog is in USD
    split_part(price_ref, '/', 1) AS provider,
    'estimated' AS cost_basis,
    CAST(0 AS DECIMAL(38, 10)) AS billed_cost,     -- nothing on a bill
    -- GPU-seconds x USD per GPU-hour / 3600, rounded to 1e-10 USD (an estimate: DuckDB
    -- divides decimals in DOUBLE, exact to ~1e-12 of the amount)
    CASE WHEN estimate_gap IS NULL THEN CAST(round(
        CAST(gpu_seconds AS DOUBLE) * CAST(on_demand_usd_per_gpu_hour AS DOUBLE) / 3600, 10)
        AS DECIMAL(38, 10)) END AS effective_cost,
    CAST(0 AS DECIMAL(38, 10)) AS spot_effective_cost,
    CAST(0 AS DECIMAL(38, 10)) AS committed_effective_cost,
    CAST(gpu_seconds AS DOUBLE) / 3600 AS gpu_hours_estimated,  -- GPU-hours
    price_ref AS estimate_price_ref,
    caveat AS estimate_caveat,
    estimate_gap
FROM estimated;
