-- 0005_metric_store: each metric series stored once, its samples as (series_id, ts, value).
-- metric_samples repeated the source, metric, series key and label map on every sample; it
-- becomes metric_series (one row per series) and metric_points (one row per sample), and a
-- VIEW named metric_samples (sql/views) keeps the old columns for readers. Existing samples are
-- carried over: the three series_key spellings of earlier writers become the one canonical
-- `metric{a="1",b="2"}` (bench and emulate wrote the label part alone), so a series that bench
-- and `collect scrape` both stored becomes one series. Carried-over series have no deployment
-- yet (deployment_id NULL): the next write of their source or `unitcost collect deployments`
-- maps them. metric_intervals is rebuilt without its PRIMARY KEY index (kept unique by
-- construction: each derivation deletes the rows it recomputes first; sql/checks verify) and
-- gains emulated, prefix-cache counters and per-interval histograms.

-- Purpose: one row per metric series. Grain: (source, metric, series_key), unique.
CREATE SEQUENCE metric_series_id_seq START 1;
CREATE TABLE metric_series (
    series_id      BIGINT PRIMARY KEY DEFAULT nextval('metric_series_id_seq'),
    source         VARCHAR NOT NULL,  -- Prometheus URL, scraped /metrics URL, emulate-offline:<name>
    source_kind    VARCHAR NOT NULL CHECK (source_kind IN ('prometheus', 'scrape', 'emulate')),
    metric         VARCHAR NOT NULL,
    series_key     VARCHAR NOT NULL,  -- metric{label="value",...}: exposed labels, sorted, escaped
    labels         MAP(VARCHAR, VARCHAR) NOT NULL,  -- exposed labels plus canonical aliases
    deployment_id  VARCHAR,           -- the deployment its samples count for; NULL: not mapped yet
    emulated       BOOLEAN NOT NULL DEFAULT false,  -- written by `unitcost emulate`
    UNIQUE (source, metric, series_key)
);

-- Purpose: raw samples. Grain: one row per (series_id, ts), unique by construction (a write
-- first deletes what it replaces). No index: appends stay cheap; ts zone maps prune reads.
CREATE TABLE metric_points (
    series_id  BIGINT NOT NULL,       -- metric_series.series_id
    ts         TIMESTAMPTZ NOT NULL,
    value      DOUBLE NOT NULL,
    run_id     VARCHAR                -- the bench run that scraped it, else NULL
);

INSERT INTO metric_series (source, source_kind, metric, series_key, labels, emulated)
SELECT
    source,
    CASE
        WHEN source LIKE 'emulate-offline:%' THEN 'emulate'
        WHEN source IN (SELECT source FROM collector_runs WHERE collector = 'prometheus'
                        UNION SELECT source FROM watermarks WHERE collector = 'prometheus')
            THEN 'prometheus'
        ELSE 'scrape'
    END,
    metric,
    canonical_key,
    arg_max(labels, cardinality(labels)),  -- collectors stored normalized labels: the superset
    bool_or(coalesce(labels['emulated'] = 'true', false))
FROM (
    SELECT *,
           CASE WHEN starts_with(series_key, metric || '{') THEN series_key
                ELSE metric || '{' || series_key || '}' END AS canonical_key
    FROM metric_samples
)
GROUP BY source, metric, canonical_key;

INSERT INTO metric_points (series_id, ts, value, run_id)
SELECT s.series_id, m.ts, any_value(m.value), any_value(m.run_id)
FROM metric_samples m
JOIN metric_series s
  ON s.source = m.source AND s.metric = m.metric
 AND s.series_key = CASE WHEN starts_with(m.series_key, m.metric || '{') THEN m.series_key
                         ELSE m.metric || '{' || m.series_key || '}' END
GROUP BY s.series_id, m.ts
ORDER BY m.ts;

DROP TABLE metric_samples;

