"""Perf fixtures reuse the integration helpers (Prometheus launcher, free ports)."""
