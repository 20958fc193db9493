-- billing_file_periods_delete: forget one file's slices before it is loaded again.
-- Parameter: source_file.
DELETE FROM billing_file_periods WHERE source_file = ?;
