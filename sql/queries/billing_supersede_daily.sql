-- billing_supersede_daily: delete the daily rollup rows of one file's replaced slice.
-- Parameters: $source_file, $provider, $account, $period.
DELETE FROM billing_daily
WHERE source_file = $source_file AND provider = $provider
  AND billing_account_id = $account AND billing_period = $period;
