-- billing_daily_insert: the daily rollup of one file's counted lines, each spread over the UTC
-- days of its charge period (billing_line_days). Grain: one row per (slice, day, currency,
-- attribution key, pricing and charge category). Upstream: billing_line_days, billing_attr_keys.
-- Parameter: source_file.
INSERT INTO billing_daily
SELECT
    d.source_file, d.provider, d.billing_account_id, d.billing_period, d.day, d.currency,
    k.attr_id, d.pricing_category, d.charge_category,
    sum(d.billed_cost), sum(d.effective_cost), count(*)
FROM billing_line_days d
JOIN billing_attr_keys k
  ON k.resource_id IS NOT DISTINCT FROM d.resource_id
 AND k.instance_type IS NOT DISTINCT FROM d.instance_type
 AND CAST(k.tags AS VARCHAR) IS NOT DISTINCT FROM CAST(d.tags AS VARCHAR)
WHERE d.source_file = ?
GROUP BY ALL;
