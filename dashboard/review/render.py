"""The review's three formats: self-contained HTML, PDF (WeasyPrint, from the same HTML) and
XLSX (openpyxl, one sheet per underlying table, values kept exact).

`write()` renders every requested format first and only then writes the files, each through a
temporary name renamed into place, so a failure leaves no file (and no half of one) behind.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from unitcost.dashboard import figures
from unitcost.dashboard.review import images
from unitcost.dashboard.review.model import Review, Table

FORMATS = ("pdf", "html", "xlsx")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("unitcost.dashboard.review", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def cell_text(value: Any) -> str:
    """How a table cell reads in HTML and PDF (the XLSX keeps the raw value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:,.4f}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"
    if isinstance(value, pd.Timestamp | datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour or value.minute)
            else f"{value:%Y-%m-%d}"
        )
    return str(value)


def _cell(column: str, value: Any) -> str:
    """KPI columns as the dashboard formats them (ratios in %, money to the cent)."""
    name = column.removeprefix("previous_")
    if name in figures.FIGURES and not isinstance(value, str):
        text = figures.fmt(name, value)
        return "" if text == "—" else text
    return cell_text(value)


def table_html(df: pd.DataFrame) -> Markup:
    """An HTML table of the frame (escaped; numbers right-aligned)."""
    head = "".join(f"<th>{escape(str(c).replace('_', ' '))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = []
        for col, v in zip(df.columns, rec, strict=True):
            cls = (
                ' class="num"'
                if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
                else ""
            )
            cells.append(f"<td{cls}>{escape(_cell(str(col), v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{max(len(df.columns), 1)}">none</td></tr>')
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def to_html(review: Review, pngs: dict[str, bytes]) -> str:
    """One self-contained HTML file: charts embedded as PNG data URIs."""
    encoded = {title: base64.b64encode(png).decode("ascii") for title, png in pngs.items()}
    tables = {t.sheet: table_html(t.printed_df()) for s in review.sections for t in s.tables}
    return _env().get_template("review.html.j2").render(r=review, images=encoded, tables=tables)


def to_pdf(html: str) -> bytes:
    """The same HTML, paginated by WeasyPrint (A4, page numbers)."""
    from weasyprint import HTML

    out = HTML(string=html).write_pdf()
    assert out is not None
    return bytes(out)


def sheet_names(tables: Sequence[Table]) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    out: list[str] = []
    seen: set[str] = set()
    for t in tables:
        base = _SHEET_BAD.sub("-", t.sheet).strip("'")[:31] or "sheet"
        name, n = base, 2
        while name.lower() in seen:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        seen.add(name.lower())
        out.append(name)
    return out


def _xlsx_value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # Excel has no time zones: every time here is UTC
    if isinstance(v, date | int | float | Decimal | str | bool):
        return v
    return str(v)


def to_xlsx(review: Review) -> bytes:
    """One sheet per underlying table, plus a first sheet saying what the workbook is."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    about = wb.active
    assert about is not None
    about.title = "About"
    about.append([f"unitcost quarterly review {review.period_label}"])
    about["A1"].font = Font(bold=True)
    about.append([review.period_text])
    about.append([f"compared with {review.previous_label}"])
    about.append([f"generated {review.generated_at:%Y-%m-%d %H:%M} UTC from {review.source}"])
    about.append(["Times are UTC. Money is in the currency named on each row."])
    for label in review.labels:
        about.append([label])
    tables = review.all_tables()
    about.append([])
    about.append(["sheet", "table", "definition"])
    names = sheet_names(tables)
    for name, t in zip(names, tables, strict=True):
        about.append([name, t.title, t.caption])
    for name, t in zip(names, tables, strict=True):
        ws = wb.create_sheet(name)
        ws.append([str(c) for c in t.df.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for rec in t.df.itertuples(index=False, name=None):
            ws.append([_xlsx_value(v) for v in rec])
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def render(review: Review, formats: Sequence[str]) -> dict[str, bytes]:
    """Every requested format, in memory (charts drawn once, by one browser)."""
    out: dict[str, bytes] = {}
    if "html" in formats or "pdf" in formats:
        charts = review.all_charts()
        pngs = dict(
            zip([c.title for c in charts], images.to_png([c.fig for c in charts]), strict=True)
        )
        html = to_html(review, pngs)
        if "html" in formats:
            out["html"] = html.encode("utf-8")
        if "pdf" in formats:
            out["pdf"] = to_pdf(html)
    if "xlsx" in formats:
        out["xlsx"] = to_xlsx(review)
    return out


def write(review: Review, formats: Sequence[str], out_dir: Path) -> list[Path]:
    """Render, then write each file atomically; returns the paths in the order asked."""
    rendered = render(review, formats)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    written: list[Path] = []
    try:
        for fmt in formats:
            path = out_dir / f"{review.file_stem}.{fmt}"
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(rendered[fmt])
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(path)
            paths.append(path)
    except BaseException:
        for p in written:  # all or nothing: no review half-written in three formats
            p.unlink(missing_ok=True)
        raise
    return paths
