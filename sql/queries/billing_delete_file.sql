-- billing_delete_file: remove every line item of one source file before it is reloaded.
-- Parameter: source_file.
DELETE FROM billing_line_items WHERE source_file = ?;
