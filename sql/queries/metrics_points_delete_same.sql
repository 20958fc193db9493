-- metrics_points_delete_same: drop stored samples the batch new_points writes again (same series
-- and time), so a sample stored twice is kept once. Grain: samples. Upstream: metric_points,
-- new_points (registered by collectors.metric_store). Parameters: $lo, $hi (the batch's time
-- span, so only those row groups are read).
DELETE FROM metric_points p
USING new_points n
WHERE p.series_id = n.series_id AND p.ts = n.ts AND p.ts >= $lo AND p.ts <= $hi;
