"""A writer process and a reader process on one DuckDB file at once: no lock error reaches
either, every committed row is eventually seen, and counts never go backwards."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from unitcost.store import Store

WRITER = textwrap.dedent(
    """
    import sys, time
    from unitcost.store import Store
    store = Store(sys.argv[1], lock_timeout_s=20)
    deadline = time.monotonic() + float(sys.argv[2])
    # store.write() as collectors use it; a batch writer as bench's record writer uses it
    db = store if sys.argv[3] == "store" else store.batch_writer()
    batch = 0
    while time.monotonic() < deadline:
        with db.write() as con:  # one short transaction per batch, as bench/collectors do
            con.executemany(
                "INSERT INTO watermarks VALUES (?, ?, now(), now())",
                [("writer", f"{batch}-{i}") for i in range(50)],
            )
        batch += 1
    print(batch * 50)
    """
)

READER = textwrap.dedent(
    """
    import json, sys, time
    from unitcost.store import Store
    store = Store(sys.argv[1], lock_timeout_s=20)
    deadline = time.monotonic() + float(sys.argv[2])
    seen = []
    while time.monotonic() < deadline:
        with store.read() as con:
            seen.append(con.execute("SELECT count(*) FROM watermarks").fetchone()[0])
    print(json.dumps(seen))
    """
)


@pytest.mark.integration
@pytest.mark.parametrize("writer_kind", ["store", "batch_writer"])
def test_writer_and_reader_processes_run_together(tmp_path: Path, writer_kind: str) -> None:
    store = Store(tmp_path / "shared.duckdb")
    store.migrate()
    seconds = "6"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.path), seconds, writer_kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(store.path), seconds],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    w_out, w_err = writer.communicate(timeout=120)
    r_out, r_err = reader.communicate(timeout=120)
    assert writer.returncode == 0, w_err
    assert reader.returncode == 0, r_err
    assert "lock" not in (w_err + r_err).lower()
    written = int(w_out.strip())
    seen = json.loads(r_out)
    assert written >= 50 * 5, "the writer made too little progress to prove anything"
    assert len(seen) >= 5, "the reader made too little progress to prove anything"
    assert seen == sorted(seen), "a reader saw a count go backwards"
    assert all(n % 50 == 0 for n in seen), "a reader saw half a transaction"
    assert any(0 < n < written for n in seen), "reads never interleaved with writes"
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM watermarks").fetchone() == (written,)
