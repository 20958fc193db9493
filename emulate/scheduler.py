"""Continuous batching on simulated time: the engine core every emulated endpoint runs.

The scheduler is pure and clock-free: `plan()` admits waiting requests (in arrival order, while
the batch has a free slot and the KV cache can hold the request's prompt plus its output), picks
this step's prefill chunks (chunked prefill, a token budget per step) and returns the step's
duration from the physics; `commit()` advances every running sequence by that step and returns
the tokens it produced. A real-time driver (server.py) sleeps until each step ends; the offline
and validation paths just add durations. Either way one loop steps the whole batch, so the cost
per step is O(batch), never a timer per token per request.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from unitcost.emulate.physics import Physics


@dataclass(eq=False)
class Seq:
    """One request inside the engine. Times are on the driver's clock (seconds)."""

    rid: str
    prompt_tokens: int
    output_tokens: int  # how many tokens it will produce (max_tokens, or an earlier EOS)
    stop_reason: str  # "length" when output_tokens == max_tokens, else "stop"
    arrival: float
    on_tokens: Callable[[Seq], None] | None = None
    prefilled: int = 0
    generated: int = 0
    admitted: float | None = None
    first_token: float | None = None
    last_token: float | None = None
    finished: float | None = None
    finish_reason: str | None = None
    itl: list[float] = field(default_factory=list, repr=False)

    @property
    def context(self) -> int:
        return self.prompt_tokens + self.generated


@dataclass
class StepPlan:
    """What one step will do and how long it takes (seconds)."""

    duration: float
    decode: list[Seq]
    prefill: list[tuple[Seq, int]]
    mem_s: float
    comp_s: float

    @property
    def tokens(self) -> int:
        return len(self.decode) + sum(n for _, n in self.prefill)


@dataclass
class StepResult:
    """Tokens a committed step produced, and who finished."""

    emitted: list[Seq]  # sequences that got one new token this step
    first: list[Seq]  # subset whose token was the first
    finished: list[Seq]
    duration: float


