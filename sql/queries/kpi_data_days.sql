-- kpi_data_days: the first and last UTC day holding cost or telemetry, and the last such day
-- before $before (the start of the quarter in progress), for the default period.
-- Grain: one row (NULLs when the store is empty). Upstream: billing_cost_by_deployment_daily,
-- metric_intervals. Parameter: $before (a date).
WITH days AS (
    SELECT DISTINCT day FROM billing_cost_by_deployment_daily
    UNION
    SELECT DISTINCT CAST(timezone('UTC', interval_start) AS DATE) FROM metric_intervals
)
SELECT min(day), max(day), max(day) FILTER (WHERE day < $before) FROM days;
