-- bench_run_summary: headline figures of every benchmark run, flattened for dashboards.
-- Grain: one row per bench_runs row. Upstream: bench_runs (summary JSON written at the end of
-- each run by unitcost.bench.metrics / cost; definitions in docs/bench.md). NULL while a run
-- is still going or when a figure is undefined (e.g. cost without a price). Costs are USD per
-- 1M tokens at the run's share of its priced instance (price_share); SLO capacity decisions
-- are in the table bench_capacity.
CREATE OR REPLACE VIEW bench_run_summary AS
SELECT
    run_id,
    source,                                   -- unitcost, vllm, guidellm, aiperf
    status,
    started_at,
    ended_at,
    model,
    engine,
    hardware,
    gpu_count,
    quantization,
    parameter_count,
    price_ref,
    group_id,
    labels,
    load_profile ->> 'kind' AS load_kind,
    TRY_CAST(load_profile ->> 'concurrency' AS DOUBLE) AS concurrency,
    TRY_CAST(load_profile ->> 'rate' AS DOUBLE) AS rate,                     -- offered req/s
    TRY_CAST(summary ->> 'requests_total' AS BIGINT) AS requests_total,
    TRY_CAST(summary ->> 'requests_ok' AS BIGINT) AS requests_ok,
    TRY_CAST(summary ->> 'requests_failed' AS BIGINT) AS requests_failed,
    TRY_CAST(summary ->> 'requests_cancelled' AS BIGINT) AS requests_cancelled,
    TRY_CAST(summary ->> 'success_rate' AS DOUBLE) AS success_rate,         -- 0-1
    TRY_CAST(summary ->> 'duration_s' AS DOUBLE) AS duration_s,
    TRY_CAST(summary ->> 'request_rate' AS DOUBLE) AS request_rate,         -- ok req/s
    TRY_CAST(summary ->> 'output_tokens_per_s' AS DOUBLE) AS output_tokens_per_s,
    TRY_CAST(summary ->> 'total_tokens_per_s' AS DOUBLE) AS total_tokens_per_s,
    TRY_CAST(summary ->> 'goodput' AS DOUBLE) AS goodput,                   -- good req/s
    TRY_CAST(summary ->> 'goodput_fraction' AS DOUBLE) AS goodput_fraction, -- 0-1
    TRY_CAST(summary -> 'ttft_ms' ->> 'p50' AS DOUBLE) AS ttft_p50_ms,
    TRY_CAST(summary -> 'ttft_ms' ->> 'p99' AS DOUBLE) AS ttft_p99_ms,
    TRY_CAST(summary -> 'tpot_ms' ->> 'p50' AS DOUBLE) AS tpot_p50_ms,
    TRY_CAST(summary -> 'tpot_ms' ->> 'p99' AS DOUBLE) AS tpot_p99_ms,
    TRY_CAST(summary -> 'itl_ms' ->> 'p50' AS DOUBLE) AS itl_p50_ms,
    TRY_CAST(summary -> 'e2e_ms' ->> 'p50' AS DOUBLE) AS e2e_p50_ms,
    TRY_CAST(summary -> 'e2e_ms' ->> 'p99' AS DOUBLE) AS e2e_p99_ms,
    TRY_CAST(summary -> 'dispatch_lag_ms' ->> 'p99' AS DOUBLE) AS dispatch_lag_p99_ms,
    TRY_CAST(summary ->> 'usd_per_1m_output_tokens' AS DOUBLE) AS usd_per_1m_output_tokens,
    TRY_CAST(summary ->> 'usd_per_1m_total_tokens' AS DOUBLE) AS usd_per_1m_total_tokens,
    TRY_CAST(summary ->> 'usd_per_1m_output_tokens_spot_low' AS DOUBLE)
        AS usd_per_1m_output_tokens_spot_low,
    TRY_CAST(summary ->> 'usd_per_1m_output_tokens_spot_high' AS DOUBLE)
        AS usd_per_1m_output_tokens_spot_high,
    TRY_CAST(summary ->> 'usd_per_1m_output_tokens_at_slo' AS DOUBLE)
        AS usd_per_1m_output_tokens_at_slo,
    TRY_CAST(summary ->> 'meets_slo' AS BOOLEAN) AS meets_slo,
    summary ->> 'definitions_note' AS definitions_note,  -- imported runs: how the peer differs
    -- added by migration 0008 (columns above are unchanged)
    name,
    emulated,                                 -- the target was `unitcost emulate`
    endpoint_url,
    TRY_CAST(summary ->> 'offered_rate' AS DOUBLE) AS offered_rate,       -- req/s; NULL: closed loop
    slo_attainment,                           -- goodput fraction that meets the SLO (0-1)
    TRY_CAST(summary -> 'loop_lag_ms' ->> 'p50' AS DOUBLE) AS loop_lag_p50_ms, -- client loop lag
    TRY_CAST(summary -> 'loop_lag_ms' ->> 'p99' AS DOUBLE) AS loop_lag_p99_ms,
    TRY_CAST(summary -> 'price' ->> 'share' AS DOUBLE) AS price_share,    -- of the instance price
    whole_instance,
    TRY_CAST(summary -> 'price' ->> 'charged_usd_per_hour' AS DOUBLE) AS charged_usd_per_hour,
    summary -> 'price' ->> 'caveat' AS price_caveat,  -- shown beside every cost of the run
    TRY_CAST(load_profile ->> 'workers' AS INTEGER) AS workers           -- client processes
FROM bench_runs;
