"""Curve fits of a load sweep: the highest load that still meets an SLO, between measured points.

A sweep is a list of points, one per benchmark run: the load (mean requests in flight, i.e. the
concurrency), the throughput reached there, and each SLO term's latency at the attainment
quantile (e.g. the p90 TTFT when 90% of requests must meet the SLO). REFERENCE.md §6:

  throughput  X(c) = Xmax * c / (c + c_half)              saturating (the usual case), or the
              Universal Scalability Law X(c) = l*c / (1 + s*(c - 1) + k*c*(c - 1)) where the
              measured throughput falls at the highest loads (contention past saturation);
  latency     y(c) = a + b * c**p  per SLO term, fitted on the points from the lowest load up to
              and including the first point that misses that term: the curve is only asked
              where it was measured on both sides;
  SLO load    c* = brentq(y(c) - limit) between the last passing and the first failing point
              (the binding term is the one with the smallest c*).

Never extrapolated: c* lies between two measured points, or is the highest measured load when
every point passes, and the throughput returned is never above the highest one measured. Fewer
than three points up to the first miss leave three parameters undetermined, so that term falls
back to linear interpolation between its two bracketing points (said so in `method`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeWarning, brentq, curve_fit

#: Throughput at the highest load below this share of the maximum means throughput falls: USL.
FALLS_SHARE = 0.97

Curve = Callable[[float], float]
Array = NDArray[np.float64]


@dataclass(frozen=True)
class SweepPoint:
    """One measured load level."""

    load: float  # mean requests in flight (closed loop: the concurrency)
    throughput: float  # any rate unit (req/s, tokens/s); results come back in the same unit
    latency: Mapping[str, float]  # SLO term -> value at the attainment quantile (ms)


@dataclass(frozen=True)
class SloFit:
    """The highest load meeting every SLO term, and the throughput there."""

    load: float
    throughput: float
    binding: str | None  # the term that limits the load; None when every point passes
    method: str  # e.g. "saturating throughput fit; tpot: power-law fit"
    bracket: tuple[float, float] | None  # measured loads (last pass, first miss) around c*
    params: dict[str, list[float]] = field(default_factory=dict)


def _saturating(c: Array, xmax: float, c_half: float) -> Array:
    out: Array = xmax * c / (c + c_half)
    return out


def _usl(c: Array, lam: float, sigma: float, kappa: float) -> Array:
    out: Array = lam * c / (1.0 + sigma * (c - 1.0) + kappa * c * (c - 1.0))
    return out


def _power(c: Array, a: float, b: float, p: float) -> Array:
    out: Array = a + b * np.power(c, p)
    return out


def _at(f: Callable[..., Array], v: float, p: Sequence[float]) -> float:
    """A model curve's value at one load."""
    return float(f(np.array(v, dtype=float), *p))


def _curve_fit(
    f: Callable[..., Array],
    x: Array,
    y: Array,
    p0: list[float],
    bounds: tuple[list[float], list[float]],
) -> list[float] | None:
    """scipy's curve_fit, or None when it cannot converge (the caller then interpolates)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # singular covariance: unused here
            popt, _ = curve_fit(f, x, y, p0=p0, bounds=bounds, maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    out = [float(v) for v in popt]
    return out if all(math.isfinite(v) for v in out) else None


def fit_throughput(loads: Sequence[float], xs: Sequence[float]) -> tuple[str, Curve, list[float]]:
    """The throughput curve over the measured loads: (model name, X(c), parameters)."""
    c = np.asarray(loads, dtype=float)
    x = np.asarray(xs, dtype=float)
    order = np.argsort(c)
    c, x = c[order], x[order]
    if len(c) >= 3 and x[-1] < FALLS_SHARE * x.max():
        p = _curve_fit(
            _usl, c, x, [max(x[0] / max(c[0], 1e-9), 1e-9), 0.05, 1e-4], ([0, 0, 0], [np.inf, 1, 1])
        )
        if p is not None:
            return "usl", lambda v: _at(_usl, v, p), p
    if len(c) >= 2:
        p0 = [float(x.max()) * 1.2, float(np.median(c))]
        p = _curve_fit(_saturating, c, x, p0, ([0, 0], [np.inf, np.inf]))
        if p is not None:
            return "saturating", lambda v: _at(_saturating, v, p), p
    return "interpolated", lambda v: float(np.interp(v, c, x)), []


def _term_load(
    c: Array, y: Array, limit: float
) -> tuple[float, str, tuple[float, float] | None, list[float]]:
    """(highest load meeting `limit`, method, bracket, params) for one term's latencies."""
    miss = np.nonzero(y > limit)[0]
    if len(miss) == 0:
        return float(c[-1]), "never missed", None, []
    k = int(miss[0])
    if k == 0:
        return 0.0, "missed at the lowest load", None, []
    lo, hi = float(c[k - 1]), float(c[k])
    linear = lo + (limit - float(y[k - 1])) / (float(y[k]) - float(y[k - 1])) * (hi - lo)
    if k + 1 >= 3:
        xs, ys = c[: k + 1], y[: k + 1]
        span = max(float(xs[-1]), 1e-9)
        p = _curve_fit(
            _power,
            xs,
            ys,
            [float(ys[0]), max(float(ys[-1] - ys[0]), 1e-9) / span, 1.0],
            ([0, 0, 0.05], [np.inf, np.inf, 5.0]),
        )
        if p is not None:

            def g(v: float) -> float:
                return _at(_power, v, p) - limit

            if g(lo) <= 0 < g(hi):
                return float(brentq(g, lo, hi)), "power-law fit", (lo, hi), p
    return linear, "linear interpolation", (lo, hi), []


def slo_load(points: Sequence[SweepPoint], limits: Mapping[str, float]) -> SloFit | None:
    """Highest load at which every term of `limits` holds, by the fits above; None when the
    lowest measured load already misses (nothing measured meets the SLO)."""
    pts = sorted((p for p in points if p.load > 0), key=lambda p: p.load)
    if not pts:
        return None
    c = np.array([p.load for p in pts], dtype=float)
    best_load = float(c[-1])
    binding: str | None = None
    methods: list[str] = []
    bracket: tuple[float, float] | None = None
    params: dict[str, list[float]] = {}
    for term, limit in sorted(limits.items()):
        y = np.array([p.latency.get(term, math.inf) for p in pts], dtype=float)
        load, method, br, p = _term_load(c, y, limit)
        if load <= 0:
            return None
        methods.append(f"{term}: {method}")
        if p:
            params[term] = p
        if load < best_load:
            best_load, binding, bracket = load, term, br
    model, curve, tp = fit_throughput(c.tolist(), [p.throughput for p in pts])
    params["throughput"] = tp
    measured = {p.load: p.throughput for p in pts}
    if bracket is None:  # every point passes: the highest measured point, as measured
        at = measured[best_load]
    else:  # never above what was measured, never below the last passing point's throughput
        at = max(min(curve(best_load), max(measured.values())), measured[bracket[0]])
    return SloFit(
        load=best_load,
        throughput=at,
        binding=binding,
        method=f"{model} throughput fit; " + "; ".join(methods),
        bracket=bracket,
        params=params,
    )
