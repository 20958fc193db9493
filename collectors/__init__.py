"""Collectors: Prometheus, direct scrapes, GPUs and cloud billing into the store."""
