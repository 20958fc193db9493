"""One billing file's lines into billing_line_items, inside the caller's transaction.

Formats: FOCUS 1.0-1.3, AWS CUR legacy and 2.0, Azure EA cost exports, OCI cost reports
(billing_formats, billing_native map each onto the FOCUS-shaped table). Readers that use every
core do the reading, so a 10M-row export loads at close to the speed DuckDB reads it: DuckDB's
own reader for Parquet, pyarrow's streaming reader for CSV (billing_csv.py says why), checked
first by DuckDB's strict CSV reader (`prepare`, before any transaction). CSV is read as text
(money never passes through a float); every conversion is strict (money: unitcost/money.py), and
when one fails the file is re-read in memory to name the first bad row and column.

Row numbers (source_row) are 1-based data rows: the header is not counted. Parquet has them from
the reader (file_row_number), CSV from a running count over pyarrow's batches. A CSV that pyarrow
cannot read, or reads differently, but DuckDB's strict reader accepts is loaded by DuckDB's
reader (`insert` raises UseDuckDBReader and the caller starts its transaction again): its rows
are inserted in file order (DuckDB keeps insertion order by default) with source_row 0, then
numbered in the same transaction from their row ids, which follow that order (slower, same
result).
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from typing import Any

import duckdb
from unitcost.collectors import billing_formats as bf
from unitcost.collectors import billing_native as native
from unitcost.collectors.base import utc_session
from unitcost.collectors.billing_csv import NumberedCsv

from unitcost import money, sqlfiles
from unitcost.errors import InputError, input_error
from unitcost.sqlfiles import quote_ident, quote_literal

ROW_COL = "__uc_source_row"
_STREAM = "__uc_csv_stream"
_CSV_LINE = re.compile(r"(?:CSV Error on Line|line)\s*:?\s*(\d+)", re.IGNORECASE)
_CSV_FOUND = re.compile(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)")


def _is_parquet(path: str) -> bool:
    return path.lower().endswith(".parquet")


def csv_header(path: str, shown: str) -> list[str]:
    """The header record of a CSV (plain or gzip), read by Python's csv module."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise input_error(shown, msg=f"cannot read the header: {exc}") from exc
    if not header:
        raise input_error(shown, row=0, msg="empty file: no header row")
    return header


def relation_sql(
    path: str,
    header: list[str] | None = None,
    types: dict[str, str] | None = None,
    *,
    numbered: bool = True,
) -> str:
    """A relation over the file with every column plus its 1-based data row number.

    numbered=False (CSV only) gives 0 instead, for a parallel scan numbered after the insert.

    CSV: the dialect is fixed (comma, double quotes) and the columns are the header's, all read
    as text, so nothing is guessed; `NULL`, `null` and empty fields are NULL; a row with too few
    or too many fields is an error (strict mode, no null padding), never silently padded.
    """
    lit = quote_literal(path)
    if _is_parquet(path):
        return (
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {ROW_COL} "
            f"FROM read_parquet({lit}, file_row_number = true)"
        )
    types = types or {}
    cols = ", ".join(
        f"{quote_literal(c)}: {quote_literal(types.get(c, 'VARCHAR'))}" for c in header or []
    )
    number = "row_number() OVER ()" if numbered else "0"
    return (
        f"SELECT *, {number} AS {ROW_COL} FROM read_csv({lit}, header = true, "
        f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {{{cols}}}, "
        "nullstr = ['NULL', 'null', ''], strict_mode = true, null_padding = false)"
    )


def describe(con: duckdb.DuckDBPyConnection, path: str, shown: str) -> list[tuple[str, str]]:
    """(name, type) of each column of the file, or an error naming the file."""
    if not _is_parquet(path):
        return [(c, "VARCHAR") for c in csv_header(path, shown)]
    try:
        rows = con.execute(f"DESCRIBE {relation_sql(path)}").fetchall()
    except duckdb.Error as exc:
        raise _read_error(exc, shown, []) from exc
    return [(str(r[0]), str(r[1])) for r in rows if r[0] != ROW_COL]


