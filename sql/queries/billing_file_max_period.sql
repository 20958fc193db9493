-- billing_file_max_period: the latest charge period end of one file, for the watermark.
-- Parameter: source_file.
SELECT max(coalesce(ChargePeriodEnd, ChargePeriodStart)) FROM billing_line_items WHERE source_file = ?;
