-- metric_points_natural_key_unique: (series_id, ts) identifies a sample; writers keep it unique
-- by deleting what they replace in the same transaction (metric_points has no index).
-- Must return zero rows. Upstream: metric_points.
SELECT series_id, ts, count(*) AS copies
FROM metric_points
GROUP BY series_id, ts
HAVING count(*) > 1;
