-- 0009_rollups: daily and hourly rollups kept in step with every write, so a quarter's KPIs read
-- thousands of rows instead of millions (a fleet's 1-minute telemetry is ~65k interval rows per
-- deployment and quarter, and each GPU ~130k samples).
-- Each table is written only by unitcost.collectors.rollups, in the transaction that writes
-- the rows it sums (metric intervals or GPU samples), so it never lags behind them. The SELECTs
-- below fill them from what is already stored; sql/queries/rollup_*.sql hold the definitions
-- from now on, and sql/checks/rollups_match.sql verifies the tables equal them.

-- Purpose: metric_intervals summed per deployment and UTC day. Grain: (deployment_id, day).
CREATE TABLE metric_daily (
    deployment_id         VARCHAR NOT NULL,
    day                   DATE NOT NULL,        -- UTC calendar day
    engine                VARCHAR,
    input_tokens          DOUBLE,               -- counter increases, summed
    output_tokens         DOUBLE,
    requests_ok           DOUBLE,
    requests_failed       DOUBLE,
    observed_s            BIGINT,               -- seconds covered by interval rows
    active_s              BIGINT,               -- of those, in intervals with traffic
    kv_usage_s            DOUBLE,               -- KV-cache fraction x seconds
    kv_observed_s         BIGINT,               -- seconds with a KV-cache figure
    prefix_cache_queries  DOUBLE,               -- prompt tokens looked up in the prefix cache
    prefix_cache_hits     DOUBLE,               -- of those, found
    emulated              BOOLEAN NOT NULL,     -- any interval from emulated series
    PRIMARY KEY (deployment_id, day)
);
-- Purpose: failed requests per deployment, UTC day and reason. Grain: (deployment_id, day, reason).
CREATE TABLE metric_failures_daily (
    deployment_id  VARCHAR NOT NULL,
    day            DATE NOT NULL,
    reason         VARCHAR NOT NULL,
    requests       DOUBLE NOT NULL,
    PRIMARY KEY (deployment_id, day, reason)
);
-- Purpose: latency histogram bucket increases per deployment, UTC day, kind and bound.
-- Grain: (deployment_id, day, kind, le). kind: ttft, itl, e2e; le in seconds ('inf' for +Inf).
CREATE TABLE metric_hist_daily (
    deployment_id  VARCHAR NOT NULL,
    day            DATE NOT NULL,
    kind           VARCHAR NOT NULL,
    le             DOUBLE NOT NULL,
    n              DOUBLE NOT NULL,             -- observations <= le
    PRIMARY KEY (deployment_id, day, kind, le)
);
-- Purpose: GPU samples summarized per GPU, source and UTC hour. Grain: (host, gpu_uuid, source,
-- hour). energy_j: the energy counter's increase credited to the hour of the later sample (resets
-- handled; pairs more than a day apart are not paired).
CREATE TABLE gpu_hourly (
    host                VARCHAR NOT NULL,
    gpu_uuid            VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    hour                TIMESTAMP NOT NULL,     -- UTC, naive
    gpu_model           VARCHAR,
    util_gpu            DOUBLE,                 -- 0-1 mean of samples
    sm_active           DOUBLE,
    tensor_active       DOUBLE,
    mem_used_bytes_max  BIGINT,
    power_w             DOUBLE,                 -- mean W
    energy_j            DOUBLE,                 -- J used in the hour
    samples             BIGINT NOT NULL,
    pod                 VARCHAR,
    namespace           VARCHAR,
    PRIMARY KEY (host, gpu_uuid, source, hour)
);

INSERT INTO metric_daily
SELECT
    deployment_id,
    CAST(timezone('UTC', interval_start) AS DATE),
    any_value(engine),
    sum(input_tokens), sum(output_tokens), sum(requests_ok), sum(requests_failed),
    sum(interval_s),
    coalesce(sum(interval_s) FILTER (
        WHERE coalesce(input_tokens, 0) + coalesce(output_tokens, 0) > 0
           OR coalesce(requests_ok, 0) + coalesce(requests_failed, 0) > 0), 0),
    sum(kv_cache_usage * interval_s),
    coalesce(sum(interval_s) FILTER (WHERE kv_cache_usage IS NOT NULL), 0),
    sum(prefix_cache_queries), sum(prefix_cache_hits),
    bool_or(emulated)
FROM metric_intervals
GROUP BY 1, 2;

INSERT INTO metric_failures_daily
SELECT deployment_id, day, reason, sum(n)
FROM (
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE) AS day,
           unnest(map_keys(failed_by_reason)) AS reason,
           unnest(map_values(failed_by_reason)) AS n
    FROM metric_intervals WHERE failed_by_reason IS NOT NULL
)
GROUP BY 1, 2, 3;

INSERT INTO metric_hist_daily
SELECT deployment_id, day, kind, le, sum(n)
FROM (
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE) AS day, 'ttft' AS kind,
           unnest(map_keys(ttft_hist)) AS le, unnest(map_values(ttft_hist)) AS n
    FROM metric_intervals WHERE ttft_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE), 'itl',
           unnest(map_keys(itl_hist)), unnest(map_values(itl_hist))
    FROM metric_intervals WHERE itl_hist IS NOT NULL
    UNION ALL
    SELECT deployment_id, CAST(timezone('UTC', interval_start) AS DATE), 'e2e',
           unnest(map_keys(e2e_hist)), unnest(map_values(e2e_hist))
    FROM metric_intervals WHERE e2e_hist IS NOT NULL
)
GROUP BY 1, 2, 3, 4;

INSERT INTO gpu_hourly
SELECT
    host, gpu_uuid, source, date_trunc('hour', timezone('UTC', ts)),
    any_value(gpu_model), avg(util_gpu), avg(sm_active), avg(tensor_active),
    max(mem_used_bytes), avg(power_w),
    sum(CASE WHEN energy_mj IS NULL OR prev_mj IS NULL OR ts - prev_ts > INTERVAL 1 DAY THEN NULL
             WHEN energy_mj >= prev_mj THEN energy_mj - prev_mj ELSE energy_mj END) / 1000.0,
    count(*), any_value(pod), any_value(namespace)
FROM (
    SELECT *,
           lag(energy_mj IGNORE NULLS) OVER w AS prev_mj,
           lag(CASE WHEN energy_mj IS NOT NULL THEN ts END IGNORE NULLS) OVER w AS prev_ts
    FROM gpu_samples
    WINDOW w AS (PARTITION BY host, gpu_uuid, source ORDER BY ts)
)
GROUP BY 1, 2, 3, 4;
