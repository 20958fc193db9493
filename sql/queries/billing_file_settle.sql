-- billing_file_settle: a file none of whose slices counts any more is itself replaced: record
-- by what and why (the last replacement). Parameters: $by, $reason, $source_file.
UPDATE billing_files
SET superseded_by = $by, reason = $reason
WHERE source_file = $source_file
  AND EXISTS (SELECT 1 FROM billing_file_periods WHERE source_file = $source_file)
  AND NOT EXISTS (SELECT 1 FROM billing_file_periods
                  WHERE source_file = $source_file AND superseded_by IS NULL);
