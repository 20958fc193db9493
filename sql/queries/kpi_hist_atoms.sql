-- kpi_hist_atoms: latency bucket counts of [start, end) for the deployments given, for the
-- share of requests within an SLO. Grain: one row per (deployment_id, day, kind, le).
-- Upstream: kpi_latency_hist_daily. Parameters: $start, $end (UTC days), $deployments (list).
SELECT deployment_id, day, kind, le, n
FROM kpi_latency_hist_daily
WHERE day >= $start AND day < $end AND list_contains($deployments, deployment_id);
