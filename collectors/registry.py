"""The plain dict from source kind to collector; every value has the same shape:
`collect(store, *, since, until, client=None, **source_options) -> rows written`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unitcost.collectors import billing, cost_explorer, gpu, prometheus, scrape

COLLECTORS: dict[str, Callable[..., int]] = {
    "billing": billing.collect,
    "cost-explorer": cost_explorer.collect,
    "prometheus": prometheus.collect,
    "scrape": scrape.collect,
    "gpu": gpu.collect,
}


def run(kind: str, store: Any, **options: Any) -> int:
    """Run one collector by name; the error lists the known ones."""
    try:
        fn = COLLECTORS[kind]
    except KeyError:
        from unitcost.errors import InputError

        raise InputError(f"unknown collector {kind!r} (known: {', '.join(COLLECTORS)})") from None
    return fn(store, **options)
