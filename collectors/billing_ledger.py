"""Which billing lines count: each delivery once, exports over Cost Explorer, on the right days.

Runs inside the transaction that writes a delivery (billing.load_delivery, cost_explorer), so a
load, the replacements it causes and the daily rollup commit together or not at all.

The unit of replacement is a *slice*: a file's lines of one (provider, billing account, billing
period), plus, for Oracle, the file's name (OCI cost and FOCUS reports are incremental: each file
adds lines and is only ever re-delivered under its own name, so two OCI files never replace each
other). Two different deliveries that both count for a slice are resolved by `decide`:

1. An export (FOCUS, CUR, Azure, OCI file) takes precedence over Cost Explorer: the Cost
   Explorer figures of that account and billing period are set aside.
2. Otherwise the later delivery replaces the earlier when its charge periods cover the
   earlier's (a restatement, a longer month-to-date run). Deliveries whose charge periods do not
   overlap both count (two halves of a month). Anything else cannot be told apart (same delivery
   time; overlapping without one covering the other) and is refused, naming both files, with
   nothing written: never a silent double count, never a silent drop.

Parts of one delivery share a delivery id and never replace each other. A replaced slice's lines
leave billing_line_items and billing_daily; what it held stays in billing_file_periods with
superseded_by and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath

import duckdb

from unitcost import sqlfiles
from unitcost.errors import InputError


@dataclass(frozen=True)
class Side:
    """One delivery's counting share of a slice (a row half of billing_conflicts)."""

    delivery_id: str
    start: datetime | None
    end: datetime | None
    delivered_at: datetime | None
    is_cost_explorer: bool
    example_file: str

    def span(self) -> str:
        if self.start is None or self.end is None:
            return "no charge period"
        return f"charges {self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Slice:
    provider: str
    billing_account_id: str
    billing_period: date
    part_key: str

    def __str__(self) -> str:
        who = " ".join(x for x in (self.provider, self.billing_account_id) if x) or "no account"
        part = f" {self.part_key}" if self.part_key else ""
        return f"{who} {self.billing_period:%Y-%m}{part}"


@dataclass(frozen=True)
class Supersession:
    """A delivery's share of a slice that stopped counting, and why."""

    source_file: str  # one file of the replaced delivery
    slice: Slice
    by: str  # a file of the delivery that replaces it
    reason: str

    def describe(self) -> str:
        return f"set aside {self.source_file} [{self.slice}]: {self.reason}"


def decide(a: Side, b: Side, key: Slice) -> tuple[Side, Side, str]:
    """(loser, winner, reason) for two deliveries counting for one slice; InputError when the
    rule cannot tell. Pure: the whole precedence rule is here."""
    if a.is_cost_explorer != b.is_cost_explorer:
        ce, export = (a, b) if a.is_cost_explorer else (b, a)
        return (
            ce,
            export,
            f"an export ({export.example_file}) covers the same account and billing period; "
            "exports take precedence over Cost Explorer",
        )
    if a.delivered_at is None or b.delivered_at is None or a.delivered_at == b.delivered_at:
        raise InputError(
            f"{a.example_file} and {b.example_file}: two different deliveries for {key} with the "
            f"same delivery time ({a.delivered_at}) and overlapping charge periods ({a.span()}; "
            f"{b.span()}); cannot tell which one counts, so nothing was written. Keep only the "
            "current delivery at the billing source (or its manifest), or pull the whole "
            "period again"
        )
    earlier, later = sorted((a, b), key=lambda s: s.delivered_at or datetime.min)
    covers = (
        later.start is not None
        and later.end is not None
        and earlier.start is not None
        and earlier.end is not None
        and later.start <= earlier.start
        and later.end >= earlier.end
    )
    if not covers:
        raise InputError(
            f"{earlier.example_file} and {later.example_file}: different deliveries for {key} "
            f"whose charge periods overlap without the later covering the earlier "
            f"({earlier.span()}; later: {later.span()}); cannot tell whether the later "
            "replaces the earlier or adds to it, so nothing was written. Keep only the "
            "current delivery at the billing source, or pull the whole period again"
        )
    when = f"{later.delivered_at:%Y-%m-%d %H:%M:%S} UTC" if later.delivered_at else "later"
    return (
        earlier,
        later,
        f"replaced by a later delivery ({later.example_file}, delivered {when}) covering the "
        "same account, billing period and days",
    )


def forget_file(con: duckdb.DuckDBPyConnection, source_file: str) -> None:
    """Remove a file's lines, slices and rollup before it is loaded again."""
    for name in ("billing_delete_file", "billing_daily_delete", "billing_file_periods_delete"):
        con.execute(sqlfiles.load("queries", name), [source_file])


def index_file(
    con: duckdb.DuckDBPyConnection, source_file: str, delivery_id: str, part_name: str
) -> None:
    """Record the slices of a file whose lines were just inserted (counting)."""
    con.execute(
        sqlfiles.load("queries", "billing_file_periods_insert"),
        {"source_file": source_file, "delivery_id": delivery_id, "part_name": part_name},
    )


