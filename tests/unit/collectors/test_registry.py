"""Every collector has the one protocol: collect(store, *, since, until, client=None, ...)."""

from __future__ import annotations

import inspect

import pytest
from unitcost.collectors import registry

from unitcost.errors import InputError


@pytest.mark.parametrize("kind", sorted(registry.COLLECTORS))
def test_protocol(kind: str) -> None:
    sig = inspect.signature(registry.COLLECTORS[kind])
    params = list(sig.parameters.values())
    assert params[0].name == "store" and params[0].kind is params[0].POSITIONAL_OR_KEYWORD
    for name in ("since", "until", "client"):
        p = sig.parameters[name]
        assert p.kind is p.KEYWORD_ONLY and p.default is None
    assert sig.return_annotation in (int, "int")


def test_unknown_kind_lists_known() -> None:
    with pytest.raises(InputError, match="known: billing, cost-explorer"):
        registry.run("nope", None)
