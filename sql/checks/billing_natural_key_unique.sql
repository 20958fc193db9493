-- billing_natural_key_unique: (source_file, source_row) identifies one billing line item.
-- Grain: one row per violating key (must return zero rows). Upstream: billing_line_items.
-- The table has no index (0004); loads keep the key unique by replacing a file's rows whole.
SELECT source_file, source_row, count(*) AS copies
FROM billing_line_items
GROUP BY source_file, source_row
HAVING count(*) > 1;
