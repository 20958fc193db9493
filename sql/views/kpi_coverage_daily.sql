-- kpi_coverage_daily: what the store knows about each deployment on each UTC day, so every
-- page and the review can say what was measured, estimated, emulated or missing.
-- Grain: one row per (deployment_id, day) with cost or telemetry. Upstream: kpi_cost_daily,
-- kpi_usage_daily, deployments (labels emulated / demo).
CREATE OR REPLACE VIEW kpi_coverage_daily AS
WITH cost AS (
    SELECT deployment_id, day,
           bool_or(cost_basis = 'billed') AS billed,
           bool_or(cost_basis = 'estimated' AND effective_cost IS NOT NULL) AS estimated,
           bool_or(effective_cost IS NULL) AS cost_missing
    FROM kpi_cost_daily
    GROUP BY ALL
)
SELECT
    coalesce(c.deployment_id, u.deployment_id) AS deployment_id,
    coalesce(c.day, u.day) AS day,
    coalesce(c.billed, false) AS billed,             -- billing lines mapped to it
    coalesce(c.estimated, false) AS estimated,       -- cost estimated from GPU-hours x price
    coalesce(c.cost_missing, false) AS cost_missing, -- telemetry but no cost at all
    u.deployment_id IS NOT NULL AS telemetry,        -- metric intervals that day
    coalesce(d.labels['emulated'] = 'true', false) AS emulated,
    coalesce(d.labels['demo'] = 'true', false) AS demo
FROM cost c
FULL OUTER JOIN (SELECT deployment_id, day FROM kpi_usage_daily) u
    ON c.deployment_id = u.deployment_id AND c.day = u.day
LEFT JOIN deployments d ON d.deployment_id = coalesce(c.deployment_id, u.deployment_id);
