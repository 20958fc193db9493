-- bench_insert_metric_sample: one sample of a server's /metrics scraped during a bench run.
-- Grain: one row per (source, metric, series_key, ts). Upstream: unitcost.bench.scrape.
INSERT OR IGNORE INTO metric_samples (source, metric, series_key, labels, ts, value, run_id)
VALUES (?, ?, ?, map(?::VARCHAR[], ?::VARCHAR[]), ?, ?, ?);
