-- billing_daily_delete: remove one file's daily rollup rows before it is loaded again.
-- Parameter: source_file.
DELETE FROM billing_daily WHERE source_file = ?;
