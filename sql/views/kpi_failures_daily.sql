-- kpi_failures_daily: failed requests per deployment, UTC day and reason (engine's label, e.g.
-- vLLM finished_reason=abort, TGI err), so success rate can say why requests failed.
-- Grain: one row per (deployment_id, day, reason). Upstream: metric_intervals.failed_by_reason.
CREATE OR REPLACE VIEW kpi_failures_daily AS
SELECT deployment_id, day, reason, sum(requests) AS requests
FROM (
    SELECT
        CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
            AS deployment_id,     -- as in kpi_usage_daily
        CAST(timezone('UTC', interval_start) AS DATE) AS day,
        unnest(map_keys(failed_by_reason)) AS reason,
        unnest(map_values(failed_by_reason)) AS requests
    FROM metric_intervals
    WHERE failed_by_reason IS NOT NULL
)
GROUP BY ALL;
