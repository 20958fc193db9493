-- billing_ce_unaccounted: Cost Explorer periods stored before pulls carried their billing
-- account (migration 0006), that still count and lie within a new pull's window: the new pull
-- replaces them. Grain: one row per such source file. Parameters: window start, window end.
SELECT source_file
FROM billing_file_periods
WHERE superseded_by IS NULL AND billing_account_id = '' AND provider = 'AWS'
  AND starts_with(source_file, 'ce:') AND charge_start >= ? AND charge_end <= ?
GROUP BY source_file
ORDER BY source_file;
