-- demo_forget_watermarks: the watermarks of the demo's own sources (its billing folder, its
-- short-lived Prometheus). Parameter: $sources (list). Upstream: watermarks.
DELETE FROM watermarks WHERE list_contains($sources, source);
