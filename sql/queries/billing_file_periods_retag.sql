-- billing_file_periods_retag: the slices of a file that joined another delivery follow it.
-- Parameters: $delivery_id, $source_file.
UPDATE billing_file_periods SET delivery_id = $delivery_id
WHERE source_file = $source_file AND superseded_by IS NULL;
