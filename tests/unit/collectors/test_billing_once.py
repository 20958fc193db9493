"""Money counted once: duplicated and restated exports give the bill exactly once, to the cent.

Each test builds an export tree shaped as the provider delivers it (billing_trees), collects the
folder as a user would (billing.collect), and compares the views' totals with the bill computed
here from the generated lines. Restatements arrive in a second collection, as they do.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from unitcost.collectors import billing

from tests.unit.collectors import billing_trees as bt
from tests.unit.collectors.conftest import FIXTURES
from unitcost import sqlfiles
from unitcost.errors import InputError
from unitcost.store import Store

SAMPLE = FIXTURES / "billing" / "focus" / "focus_1.0_sample_1000_multiprovider.csv"
DAY = timedelta(days=1)


def view_total(store: Store) -> tuple[Decimal, Decimal]:
    """(billed, effective) over billing_cost_by_deployment_daily: what every reader sees."""
    with store.read() as con:
        row = con.execute(
            "SELECT coalesce(sum(billed_cost), 0), coalesce(sum(effective_cost), 0) "
            "FROM billing_cost_by_deployment_daily"
        ).fetchone()
        lines = con.execute("SELECT coalesce(sum(BilledCost), 0) FROM billing_line_items")
        assert lines.fetchone() == (row[0] if row else None,)  # lines and rollup agree
        assert con.execute(sqlfiles.load("checks", "billing_counted_once")).fetchall() == []
        assert con.execute(sqlfiles.load("checks", "billing_natural_key_unique")).fetchall() == []
    assert row is not None
    return Decimal(row[0]), Decimal(row[1])


def collect(store: Store, root: Path) -> list[billing.FileLoad]:
    loads: list[billing.FileLoad] = []
    billing.collect(store, location=str(root), on_file=loads.append)
    return loads


def files(store: Store) -> dict[str, tuple[object, ...]]:
    """source_file (relative to its tree) -> (rows_loaded, superseded_by set, reason)."""
    with store.read() as con:
        rows = con.execute(
            "SELECT source_file, rows_loaded, superseded_by, reason FROM billing_files"
        ).fetchall()
    return {str(f): (n, by is not None, why) for f, n, by, why in rows}


# ------------------------------------------------------------------ copies
def test_one_file_under_two_names_counts_once(cstore: Store, tmp_path: Path) -> None:
    """25 USD of charges became 100 USD when the same file was found under other paths."""
    root = tmp_path / "bills"
    (root / "2024-09").mkdir(parents=True)
    (root / "backup").mkdir()
    shutil.copy(SAMPLE, root / "2024-09" / "focus.csv")
    shutil.copy(SAMPLE, root / "backup" / "focus (1).csv")
    loads = collect(cstore, root)
    with cstore.read() as con:
        one = con.execute("SELECT sum(BilledCost) FROM billing_line_items").fetchone()
    # the copy delivered later counts, the earlier path is recorded as its copy
    assert [x.source_format for x in loads] == ["focus-1.0", "focus-1.0"]
    assert "same content as" in loads[1].notes[0]
    copies = [k for k, v in files(cstore).items() if str(v[2]).startswith("same content as")]
    assert len(copies) == 1
    other = Store(tmp_path / "one.duckdb")
    other.migrate()
    billing.load_file(other, str(SAMPLE))
    assert view_total(cstore) == view_total(other) and one is not None
    assert view_total(cstore)[0] == Decimal("20.5202267289")  # the sample's own total
    # again: nothing changes, nothing is read
    assert all(x.source_format == "unchanged" for x in collect(cstore, root))
    assert view_total(cstore) == view_total(other)


def test_copy_becomes_a_file_of_its_own_when_the_original_changes(
    cstore: Store, tmp_path: Path
) -> None:
    root = tmp_path / "bills"
    a, b = root / "a" / "bill.csv", root / "b" / "bill.csv"
    data, total = bt.focus(bt.hours(1, 10), "1.25")
    for p in (a, b):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    collect(cstore, root)
    assert view_total(cstore)[0] == total
    other, other_total = bt.focus(bt.hours(20, 4), "2.00")  # a: now another month's day
    a.write_bytes(other)
    collect(cstore, root)  # a reloaded; b, its copy, is read again at the next collection
    collect(cstore, root)
    assert view_total(cstore)[0] == total + other_total


# ------------------------------------------------------------------ AWS CUR assemblies
def test_cur_assemblies_latest_complete_wins_across_collections(
    cstore: Store, tmp_path: Path
) -> None:
    tree = bt.Tree()
    kw = {"prefix": "cur", "report": "hourly", "period": "20240901-20241001"}
    a1, total_a1 = bt.cur(bt.hours(1, 24), "0.50")
    a2, total_a2 = bt.cur(bt.hours(2, 24), "0.50")
    bt.cur_assembly(tree, assembly="aaaa-1111", parts=[a1, a2], when=bt.T0, **kw)
    aug, total_aug = bt.cur(bt.hours(3, 5, month=8), "9.99", month=8)
    bt.cur_assembly(
        tree,
        prefix="cur",
        report="hourly",
        period="20240801-20240901",
        assembly="cccc-0001",
        parts=[aug],
        when=bt.T0,
    )
    root = tree.write(tmp_path / "bucket")
    collect(cstore, root)
    assert view_total(cstore)[0] == total_a1 + total_a2 + total_aug

    # AWS restates September: a new assembly of two parts whose charges overlap (split by rows)
    b1, total_b1 = bt.cur(bt.hours(1, 30), "0.70")
    b2, total_b2 = bt.cur(bt.hours(1, 48), "0.10")
    bt.cur_assembly(tree, assembly="bbbb-2222", parts=[b1, b2], when=bt.T0 + DAY, **kw)
    tree.write(root)
    loads = collect(cstore, root)
    assert view_total(cstore)[0] == total_b1 + total_b2 + total_aug
    set_aside = [x for x in loads if x.source_format == "superseded"]
    assert len(set_aside) == 2 and all("aaaa-1111" in x.source_file for x in set_aside)
    assert all("current assembly bbbb-2222" in x.notes[0] for x in set_aside)
    rec = files(cstore)
    a_files = [v for k, v in rec.items() if "aaaa-1111" in k]
    assert [v[0] for v in a_files] == [24, 24] and all(v[1] for v in a_files)  # kept, not counted

    # a third assembly whose second part has not arrived: B still counts
    c1, _ = bt.cur(bt.hours(1, 10), "5.00")
    bt.cur_assembly(
        tree, assembly="dddd-3333", parts=[c1, c1], when=bt.T0 + 2 * DAY, missing=1, **kw
    )
    tree.write(root)
    loads = collect(cstore, root)
    waiting = [x for x in loads if x.source_format == "waiting"]
    assert waiting and all("incomplete (1 of 2 files present" in x.notes[0] for x in waiting)
    assert view_total(cstore)[0] == total_b1 + total_b2 + total_aug


def test_cur_restatement_with_a_bad_part_changes_nothing_until_fixed(
    cstore: Store, tmp_path: Path
) -> None:
    """A delivery is loaded whole or not at all: a bad second part leaves the earlier assembly
    counting; once fixed, the next collection switches to the new one."""
    tree = bt.Tree()
    kw = {"prefix": "cur", "report": "r", "period": "20240901-20241001"}
    a, total_a = bt.cur(bt.hours(1, 10), "1.00")
    bt.cur_assembly(tree, assembly="a", parts=[a], when=bt.T0, **kw)
    root = tree.write(tmp_path / "bucket")
    collect(cstore, root)
    good1, total1 = bt.cur(bt.hours(1, 12), "1.00")
    good2, total2 = bt.cur(bt.hours(2, 12), "1.00")
    bad2, _ = bt.cur(bt.hours(2, 12), "1.00", text="$1.00")  # money written for people
    bt.cur_assembly(tree, assembly="b", parts=[good1, bad2], when=bt.T0 + DAY, **kw)
    tree.write(root)
    with pytest.raises(InputError) as err:
        collect(cstore, root)
    assert "b/r-2.csv.gz, row 1, column 'lineItem/UnblendedCost': '$1.00'" in str(err.value)
    assert view_total(cstore)[0] == total_a  # nothing of b, and a still counts
    bt.cur_assembly(tree, assembly="b", parts=[good1, good2], when=bt.T0 + DAY, **kw)
    tree.write(root)
    collect(cstore, root)
    assert view_total(cstore)[0] == total1 + total2


# ------------------------------------------------------------------ AWS Data Exports
def test_data_exports_manifest_picks_the_current_version(cstore: Store, tmp_path: Path) -> None:
    tree = bt.Tree()
    base = "exports/focus12"
    sep = f"{base}/data/BILLING_PERIOD=2024-09"
    v1, _ = bt.focus(bt.hours(1, 20), "3.00", provider="AWS", account=bt.PAYER)
    v2a, t2a = bt.focus(bt.hours(1, 30), "3.10", provider="AWS", account=bt.PAYER)
    v2b, t2b = bt.focus(bt.hours(2, 30), "0.90", provider="AWS", account=bt.PAYER)
    tree.add(f"{sep}/20241002T0600Z/focus12-00001.csv", v1, bt.T0)
    tree.add(f"{sep}/20241003T0600Z/focus12-00001.csv", v2a, bt.T0 + DAY)
    tree.add(f"{sep}/20241003T0600Z/focus12-00002.csv", v2b, bt.T0 + DAY)
    bt.data_export_manifest(
        tree,
        prefix="exports",
        export="focus12",
        partition="BILLING_PERIOD=2024-09",
        keys=[f"{sep}/20241003T0600Z/focus12-0000{i}.csv" for i in (1, 2)],
        when=bt.T0 + DAY,
    )
    # overwrite mode, October: a third chunk left from an earlier, longer version
    octo = f"{base}/data/BILLING_PERIOD=2024-10"
    o1, to1 = bt.focus(
        bt.hours(1, 5, month=10),
        "1.00",
        provider="AWS",
        account=bt.PAYER,
        billing_period="2024-10-01T00:00:00Z",
    )
    tree.add(f"{octo}/focus12-00001.csv", o1, bt.T0 + DAY)
    tree.add(f"{octo}/focus12-00002.csv", o1.replace(b"vm-", b"db-"), bt.T0 + DAY)
    tree.add(f"{octo}/focus12-00003.csv", o1, bt.T0)
    bt.data_export_manifest(
        tree,
        prefix="exports",
        export="focus12",
        partition="BILLING_PERIOD=2024-10",
        keys=[f"{octo}/focus12-0000{i}.csv" for i in (1, 2)],
        when=bt.T0 + DAY,
    )
    loads = collect(cstore, tree.write(tmp_path / "bucket"))
    assert view_total(cstore)[0] == t2a + t2b + 2 * to1
    aside = sorted(
        x.source_file.split("/data/")[1] for x in loads if x.source_format == "superseded"
    )
    assert aside == [
        "BILLING_PERIOD=2024-09/20241002T0600Z/focus12-00001.csv",
        "BILLING_PERIOD=2024-10/focus12-00003.csv",
    ]
    rec = files(cstore)
    assert all(v[0] == 0 and v[1] for k, v in rec.items() if k.endswith(tuple(aside)))


# ------------------------------------------------------------------ Azure runs
def test_azure_month_to_date_runs_with_manifests(cstore: Store, tmp_path: Path) -> None:
    tree = bt.Tree()
    base, rng = "msexports/subscriptions/s1/daily-focus", "20240901-20240930"
    kw = {"provider": "Microsoft", "account": "/billingAccounts/8611537"}
    r1, _ = bt.focus(bt.hours(1, 4 * 24), "0.25", **kw)
    r2a, t2a = bt.focus(bt.hours(1, 3 * 24), "0.25", **kw)
    r2b, t2b = bt.focus(bt.hours(4, 2 * 24), "0.25", **kw)
    bt.azure_run(tree, base=base, date_range=rng, run_time=bt.T0, run_id="guid-1", parts=[r1])
    bt.azure_run(
        tree, base=base, date_range=rng, run_time=bt.T0 + DAY, run_id="guid-2", parts=[r2a, r2b]
    )
    root = tree.write(tmp_path / "container")
    loads = collect(cstore, root)
    assert view_total(cstore)[0] == t2a + t2b
    aside = [x for x in loads if x.source_format == "superseded"]
    assert len(aside) == 1 and "guid-1" in aside[0].source_file
    assert "earlier run of the same export" in aside[0].notes[0]
    # a newer run that is still being written does not replace the complete one
    r3, _ = bt.focus(bt.hours(1, 6 * 24), "0.25", **kw)
    bt.azure_run(
        tree,
        base=base,
        date_range=rng,
        run_time=bt.T0 + 2 * DAY,
        run_id="guid-3",
        parts=[r3, r3],
        missing=1,
    )
    tree.write(root)
    loads = collect(cstore, root)
    assert [x.source_format for x in loads if "guid-3" in x.source_file] == ["waiting"]
    assert view_total(cstore)[0] == t2a + t2b


def test_azure_runs_without_manifest_latest_covering_run_wins(
    cstore: Store, tmp_path: Path
) -> None:
    """Runs of one export and date range, newer layout (date range, then export name), no
    manifest.json: each run folder is one delivery; the later run covers the earlier's days."""
    tree = bt.Tree()
    kw = {"provider": "Microsoft", "account": "/billingAccounts/8611537"}
    runs = []
    for i in range(3):
        parts = [bt.focus(bt.hours(1 + d, 24), f"0.1{i}", **kw) for d in range(i + 3)]
        runs.append(sum(t for _, t in parts))
        bt.azure_run(
            tree,
            base="msexports/ea",
            date_range="20240901-20240930/daily-actual",
            run_time=bt.T0 + i * DAY,
            run_id=f"guid-{i}",
            parts=[p for p, _ in parts],
            manifest=False,
        )
    loads = collect(cstore, tree.write(tmp_path / "container"))
    assert view_total(cstore)[0] == runs[-1]
    notes = [n for x in loads for n in x.notes if "replaced by a later delivery" in n]
    replaced = {n.split("/daily-actual/")[1].split("/")[1] for n in notes}
    assert replaced == {"guid-0", "guid-1"} and len(notes) == 3 + 4  # one note per file


