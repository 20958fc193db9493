"""Suites from Python, as `unitcost demo` runs them: own targets, a store, a progress callback,
no click; the SLO capacity per scenario and target is decided and stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from unitcost.bench import capacity, suites
from unitcost.bench.suites import Scenario, SuiteFile, SuiteMeta, SuiteProgress, Target

from tests.integration.emulate.servers import Emulator, run_emulator
from unitcost import prices
from unitcost.config import Settings
from unitcost.store import Store

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("emu") / "emulator.log"
    with run_emulator("--model", "llama-3.2-3b", "--gpu", "a10g", log=log) as e:
        yield e


def test_run_suite_from_python(emu: Emulator, tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.migrate()
    with store.write() as con:
        prices.load_shipped(con)
    suite = SuiteFile(
        suite=SuiteMeta(name="demo", slo_attainment=0.9),
        scenarios=[
            Scenario(
                name="chat",
                input_tokens="64",
                output_tokens="16",
                slo="ttft:2000 tpot:200",
                concurrency=[1, 4],
                requests=6,
                ignore_eos=True,
            )
        ],
    )
    heard: list[SuiteProgress] = []
    target = Target(
        name="a10g", endpoint=emu.root, model=emu.model, price_ref="aws/us-east-1/g5.xlarge"
    )
    res = suites.run_suite(
        store, suite, settings=Settings(), targets=[target], progress=heard.append
    )
    assert not res.interrupted and len(res.run_ids) == 2
    assert [(h.index, h.run_id is None) for h in heard] == [
        (1, True),
        (1, False),
        (2, True),
        (2, False),
    ]
    assert heard[1].run_id == res.run_ids[0] and heard[1].summary is not None
    summaries = [r[4] for r in res.runs]
    assert all(s["emulated"] and s["hardware"] == "A10G" for s in summaries)
    assert all(s["group_id"] == res.group_id for s in summaries)
    assert [s["suite"]["level"] for s in summaries] == [1, 4]
    [d] = res.decisions
    assert (d.target, d.scenario, d.slo) == ("a10g", "chat", {"ttft": 2000.0, "tpot": 200.0})
    stored = capacity.for_group(store, res.group_id)
    assert len(stored) == 1 and stored[0]["run_ids"] == res.run_ids
    assert stored[0]["capacity_run_id"] == (d.at[0] if d.at else None)
    assert stored[0]["emulated"] and stored[0]["input_tokens"] == "64"