def _read_error(exc: duckdb.Error, shown: str, header: list[str]) -> InputError:
    """Turn a DuckDB reader error into `FILE, row N, column C: what`."""
    text = str(exc)
    m = _CSV_LINE.search(text)
    if m:
        line = int(m.group(1))
        col = None
        found = _CSV_FOUND.search(text)
        if found and header:
            expected, got = int(found.group(1)), int(found.group(2))
            if 0 < got <= len(header):
                col = header[got - 1]  # the row's last field: where it was cut
            what = (
                f"expected {expected} fields, found {got}: the row ends in this column "
                "(truncated or malformed row)"
            )
        else:
            what = _csv_reason(text)
        return input_error(shown, row=max(line - 1, 1), column=col, msg=what)
    return input_error(shown, msg=f"cannot read: {text.splitlines()[0]}")


def _csv_reason(text: str) -> str:
    """The reader's reason (`Value with unterminated quote found.`): the last line before its
    "Possible fixes", which follow the quoted original line (itself possibly several lines)."""
    head = re.split(r"Possible (?:fixes|Solution)", text, maxsplit=1)[0]
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    reason = lines[-1] if len(lines) > 1 and not lines[-1].startswith("Original Line") else ""
    return reason.rstrip(".") or text.splitlines()[0]


def detect(
    con: duckdb.DuckDBPyConnection, path: str, shown: str, fmt: str = "auto"
) -> tuple[str, list[bf.SourceColumn]]:
    """Detect the format and check required columns; nothing is written."""
    described = describe(con, path, shown)
    names = [n for n, _ in described]
    detected = bf.detect_format(names, shown)
    if fmt not in ("auto", "focus"):
        detected = fmt if fmt != "focus" else detected
    elif fmt == "focus" and not detected.startswith("focus"):
        raise input_error(shown, msg=f"configured as FOCUS but the header looks like {detected}")
    cols = bf.source_columns(detected, described)
    canon = {c.canonical for c in cols}
    for req in bf.required_columns(detected):
        if not canon.intersection(req.split("|")):
            name = req.replace("|", "' or '")
            raise input_error(shown, column=name, msg=f"required column missing ({detected})")
    return detected, cols


def insert_sql(
    fmt: str, path: str, cols: list[bf.SourceColumn], stream: str | None = None
) -> tuple[str, list[str]]:
    """INSERT ... SELECT mapping the file onto billing_line_items, and the extension columns.

    stream: the name of a registered NumberedCsv stream to read instead of DuckDB's reader.
    Built from identifiers (quoted by quote_ident) and fixed templates only; values are bound.
    """
    exprs, extras = bf.select_list(fmt, cols)
    header = None if _is_parquet(path) else [c.name for c in cols]
    types = {c.name: c.dtype for c in cols}
    targets = ", ".join(quote_ident(t) for t in bf.TARGET_ORDER)
    select = ",\n  ".join(exprs)
    source = (
        f"SELECT * FROM {quote_ident(stream)}"
        if stream
        else relation_sql(path, header, types, numbered=False)
    )
    sql = (
        "INSERT INTO billing_line_items (source_file, source_row, source_format, "
        f"{targets}, collector_run_id)\n"
        f"SELECT $source_file, {ROW_COL}, $source_format,\n  {select},\n  $run_id\n"
        f"FROM ({source})"
    )
    return sql, extras