# ------------------------------------------------------------------ no manifest
def _two(tmp_path: Path, first: bytes, second: bytes, dt: timedelta) -> Path:
    tree = bt.Tree()
    tree.add("gcp/focus-sep-a.csv", first, bt.T0)
    tree.add("gcp/focus-sep-b.csv", second, bt.T0 + dt)
    return tree.write(tmp_path / "bucket")


def test_gcp_redelivery_later_covering_file_wins(cstore: Store, tmp_path: Path) -> None:
    a, _ = bt.focus(bt.hours(1, 48), "1.00")
    b, total_b = bt.focus(bt.hours(1, 48), "1.01")  # restated prices, same days
    loads = collect(cstore, _two(tmp_path, a, b, DAY))
    assert view_total(cstore)[0] == total_b
    note = next(n for x in loads for n in x.notes)
    assert "focus-sep-a.csv" in note and "replaced by a later delivery" in note


def test_disjoint_halves_of_a_month_both_count(cstore: Store, tmp_path: Path) -> None:
    a, total_a = bt.focus(bt.hours(1, 24 * 14), "0.01")
    b, total_b = bt.focus(bt.hours(15, 24 * 15), "0.02")
    collect(cstore, _two(tmp_path, a, b, DAY))
    assert view_total(cstore)[0] == total_a + total_b


