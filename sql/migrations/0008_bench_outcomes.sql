-- 0008_bench_outcomes: what a bench run needs to be read back without guessing, and the
-- outcome of SLO capacity searches (`bench run --capacity`, suites), for the analytics layer.
--
-- bench_runs, new columns (NULL on runs made before this migration):
--   slo_attainment  goodput fraction (0-1) a run must reach to "meet" its SLO (default 0.9)
--   whole_instance  true: the run holds its whole priced instance and is charged all of it;
--                   false: it is charged its share (gpu_count / the instance's GPUs)
--   percentiles     the latency percentiles its summary reports (e.g. [50, 90, 95, 99])
--   loop_lag_ns     the client's event-loop lag samples, ns (how late a 10 ms timer woke), all
--                   worker processes pooled: bounds how late a chunk's receive stamp can be
--   client_pid, client_host, client_start_ticks  the process that ran the load (its start
--                   time in clock ticks since boot, Linux /proc, so a reused pid is not taken
--                   for it), so a run left `running` by a killed process can be told from one
--                   still going (`bench mark-interrupted`)
ALTER TABLE bench_runs ADD COLUMN slo_attainment DOUBLE;
ALTER TABLE bench_runs ADD COLUMN whole_instance BOOLEAN;
ALTER TABLE bench_runs ADD COLUMN percentiles DOUBLE[];
ALTER TABLE bench_runs ADD COLUMN loop_lag_ns BIGINT[];
ALTER TABLE bench_runs ADD COLUMN client_pid INTEGER;
ALTER TABLE bench_runs ADD COLUMN client_host VARCHAR;
ALTER TABLE bench_runs ADD COLUMN client_start_ticks BIGINT;

-- bench_requests.first_chunk_late_ns: an upper bound (ns) on how late first_chunk_ns was
-- stamped because the client's event loop was busy (loop.StampingSelector): the request's
-- TTFT as the host saw it lies in [ttft - this, ttft]. NULL when the loop gives no bound.
ALTER TABLE bench_requests ADD COLUMN first_chunk_late_ns BIGINT;

-- price_catalog.note: how a row was gathered (the `source` column names only the publisher).
ALTER TABLE price_catalog ADD COLUMN note VARCHAR;

-- Purpose: the outcome of one SLO capacity decision: the highest load at which a target met an
-- SLO, and the run measured there. Written when a `--capacity` search or a suite scenario ends.
-- Grain: one row per (group_id, target, scenario); a `--capacity` search has target = '' and
-- scenario = ''. Upstream: bench_runs / bench_requests of the group (every run it looked at is
-- in run_ids; goodput at other SLOs can be recomputed from their bench_requests).
CREATE TABLE bench_capacity (
    group_id              VARCHAR NOT NULL,
    kind                  VARCHAR NOT NULL CHECK (kind IN ('search', 'suite')),
    target                VARCHAR NOT NULL DEFAULT '',  -- suite target name
    scenario              VARCHAR NOT NULL DEFAULT '',  -- suite scenario name
    slo                   JSON NOT NULL,                -- {"ttft": 500, "tpot": 50}, ms
    slo_attainment        DOUBLE NOT NULL,              -- goodput fraction that meets the SLO
    met                   BOOLEAN NOT NULL,             -- false: even the lightest load missed
    capacity_run_id       VARCHAR,                      -- the run at capacity (NULL if not met)
    load_kind             VARCHAR,                      -- concurrency | rate, of that run
    capacity_offered_rate DOUBLE,                       -- req/s that run's profile offered
                                                        -- (NULL: closed loop)
    capacity_concurrency  INTEGER,                      -- closed-loop size, or the cap
    capacity_request_rate DOUBLE,                       -- ok req/s measured in that run
    capacity_goodput      DOUBLE,                       -- good req/s measured in that run
    capacity_output_tokens_per_s DOUBLE,                -- tokens/s measured in that run
    usd_per_1m_output_tokens DOUBLE,                    -- USD per 1M output tokens there
    model                 VARCHAR,
    hardware              VARCHAR,
    quantization          VARCHAR,
    engine                VARCHAR,
    gpu_count             INTEGER,
    parameter_count       BIGINT,
    price_ref             VARCHAR,
    emulated              BOOLEAN NOT NULL DEFAULT false,
    endpoint_url          VARCHAR,
    api                   VARCHAR,                      -- chat | completions
    input_tokens          VARCHAR,                      -- length spec, e.g. "512", "normal:512,128"
    output_tokens         VARCHAR,
    run_ids               VARCHAR[] NOT NULL,           -- every run the decision looked at
    decided_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, target, scenario)
);
