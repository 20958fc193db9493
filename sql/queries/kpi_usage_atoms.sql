-- kpi_usage_atoms: served tokens, requests and telemetry seconds of [start, end), per
-- deployment and day, with the GPU figures of the same deployment and day beside them.
-- Grain: one row per (deployment_id, day). Upstream: kpi_usage_daily, kpi_gpu_daily.
-- Parameters: $start, $end (UTC days, end exclusive).
SELECT
    coalesce(u.deployment_id, g.deployment_id) AS deployment_id,
    coalesce(u.day, g.day) AS day,
    u.input_tokens, u.output_tokens, u.requests_ok, u.requests_failed,
    u.observed_s, u.active_s, u.kv_usage_s, u.kv_observed_s, u.prefix_cache_queries,
    u.prefix_cache_hits, coalesce(u.emulated, false) AS emulated,
    g.gpu_hours_sampled, g.util_gpu_hours, g.util_gpu_hours_n, g.energy_j, g.energy_hours_n
FROM (SELECT * FROM kpi_usage_daily WHERE day >= $start AND day < $end) u
FULL OUTER JOIN (SELECT * FROM kpi_gpu_daily WHERE day >= $start AND day < $end) g
    ON u.deployment_id = g.deployment_id AND u.day = g.day;