def _probe(kind: str, col: bf.SourceColumn) -> str | None:
    """A condition true where a value of this column cannot be converted (text columns only)."""
    if col.dtype.upper() != "VARCHAR":
        return None
    q = quote_ident(col.name)
    if kind in ("m", "n"):
        return f"{q} IS NOT NULL AND trim({q}) <> '' AND uc_try_money({q}) IS NULL"
    if kind == "ts":
        return f"{q} IS NOT NULL AND trim({q}) <> '' AND uc_try_ts({q}) IS NULL"
    if kind == "j":
        return f"{q} IS NOT NULL AND NOT json_valid({q})"
    if kind == "az":
        return f"{q} IS NOT NULL AND trim({q}) <> '' AND NOT json_valid(uc_az_tags_text({q}))"
    return None


def diagnose(
    path: str, shown: str, fmt: str, cols: list[bf.SourceColumn], exc: Exception
) -> InputError:
    """Find the first row and column that broke a load, in a throwaway in-memory database."""
    kinds = _column_kinds(fmt, cols)
    con = duckdb.connect()
    try:
        utc_session(con)
        con.execute(sqlfiles.load("queries", "billing_macros"))
        rel = relation_sql(path, None if _is_parquet(path) else [c.name for c in cols])
        best: tuple[int, str, Any] | None = None
        for col in cols:
            for kind in kinds.get(col.name, ()):
                cond = _probe(kind, col)
                if cond is None:
                    continue
                row = con.execute(
                    f"SELECT {ROW_COL}, {quote_ident(col.name)} FROM ({rel}) WHERE {cond} "
                    f"ORDER BY {ROW_COL} LIMIT 1"
                ).fetchone()
                if row and (best is None or int(row[0]) < best[0]):
                    best = (int(row[0]), col.name, row[1])
        if best is None:
            return input_error(shown, msg=f"could not be loaded: {str(exc).splitlines()[0]}")
        want = {
            "m": "a decimal number",
            "n": "a decimal number",
            "ts": "a timestamp",
            "j": "JSON",
            "az": "Azure tags (JSON members)",
        }
        kind = kinds[best[1]][0]
        what = f"{best[2]!r} is not {want.get(kind, kind)}"
        if kind in ("m", "n"):
            what += f" as unitcost reads money: {money.RULE}"
        return input_error(shown, row=best[0], column=best[1], msg=what)
    finally:
        con.close()


def _column_kinds(fmt: str, cols: list[bf.SourceColumn]) -> dict[str, list[str]]:
    """Which conversions each source column goes through in the mapping."""
    out: dict[str, list[str]] = {}
    by_canonical = {c.canonical: c for c in cols}
    templates = list(bf.templates(fmt, cols).values())
    if fmt in native.NATIVE_FORMATS:
        templates += [t for _, t in native.notes(fmt)]
    for template in templates:
        for kind, name in re.findall(r"\{(m|n|ts|j|az|t):([A-Za-z0-9_]+)\}", template):
            col = by_canonical.get(name)
            if col is not None:
                out.setdefault(col.name, []).append(kind)
    return out


def strict_csv_rows(
    con: duckdb.DuckDBPyConnection, path: str, shown: str, header: list[str]
) -> int:
    """Data rows of a CSV as DuckDB's strict reader sees them: it parses every byte, checks
    field counts and quoting, builds no values. A malformed file is refused here, by row."""
    try:
        row = con.execute(f"SELECT count(*) FROM ({relation_sql(path, header, numbered=False)})")
        counted = row.fetchone()
    except duckdb.Error as exc:
        raise _read_error(exc, shown, header) from exc
    return int(counted[0]) if counted else 0


@dataclass(frozen=True)
class Prepared:
    """A file checked and understood before any transaction: format, columns, CSV row count."""

    path: str  # where the bytes are (a download for S3)
    shown: str  # source_file: the lineage name errors use
    fmt: str
    cols: list[bf.SourceColumn]
    strict_rows: int | None  # CSV rows by DuckDB's strict reader; None for Parquet

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.cols]


class UseDuckDBReader(Exception):
    """pyarrow could not stream this CSV, or counted other rows than DuckDB's strict reader:
    start the transaction again and read this file with DuckDB's reader."""

    def __init__(self, shown: str) -> None:
        super().__init__(shown)
        self.shown = shown


