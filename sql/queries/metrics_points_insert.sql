-- metrics_points_insert: append the batch new_points (series_id, ts, value, run_id; registered
-- by collectors.metric_store as an Arrow table). Grain: one row per sample. Upstream: new_points.
INSERT INTO metric_points BY NAME SELECT series_id, ts, value, run_id FROM new_points;
