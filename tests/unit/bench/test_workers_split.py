"""How --workers splits a load: shares add up, and the workers' schedules interleave into the
one arrival process asked for (no bursts of N)."""

from __future__ import annotations

import itertools
import random
import statistics

import pytest
from unitcost.bench.client import ClientConfig
from unitcost.bench.engine import Load
from unitcost.bench.live import Live
from unitcost.bench.profiles import LoadProfile
from unitcost.bench.records import RequestRecord, to_arrow
from unitcost.bench.spec import RunSpec
from unitcost.bench.workers import share, validate, worker_spec
from unitcost.bench.workloads import WorkItem

from unitcost.errors import InputError


def _spec(profile: LoadProfile, workers: int) -> RunSpec:
    return RunSpec(
        client=ClientConfig(base_url="http://127.0.0.1:1", model="m"),
        profile=profile,
        items=[WorkItem("x", 1, 1)],
        max_requests=10,
        workers=workers,
        metrics_url="http://127.0.0.1:1/metrics",
    )


@pytest.mark.parametrize(("total", "n"), [(7, 2), (8, 3), (3, 3), (32, 5)])
def test_shares_add_up(total: int, n: int) -> None:
    parts = [share(total, k, n) for k in range(n)]
    assert sum(parts) == total and max(parts) - min(parts) <= 1


def test_worker_specs() -> None:
    spec = _spec(LoadProfile(kind="rate", rate=900.0, concurrency=7, seed=3), 3)
    ws = [worker_spec(spec, k, 3) for k in range(3)]
    assert [w.profile.concurrency for w in ws] == [3, 2, 2]  # the cap is split
    # the rate and seed stay the run's: each worker takes its turns of one schedule
    assert all(w.profile.rate == 900.0 and w.profile.seed == 3 for w in ws)
    assert all(w.workers == 1 for w in ws)
    assert all(w.metrics_url is None for w in ws)  # the parent scrapes, once


def _merged(profile: LoadProfile, n: int, count: int) -> list[tuple[int, float]]:
    """(request id, due offset) of the first `count` requests, all n workers together, as
    the engine schedules them (worker k: ids k, k + n, ...; Load.offsets)."""
    out = []
    spec = _spec(profile, n)
    for k in range(n):
        load = Load(None, worker_spec(spec, k, n), "r", Live())  # type: ignore[arg-type]
        load.id_offset, load.id_stride = k, n
        ids = itertools.count(k, n)
        out += [
            (i, t) for i, t in zip(ids, itertools.islice(load.offsets(), count // n), strict=False)
        ]
    return sorted(out)


@pytest.mark.parametrize("arrival", ["constant", "gamma", "poisson"])
@pytest.mark.parametrize("n", [2, 4])
def test_workers_interleave_into_one_schedule(arrival: str, n: int) -> None:
    """100 req/s with 4 workers is one request every 10 ms (constant), not 4 every 40 ms; and
    request i is due at the same instant whatever the number of workers."""
    p = LoadProfile(kind="rate", rate=100.0, arrival=arrival, burstiness=4.0, seed=5)
    one = _merged(p, 1, 4000)
    many = _merged(p, n, 4000)
    assert many == one  # the very same plan, request by request
    times = [t for _, t in many]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(0.01, rel=0.05)
    cv = statistics.pstdev(gaps) / statistics.fmean(gaps)
    if arrival == "constant":
        assert min(gaps) == pytest.approx(0.01) and max(gaps) == pytest.approx(0.01)
    elif arrival == "gamma":
        assert cv == pytest.approx(0.5, rel=0.1)  # 1 / sqrt(burstiness)
    else:
        assert cv == pytest.approx(1.0, rel=0.1)


def test_trace_entries_are_dealt_round_robin() -> None:
    items = [WorkItem("x", 1, 1, arrival_s=i * 0.5) for i in range(7)]
    spec = _spec(LoadProfile(kind="trace", concurrency=None), 1)
    spec.items = items
    got = []
    for k in range(3):
        load = Load(None, spec, "r", Live())  # type: ignore[arg-type]
        load.id_offset, load.id_stride = k, 3
        got.append(list(load.offsets()))
    assert got == [[0.0, 1.5, 3.0], [0.5, 2.0], [1.0, 2.5]]


def test_validate() -> None:
    validate(_spec(LoadProfile(kind="concurrency", concurrency=1), 1))
    with pytest.raises(InputError, match="--concurrency >= 4"):
        validate(_spec(LoadProfile(kind="concurrency", concurrency=3), 4))
    steady = _spec(LoadProfile(kind="concurrency", concurrency=4), 2)
    steady.steady = True
    with pytest.raises(InputError, match="--until-steady"):
        validate(steady)


def _records() -> list[RequestRecord]:
    """Every kind of outcome _finished tells apart, in a seeded mix."""
    rng = random.Random(7)
    out = []
    for i in range(500):
        kind = rng.choice(["ok", "ok", "ok", "cancelled", "error", "timeout", "http"])
        sent = rng.randrange(10**9, 2 * 10**9)
        rec = RequestRecord("r", i, sent_ns=sent)
        if kind == "ok":
            rec.status, rec.output_tokens = "ok", rng.choice([None, rng.randrange(1, 99)])
            rec.first_chunk_ns = rng.choice([None, sent + rng.randrange(1, 10**8)])
        elif kind == "http":
            rec.status, rec.error_class = "error", rng.choice(["HTTP500", "HTTP429", ""])
        elif kind != "cancelled":
            rec.status = kind
            rec.error_class = rng.choice([None, "MalformedStream", "ClientOSError"])
        out.append(rec)
    return out


def test_parent_counts_a_worker_batch_as_it_counts_records_one_by_one() -> None:
    """Live.add_batch (a worker's Arrow batch, vectorized) agrees with Load._finished."""
    recs = _records()
    one_by_one = Load(None, _spec(LoadProfile(), 1), "r", Live())  # type: ignore[arg-type]
    for rec in recs:
        one_by_one._finished(rec)
    batched = Live()
    for part in (recs[:123], recs[123:124], recs[124:124], recs[124:]):
        batched.add_batch(to_arrow(part))
    a, b = one_by_one.live, batched
    assert (a.done, a.ok, a.failed, a.cancelled, a.output_tokens, a.errors) == (
        b.done,
        b.ok,
        b.failed,
        b.cancelled,
        b.output_tokens,
        b.errors,
    )
    assert list(a.ttft_ms) == list(b.ttft_ms) and len(a.ttft_ms) > 50
    assert a.failed > 0 and a.cancelled > 0 and len(a.errors) >= 4
