-- billing_supersede_file_mark: mark one file's slice as replaced (its delivery's manifest says
-- the file is not current). Parameters: $by, $reason, $source_file, $provider, $account,
-- $period, $part_key.
UPDATE billing_file_periods
SET superseded_by = $by, reason = $reason
WHERE source_file = $source_file AND provider = $provider AND billing_account_id = $account
  AND billing_period = $period AND part_key = $part_key AND superseded_by IS NULL;