def add_lines(
    con: duckdb.DuckDBPyConnection,
    source_file: str,
    *,
    source_format: str,
    delivery_id: str,
    delivered_at: datetime,
    fingerprint: str,
    run_id: str | None = None,
) -> int:
    """Record lines already inserted under `source_file` by a writer other than the file loader
    (Cost Explorer periods; literal rows in tests): the file and its slices. Returns rows."""
    row = con.execute(sqlfiles.load("queries", "billing_file_rows"), [source_file]).fetchone()
    n = int(row[0]) if row else 0
    con.execute(
        sqlfiles.load("queries", "billing_file_upsert"),
        [
            source_file,
            source_format,
            fingerprint,
            n,
            [],
            run_id,
            None,
            delivery_id,
            delivered_at,
            None,
            None,
        ],
    )
    index_file(con, source_file, delivery_id, PurePosixPath(source_file).name)
    return n


def register_inserted(
    con: duckdb.DuckDBPyConnection,
    source_file: str,
    source_format: str,
    delivered_at: datetime | None = None,
) -> list[Supersession]:
    """Lines inserted straight into billing_line_items under `source_file` (seeds, demos,
    tests) as one delivery of their own: recorded, resolved and rolled up, in the caller's
    transaction, so the views count them like loaded lines."""
    delivery = f"file:{source_file}"
    add_lines(
        con,
        source_file,
        source_format=source_format,
        delivery_id=delivery,
        delivered_at=delivered_at or datetime.now().astimezone(),
        fingerprint="inserted",
    )
    return finish(con, delivery, [source_file])


def finish(
    con: duckdb.DuckDBPyConnection, delivery_id: str, files: list[str]
) -> list[Supersession]:
    """After a delivery's files are indexed: resolve what counts, then build their rollup."""
    events = resolve(con, [delivery_id])
    for f in files:
        build_daily(con, f)
    return events


def build_daily(con: duckdb.DuckDBPyConnection, source_file: str) -> None:
    """The daily rollup of a file's lines that count (run after resolve)."""
    con.execute(sqlfiles.load("queries", "billing_attr_keys_insert"), [source_file])
    con.execute(sqlfiles.load("queries", "billing_daily_insert"), [source_file])


def supersede(
    con: duckdb.DuckDBPyConnection, delivery_id: str, key: Slice, by: str, reason: str
) -> list[str]:
    """Stop counting a delivery's share of a slice: mark it, delete its lines and rollup."""
    rows = con.execute(
        sqlfiles.load("queries", "billing_supersede_mark"),
        {
            "by": by,
            "reason": reason,
            "delivery_id": delivery_id,
            "provider": key.provider,
            "account": key.billing_account_id,
            "period": key.billing_period,
            "part_key": key.part_key,
        },
    ).fetchall()
    files = sorted({str(r[0]) for r in rows})
    for f in files:
        where = {
            "source_file": f,
            "provider": key.provider,
            "account": key.billing_account_id,
            "period": key.billing_period,
        }
        con.execute(sqlfiles.load("queries", "billing_supersede_lines"), where)
        con.execute(sqlfiles.load("queries", "billing_supersede_daily"), where)
        settle(con, f, by, reason)
    return files


def settle(con: duckdb.DuckDBPyConnection, source_file: str, by: str, reason: str) -> None:
    """Record a file as replaced when none of its slices counts any more."""
    con.execute(
        sqlfiles.load("queries", "billing_file_settle"),
        {"by": by, "reason": reason, "source_file": source_file},
    )


def supersede_file(
    con: duckdb.DuckDBPyConnection, source_file: str, by: str, reason: str
) -> list[Supersession]:
    """Stop counting every slice of one file (its delivery's manifest says it is not current)."""
    slices = con.execute(sqlfiles.load("queries", "billing_file_slices"), [source_file])
    out = []
    for provider, account, period, part in slices.fetchall():
        key = Slice(str(provider), str(account), period, str(part))
        where = {
            "source_file": source_file,
            "provider": key.provider,
            "account": key.billing_account_id,
            "period": key.billing_period,
        }
        con.execute(
            sqlfiles.load("queries", "billing_supersede_file_mark"),
            {**where, "by": by, "reason": reason, "part_key": key.part_key},
        )
        con.execute(sqlfiles.load("queries", "billing_supersede_lines"), where)
        con.execute(sqlfiles.load("queries", "billing_supersede_daily"), where)
        out.append(Supersession(source_file, key, by, reason))
    settle(con, source_file, by, reason)
    return out


def resolve(con: duckdb.DuckDBPyConnection, deliveries: list[str]) -> list[Supersession]:
    """Apply `decide` until no two deliveries count twice for a slice the given deliveries
    touch. Raises InputError (the caller's transaction rolls back) when the rule cannot tell."""
    out: list[Supersession] = []
    sql = sqlfiles.load("queries", "billing_conflicts")
    while True:
        row = con.execute(sql, [deliveries]).fetchone()
        if row is None:
            return out
        key = Slice(str(row[0]), str(row[1]), row[2], str(row[3]))
        a = Side(str(row[4]), row[5], row[6], row[7], bool(row[8]), str(row[9]))
        b = Side(str(row[10]), row[11], row[12], row[13], bool(row[14]), str(row[15]))
        loser, winner, reason = decide(a, b, key)
        for f in supersede(con, loser.delivery_id, key, winner.example_file, reason):
            out.append(Supersession(f, key, winner.example_file, reason))
