"""The GPU price catalog: a dated, editable table shipped with unitcost, layered with the user's.

Prices are facts with a date and a source, not truth: every row keeps where it came from, as of
when, and whether it was verified, and rows known to be stale carry a caveat that the CLI and
the dashboard show beside the number.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import duckdb

from unitcost import sqlfiles
from unitcost.config import PriceRow
from unitcost.errors import ConfigError, input_error
from unitcost.money import parse_money
from unitcost.store import Store, fetch_dicts

#: The columns of the shipped catalog and of files for `unitcost prices import`.
CATALOG_COLUMNS = (
    "provider",
    "region",
    "instance_type",
    "price_model",
    "gpu_model",
    "gpu_count",
    "gpu_mem_gb",
    "on_demand_usd_per_hour",
    "spot_usd_per_hour_low",
    "spot_usd_per_hour_high",
    "source",
    "as_of",
    "verified",
    "caveat",
    "note",
)
#: Columns a row may leave out at its end (files written before they existed).
OPTIONAL = ("note",)
REQUIRED = ("provider", "region", "instance_type", "gpu_model", "gpu_count", "source", "as_of")
#: Header of the public snapshot in shared/fixtures/prices, also accepted by `prices import`.
SNAPSHOT_COLUMNS = (
    "provider",
    "region",
    "instance_type",
    "gpu_model",
    "gpu_count",
    "gpu_mem_gb",
    "pricing",
    "usd_per_hour",
    "usd_per_gpu_hour",
    "spot_usd_per_hour_range",
    "source",
    "source_as_of",
    "verified",
)
PRE_CUT_CAVEAT = (
    "list price from before AWS's June 2025 P4/P5 price cut (up to ~45% lower since); "
    "verify before relying on it"
)
_SHIPPED = "gpu_prices.csv"


@dataclass(frozen=True)
class PriceRecord:
    """One catalog row, validated; the field order is the price_catalog column order."""

    provider: str
    region: str
    instance_type: str
    price_model: str
    origin: str
    gpu_model: str
    gpu_count: int
    gpu_mem_gb: float | None
    on_demand_usd_per_hour: Decimal | None
    spot_usd_per_hour_low: Decimal | None
    spot_usd_per_hour_high: Decimal | None
    source: str
    as_of: str
    verified: str
    caveat: str | None
    source_file: str | None
    source_row: int | None
    note: str | None = None  # how the row was gathered; `source` names the publisher only


def _money(value: str, path: str, row: int, column: str) -> Decimal | None:
    """A price, by the one money rule of unitcost.money (a plain decimal number), >= 0."""
    out = parse_money(value, where=f"{path}, row {row}, column {column!r}")
    if out is None:
        return None
    if out < 0:
        raise input_error(path, row=row, column=column, msg=f"must be a price >= 0, got {value!r}")
    return Decimal(value.strip())  # the digits as written: 10.80 stays 10.80


def _int(value: str, path: str, row: int, column: str) -> int:
    try:
        out = int(value.strip())
    except ValueError:
        raise input_error(path, row=row, column=column, msg=f"not an integer: {value!r}") from None
    if out <= 0:
        raise input_error(path, row=row, column=column, msg=f"must be > 0, got {value!r}")
    return out


def _float(value: str, path: str, row: int, column: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise input_error(path, row=row, column=column, msg=f"not a number: {value!r}") from None


def _verified(value: str, path: str, row: int) -> str:
    v = value.strip().lower() or "false"
    if v not in ("true", "false", "partial"):
        raise input_error(path, row=row, column="verified", msg="must be true, false or partial")
    return v


def _spot_range(value: str, path: str, row: int) -> tuple[Decimal | None, Decimal | None]:
    lo, _, hi = value.strip().partition("-")
    low = _money(lo, path, row, "spot_usd_per_hour_range")
    high = _money(hi, path, row, "spot_usd_per_hour_range") if hi else low
    return low, high


def _from_catalog_row(r: dict[str, str], path: str, row: int, origin: str) -> PriceRecord:
    for col in REQUIRED:
        if not (r.get(col) or "").strip():
            raise input_error(path, row=row, column=col, msg="required value is empty")
    od = _money(r.get("on_demand_usd_per_hour") or "", path, row, "on_demand_usd_per_hour")
    lo = _money(r.get("spot_usd_per_hour_low") or "", path, row, "spot_usd_per_hour_low")
    hi = _money(r.get("spot_usd_per_hour_high") or "", path, row, "spot_usd_per_hour_high")
    if od is None and lo is None:
        raise input_error(
            path,
            row=row,
            column="on_demand_usd_per_hour",
            msg="a row needs an on-demand or a spot price",
        )
    if lo is not None and hi is not None and hi < lo:
        raise input_error(path, row=row, column="spot_usd_per_hour_high", msg="below the low end")
    return PriceRecord(
        provider=r["provider"].strip(),
        region=r["region"].strip(),
        instance_type=r["instance_type"].strip(),
        price_model=(r.get("price_model") or "on_demand").strip(),
        origin=origin,
        gpu_model=r["gpu_model"].strip(),
        gpu_count=_int(r["gpu_count"], path, row, "gpu_count"),
        gpu_mem_gb=_float(r.get("gpu_mem_gb") or "", path, row, "gpu_mem_gb"),
        on_demand_usd_per_hour=od,
        spot_usd_per_hour_low=lo,
        spot_usd_per_hour_high=hi,
        source=r["source"].strip(),
        as_of=r["as_of"].strip(),
        verified=_verified(r.get("verified") or "", path, row),
        caveat=(r.get("caveat") or "").strip() or None,
        source_file=path,
        source_row=row,
        note=(r.get("note") or "").strip() or None,
    )


_NOTE = re.compile(r"^(?P<source>.*?)\s*\((?P<note>[^()]*)\)\s*$")


def split_source(text: str) -> tuple[str, str | None]:
    """The snapshot's `source` text as (publisher, note): a trailing parenthesis says how the
    row was gathered ("seen via mirror page", "not re-read this session"), not who published
    it, so it goes to the `note` column and `source` keeps the publisher only."""
    m = _NOTE.match(text.strip())
    if m is None or not m.group("source"):
        return text.strip(), None
    return m.group("source"), m.group("note").strip() or None


def _from_snapshot_row(r: dict[str, str], path: str, row: int, origin: str) -> PriceRecord:
    """Map a row of the public snapshot format to the catalog shape (spot range split)."""
    pricing = r["pricing"].strip()
    low, high = _spot_range(r.get("spot_usd_per_hour_range") or "", path, row)
    source, note = split_source(r["source"])
    caveat = None
    if "PRE June-2025" in r["source"]:
        caveat = PRE_CUT_CAVEAT
    elif pricing == "on_demand_vm_only":
        caveat = "VM part only: the GPU is billed as a separate SKU"
    return _from_catalog_row(
        {
            "provider": r["provider"],
            "region": r["region"],
            # the snapshot writes "a2-highgpu-1g (VM part only)"; the price model says that
            "instance_type": r["instance_type"].replace("(VM part only)", "").strip(),
            "price_model": "spot_only" if pricing == "spot_only_in_catalog" else pricing,
            "gpu_model": r["gpu_model"],
            "gpu_count": r["gpu_count"],
            "gpu_mem_gb": r["gpu_mem_gb"],
            "on_demand_usd_per_hour": r["usd_per_hour"],
            "spot_usd_per_hour_low": str(low or ""),
            "spot_usd_per_hour_high": str(high or ""),
            "source": source,
            "as_of": r["source_as_of"],
            "verified": r["verified"],
            "caveat": caveat or "",
            "note": note or "",
        },
        path,
        row,
        origin,
    )


def read_price_file(
    path: Path, *, origin: str = "import", label: str | None = None
) -> list[PriceRecord]:
    """Parse a catalog CSV (ours or the public snapshot's format); all rows or an InputError."""
    name = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise input_error(name, msg=f"cannot read: {exc.strerror}") from exc
    reader = csv.DictReader(text.splitlines())
    header = tuple(reader.fieldnames or ())
    if set(SNAPSHOT_COLUMNS) <= set(header):
        convert = _from_snapshot_row
    else:
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise input_error(
                name,
                row=1,
                column=missing[0],
                msg=f"missing column(s) {', '.join(missing)}; expected "
                f"{', '.join(CATALOG_COLUMNS)}",
            )
        convert = _from_catalog_row
    out: list[PriceRecord] = []
    keys: dict[tuple[str, ...], int] = {}
    for i, raw in enumerate(reader, start=2):  # row 1 is the header
        if None in raw or any(v is None for k, v in raw.items() if k not in OPTIONAL):
            raise input_error(name, row=i, msg="wrong number of fields (truncated or extra commas)")
        rec = convert(raw, name, i, origin)
        key = (rec.provider, rec.region, rec.instance_type, rec.price_model)
        if key in keys:
            raise input_error(name, row=i, msg=f"duplicate of row {keys[key]} ({'/'.join(key)})")
        keys[key] = i
        out.append(rec)
    return out


def shipped_catalog_path() -> Path:
    """The dated price table inside the installed package."""
    return Path(str(files("unitcost").joinpath("data", _SHIPPED)))


def write_catalog_csv(records: Sequence[PriceRecord], path: Path) -> None:
    """Write records in the catalog format (used to build the shipped table from the snapshot)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CATALOG_COLUMNS)
        for r in records:
            w.writerow(["" if getattr(r, c) is None else getattr(r, c) for c in CATALOG_COLUMNS])


def _replace_origin(
    con: duckdb.DuckDBPyConnection, origin: str, records: Iterable[PriceRecord]
) -> int:
    con.execute("DELETE FROM price_catalog WHERE origin = ?", [origin])
    return _upsert(con, records)


def _upsert(con: duckdb.DuckDBPyConnection, records: Iterable[PriceRecord]) -> int:
    rows = [astuple(r) for r in records]
    if rows:
        con.executemany(sqlfiles.load("queries", "price_upsert"), rows)
    return len(rows)


def load_shipped(con: duckdb.DuckDBPyConnection) -> int:
    """Replace the shipped rows with the package's table (idempotent)."""
    path = shipped_catalog_path()
    return _replace_origin(
        con, "shipped", read_price_file(path, origin="shipped", label=f"unitcost/data/{_SHIPPED}")
    )


def import_prices(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Validate the whole file first, then upsert it as origin 'import' in the caller's txn."""
    return _upsert(con, read_price_file(path, origin="import"))


def config_records(rows: Sequence[PriceRow]) -> list[PriceRecord]:
    """The `[[prices]]` rows of the config as catalog records."""
    return [
        PriceRecord(
            provider=r.provider,
            region=r.region,
            instance_type=r.instance_type,
            price_model=r.price_model,
            origin="config",
            gpu_model=r.gpu_model,
            gpu_count=r.gpu_count,
            gpu_mem_gb=r.gpu_mem_gb,
            on_demand_usd_per_hour=r.on_demand_usd_per_hour,
            spot_usd_per_hour_low=r.spot_usd_per_hour_low,
            spot_usd_per_hour_high=r.spot_usd_per_hour_high or r.spot_usd_per_hour_low,
            source=r.source,
            as_of=r.as_of,
            verified="false",
            caveat=None,
            source_file="config",
            source_row=i,
        )
        for i, r in enumerate(rows, start=1)
    ]


def sync_config(con: duckdb.DuckDBPyConnection, rows: Sequence[PriceRow]) -> int:
    """Make the config's price rows the 'config' layer of the catalog."""
    return _replace_origin(con, "config", config_records(rows))


def apply_config(store: Store, rows: Sequence[PriceRow]) -> bool:
    """Bring the catalog's config layer in line with the config file's `[[prices]]`, so they
    apply on every command that reads prices, not only after `db init`. A read decides; the
    write (one short transaction) happens only when the rows changed. Returns True if written."""
    want = [astuple(r) for r in config_records(rows)]
    with store.read() as con:
        have = con.execute(sqlfiles.load("queries", "prices_config_rows")).fetchall()
    if sorted(map(_cmp_key, have)) == sorted(map(_cmp_key, want)):
        return False
    with store.write() as con:
        sync_config(con, rows)
    return True


def _cmp_key(row: Sequence[Any]) -> tuple[str, ...]:
    """A stored or a fresh row in one comparable form (DECIMAL(18,6) 50.000000 == config 50)."""
    return tuple(
        "" if v is None else str(Decimal(v).normalize()) if _is_num(v) else str(v) for v in row
    )


def _is_num(v: Any) -> bool:
    return isinstance(v, Decimal | float | int) and not isinstance(v, bool)


#: Price models that hold no GPU: never used for a GPU cost.
VM_ONLY = "on_demand_vm_only"


def price_for_ref(con: duckdb.DuckDBPyConnection, price_ref: str, *, where: str) -> dict[str, Any]:
    """The catalog row that prices `price_ref` ("provider/region/instance_type"): on-demand
    first, then capacity block, then spot-only.

    Raises ConfigError, naming `where` (the flag or config key it came from), when no row has
    that ref (with the closest refs), or when the only rows are VM-only: such a price holds no
    GPU (the GPU is billed as a separate SKU), so a GPU cost from it would be wrong.
    """
    rows = fetch_dicts(con, sqlfiles.load("queries", "prices_for_ref"), {"price_ref": price_ref})
    if not rows:
        refs = [r[0] for r in con.execute(sqlfiles.load("queries", "prices_refs")).fetchall()]
        close = difflib.get_close_matches(price_ref, refs, n=3, cutoff=0.5)
        hint = f"closest: {', '.join(close)}" if close else "no similar instance"
        raise ConfigError(
            f"{where} {price_ref!r}: no such instance in the price catalog ({hint}; see "
            "`unitcost prices list`, or add it with [[prices]] or `unitcost prices import`)"
        )
    best = rows[0]
    if best["price_model"] == VM_ONLY:
        raise ConfigError(
            f"{where} {price_ref!r}: the catalog row {price_ref} ({VM_ONLY}, "
            f"{best['origin']}) prices the VM part only ({best['caveat'] or 'no GPU in it'}), "
            "so it cannot give a GPU cost; add the instance's price with its GPU under "
            "another price model ([[prices]] or `unitcost prices import`)"
        )
    return best


def list_prices(
    con: duckdb.DuckDBPyConnection, *, gpu: str | None = None, provider: str | None = None
) -> list[dict[str, Any]]:
    """Effective catalog rows, optionally filtered by GPU model and provider."""
    return fetch_dicts(
        con, sqlfiles.load("queries", "prices_list"), {"gpu": gpu, "provider": provider}
    )


assert tuple(f.name for f in fields(PriceRecord))[:3] == ("provider", "region", "instance_type")
