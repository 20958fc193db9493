-- kpi_failures_daily: failed requests per deployment, UTC day and reason (engine's label, e.g.
-- vLLM finished_reason=abort, TGI err), so success rate can say why requests failed.
-- Grain: one row per (deployment_id, day, reason). Upstream: metric_failures_daily (the rollup
-- of metric_intervals.failed_by_reason, sql/queries/rollup_metric_days.sql).
CREATE OR REPLACE VIEW kpi_failures_daily AS
SELECT
    CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
        AS deployment_id,     -- as in kpi_usage_daily
    day,
    reason,
    requests
FROM metric_failures_daily;
