"""How --workers splits a load profile: shares add up, seeds differ, rates divide."""

from __future__ import annotations

import itertools
import random

import pytest
from unitcost.bench import runner
from unitcost.bench.client import ClientConfig
from unitcost.bench.profiles import LoadProfile, arrivals
from unitcost.bench.records import RequestRecord, to_arrow
from unitcost.bench.workers import share, validate, worker_spec
from unitcost.bench.workloads import WorkItem

from unitcost.errors import InputError


def _spec(profile: LoadProfile, workers: int) -> runner.RunSpec:
    return runner.RunSpec(
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
    assert [w.profile.concurrency for w in ws] == [3, 2, 2]
    assert all(w.profile.rate == 300.0 and w.workers == 1 for w in ws)
    assert [w.profile.seed for w in ws] == [3000, 3001, 3002]
    assert all(w.metrics_url is None for w in ws)  # the parent scrapes, once
    a = list(itertools.islice(arrivals(ws[0].profile), 50))
    b = list(itertools.islice(arrivals(ws[1].profile), 50))
    assert a != b and a == list(itertools.islice(arrivals(ws[0].profile), 50))


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
    """Live.add_batch (a worker's Arrow batch, vectorized) agrees with _Run._finished."""
    recs = _records()
    one_by_one = runner._Run(None, _spec(LoadProfile(), 1), "r", runner.Live())  # type: ignore[arg-type]
    for rec in recs:
        one_by_one._finished(rec)
    batched = runner.Live()
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
