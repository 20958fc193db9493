-- metrics_intervals_derive: metric_intervals rows of some deployments for the intervals that
-- start in [$lo, $hi), from the stored samples of every series mapped to them, whatever wrote
-- them (Prometheus pulls, scrapes, bench, emulate). The caller deletes those rows first.
-- Grain: one row per (deployment_id, interval_start, interval_s). Inside, `ib` numbers an
-- interval: epoch seconds // interval_s (interval_start = ib x interval_s).
-- Upstream: metric_series, metric_points, and metric_family_map (registered by
-- collectors.metric_store from collectors.metric_families: one row per sample name that feeds
-- an interval column: engine, quantity, kind, scale, rank, ok_values, reason_label, summed).
-- Parameters: $deps (deployment ids), $lo and $hi (multiples of $interval_s, epoch-aligned),
-- $interval_s, $max_gap_s.
-- Definitions (collectors/intervals.py says the same in prose):
-- * counters (tokens, requests, energy, prefix cache) and histogram buckets: the increase
--   between consecutive samples of a series is v1 - v0, or v1 when v1 < v0 (a reset: the
--   process restarted and counted from zero), counted in the interval holding the later sample;
--   samples more than $max_gap_s apart are not paired. Summed over series, times the unit scale.
--   Each series' last sample before $lo is read, so the first interval is whole and a window
--   derived in pieces gives exactly what it gives derived at once.
-- * histograms: those bucket increases per `le`, summed over series (`*_hist`), and their
--   p50/p90/p99 by linear interpolation inside the bucket, as Prometheus' histogram_quantile
--   (a quantile in the +Inf bucket is the highest finite bound; under two buckets, NULL).
-- * gauges: the mean of each series' samples in the interval, then summed over series (memory,
--   power, running and waiting requests) or averaged (utilization, KV-cache use).
-- * for each deployment, interval and quantity one family is used: the best source kind
--   (prometheus, then scrape, then emulate: one server seen two ways is never added twice),
--   then the best rank (an engine's new metric name over its old one); its series are summed.
-- * a series Prometheus aggregated as `sum by (...) (increase(m[step]))` (label
--   unitcost_aggregation = 'sum_increase') holds increases already: each value counts as is,
--   in the interval holding its time (the step it ends).
-- * DCGM values of 1e18 and above mean "unsupported" and are skipped.
INSERT INTO metric_intervals (
    deployment_id, interval_start, interval_s, engine, input_tokens, output_tokens,
    requests_ok, requests_failed, failed_by_reason, ttft_p50_s, ttft_p90_s, ttft_p99_s,
    itl_p50_s, itl_p90_s, itl_p99_s, kv_cache_usage, requests_running, requests_waiting,
    gpu_util, gpu_mem_used_bytes, power_w, energy_j, source, emulated,
    prefix_cache_queries, prefix_cache_hits, ttft_hist, itl_hist, e2e_hist
)
WITH series AS (
    SELECT
        s.series_id, s.deployment_id, s.source, s.emulated,
        CASE s.source_kind WHEN 'prometheus' THEN 0 WHEN 'scrape' THEN 1 ELSE 2 END
            AS source_rank,
        f.engine, f.kind, f.scale, f.rank, f.summed,
        CASE
            WHEN f.quantity <> 'requests' THEN f.quantity
            WHEN list_contains(f.ok_values, coalesce(s.labels[f.reason_label], ''))
                THEN 'requests_ok'
            ELSE 'requests_failed'
        END AS quantity,
        CASE WHEN f.reason_label <> ''
            THEN coalesce(nullif(s.labels[f.reason_label], ''), 'unknown') END AS reason,
        CASE WHEN f.kind <> 'histogram' THEN NULL
             WHEN s.labels['le'] IN ('+Inf', 'Inf', 'inf') THEN 'inf'::DOUBLE
             ELSE TRY_CAST(s.labels['le'] AS DOUBLE) END AS le,
        coalesce(s.labels['unitcost_aggregation'] = 'sum_increase', false) AS is_delta
    FROM metric_series s
    JOIN metric_family_map f ON f.metric = s.metric
    WHERE list_contains($deps, s.deployment_id)
),
win AS (
    SELECT p.series_id, p.ts, p.value
    FROM metric_points p
    WHERE p.ts >= $lo AND p.ts < $hi AND p.value < 1e18
      AND p.series_id IN (SELECT series_id FROM series)
),
prev AS (  -- the last sample of each counter series before the window
    SELECT p.series_id, max(p.ts) AS ts, arg_max(p.value, p.ts) AS value
    FROM metric_points p
    WHERE p.ts >= $lo - to_seconds($max_gap_s) AND p.ts < $lo AND p.value < 1e18
      AND p.series_id IN (SELECT series_id FROM series WHERE kind <> 'gauge' AND NOT is_delta)
    GROUP BY p.series_id
),
steps AS (  -- times as epoch microseconds: integer arithmetic, no interval types per row
    SELECT series_id, us, value,
           lag(value) OVER w AS prev_value,
           us - lag(us) OVER w AS gap_us
    FROM (
        SELECT series_id, epoch_us(ts) AS us, value FROM win
        WHERE series_id IN (SELECT series_id FROM series WHERE kind <> 'gauge' AND NOT is_delta)
        UNION ALL
        SELECT series_id, epoch_us(ts), value FROM prev
    )
    WINDOW w AS (PARTITION BY series_id ORDER BY us)
),
per_series AS (  -- each series' increase per interval: integer keys, the big reduction
    SELECT series_id, us // ($interval_s * 1000000::BIGINT) AS ib,
           sum(CASE WHEN value >= prev_value THEN value - prev_value ELSE value END) AS inc
    FROM steps
    WHERE gap_us <= $max_gap_s * 1000000.0 AND us >= epoch_us($lo)
    GROUP BY series_id, ib
    UNION ALL  -- increases Prometheus computed (aggregated pulls): each value is one
    SELECT series_id, epoch_us(ts) // ($interval_s * 1000000::BIGINT) AS ib, sum(value)
    FROM win
    WHERE series_id IN (SELECT series_id FROM series WHERE is_delta)
    GROUP BY ALL
),
increases AS MATERIALIZED (  -- summed once per group; the consumers below only read this
    SELECT s.deployment_id, i.ib, s.quantity, s.source_rank, s.rank, s.kind, s.reason, s.le,
           sum(i.inc * s.scale) AS inc
    FROM per_series i JOIN series s USING (series_id)
    GROUP BY ALL
),
counter_vals AS (
    SELECT deployment_id, ib, quantity, source_rank, rank, sum(inc) AS v
    FROM increases
    WHERE kind = 'counter'
    GROUP BY ALL
),
reason_vals AS (
    SELECT deployment_id, ib, quantity, source_rank, rank, reason, sum(inc) AS v
    FROM increases
    WHERE kind = 'counter' AND quantity = 'requests_failed' AND reason IS NOT NULL
    GROUP BY ALL
),
gauge_vals AS (
    SELECT deployment_id, ib, quantity, source_rank, rank,
           CASE WHEN bool_or(summed) THEN sum(m) ELSE avg(m) END AS v
    FROM (
        SELECT s.deployment_id, epoch_us(w.ts) // ($interval_s * 1000000::BIGINT) AS ib,
               s.quantity, s.source_rank, s.rank, s.summed, w.series_id,
               avg(w.value * s.scale) AS m
        FROM win w JOIN series s USING (series_id)
        WHERE s.kind = 'gauge'
        GROUP BY ALL
    )
    GROUP BY deployment_id, ib, quantity, source_rank, rank
),
bucket_vals AS (
    SELECT deployment_id, ib, quantity, source_rank, rank, le, sum(inc) AS n
    FROM increases
    WHERE kind = 'histogram' AND le IS NOT NULL
    GROUP BY ALL
),
best AS (  -- per deployment, interval and quantity: the source kind and family rank used
    SELECT * FROM (
        SELECT DISTINCT deployment_id, ib, quantity, source_rank, rank
        FROM (
            SELECT deployment_id, ib, quantity, source_rank, rank FROM counter_vals
            UNION ALL
            SELECT deployment_id, ib, quantity, source_rank, rank FROM gauge_vals
            UNION ALL
            SELECT deployment_id, ib, quantity, source_rank, rank FROM bucket_vals
        )
    )
    QUALIFY row_number() OVER (PARTITION BY deployment_id, ib, quantity
                               ORDER BY source_rank, rank) = 1
),
vals AS (
    SELECT deployment_id, ib, quantity, v
    FROM (SELECT * FROM counter_vals UNION ALL BY NAME SELECT * FROM gauge_vals)
    SEMI JOIN best USING (deployment_id, ib, quantity, source_rank, rank)
),
vals_wide AS (
    SELECT deployment_id, ib,
           max(v) FILTER (WHERE quantity = 'input_tokens') AS input_tokens,
           max(v) FILTER (WHERE quantity = 'output_tokens') AS output_tokens,
           max(v) FILTER (WHERE quantity = 'requests_ok') AS requests_ok,
           max(v) FILTER (WHERE quantity = 'requests_failed') AS requests_failed,
           max(v) FILTER (WHERE quantity = 'kv_cache_usage') AS kv_cache_usage,
           max(v) FILTER (WHERE quantity = 'requests_running') AS requests_running,
           max(v) FILTER (WHERE quantity = 'requests_waiting') AS requests_waiting,
           max(v) FILTER (WHERE quantity = 'gpu_util') AS gpu_util,
           max(v) FILTER (WHERE quantity = 'gpu_mem_used_bytes') AS gpu_mem_used_bytes,
           max(v) FILTER (WHERE quantity = 'power_w') AS power_w,
           max(v) FILTER (WHERE quantity = 'energy_j') AS energy_j,
           max(v) FILTER (WHERE quantity = 'prefix_cache_queries') AS prefix_cache_queries,
           max(v) FILTER (WHERE quantity = 'prefix_cache_hits') AS prefix_cache_hits
    FROM vals
    GROUP BY deployment_id, ib
),
reasons_wide AS (
    SELECT deployment_id, ib,
           map_from_entries(list({'k': reason, 'v': v} ORDER BY reason)) AS failed_by_reason
    FROM (
        SELECT deployment_id, ib, reason, sum(v) AS v
        FROM reason_vals
        SEMI JOIN best USING (deployment_id, ib, quantity, source_rank, rank)
        GROUP BY ALL
    )
    GROUP BY deployment_id, ib
),
hist AS (
    SELECT deployment_id, ib, quantity, le, n,
           lag(le, 1, 0.0) OVER w AS prev_le,
           lag(n, 1, 0.0) OVER w AS prev_n,
           max(CASE WHEN le = 'inf'::DOUBLE THEN n END) OVER part AS total,
           count(*) OVER part AS buckets
    FROM bucket_vals
    SEMI JOIN best USING (deployment_id, ib, quantity, source_rank, rank)
    WINDOW part AS (PARTITION BY deployment_id, ib, quantity),
           w AS (PARTITION BY deployment_id, ib, quantity ORDER BY le)
),
hist_q AS (  -- interpolated value where the cumulative count first reaches q x total
    SELECT deployment_id, ib, quantity,
           map_from_entries(list({'k': le, 'v': n} ORDER BY le)) AS buckets,
           arg_min(CASE WHEN le = 'inf'::DOUBLE THEN prev_le WHEN n = prev_n THEN le
                        ELSE prev_le + (le - prev_le) * (0.5 * total - prev_n) / (n - prev_n) END,
                   le) FILTER (WHERE buckets >= 2 AND total > 0 AND n >= 0.5 * total) AS p50,
           arg_min(CASE WHEN le = 'inf'::DOUBLE THEN prev_le WHEN n = prev_n THEN le
                        ELSE prev_le + (le - prev_le) * (0.9 * total - prev_n) / (n - prev_n) END,
                   le) FILTER (WHERE buckets >= 2 AND total > 0 AND n >= 0.9 * total) AS p90,
           arg_min(CASE WHEN le = 'inf'::DOUBLE THEN prev_le WHEN n = prev_n THEN le
                        ELSE prev_le + (le - prev_le) * (0.99 * total - prev_n) / (n - prev_n) END,
                   le) FILTER (WHERE buckets >= 2 AND total > 0 AND n >= 0.99 * total) AS p99
    FROM hist
    GROUP BY deployment_id, ib, quantity
),
hist_wide AS (
    SELECT deployment_id, ib,
           max(p50) FILTER (WHERE quantity = 'ttft') AS ttft_p50_s,
           max(p90) FILTER (WHERE quantity = 'ttft') AS ttft_p90_s,
           max(p99) FILTER (WHERE quantity = 'ttft') AS ttft_p99_s,
           max(p50) FILTER (WHERE quantity = 'itl') AS itl_p50_s,
           max(p90) FILTER (WHERE quantity = 'itl') AS itl_p90_s,
           max(p99) FILTER (WHERE quantity = 'itl') AS itl_p99_s,
           any_value(buckets) FILTER (WHERE quantity = 'ttft') AS ttft_hist,
           any_value(buckets) FILTER (WHERE quantity = 'itl') AS itl_hist,
           any_value(buckets) FILTER (WHERE quantity = 'e2e') AS e2e_hist
    FROM hist_q
    GROUP BY deployment_id, ib
),
meta AS (  -- what the interval's series say about it: engine, sources, emulated
    SELECT s.deployment_id, a.ib,
           coalesce(min(s.engine) FILTER (WHERE s.engine <> 'dcgm'), min(s.engine)) AS engine,
           string_agg(DISTINCT s.source, ', ' ORDER BY s.source) AS source,
           bool_or(s.emulated) AS emulated
    FROM (
        SELECT DISTINCT series_id, epoch_us(ts) // ($interval_s * 1000000::BIGINT) AS ib
        FROM win
    ) a
    JOIN series s USING (series_id)
    GROUP BY ALL
),
keys AS (
    SELECT DISTINCT deployment_id, ib FROM best
)
SELECT
    k.deployment_id, to_timestamp(k.ib * $interval_s), $interval_s, m.engine,
    v.input_tokens, v.output_tokens, v.requests_ok, v.requests_failed, r.failed_by_reason,
    h.ttft_p50_s, h.ttft_p90_s, h.ttft_p99_s, h.itl_p50_s, h.itl_p90_s, h.itl_p99_s,
    v.kv_cache_usage, v.requests_running, v.requests_waiting, v.gpu_util,
    v.gpu_mem_used_bytes, v.power_w, v.energy_j, coalesce(m.source, ''),
    coalesce(m.emulated, false), v.prefix_cache_queries, v.prefix_cache_hits,
    h.ttft_hist, h.itl_hist, h.e2e_hist
FROM keys k
LEFT JOIN meta m USING (deployment_id, ib)
LEFT JOIN vals_wide v USING (deployment_id, ib)
LEFT JOIN reasons_wide r USING (deployment_id, ib)
LEFT JOIN hist_wide h USING (deployment_id, ib);
