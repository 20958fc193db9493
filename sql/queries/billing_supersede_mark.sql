-- billing_supersede_mark: mark a delivery's slice (provider, account, billing period, part) as
-- replaced; returns the files whose lines must go. Parameters: $by, $reason, $delivery_id,
-- $provider, $account, $period, $part_key.
UPDATE billing_file_periods
SET superseded_by = $by, reason = $reason
WHERE delivery_id = $delivery_id AND provider = $provider AND billing_account_id = $account
  AND billing_period = $period AND part_key = $part_key AND superseded_by IS NULL
RETURNING source_file;
