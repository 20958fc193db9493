-- dashboard_collector_errors: the most recent collector runs that failed or were interrupted.
-- Grain: one row per such run. Upstream: collector_runs. Parameter: $limit (rows).
SELECT collector, source, started_at, ended_at, status, rows_written, error
FROM collector_runs
WHERE status IN ('failed', 'interrupted')
ORDER BY started_at DESC
LIMIT $limit;
