-- bench_run_requests: every request record of one run, for unitcost.bench.metrics.
-- Grain: one row per request. Upstream: bench_requests.
SELECT request_id, phase, scheduled_ns, dequeued_ns, sent_ns, first_chunk_ns, last_chunk_ns,
       end_ns, chunk_gaps_ns, content_chunks, prompt_tokens, output_tokens, token_source,
       http_status, status, error_class, error_message, finish_reason,
       first_chunk_late_ns  -- ns: bound on how late first_chunk_ns was stamped
FROM bench_requests
WHERE run_id = $run_id
ORDER BY request_id;
