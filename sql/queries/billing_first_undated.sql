-- billing_first_undated: the first line of a file with no ChargePeriodStart (zero or one row):
-- such a line cannot be placed on any day, so the file is refused. Parameter: source_file.
SELECT min(source_row) FROM billing_line_items
WHERE source_file = ? AND ChargePeriodStart IS NULL
HAVING count(*) > 0;
