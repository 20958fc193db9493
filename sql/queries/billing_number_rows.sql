-- billing_number_rows: give the rows of a CSV file just inserted (source_row 0, in file order,
-- in this transaction) their 1-based data row numbers. Row ids of one insert are consecutive
-- and follow insertion order (preserve_insertion_order = true), so row id - first row id + 1
-- is the row's position in the file. Parameter: source_file.
UPDATE billing_line_items AS b
SET source_row = b.rowid - f.first_rowid + 1
FROM (
    SELECT min(rowid) AS first_rowid FROM billing_line_items WHERE source_file = $1
) AS f
WHERE b.source_file = $1;
