"""The dashboard's server process: `python -m unitcost.dashboard.serve run <app> [flags]`.

Streamlit imports an app's modules on the first page anyone opens, so the first visit paid for
pandas, plotly, scipy and the analytics layer (about 1.5 s on a small machine). Here they are
imported before the server starts listening, and the heap they leave behind is frozen
(gc.freeze): the first visit pays neither, and no full garbage collection walks those objects
in the middle of a page. Modules that declare Streamlit caches (dashboard.queries, the pages)
are left to the first run: their caches need the running server.
"""

from __future__ import annotations

import gc
import importlib
import sys

#: Imported before the server starts: everything heavy the pages read through.
PRELOAD = (
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "plotly.graph_objects",
    "scipy.optimize",
    "unitcost.analytics.kpi",
    "unitcost.analytics.coverage",
    "unitcost.analytics.recommend",
    "unitcost.dashboard.data",
    "unitcost.dashboard.charts",
    "unitcost.dashboard.figures",
    "unitcost.dashboard.filters",
    "unitcost.dashboard.pareto",
    "unitcost.dashboard.recommendations",
    "unitcost.dashboard.review.build",
    "unitcost.dashboard.review.render",
)


_heap_frozen = False


def freeze_heap_once() -> None:
    """Once per process: move every object alive now (Streamlit, pandas, plotly, this app:
    about a million, kept for the process's life) out of the garbage collector's reach, so no
    full collection (~150 ms) walks them in the middle of a page. main() calls it before the
    server listens; the app calls it too, for a plain `streamlit run`."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


def main(argv: list[str]) -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    freeze_heap_once()
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", *argv]
    streamlit_cli.main()  # a click command: exits the process when the server stops


if __name__ == "__main__":
    # through the imported module, whose flag the app's freeze_heap_once() call then sees
    from unitcost.dashboard import serve

    serve.main(sys.argv[1:])
