-- metrics_interval_lengths: the interval lengths metric_intervals holds (seconds), so a
-- re-derivation rewrites each. Grain: one row per interval_s. Upstream: metric_intervals.
SELECT DISTINCT interval_s FROM metric_intervals ORDER BY interval_s;