@pytest.mark.parametrize(
    ("second", "dt", "what"),
    [
        (bt.focus(bt.hours(1, 48), "2.00")[0], timedelta(0), "same delivery time"),
        (bt.focus(bt.hours(2, 48), "2.00")[0], timedelta(days=1), "without the later covering"),
    ],
    ids=["same-time", "partial-overlap"],
)
def test_cannot_tell_is_refused_naming_both_files(
    cstore: Store, tmp_path: Path, second: bytes, dt: timedelta, what: str
) -> None:
    first, _ = bt.focus(bt.hours(1, 48), "1.00")
    root = _two(tmp_path, first, second, dt)
    with pytest.raises(InputError) as err:
        collect(cstore, root)
    msg = str(err.value)
    assert "focus-sep-a.csv" in msg and "focus-sep-b.csv" in msg and what in msg
    assert "\n" not in msg
    with cstore.read() as con:  # the first file stands alone; the second wrote nothing
        rows = con.execute("SELECT DISTINCT source_file FROM billing_line_items").fetchall()
    assert [Path(str(r[0])).name for r in rows] == ["focus-sep-a.csv"]


def test_load_order_does_not_matter(cstore: Store, tmp_path: Path) -> None:
    """The older delivery loaded last is set aside at once."""
    a, _ = bt.focus(bt.hours(1, 48), "1.00")
    b, total_b = bt.focus(bt.hours(1, 72), "1.00")
    root = _two(tmp_path, a, b, DAY)
    billing.load_file(cstore, str(root / "gcp" / "focus-sep-b.csv"))
    load = billing.load_file(cstore, str(root / "gcp" / "focus-sep-a.csv"))
    assert view_total(cstore)[0] == total_b
    assert "replaced by a later delivery (" in load.notes[0] and "focus-sep-b.csv" in load.notes[0]


