"""The metric store: each series once, its samples as (series id, ts, value), intervals in step.

One way in for every writer (Prometheus pulls, /metrics scrapes, bench scrapes, emulate
offline): build a SampleBatch (columnar: series once, points as arrays) and call write() inside
the caller's transaction. write() registers new series (metric_series: canonical key, labels,
the deployment they map to, emulated), appends the points as one Arrow batch (metric_points),
turns DCGM series into gpu_samples, and re-derives metric_intervals for the deployments and
intervals the points touch, so a caller that also moves its watermark in that transaction
commits samples, GPU rows, watermark and intervals together or not at all.

Deployments: a series belongs to the deployment its labels say it was emulated for
(`emulated="true"` and `unitcost_deployment`), else to the deployment whose metric-label rules
(`collect deployments` stores them) it matches, the rule with the most labels first, ties to the
first id; else to `model:<model>` when it names a model (two unrelated models never add up),
else to `unmapped`. It is never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from unitcost.collectors import intervals, rollups
from unitcost.collectors import metric_families as mf
from unitcost.collectors.base import registered, utc_session

from unitcost import sqlfiles

UNMAPPED = "unmapped"
SOURCE_KINDS = ("prometheus", "scrape", "emulate")
_TS = pa.timestamp("us", tz="UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Rules = list[tuple[str, dict[str, str]]]


@dataclass
class SampleBatch:
    """Samples of many series, columnar: each series once, its points as arrays.

    Series are identified by (metric, exposed labels); adding the same series twice appends to
    it. Times are unix seconds (float).
    """

    metrics: list[str] = field(default_factory=list)
    labels: list[dict[str, str]] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)
    _keys: list[str] = field(default_factory=list)
    _series: list[npt.NDArray[np.int64]] = field(default_factory=list)
    _ts: list[npt.NDArray[np.float64]] = field(default_factory=list)
    _values: list[npt.NDArray[np.float64]] = field(default_factory=list)
    points: int = 0

    def series_index(self, metric: str, labels: dict[str, str]) -> int:
        """The batch's index of a series, added on first sight."""
        key = mf.series_key(metric, labels)
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self.metrics)
            self.metrics.append(metric)
            self.labels.append(dict(labels))
            self._keys.append(key)
        return i

    def add(
        self,
        metric: str,
        labels: dict[str, str],
        ts: npt.ArrayLike,
        values: npt.ArrayLike,
    ) -> None:
        """Append points of one series."""
        t = np.asarray(ts, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if t.shape != v.shape:
            raise ValueError("ts and values differ in length")
        self.add_indexed(np.full(t.shape, self.series_index(metric, labels), np.int64), t, v)

    def add_indexed(
        self,
        series: npt.NDArray[np.int64],
        ts: npt.NDArray[np.float64],
        values: npt.NDArray[np.float64],
    ) -> None:
        """Append points given as parallel arrays of series indexes, times and values."""
        if len(series):
            self._series.append(series)
            self._ts.append(ts)
            self._values.append(values)
            self.points += len(series)

    def arrays(
        self, *, distinct: bool = False
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """All points: (series index, ts seconds, value); with `distinct`, one per series and
        time (the last added), for batches that may repeat one (a text exposing a series twice).
        """
        if not self._series:
            empty = np.zeros(0)
            return np.zeros(0, np.int64), empty, empty
        series = np.concatenate(self._series)
        ts = np.concatenate(self._ts)
        values = np.concatenate(self._values)
        if distinct and len(series) > 1:
            order = np.lexsort((np.arange(len(series)), ts, series))
            s, t = series[order], ts[order]
            last = np.ones(len(order), bool)
            last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
            keep = np.sort(order[last])
            series, ts, values = series[keep], ts[keep], values[keep]
        return series, ts, values

    def keys(self) -> list[str]:
        return self._keys

    def __len__(self) -> int:
        return self.points


def label_rules(con: duckdb.DuckDBPyConnection) -> Rules:
    """The stored metric-label rules, most specific first (ties: deployment id order)."""
    rules: dict[str, dict[str, str]] = {}
    for dep, key, value in con.execute(sqlfiles.load("queries", "metrics_label_rules")).fetchall():
        rules.setdefault(dep, {})[key] = value
    return sorted(rules.items(), key=lambda r: (-len(r[1]), r[0]))


def deployment_of(labels: dict[str, str], rules: Rules) -> str:
    """The deployment a series (normalized labels) counts for; see the module docstring."""
    if labels.get(mf.EMULATED_LABEL) == "true" and labels.get(mf.DEPLOYMENT_LABEL):
        return labels[mf.DEPLOYMENT_LABEL]
    for dep_id, want in rules:
        if all(labels.get(k) == v for k, v in want.items()):
            return dep_id
    model = labels.get("model")
    return f"model:{model}" if model else UNMAPPED


def _emulated_targets(batch: SampleBatch) -> set[tuple[str | None, str | None]]:
    """(job, instance) of targets whose scrape carries the emulator's info gauge: every series
    of such a target is emulated, labelled or not (the live emulator labels only the gauge)."""
    return {
        (lab.get("job"), lab.get("instance"))
        for m, lab in zip(batch.metrics, batch.labels, strict=True)
        if m == mf.EMULATED_INFO
    }


def _series_ids(
    con: duckdb.DuckDBPyConnection, source: str, kind: str, batch: SampleBatch
) -> tuple[npt.NDArray[np.int64], set[str]]:
    """Stored ids of the batch's series (new ones registered and mapped); their deployments."""
    n = len(batch.metrics)
    norm = [mf.normalize_labels(m, lab) for m, lab in zip(batch.metrics, batch.labels, strict=True)]
    targets = _emulated_targets(batch)
    emulated = [
        lab.get(mf.EMULATED_LABEL) == "true" or (lab.get("job"), lab.get("instance")) in targets
        for lab in norm
    ]
    lookup = pa.table(
        {
            "idx": pa.array(range(n), pa.int64()),
            "metric": batch.metrics,
            "series_key": batch.keys(),
        }
    )
    with registered(con, "batch_series", lookup):
        known = con.execute(
            sqlfiles.load("queries", "metrics_series_lookup"), {"source": source}
        ).fetchall()
    ids = np.zeros(n, np.int64)
    deps: set[str] = set()
    unmapped: list[tuple[int, int]] = []
    found = np.zeros(n, bool)
    for idx, sid, dep, _emu in known:
        ids[idx], found[idx] = sid, True
        if dep is None:
            unmapped.append((idx, sid))
        else:
            deps.add(dep)
    new = [i for i in range(n) if not found[i]]
    rules = label_rules(con) if new or unmapped else []
    if new:
        new_deps = [deployment_of(norm[i], rules) for i in new]
        table = pa.table(
            {
                "idx": pa.array(new, pa.int64()),
                "metric": [batch.metrics[i] for i in new],
                "series_key": [batch.keys()[i] for i in new],
                "label_keys": [list(norm[i]) for i in new],
                "label_values": [list(norm[i].values()) for i in new],
                "deployment_id": new_deps,
                "emulated": [emulated[i] for i in new],
            }
        )
        with registered(con, "new_series", table):
            rows = con.execute(
                sqlfiles.load("queries", "metrics_series_insert"),
                {"source": source, "source_kind": kind},
            ).fetchall()
        by_key = {(m, k): sid for sid, m, k in rows}
        for i in new:
            ids[i] = by_key[(batch.metrics[i], batch.keys()[i])]
        deps.update(new_deps)
    if unmapped:
        mapped = [deployment_of(norm[i], rules) for i, _ in unmapped]
        _set_deployments(con, [sid for _, sid in unmapped], mapped)
        deps.update(mapped)
    return ids, deps


def _set_deployments(
    con: duckdb.DuckDBPyConnection, series_ids: Sequence[int], deps: Sequence[str]
) -> None:
    with registered(
        con,
        "series_deployments",
        pa.table({"series_id": pa.array(series_ids, pa.int64()), "deployment_id": list(deps)}),
    ):
        con.execute(sqlfiles.load("queries", "metrics_series_set_deployment"))


def _emulated_deployments(con: duckdb.DuckDBPyConnection, batch: SampleBatch) -> None:
    """Register the deployments emulated series stand for (from the emulator's info gauge)."""
    rows = []
    for m, lab in zip(batch.metrics, batch.labels, strict=True):
        dep = lab.get(mf.DEPLOYMENT_LABEL)
        if m != mf.EMULATED_INFO or not dep or lab.get(mf.EMULATED_LABEL) != "true":
            continue
        rows.append(
            {
                "deployment_id": dep,
                "model": lab.get("model") or lab.get("model_name") or dep,
                "parameter_count": _int(lab.get("parameter_count")),
                "active_parameter_count": _int(lab.get("active_parameter_count")),
                "quantization": lab.get("quantization") or "unknown",
                "engine": lab.get("serving_engine") or "unknown",
                "hardware": (lab.get("gpu") or "unknown").upper(),
                "gpu_count": _int(lab.get("gpu_count")) or 1,
            }
        )
    if not rows:
        return
    with registered(con, "emulated_info", pa.Table.from_pylist(rows)):
        con.execute(sqlfiles.load("queries", "metrics_emulated_deployment_insert"))


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _points_table(
    ids: npt.NDArray[np.int64],
    series: npt.NDArray[np.int64],
    micros: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    run_id: str | None,
) -> pa.Table:
    return pa.table(
        {
            "series_id": pa.array(ids[series], pa.int64()),
            "ts": pa.array(micros, pa.int64()).cast(_TS),
            "value": pa.array(values, pa.float64()),
            "run_id": pa.nulls(len(series), pa.string())
            if run_id is None
            else pa.array([run_id] * len(series), pa.string()),
        }
    )


def write(
    con: duckdb.DuckDBPyConnection,
    batch: SampleBatch,
    *,
    source: str,
    kind: str,
    replace: tuple[datetime, datetime] | None = None,
    run_id: str | None = None,
    interval_s: int = intervals.DEFAULT_INTERVAL_S,
) -> int:
    """Store a batch inside the caller's transaction; returns the samples written.

    `replace` [lo, hi): a range pull of that window; the source's samples in it are replaced
    (a re-pull is idempotent). Otherwise a sample already stored at the same time is replaced.
    metric_intervals is re-derived for every deployment whose samples changed, over the
    intervals the batch (or the replaced window) touches.
    """
    if kind not in SOURCE_KINDS:
        raise ValueError(f"source kind {kind!r}: expected one of {', '.join(SOURCE_KINDS)}")
    if not len(batch) and replace is None:
        return 0
    utc_session(con)
    ids, deps = _series_ids(con, source, kind, batch)
    # a range pull's points are one per series and step already; other batches are small
    series, ts, values = batch.arrays(distinct=replace is None)
    micros = np.round(ts * 1e6).astype(np.int64)  # stored precision: microseconds
    span = (_us(int(micros.min())), _us(int(micros.max()))) if len(micros) else None
    with registered(con, "new_points", _points_table(ids, series, micros, values, run_id)):
        if replace is not None:
            con.execute(
                sqlfiles.load("queries", "metrics_points_delete_window"),
                {"source": source, "lo": replace[0], "hi": replace[1]},
            )
            deps.update(
                r[0]
                for r in con.execute(
                    sqlfiles.load("queries", "metrics_source_deployments"), {"source": source}
                ).fetchall()
            )
        elif span is not None:
            con.execute(
                sqlfiles.load("queries", "metrics_points_delete_same"),
                {"lo": span[0], "hi": span[1]},
            )
        con.execute(sqlfiles.load("queries", "metrics_points_insert"))
        if any(m.startswith("DCGM_") for m in batch.metrics):
            _gpu_samples_from_dcgm(con)
    _emulated_deployments(con, batch)
    if replace is not None:
        lo, hi = replace
    elif span is not None:
        lo, hi = span
    else:
        return 0
    intervals.derive(con, sorted(deps), lo, hi, interval_s=interval_s)
    return len(series)


def _gpu_samples_from_dcgm(con: duckdb.DuckDBPyConnection) -> None:
    """DCGM series among new_points -> gpu_samples (source 'dcgm'), same transaction."""
    rows = con.sql(sqlfiles.load("queries", "metrics_dcgm_gpu_samples")).to_arrow_table()
    if rows.num_rows == 0:
        return
    rollups.store_gpu_samples(con, rows)


def _us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def remap(con: duckdb.DuckDBPyConnection) -> tuple[set[str], bool]:
    """Map every stored series to its deployment under the current rules, in the caller's
    transaction; returns the deployments whose series changed (before and after), and whether
    any series had none yet (carried over by migration 0005)."""
    rules = label_rules(con)
    changed_ids: list[int] = []
    changed_deps: list[str] = []
    touched: set[str] = set()
    carried = False
    rows = con.execute(sqlfiles.load("queries", "metrics_series_all")).fetchall()
    for sid, metric, keys, values, dep, _emu in rows:
        want = deployment_of(
            mf.normalize_labels(metric, dict(zip(keys, values, strict=True))), rules
        )
        if want != dep:
            changed_ids.append(sid)
            changed_deps.append(want)
            touched.add(want)
            if dep is not None:
                touched.add(dep)
            carried = carried or dep is None
    if changed_ids:
        _set_deployments(con, changed_ids, changed_deps)
    return touched, carried


def rederive(con: duckdb.DuckDBPyConnection, *, everything: bool = False) -> tuple[int, int]:
    """Re-map series (remap) and re-derive the intervals of the deployments that changed, or
    of all of them with `everything` or when series carried over by migration 0005 were mapped
    now (the intervals derived before the upgrade may be under other deployment ids); returns
    (deployments, interval rows written)."""
    deps, carried = remap(con)
    if everything or carried:
        deps |= {
            r[0]
            for r in con.execute(sqlfiles.load("queries", "metrics_deployments_all")).fetchall()
        }
    lengths = [
        int(r[0])
        for r in con.execute(sqlfiles.load("queries", "metrics_interval_lengths")).fetchall()
    ] or [intervals.DEFAULT_INTERVAL_S]
    rows = sum(intervals.derive_all(con, sorted(deps), interval_s=s) for s in lengths)
    return len(deps), rows
