"""One exception tree, so the CLI has exactly one place that turns failures into messages.

Every message names what the user must fix: the file, the row, the field or the flag.
"""

from __future__ import annotations


class UnitcostError(Exception):
    """Base of every error unitcost raises on purpose; the CLI prints it as `Error: ...`."""


class ConfigError(UnitcostError):
    """A setting is missing or invalid; the message names the file (or env var, or flag) and key."""


class StoreError(UnitcostError):
    """The DuckDB store is missing, at the wrong schema version, or could not be written."""


class StoreBusyError(StoreError):
    """Another process held the database lock for longer than we were willing to wait."""


class MigrationError(StoreError):
    """A migration failed; the database stays at the version before it."""


class InputError(UnitcostError):
    """A user-supplied file (prices, billing, suite) is malformed; names file, row and column."""


class BenchError(UnitcostError):
    """A benchmark could not start or went wrong in a way that is not a per-request failure."""


class CollectorError(UnitcostError):
    """A collector could not reach or understand its source."""


def input_error(
    path: str, *, row: int | None = None, column: str | None = None, msg: str
) -> InputError:
    """Build an InputError whose text always reads `FILE[, row N][, column C]: msg`."""
    where = str(path)
    if row is not None:
        where += f", row {row}"
    if column is not None:
        where += f", column {column!r}"
    return InputError(f"{where}: {msg}")
