-- dashboard_watermarks: how far each source has been collected (the next run resumes there),
-- including sources whose run history was pruned. Grain: one row per (collector, source).
-- Upstream: watermarks.
SELECT collector, source, watermark, updated_at
FROM watermarks
ORDER BY collector, source;
