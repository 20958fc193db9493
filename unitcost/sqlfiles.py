"""Named SQL: every statement longer than a line lives in `sql/<kind>/<name>.sql`.

Python asks for SQL by name, so the SQL can be read, reviewed and tested as SQL.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from unitcost.errors import StoreError


def _dir(kind: str) -> Traversable:
    return files("unitcost.sql").joinpath(kind)


@cache
def load(kind: str, name: str) -> str:
    """Text of `sql/<kind>/<name>.sql` (kind: migrations, views, queries, checks)."""
    path = _dir(kind).joinpath(f"{name}.sql")
    if not path.is_file():
        raise StoreError(f"missing SQL file sql/{kind}/{name}.sql (is the package installed?)")
    return path.read_text(encoding="utf-8")


def names(kind: str) -> list[str]:
    """Sorted names of the SQL files of one kind."""
    folder = _dir(kind)
    if not folder.is_dir():
        return []
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))


def quote_ident(name: str) -> str:
    """The one way a dynamic identifier enters SQL: double-quoted, quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string literal where DuckDB takes no bound parameter (a reader's file path and
    options, ATTACH): single-quoted, quotes doubled."""
    return "'" + text.replace("'", "''") + "'"
