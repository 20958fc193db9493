-- collect_summary: the latest collector runs, newest first, for the CLI summary.
-- Grain: one row per collector run. Parameter: how many rows.
SELECT collector, source, status, rows_written, started_at, ended_at, error
FROM collector_runs
ORDER BY started_at DESC
LIMIT ?;