# ------------------------------------------------------------------ OCI
def test_oci_reports_are_increments_and_redeliveries_replace(cstore: Store, tmp_path: Path) -> None:
    """Two OCI cost reports with overlapping hours (late usage) both count; the same report
    delivered again later (same name) replaces the first copy of it."""
    tree = bt.Tree()
    r1, t1 = bt.oci(bt.hours(1, 10), "0.30", "a")
    r2, t2 = bt.oci(bt.hours(1, 12), "0.20", "b")
    tree.add("oci/reports/cost-csv/0001000000000001.csv.gz", r1, bt.T0)
    tree.add("oci/reports/cost-csv/0001000000000002.csv.gz", r2, bt.T0 + timedelta(hours=6))
    root = tree.write(tmp_path / "bucket")
    collect(cstore, root)
    assert view_total(cstore)[0] == t1 + t2
    r1b, t1b = bt.oci(bt.hours(1, 10), "0.31", "a")
    tree.add("oci/redelivered/0001000000000001.csv.gz", r1b, bt.T0 + 3 * DAY)
    tree.write(root)
    collect(cstore, root)
    assert view_total(cstore)[0] == t1b + t2


def test_data_exports_refresh_keeps_unchanged_parts(cstore: Store, tmp_path: Path) -> None:
    """Overwrite mode, a new execution: chunk 1 is byte for byte the same (not read again),
    chunk 2 changed. Chunk 1 joins the new delivery: the parts never replace each other."""
    tree = bt.Tree()
    part = "BILLING_PERIOD=2024-09"
    folder = f"exports/focus/data/{part}"
    kw = {"provider": "AWS", "account": bt.PAYER}
    c1, t1 = bt.focus(bt.hours(1, 30), "1.00", **kw)
    c2, _ = bt.focus(bt.hours(1, 30), "2.00", **kw)
    keys = [f"{folder}/focus-00001.csv", f"{folder}/focus-00002.csv"]
    tree.add(keys[0], c1, bt.T0)
    tree.add(keys[1], c2, bt.T0)
    bt.data_export_manifest(
        tree, prefix="exports", export="focus", partition=part, keys=keys, when=bt.T0
    )
    root = tree.write(tmp_path / "bucket")
    collect(cstore, root)
    c2b, t2b = bt.focus(bt.hours(1, 31), "2.00", **kw)  # chunk 2 restated, covers more hours
    tree.add(keys[1], c2b, bt.T0 + DAY)
    bt.data_export_manifest(
        tree, prefix="exports", export="focus", partition=part, keys=keys, when=bt.T0 + DAY
    )
    tree.write(root)
    loads = collect(cstore, root)
    assert [x.source_format for x in loads] == ["unchanged", "focus-1.0"]
    assert view_total(cstore)[0] == t1 + t2b
