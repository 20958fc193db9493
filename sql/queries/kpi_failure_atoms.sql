-- kpi_failure_atoms: failed requests of [start, end) by deployment, day and reason.
-- Grain: one row per (deployment_id, day, reason). Upstream: kpi_failures_daily.
-- Parameters: $start, $end (UTC days, end exclusive).
SELECT deployment_id, day, reason, requests
FROM kpi_failures_daily
WHERE day >= $start AND day < $end;
