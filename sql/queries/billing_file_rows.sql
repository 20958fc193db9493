-- billing_file_rows: how many lines are stored under one source file. Parameter: source_file.
SELECT count(*) FROM billing_line_items WHERE source_file = ?;
