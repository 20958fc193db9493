-- demo_forget_collector_runs: the collector runs of the demo's own sources (its billing folder,
-- its short-lived Prometheus). Parameter: $sources (list). Upstream: collector_runs.
DELETE FROM collector_runs WHERE list_contains($sources, source);
