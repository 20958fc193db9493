"""Forget a previous demo's data, and only it (names start with `demo-`, bench runs carry the
label demo=true, billing files lie under the demo's folder), in one transaction."""

from __future__ import annotations

import json
from pathlib import Path

from unitcost.collectors import billing_ledger

from unitcost import sqlfiles
from unitcost.store import Store

STATE = "state.json"  # in the demo folder: the sources the last demo wrote under


def remember(work: Path, sources: list[str]) -> None:
    """Record the demo's collector sources (its Prometheus URL changes every run)."""
    (work / STATE).write_text(json.dumps({"sources": sorted(set(sources))}, indent=2))


def forget(store: Store, work: Path, billing_dir: Path) -> None:
    """Delete every demo row written by an earlier run (none of the user's own data)."""
    state = work / STATE
    sources = json.loads(state.read_text()).get("sources", []) if state.is_file() else []
    prefix = str(billing_dir.resolve()) + "/"
    with store.write() as con:
        for (f,) in con.execute(
            sqlfiles.load("queries", "demo_billing_files"), {"prefix": prefix}
        ).fetchall():
            billing_ledger.forget_file(con, f)
            con.execute("DELETE FROM billing_files WHERE source_file = ?", [f])
        con.execute(sqlfiles.load("queries", "demo_cleanup"))
        mine = {"sources": [*sources, str(billing_dir.resolve())]}
        con.execute(sqlfiles.load("queries", "demo_forget_collector_runs"), mine)
        con.execute(sqlfiles.load("queries", "demo_forget_watermarks"), mine)
