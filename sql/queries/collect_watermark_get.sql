-- collect_watermark_get: how far a source has been collected (zero or one row).
-- Parameters: collector, source.
SELECT watermark FROM watermarks WHERE collector = ? AND source = ?;