def prepare(path: str, shown: str, fmt: str = "auto") -> Prepared:
    """Detect the format, check required columns and (CSV) count rows strictly; writes nothing."""
    probe = duckdb.connect()
    try:
        detected, cols = detect(probe, path, shown, fmt)
        header = [c.name for c in cols]
        strict = None if _is_parquet(path) else strict_csv_rows(probe, path, shown, header)
    finally:
        probe.close()
    return Prepared(path, shown, detected, cols, strict)


def insert(
    con: duckdb.DuckDBPyConnection, prep: Prepared, *, run_id: str | None, duckdb_reader: bool
) -> tuple[int, list[str]]:
    """Insert the file's lines (the caller removed any earlier ones): (rows, extension columns).

    Raises UseDuckDBReader (pyarrow failed or disagreed; the caller retries the transaction)
    or InputError naming the first bad row and column.
    """
    stream = (
        None
        if duckdb_reader or prep.strict_rows is None
        else NumberedCsv(prep.path, prep.header, ROW_COL)
    )
    sql, extras = insert_sql(prep.fmt, prep.path, prep.cols, _STREAM if stream else None)
    utc_session(con)
    # Parquet and streamed CSV rows carry their numbers, so their order need not be kept; CSV
    # rows read by DuckDB are numbered from their row ids, which follow insertion order only
    # when it is kept.
    numbered_later = stream is None and not _is_parquet(prep.path)
    con.execute(f"SET preserve_insertion_order = {'true' if numbered_later else 'false'}")
    con.execute(sqlfiles.load("queries", "billing_macros"))
    if stream is not None:
        con.register(_STREAM, stream.reader())
    try:
        inserted = con.execute(
            sql, {"source_file": prep.shown, "source_format": prep.fmt, "run_id": run_id}
        ).fetchone()
    except duckdb.Error as exc:
        if stream is not None and stream.failure is not None:
            raise UseDuckDBReader(prep.shown) from exc  # DuckDB's strict reader accepted it
        if not isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
            raise
        if _CSV_LINE.search(str(exc)) and "CSV" in str(exc):
            raise _read_error(exc, prep.shown, prep.header) from exc
        raise diagnose(prep.path, prep.shown, prep.fmt, prep.cols, exc) from exc
    if stream is not None:  # after an error the transaction is aborted: the caller closes it
        con.unregister(_STREAM)
    n = int(inserted[0]) if inserted else 0  # INSERT returns its row count
    if stream is not None and n != prep.strict_rows:
        raise UseDuckDBReader(prep.shown)  # the two readers disagree: DuckDB's decides
    if numbered_later:
        con.execute(sqlfiles.load("queries", "billing_number_rows"), [prep.shown])
    con.execute("SET preserve_insertion_order = true")
    return n, extras


def source_column(prep: Prepared, target: str) -> str:
    """The file's column that fills a billing_line_items column (for error messages)."""
    template = bf.templates(prep.fmt, prep.cols).get(target, "")
    names = re.findall(r"\{[a-z]+:([A-Za-z0-9_]+)\}", template)
    by_canonical = {c.canonical: c.name for c in prep.cols}
    return next((by_canonical[n] for n in names if n in by_canonical), target)


def refuse_undated(con: duckdb.DuckDBPyConnection, prep: Prepared) -> None:
    """A line without a charge period start cannot be put on any day: refuse the file."""
    row = con.execute(sqlfiles.load("queries", "billing_first_undated"), [prep.shown]).fetchone()
    if row is not None and row[0] is not None:
        raise input_error(
            prep.shown,
            row=int(row[0]),
            column=source_column(prep, "ChargePeriodStart"),
            msg="empty: every billing line needs the start of its charge period (the day its "
            "cost belongs to); nothing from this file was written",
        )
