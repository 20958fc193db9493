-- kpi_latency_hist_daily: per deployment and UTC day, how many requests (TTFT, E2E) or tokens
-- (ITL) fell in each latency bucket, so the share within any SLO threshold can be interpolated
-- (analytics/kpi.py: good tokens). Counts are bucket increases (cumulative: observations <= le).
-- Grain: one row per (deployment_id, day, kind, le). Upstream: metric_hist_daily (the rollup of
-- metric_intervals' ttft_hist, itl_hist, e2e_hist; sql/queries/rollup_metric_days.sql).
CREATE OR REPLACE VIEW kpi_latency_hist_daily AS
SELECT
    CASE deployment_id WHEN 'unmapped' THEN 'unmapped-telemetry' ELSE deployment_id END
        AS deployment_id,                        -- as in kpi_usage_daily
    day,
    kind,                                        -- ttft, itl, e2e
    le,                                          -- bucket bound, seconds
    n                                            -- observations <= le
FROM metric_hist_daily;
