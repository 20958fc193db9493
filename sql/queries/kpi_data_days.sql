-- kpi_data_days: the first and last UTC day holding cost or telemetry, and the last such day
-- before $before (the start of the quarter in progress), for the default period.
-- Grain: one row (NULLs when the store is empty). Upstream: billing_daily (the counted daily
-- parts every billing view sums: billing_cost_by_deployment_daily has exactly its days),
-- metric_daily (metric_intervals per deployment and day, kept in step with every write). Both
-- are small: this runs on every dashboard page, where scanning metric_intervals took 250 ms.
-- Parameter: $before (a date).
WITH days AS (
    SELECT DISTINCT day FROM billing_daily WHERE day IS NOT NULL
    UNION
    SELECT DISTINCT day FROM metric_daily
)
SELECT min(day), max(day), max(day) FILTER (WHERE day < $before) FROM days;
