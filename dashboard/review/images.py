"""The review's static charts: plotly figures to PNG with kaleido and the machine's Chromium.

Starting Chromium costs ~3 s, drawing a chart a few hundred ms, so one browser draws every chart
of a review. Kaleido finds /usr/bin/chromium (or BROWSER_PATH) itself; it must never download a
browser (kaleido.get_chrome), and MathJax is off because it would be fetched from a CDN.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import plotly.graph_objects as go

from unitcost.errors import UnitcostError

WIDTH, HEIGHT, SCALE = 900, 460, 2
RENDER_TIMEOUT_S = 60


class RenderError(UnitcostError):
    """A chart could not be drawn (no Chromium, or it failed)."""


async def _render(figs: Sequence[go.Figure]) -> list[bytes]:
    import kaleido

    opts = {"format": "png", "width": WIDTH, "height": HEIGHT, "scale": SCALE}
    out: list[bytes] = []
    async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_S, mathjax=False) as k:
        for fig in figs:
            out.append(bytes(await k.calc_fig(fig, opts=opts)))
    return out


def to_png(figs: Sequence[go.Figure]) -> list[bytes]:
    """PNG bytes of each figure, drawn by one Chromium session."""
    if not figs:
        return []
    try:
        return asyncio.run(_render(figs))
    except Exception as exc:  # kaleido/choreographer raise their own assorted types
        raise RenderError(
            f"could not draw the review's charts with Chromium ({type(exc).__name__}: {exc}); "
            "install Debian's chromium (scripts/test.sh does) or set BROWSER_PATH"
        ) from exc
