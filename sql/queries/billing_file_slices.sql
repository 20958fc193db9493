-- billing_file_slices: the slices of one file that still count. Grain: one row per slice.
-- Parameter: source_file.
SELECT provider, billing_account_id, billing_period, part_key
FROM billing_file_periods
WHERE source_file = ? AND superseded_by IS NULL
ORDER BY ALL;
