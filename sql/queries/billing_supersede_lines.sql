-- billing_supersede_lines: delete the lines of one file's replaced slice (their totals stay in
-- billing_file_periods). Parameters: $source_file, $provider, $account, $period.
DELETE FROM billing_line_items
WHERE source_file = $source_file
  AND source_row IN (
      SELECT source_row FROM billing_lines
      WHERE source_file = $source_file AND provider = $provider
        AND billing_account_id = $account AND billing_period = $period);
