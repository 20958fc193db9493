-- bench_capacity_for_group: the SLO capacity decisions of one group of runs (a `--capacity`
-- search or a suite), for `bench show`. Grain: one row per (target, scenario).
-- Upstream: bench_capacity.
SELECT group_id, kind, target, scenario, CAST(slo AS VARCHAR) AS slo, slo_attainment, met,
       capacity_run_id, load_kind, capacity_offered_rate, capacity_concurrency,
       capacity_request_rate, capacity_goodput, capacity_output_tokens_per_s,
       usd_per_1m_output_tokens,                 -- USD per 1M output tokens at capacity
       model, hardware, quantization, engine, gpu_count, price_ref, emulated,
       input_tokens, output_tokens, run_ids, CAST(decided_at AS VARCHAR) AS decided_at
FROM bench_capacity
WHERE group_id = $group_id
ORDER BY target, scenario;