-- Purpose: normalized per-interval figures for each deployment, engine-independent.
-- Grain: one row per (deployment_id, interval_start, interval_s), unique by construction.
CREATE TABLE metric_intervals_0005 (
    deployment_id        VARCHAR NOT NULL,
    interval_start       TIMESTAMPTZ NOT NULL,
    interval_s           INTEGER NOT NULL,
    engine               VARCHAR,
    input_tokens         DOUBLE,   -- counter increase over the interval
    output_tokens        DOUBLE,
    requests_ok          DOUBLE,
    requests_failed      DOUBLE,
    failed_by_reason     MAP(VARCHAR, DOUBLE),
    ttft_p50_s           DOUBLE,   -- from histograms
    ttft_p90_s           DOUBLE,
    ttft_p99_s           DOUBLE,
    itl_p50_s            DOUBLE,
    itl_p90_s            DOUBLE,
    itl_p99_s            DOUBLE,
    kv_cache_usage       DOUBLE,   -- 0-1 fraction, mean over interval
    requests_running     DOUBLE,   -- mean
    requests_waiting     DOUBLE,   -- mean
    gpu_util             DOUBLE,   -- 0-1 fraction, mean over the deployment's GPUs
    gpu_mem_used_bytes   DOUBLE,
    power_w              DOUBLE,   -- mean, summed over GPUs
    energy_j             DOUBLE,   -- energy used in the interval, summed over GPUs
    source               VARCHAR NOT NULL,  -- the sources of its series, comma-separated
    emulated             BOOLEAN NOT NULL DEFAULT false,  -- derived from emulated series
    prefix_cache_queries DOUBLE,   -- prompt tokens looked up in the prefix cache (increase)
    prefix_cache_hits    DOUBLE,   -- of those, tokens found (increase)
    ttft_hist            MAP(DOUBLE, DOUBLE),  -- {le seconds: requests}, bucket increases
    itl_hist             MAP(DOUBLE, DOUBLE),  -- {le seconds: tokens}; +Inf is 'inf'::DOUBLE
    e2e_hist             MAP(DOUBLE, DOUBLE)   -- {le seconds: requests}
);
INSERT INTO metric_intervals_0005 (
    deployment_id, interval_start, interval_s, engine, input_tokens, output_tokens,
    requests_ok, requests_failed, failed_by_reason, ttft_p50_s, ttft_p90_s, ttft_p99_s,
    itl_p50_s, itl_p90_s, itl_p99_s, kv_cache_usage, requests_running, requests_waiting,
    gpu_util, gpu_mem_used_bytes, power_w, energy_j, source
)
SELECT
    deployment_id, interval_start, interval_s, engine, input_tokens, output_tokens,
    requests_ok, requests_failed, failed_by_reason, ttft_p50_s, ttft_p90_s, ttft_p99_s,
    itl_p50_s, itl_p90_s, itl_p99_s, kv_cache_usage, requests_running, requests_waiting,
    gpu_util, gpu_mem_used_bytes, power_w, energy_j, source
FROM metric_intervals;
DROP TABLE metric_intervals;
ALTER TABLE metric_intervals_0005 RENAME TO metric_intervals;

-- gpu_samples without its PRIMARY KEY index, same columns and rows: (host, gpu_uuid, ts,
-- source) stays the natural key, kept unique by construction (a write deletes the rows it
-- replaces first; sql/checks verify). A fleet's DCGM samples over a quarter are hundreds of
-- millions of rows, and the index behind the key grew with every one of them.
CREATE TABLE gpu_samples_0005 (
    host              VARCHAR NOT NULL,   -- emulated GPUs: 'emulated-' || deployment_id
    gpu_uuid          VARCHAR NOT NULL,
    ts                TIMESTAMPTZ NOT NULL,
    source            VARCHAR NOT NULL,   -- nvml, nvidia-smi, dcgm
    gpu_index         INTEGER,
    gpu_model         VARCHAR,
    util_gpu          DOUBLE,   -- 0-1 fraction of time a kernel ran
    util_mem          DOUBLE,   -- 0-1 fraction of time memory was read or written
    mem_used_bytes    BIGINT,
    mem_total_bytes   BIGINT,
    power_w           DOUBLE,
    energy_mj         DOUBLE,   -- cumulative counter since driver load, millijoules
    sm_clock_mhz      DOUBLE,
    mem_clock_mhz     DOUBLE,
    temperature_c     DOUBLE,
    sm_active         DOUBLE,   -- 0-1, GPM / DCGM profiling, where supported
    tensor_active     DOUBLE,   -- 0-1
    dram_active       DOUBLE,   -- 0-1
    pod               VARCHAR,
    namespace         VARCHAR
);
INSERT INTO gpu_samples_0005 SELECT * FROM gpu_samples ORDER BY ts;
DROP TABLE gpu_samples;
ALTER TABLE gpu_samples_0005 RENAME TO gpu_samples;
