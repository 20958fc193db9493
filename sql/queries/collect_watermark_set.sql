-- collect_watermark_set: move a source's watermark forward (never back).
-- Parameters: collector, source, watermark.
INSERT INTO watermarks (collector, source, watermark, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (collector, source) DO UPDATE
SET watermark = greatest(watermarks.watermark, excluded.watermark), updated_at = now();
