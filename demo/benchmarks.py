"""The demo's benchmarks: the standard suite's shape, run against every emulated endpoint.

Every endpoint gets the chat scenario at a few concurrency levels, each level for a few seconds,
with the demo's chat SLO; `bench`'s suite runner stores every request and decides each
endpoint's SLO capacity. Endpoints run in parallel, a few worker processes at a time (each run
is real-time against the emulator, so a slow GPU's single stream takes seconds), every run
labelled demo=true. The capacity analytics then fit each configuration's capacity at any
scenario's SLO from these runs.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unitcost.demo.config import CHAT_SHAPE
from unitcost.demo.matrix import CURRENT, PARAMS, PRICE_REFS, Config

#: Load levels and seconds of load per level (full demo, --quick).
LEVELS = {False: [1, 4, 16], True: [1, 8]}
SECONDS = {False: 2.0, True: 2.0}
WORKERS = {False: 4, True: 3}


@dataclass(frozen=True)
class Target:
    """An emulated endpoint to benchmark."""

    config: Config
    url: str  # base URL, .../v1
    model: str  # the name it serves


def suite(quick: bool) -> dict[str, Any]:
    """The demo's suite file, as data (bench.suites.SuiteFile validates it)."""
    chat = CURRENT[0]
    return {
        "suite": {"name": "demo", "seed": 0, "slo_attainment": 0.9, "warmup_requests": 0},
        "scenarios": [
            {
                "name": "demo-chat-shape",
                "api": "chat",
                "input_tokens": CHAT_SHAPE[0],
                "output_tokens": CHAT_SHAPE[1],
                "slo": f"ttft:{chat.slo_ttft_ms:g} tpot:{chat.slo_tpot_ms:g}",
                "concurrency": LEVELS[quick],
                "duration_s": SECONDS[quick],
                "ignore_eos": True,
            }
        ],
    }


def _targets(items: Sequence[Target]) -> list[dict[str, Any]]:
    return [
        {
            "name": t.config.name,
            "endpoint": t.url,
            "model": t.model,
            "price_ref": PRICE_REFS[t.config.gpu],
            "gpu_count": 1,
            "parameter_count": PARAMS[t.config.model],
        }
        for t in items
    ]


def _worker(db: str, suite_data: dict[str, Any], targets: list[dict[str, Any]], q: Any) -> None:
    """One process: the suite over its share of the targets; progress goes to the queue."""
    from unitcost.bench import spec
    from unitcost.bench.suites import SuiteFile, Target, run_suite

    from unitcost.store import Store

    suite_file = SuiteFile.model_validate(suite_data)
    base = spec.RunInput(labels={"demo": "true"}, no_scrape=True)
    try:
        run_suite(
            Store(Path(db)),
            suite_file,
            base=base,
            targets=[Target.model_validate(t) for t in targets],
            progress=lambda e: q.put(("run", e.target, e.run_id is not None)),
        )
    except Exception as exc:  # reported by the parent, which stops the demo
        q.put(("error", "", f"{type(exc).__name__}: {exc}"))
    q.put(("done", "", None))


def run(
    db: Path,
    targets: Sequence[Target],
    *,
    quick: bool,
    on_run: Callable[[str, bool], None],
) -> None:
    """Benchmark every target (a few processes at a time); on_run(target, finished) for each
    run as it starts and ends. An error in any worker stops them all and is raised."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    n = min(WORKERS[quick], len(targets))
    # slowest configurations first, dealt round-robin, so the workers finish together
    order = sorted(targets, key=lambda t: (t.config.model, t.config.gpu), reverse=True)
    shares = [_targets(order[i::n]) for i in range(n)]
    procs = [
        ctx.Process(target=_worker, args=(str(db), suite(quick), share, q), daemon=True)
        for share in shares
    ]
    for p in procs:
        p.start()
    done, error = 0, None
    try:
        while done < len(procs):
            try:
                kind, target, payload = q.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
                continue
            if kind == "run":
                on_run(target, bool(payload))
            elif kind == "error":
                error = error or str(payload)
            else:
                done += 1
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)
    if error is not None:
        from unitcost.errors import BenchError

        raise BenchError(f"demo benchmark failed: {error}")
