-- bench_insert_requests: append one batch of request records (registered as bench_requests_batch).
-- Upstream: unitcost.bench.records.RecordWriter. Re-flushing the same request replaces it.
-- The batch is an Arrow table (records._table); chunk_gaps_ns arrives as BIGINT[] already.
INSERT OR REPLACE INTO bench_requests (
    run_id, request_id, phase, scheduled_ns, dequeued_ns, sent_ns, first_chunk_ns,
    last_chunk_ns, end_ns, chunk_gaps_ns, content_chunks, prompt_tokens, output_tokens,
    token_source, http_status, status, error_class, error_message, finish_reason,
    first_chunk_late_ns
)
SELECT
    run_id, request_id, phase, scheduled_ns, dequeued_ns, sent_ns, first_chunk_ns,
    last_chunk_ns, end_ns, chunk_gaps_ns, content_chunks, prompt_tokens,
    output_tokens, token_source, http_status, status, error_class, error_message, finish_reason,
    first_chunk_late_ns
FROM bench_requests_batch;