class Scheduler:
    """vLLM-style continuous batching over one Physics; deterministic for a given seed."""

    def __init__(
        self,
        physics: Physics,
        *,
        seed: int = 0,
        jitter: float = 0.0,
        max_waiting: int = 0,
    ) -> None:
        self.phys = physics
        self.rng = random.Random(seed)
        self.jitter = jitter
        self.max_waiting = max_waiting  # 0 = unbounded (vLLM's default); else 429 beyond it
        self.waiting: deque[Seq] = deque()
        self.running: list[Seq] = []
        self.kv_reserved = 0  # tokens reserved for admitted requests (prompt + output)
        self.kv_used = 0  # tokens actually cached now
        self.busy_s = 0.0  # simulated time spent stepping, for GPU utilization
        self.steps = 0

    # ------------------------------------------------------------------ requests
    def submit(self, seq: Seq) -> bool:
        """Queue a request; False when the waiting queue is full (the server answers 429)."""
        if self.max_waiting and len(self.waiting) >= self.max_waiting:
            return False
        self.waiting.append(seq)
        return True

    def abort(self, seq: Seq, now: float) -> None:
        """Drop a request whose client went away; frees its KV reservation."""
        if seq.finished is not None:
            return
        if seq in self.waiting:
            self.waiting.remove(seq)
        elif seq in self.running:
            self.running.remove(seq)
            self.kv_reserved -= seq.prompt_tokens + seq.output_tokens
            self.kv_used -= seq.prefilled + seq.generated
        seq.finished, seq.finish_reason = now, "abort"

    def has_work(self) -> bool:
        return bool(self.running or self.waiting)

    def kv_usage(self) -> float:
        """0-1 share of KV cache blocks in use (vLLM's kv_cache_usage_perc)."""
        return min(1.0, self.kv_used / self.phys.kv_capacity_tokens)

    # ------------------------------------------------------------------ stepping
    def plan(self, now: float) -> StepPlan | None:
        """Admit what fits, choose decode and prefill work; None when there is nothing to do."""
        cap = self.phys.kv_capacity_tokens
        while self.waiting and len(self.running) < self.phys.max_num_seqs:
            seq = self.waiting[0]
            need = seq.prompt_tokens + seq.output_tokens
            if self.kv_reserved + need > cap and self.running:
                break  # wait for KV space (a lone oversized request is capped by max_model_len)
            self.waiting.popleft()
            seq.admitted = now
            self.kv_reserved += need
            self.running.append(seq)
        if not self.running:
            return None
        decode: list[Seq] = []
        prefill: list[tuple[Seq, int]] = []
        context = 0
        for seq in self.running:
            if seq.prefilled >= seq.prompt_tokens:
                decode.append(seq)
                context += seq.context
        budget = self.phys.max_batched_tokens - len(decode)
        for seq in self.running:
            if budget <= 0:
                break
            left = seq.prompt_tokens - seq.prefilled
            if left > 0:
                n = min(left, budget)
                prefill.append((seq, n))
                budget -= n
        n_prefill = sum(n for _, n in prefill)
        mem_s, comp_s, fixed = self.phys.step_parts(len(decode), context, n_prefill)
        duration = max(mem_s, comp_s) + fixed
        if self.jitter:
            floor = self.phys.ceiling_step_s(len(decode), context, n_prefill)
            duration = max(floor, duration * (1.0 + self.jitter * self.rng.gauss(0.0, 1.0)))
        return StepPlan(duration, decode, prefill, mem_s, comp_s)

    def commit(self, plan: StepPlan, end: float) -> StepResult:
        """Apply a planned step that ended at `end`: one token per decoding sequence, prefill
        progress, a first token for each sequence whose prompt is now fully processed."""
        emitted: list[Seq] = []
        first: list[Seq] = []
        finished: list[Seq] = []
        for seq in plan.decode:
            if seq.finished is not None:
                continue  # aborted mid-step
            seq.generated += 1
            self.kv_used += 1
            if seq.last_token is not None:
                seq.itl.append(end - seq.last_token)
            seq.last_token = end
            emitted.append(seq)
        for seq, n in plan.prefill:
            if seq.finished is not None:
                continue
            seq.prefilled += n
            self.kv_used += n
            if seq.prefilled >= seq.prompt_tokens:
                seq.generated = 1  # the step that finishes the prompt samples the first token
                self.kv_used += 1
                seq.first_token = seq.last_token = end
                emitted.append(seq)
                first.append(seq)
        for seq in emitted:
            if seq.generated >= seq.output_tokens:
                seq.finished, seq.finish_reason = end, seq.stop_reason
                finished.append(seq)
        if finished:
            done = set(map(id, finished))
            self.running = [s for s in self.running if id(s) not in done]
            for seq in finished:
                self.kv_reserved -= seq.prompt_tokens + seq.output_tokens
                self.kv_used -= seq.prompt_tokens + seq.generated
        self.busy_s += plan.duration
        self.steps += 1
        return StepResult(emitted, first, finished, plan.duration)


def simulate(
    physics: Physics,
    requests: list[tuple[float, int, int]],
    *,
    seed: int = 0,
    jitter: float = 0.0,
) -> list[Seq]:
    """Run (arrival s, prompt tokens, output tokens) requests on simulated time; all finish.

    For validation against published offline figures (MLPerf's Offline scenario sends every
    query at t=0) and for the roofline property tests: no sockets, no sleeping.
    """
    sched = Scheduler(physics, seed=seed, jitter=jitter)
    pending = deque(Seq(str(i), p, o, "length", t) for i, (t, p, o) in enumerate(sorted(requests)))
    out = list(pending)
    now = 0.0
    while pending or sched.has_work():
        while pending and pending[0].arrival <= now:
            sched.submit(pending.popleft())
        plan = sched.plan(now)
        if plan is None:
            now = pending[0].arrival
            continue
        now += plan.duration
        sched.commit(plan, now)
    return out


def simulate_closed(
    physics: Physics,
    *,
    concurrency: int,
    requests: int,
    prompt_tokens: int,
    output_tokens: int,
    seed: int = 0,
    jitter: float = 0.0,
) -> tuple[float, list[Seq]]:
    """Closed loop: `concurrency` clients each send the next request when theirs finishes.

    Returns (makespan s, sequences): the shape `bench run --concurrency N` measures.
    """
    sched = Scheduler(physics, seed=seed, jitter=jitter)
    out: list[Seq] = []

    def send(now: float) -> None:
        if len(out) < requests:
            seq = Seq(str(len(out)), prompt_tokens, output_tokens, "length", now)
            out.append(seq)
            sched.submit(seq)

    now = 0.0
    for _ in range(concurrency):
        send(now)
    while sched.has_work():
        plan = sched.plan(now)
        if plan is None:
            break
        now += plan.duration
        for _seq in sched.commit(plan, now).finished:
            send(now)
    return now, out
