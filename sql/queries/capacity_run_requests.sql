-- capacity_run_requests: the raw request records of several runs, for unitcost.bench.metrics.
-- Grain: one row per request. Upstream: bench_requests. $run_ids: VARCHAR[].
SELECT run_id, request_id, phase, scheduled_ns, dequeued_ns, sent_ns, first_chunk_ns,
       last_chunk_ns, end_ns, chunk_gaps_ns, content_chunks, prompt_tokens, output_tokens,
       token_source, http_status, status, error_class, error_message, finish_reason
FROM bench_requests
WHERE list_contains($run_ids, run_id)
ORDER BY run_id, request_id;
