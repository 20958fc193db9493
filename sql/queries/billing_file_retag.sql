-- billing_file_retag: an unchanged file that is part of a delivery loaded now (the manifest's
-- new execution, a run folder's newer time) joins that delivery, so its parts never replace
-- each other. Parameters: $delivery_id, $delivered_at, $source_file.
UPDATE billing_files SET delivery_id = $delivery_id, delivered_at = $delivered_at
WHERE source_file = $source_file AND superseded_by IS NULL;
