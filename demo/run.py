"""`unitcost demo`, steps 1-6: a store full of labelled demo data, built through the real paths.

1. the store (migrated, price catalog loaded) and the demo folder beside it, with a generated
   unitcost.toml a user can read as an example; what an earlier demo wrote is forgotten first;
2. an emulated fleet of the tier matrix (`unitcost emulate --fleet`);
3. the benchmark suite against it (bench's suite runner, every request stored);
4. a simulated quarter of production telemetry for the current deployments, through a local
   Prometheus where the machine has one, else straight into the store;
5. billing through `collect billing`: the shipped FOCUS sample and the demo's GPU-hours bill;
6. `unitcost recommend` for the generated scenarios (stored for the dashboard and review).
Step 7 (the dashboard) is demo/cli.py's. Every step writes as it goes: Ctrl-C keeps what is done.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from unitcost.analytics import recommend as rec
from unitcost.analytics.period import Period, quarter_of
from unitcost.collectors import billing, deployments
from unitcost.demo import benchmarks, bill, cleanup, fleet, telemetry
from unitcost.demo import config as demo_config
from unitcost.demo.matrix import CURRENT, benchmarked
from unitcost.emulate.catalog import load_catalog

from unitcost import prices, sqlfiles
from unitcost.config import Settings, load_settings
from unitcost.store import Store

SAMPLE = "focus_1.0_sample_1000_multiprovider.csv"


@dataclass
class Report:
    """What the demo made, for its summary."""

    work: Path
    config: Path
    quarter: Period
    timings: dict[str, float] = field(default_factory=dict)
    runs: int = 0
    samples: int = 0
    billing_rows: int = 0
    telemetry_path: str = "store"
    scenarios: list[dict[str, Any]] = field(default_factory=list)


def demo_quarter(today: date | None = None) -> Period:
    """The last full quarter: what the dashboard and `unitcost kpi` open on by default."""
    today = today or datetime.now(UTC).date()
    return quarter_of(quarter_of(today).start - timedelta(days=1))


class Steps:
    """Times each step and tells the caller's progress display."""

    def __init__(self, report: Report, on_step: Callable[[str], None]) -> None:
        self.report, self.on_step = report, on_step
        self._name: str | None = None
        self._t = 0.0

    def __call__(self, name: str) -> None:
        self.end()
        self._name, self._t = name, time.monotonic()
        self.on_step(name)

    def end(self) -> None:
        if self._name is not None:
            self.report.timings[self._name] = time.monotonic() - self._t
            self._name = None


def run(
    store: Store,
    *,
    quick: bool,
    on_step: Callable[[str], None],
    on_run: Callable[[str, bool], None],
    on_total_runs: Callable[[int], None],
    log: Callable[[str], None],
    today: date | None = None,
) -> Report:
    """Steps 1-6; returns what was made (the store is ready for the dashboard)."""
    work = store.path.resolve().parent / "unitcost-demo"
    billing_dir = work / "billing"
    quarter = demo_quarter(today)
    report = Report(work, work / "unitcost.toml", quarter)
    step = Steps(report, on_step)

    step("store")
    work.mkdir(parents=True, exist_ok=True)
    store.migrate()
    with store.write() as con:
        prices.load_shipped(con)
    catalog = load_catalog()
    demo_config.write(report.config, store.path, billing_dir, catalog)
    settings = load_settings(report.config, environ={}).settings
    cleanup.forget(store, work, billing_dir)

    step("fleet")
    configs = benchmarked(catalog, quick=quick)
    with fleet.serving(work, configs) as targets:
        step("benchmarks")
        on_total_runs(len(targets) * len(benchmarks.LEVELS[quick]))
        benchmarks.run(store.path, targets, quick=quick, on_run=on_run)
        report.runs = len(targets) * len(benchmarks.LEVELS[quick])

    step("telemetry")
    via = telemetry.has_prometheus() and not quick
    report.samples, url = telemetry.load(
        store, quarter, work, quick=quick, via_prometheus=via, log=log
    )
    report.telemetry_path = "the store (emulate offline --to-store)"
    if url:
        report.telemetry_path += (
            f" and, its last {telemetry.PROMETHEUS_DAYS} days, a local Prometheus ({url})"
        )
    cleanup.remember(work, [url] if url else [])
    _deployments(store, settings)

    step("billing")
    report.billing_rows = _billing(store, settings, quarter, billing_dir, log)

    step("recommend")
    with store.write() as con:
        result = rec.recommend(con, settings, None, save=True)
    report.scenarios = result["scenarios"]
    step.end()
    return report


def _deployments(store: Store, settings: Settings) -> None:
    """The config's deployments (price, match rules) over what emulate registered, marked
    demo and emulated."""
    deployments.sync(store, settings.deployments)
    with store.write() as con:
        con.execute(sqlfiles.load("queries", "demo_label_deployments"))


def _usd_per_gpu_hour(store: Store, price_ref: str) -> Any:
    with store.read() as con:
        row = con.execute(
            sqlfiles.load("queries", "demo_gpu_price"), {"price_ref": price_ref}
        ).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"no GPU price for {price_ref} in the catalog")
    return row[0]


def _billing(
    store: Store, settings: Settings, quarter: Period, billing_dir: Path, log: Callable[[str], None]
) -> int:
    """The demo's GPU-hours bill and the shipped FOCUS sample, through `collect billing`."""
    shutil.rmtree(billing_dir, ignore_errors=True)
    billing_dir.mkdir(parents=True)
    start = datetime(quarter.start.year, quarter.start.month, quarter.start.day, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(quarter.hours)]
    rows = [
        line
        for cur in CURRENT
        if cur.billed
        for line in bill.gpu_hour_lines(
            cur.id, cur.price_ref.rsplit("/", 1)[1], _usd_per_gpu_hour(store, cur.price_ref), 1,
            hours,
        )
    ]  # fmt: skip
    rows += list(bill.other_lines(quarter.start, quarter.end))
    bill.write(billing_dir / f"demo-bill-{quarter.label}.csv", rows)
    sample = files("unitcost.demo").joinpath("data", SAMPLE)
    copy = billing_dir / SAMPLE
    copy.write_bytes(sample.read_bytes())
    if _loaded_elsewhere(store, copy, billing_dir):
        copy.unlink()  # the user loaded this very file: counting it again would move it here
        log(f"  {SAMPLE}: already in the store outside the demo, not loaded again")
    source = settings.billing[0].location
    return billing.collect(store, location=source)


def _loaded_elsewhere(store: Store, path: Path, billing_dir: Path) -> bool:
    digest = billing.content_hash(str(path))
    with store.read() as con:
        row = con.execute(
            sqlfiles.load("queries", "demo_same_bytes_elsewhere"),
            {"hash": digest, "prefix": str(billing_dir.resolve()) + "/"},
        ).fetchone()
    return bool(row and row[0])
