-- kpi_data_labels: is any of the data of [start, end) (or any benchmark) demo, emulated or
-- estimated? Every page and the review say so. Grain: one row. Upstream: kpi_coverage_daily,
-- bench_runs. Parameters: $start, $end (UTC days, end exclusive).
SELECT
    coalesce(bool_or(demo), false)
        OR EXISTS (SELECT 1 FROM bench_runs WHERE labels['demo'] = 'true') AS demo,
    coalesce(bool_or(emulated AND telemetry), false) AS emulated_telemetry,
    EXISTS (SELECT 1 FROM bench_runs WHERE emulated) AS emulated_benchmarks,
    coalesce(bool_or(estimated), false) AS estimated,
    coalesce(bool_or(cost_missing), false) AS cost_missing
FROM kpi_coverage_daily
WHERE day >= $start AND day < $end;
