"""Suite files: the shipped standard suite loads; mistakes are named by key."""

from __future__ import annotations

from pathlib import Path

import pytest
from unitcost.bench.suites import load_suite

from unitcost.errors import InputError


def test_standard_suite_ships() -> None:
    suite, where = load_suite(Path("standard"))
    assert where == "shipped suite standard"
    assert [s.name for s in suite.scenarios] == ["interactive-chat", "batch", "long-context"]
    assert all(s.slo for s in suite.scenarios) and suite.targets == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[suite]\nname="x"\n[[scenarios]]\nname="a"\nrequests=3\n', "scenarios[0]"),
        (
            '[suite]\nname="x"\n[[scenarios]]\nname="a"\nconcurrency=[1]\nrate=[2.0]\nrequests=1\n',
            "exactly one of concurrency",
        ),
        (
            '[suite]\nname="x"\n[[scenarios]]\nname="a"\nconcurency=[1]\nrequests=1\n',
            "scenarios[0].concurency",
        ),
        ('[suite]\nname="x"\nscenarios=[]\n', "scenarios"),
        (
            '[suite]\nname="x"\n[[scenarios]]\nname="a"\nconcurrency=[1]\nrequests=1\n'
            '[[targets]]\nname="t"\n',
            "targets[0].endpoint",
        ),
        ("[suite\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, body: str, needle: str) -> None:
    f = tmp_path / "s.toml"
    f.write_text(body)
    with pytest.raises(InputError, match=r"s\.toml") as exc:
        load_suite(f)
    assert needle in str(exc.value)


def test_missing_file() -> None:
    with pytest.raises(InputError, match="--suite"):
        load_suite(Path("nope/nothing.toml"))
