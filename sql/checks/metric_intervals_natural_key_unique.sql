-- metric_intervals_natural_key_unique: one row per deployment, interval start and length; each
-- derivation deletes the rows it recomputes first (the table has no index).
-- Must return zero rows. Upstream: metric_intervals.
SELECT deployment_id, interval_start, interval_s, count(*) AS copies
FROM metric_intervals
GROUP BY deployment_id, interval_start, interval_s
HAVING count(*) > 1;
