-- billing_file_periods_insert: record a just-loaded file's share of each (provider, billing
-- account, billing period), counting. Grain: one row per slice of the file.
-- Upstream: billing_lines. Parameters: $source_file, $delivery_id, $part_name (the file's name:
-- Oracle's reports are incremental, so each file is a slice of its own; see billing_ledger).
INSERT INTO billing_file_periods
SELECT
    source_file, provider, billing_account_id, billing_period,
    CASE WHEN provider = 'Oracle' THEN $part_name ELSE '' END AS part_key,
    $delivery_id,
    min(ChargePeriodStart),
    max(CASE WHEN ChargePeriodEnd > ChargePeriodStart THEN ChargePeriodEnd
             ELSE ChargePeriodStart + INTERVAL 1 MICROSECOND END),  -- exclusive end
    count(*),
    sum(BilledCost),
    sum(EffectiveCost),
    NULL,
    NULL
FROM billing_lines
WHERE source_file = $source_file
GROUP BY source_file, provider, billing_account_id, billing_period;
