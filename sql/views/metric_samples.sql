-- metric_samples: raw metric samples with their series' source, name, key and labels, as the
-- table of this name held them before migration 0005 (readers such as bench reports by run_id).
-- Grain: one row per (source, metric, series_key, ts). Upstream: metric_series, metric_points.
CREATE OR REPLACE VIEW metric_samples AS
SELECT
    s.source,          -- Prometheus URL, scraped URL or emulate-offline:<name>
    s.metric,
    s.series_key,      -- canonical: metric{label="value",...}, exposed labels sorted
    s.labels,          -- exposed labels plus canonical aliases (model, gpu_uuid, host, ...)
    p.ts,
    p.value,
    p.run_id,          -- set when scraped during a benchmark run
    s.series_id,
    s.deployment_id,   -- the deployment the series counts for (NULL: not mapped yet)
    s.emulated
FROM metric_points p
JOIN metric_series s USING (series_id);
