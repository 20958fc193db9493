-- recommend_demand: a deployment's demand over the last $days days of its traffic metrics:
-- the busiest 5 minutes and, per hour of day (UTC), the busiest hour's mean rate.
-- Grain: one row per hour of day (0-23) with data; the window, peak and emulated flag repeat
-- on each row.
-- Upstream: metric_intervals (peak, 5-minute buckets), demand_hourly (profile), deployments
-- (labels['emulated'] = 'true', written by `emulate offline`: the telemetry is simulated).
WITH bounds AS (
    SELECT max(interval_start) + to_seconds(max(interval_s)) AS window_end
    FROM metric_intervals
    WHERE deployment_id = $deployment_id
),
win AS (
    SELECT window_end - to_days(CAST($days AS INTEGER)) AS window_start, window_end FROM bounds
),
finest AS (
    SELECT min(interval_s) AS interval_s FROM metric_intervals WHERE deployment_id = $deployment_id
),
peak AS (
    SELECT max(requests / covered_s) AS peak_rps                          -- requests/s
    FROM (
        SELECT time_bucket(INTERVAL 5 MINUTE, m.interval_start) AS bucket,
               sum(coalesce(m.requests_ok, 0) + coalesce(m.requests_failed, 0)) AS requests,
               sum(m.interval_s) AS covered_s
        FROM metric_intervals AS m, win, finest
        WHERE m.deployment_id = $deployment_id
          AND m.interval_s = finest.interval_s
          AND m.interval_start >= win.window_start AND m.interval_start < win.window_end
        GROUP BY 1
    )
),
emu AS (
    SELECT coalesce(bool_or(labels['emulated'] = 'true'), false) AS emulated
    FROM deployments
    WHERE deployment_id = $deployment_id
)
SELECT
    win.window_start,
    win.window_end,
    peak.peak_rps,
    hour(d.hour) AS hour_of_day,                                          -- UTC
    max(d.rps) AS rps,                                                    -- busiest such hour
    count(*) AS days,                                                     -- hours averaged over
    emu.emulated                                                          -- simulated telemetry
FROM demand_hourly AS d, win, peak, emu
WHERE d.deployment_id = $deployment_id
  AND d.hour >= win.window_start AND d.hour < win.window_end
GROUP BY win.window_start, win.window_end, peak.peak_rps, emu.emulated, hour(d.hour)
ORDER BY hour_of_day;
