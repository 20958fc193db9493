-- dashboard_collector_last_runs: each collector source's last run, with its totals.
-- Grain: one row per (collector, source). Upstream: collector_runs, watermarks.
-- rows_total: rows written by every run of that source; runs_failed: failed runs ever.
SELECT
    c.collector,
    c.source,
    c.started_at AS last_started_at,
    c.ended_at AS last_ended_at,
    c.status AS last_status,
    c.rows_written AS last_rows,
    c.window_start,
    c.window_end,
    c.error AS last_error,
    t.runs,
    t.runs_failed,
    t.rows_total,
    w.watermark                                    -- collected up to here (next run resumes)
FROM collector_runs c
JOIN (
    SELECT collector, source, count(*) AS runs,
           count(*) FILTER (WHERE status = 'failed') AS runs_failed,
           sum(rows_written) AS rows_total
    FROM collector_runs
    GROUP BY ALL
) t USING (collector, source)
LEFT JOIN watermarks w USING (collector, source)
QUALIFY row_number() OVER (PARTITION BY c.collector, c.source ORDER BY c.started_at DESC) = 1
ORDER BY c.collector, c.source;
