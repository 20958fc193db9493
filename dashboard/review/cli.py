"""`unitcost export review`: the quarterly review as PDF, HTML and XLSX files."""

from __future__ import annotations

from pathlib import Path

import click
from unitcost.analytics.period import Period, parse_period

from unitcost.display import new_console
from unitcost.errors import InputError

err = new_console(stderr=True)


def parse_quarter(text: str) -> Period:
    """A quarter only (2026Q3): the review compares whole quarters."""
    p = parse_period(text, flag="--quarter")
    if p.kind != "quarter":
        raise InputError(f"--quarter {text!r}: expected a quarter like 2026Q3")
    return p


def parse_formats(text: str) -> list[str]:
    from unitcost.dashboard.review.render import FORMATS

    out: list[str] = []
    for part in text.split(","):
        fmt = part.strip().lower()
        if fmt not in FORMATS:
            raise InputError(f"--format {text!r}: {fmt!r} is not one of {', '.join(FORMATS)}")
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise InputError(f"--format {text!r}: name at least one of {', '.join(FORMATS)}")
    return out


@click.group("export")
def export() -> None:
    """Export reports from the store (the quarterly review as PDF, HTML, XLSX)."""


@export.command("review")
@click.option("--quarter", required=True, help="Quarter to review, e.g. 2026Q3.")
@click.option(
    "--format",
    "formats",
    default="pdf,html,xlsx",
    show_default=True,
    help="Comma-separated: pdf, html, xlsx.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write review-<quarter>.<format> into.",
)
@click.pass_context
def review(ctx: click.Context, quarter: str, formats: str, out_dir: Path) -> None:
    """Write the quarter's review (KPIs against the previous quarter, trends, benchmark
    highlights, tier recommendations, data coverage) and print the paths written."""
    from unitcost.dashboard.review import build, render

    period = parse_quarter(quarter)
    fmts = parse_formats(formats)
    app = ctx.obj
    with err.status(f"reading {period.label} from {app.store.path}"), app.store.read() as con:
        rev = build.build_review(con, period, settings=app.loaded.settings, source=app.store.path)
    with err.status(f"rendering {', '.join(fmts)}"):
        paths = render.write(rev, fmts, out_dir)
    for p in paths:
        click.echo(str(p))
