"""A billing load killed with SIGKILL at any moment leaves the file all loaded or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from unitcost.store import Store

ROWS = 300_000
CHILD = """
import sys
from pathlib import Path
from unitcost.store import Store
from unitcost.collectors import billing
print("loading", flush=True)
billing.collect(Store(Path(sys.argv[1])), location=sys.argv[2])
print("done", flush=True)
"""


def make_focus_csv(path: Path, rows: int) -> None:
    duckdb.sql(
        f"""COPY (SELECT (i % 1000) / 100 AS BilledCost, (i % 1000) / 100 AS EffectiveCost,
                 TIMESTAMP '2025-01-01' + INTERVAL (i % 720) HOUR AS ChargePeriodStart,
                 'AWS' AS ProviderName, 'USD' AS BillingCurrency, 'i-' || (i % 50) AS ResourceId
              FROM range({rows}) t(i)) TO '{path}' (HEADER, DELIMITER ',')"""
    )


@pytest.mark.integration
@pytest.mark.parametrize("delay_s", [0.3, 0.9, 1.6, 2.5])
def test_sigkill_mid_load_is_all_or_nothing(cstore: Store, tmp_path: Path, delay_s: float) -> None:
    src = tmp_path / "big.csv"
    make_focus_csv(src, ROWS)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(cstore.path), str(src)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "loading"
    time.sleep(delay_s)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    fresh = Store(cstore.path)  # replays the WAL as a new process would
    with fresh.read() as con:
        n = con.execute("SELECT count(*) FROM billing_line_items").fetchone()
        files = con.execute("SELECT count(*), sum(rows_loaded) FROM billing_files").fetchone()
        runs = con.execute("SELECT status FROM collector_runs").fetchall()
    assert n is not None and files is not None
    assert n[0] in (0, ROWS), f"half-written: {n[0]} rows"
    assert (files[0], files[1] or 0) == ((1, ROWS) if n[0] else (0, 0))
    # the audit row shows a run that never finished (none if killed before it committed)
    assert runs in ([], [("running",)], [("ok",)])
    if not finished and n[0] == 0:
        # and a rerun completes the load
        billing_rerun = subprocess.run(
            [sys.executable, "-c", CHILD, str(cstore.path), str(src)], check=True, timeout=120
        )
        assert billing_rerun.returncode == 0
        with fresh.read() as con:
            assert con.execute("SELECT count(*) FROM billing_line_items").fetchone() == (ROWS,)


@pytest.mark.integration
@pytest.mark.parametrize("delay_s", [0.5, 1.5, 3.0])
def test_sigkill_during_a_restatement_leaves_one_delivery(
    cstore: Store, tmp_path: Path, delay_s: float
) -> None:
    """A restated CUR assembly of two large parts, killed at any moment: the store holds the
    old assembly or the new one, whole, never both and never half; a rerun finishes the job."""
    from datetime import timedelta
    from decimal import Decimal

    from tests.unit.collectors import billing_trees as bt

    kw = {"prefix": "cur", "report": "r", "period": "20240901-20241001"}
    tree = bt.Tree()
    a, total_a = bt.cur(bt.hours(1, 24), "1.00")
    bt.cur_assembly(tree, assembly="a", parts=[a], when=bt.T0, **kw)
    root = tree.write(tmp_path / "bucket")
    subprocess.run([sys.executable, "-c", CHILD, str(cstore.path), str(root)], check=True)
    periods = bt.hours(1, 24 * 29) * 110  # ~77k lines per part
    b1, t1 = bt.cur(periods, "0.01")
    b2, t2 = bt.cur(periods, "0.02")
    bt.cur_assembly(tree, assembly="b", parts=[b1, b2], when=bt.T0 + timedelta(days=1), **kw)
    tree.write(root)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(cstore.path), str(root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "loading"
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()

    def total() -> Decimal:
        with Store(cstore.path).read() as con:
            row = con.execute("SELECT sum(billed_cost) FROM billing_cost_by_deployment_daily")
            got = row.fetchone()
            lines = con.execute("SELECT sum(BilledCost) FROM billing_line_items").fetchone()
        assert got is not None and lines == got
        return Decimal(got[0])

    assert total() in (total_a, t1 + t2)
    subprocess.run([sys.executable, "-c", CHILD, str(cstore.path), str(root)], check=True)
    assert total() == t1 + t2
