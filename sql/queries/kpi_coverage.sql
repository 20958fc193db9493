-- kpi_coverage: per UTC day of [start, end), how many deployments had billed cost, estimated
-- cost, no cost, telemetry, emulated telemetry, demo data. Days with nothing are absent (the
-- caller fills them in as missing). Grain: one row per day. Upstream: kpi_coverage_daily.
-- Parameters: $start, $end (UTC days, end exclusive).
SELECT
    day,
    count(*) FILTER (WHERE billed AND deployment_id <> 'unmapped') AS billed,
    count(*) FILTER (WHERE estimated) AS estimated,
    count(*) FILTER (WHERE cost_missing) AS cost_missing,
    count(*) FILTER (WHERE telemetry) AS telemetry,
    count(*) FILTER (WHERE telemetry AND emulated) AS emulated,
    count(*) FILTER (WHERE demo) AS demo,
    bool_or(billed AND deployment_id = 'unmapped') AS unmapped_spend
FROM kpi_coverage_daily
WHERE day >= $start AND day < $end
GROUP BY day
ORDER BY day;
