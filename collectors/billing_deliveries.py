"""Which billing files belong together, and which delivery of a report is the current one.

Clouds restate their exports: AWS writes a new CUR assembly (or a new Data Exports version)
several times a day, Azure writes a new run folder for every month-to-date run. Loading every
file under a prefix would count the same month once per restatement. This module reads the
layout and the providers' own manifests (no file contents) and groups the files into
*deliveries*, each with the time it was delivered:

* AWS CUR legacy, new versions: `<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-N.csv.gz`.
  The period folder's `<report>-Manifest.json` names the current assemblyId and its reportKeys;
  every other assembly of the period is set aside. Overwrite mode
  (`<report>/year=YYYY/month=MM/`): the folder's manifest lists the current files; any other
  file there is a leftover of an earlier version.
* AWS Data Exports (CUR 2.0, FOCUS): `<export>/data/BILLING_PERIOD=YYYY-MM/...` with
  `<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`, whose `dataFiles` are the
  current version (overwritten in place, or one new folder per version).
* Azure cost exports: `<export>/<yyyyMMdd-yyyyMMdd>/<run folder(s)>/...`, each run with a
  `manifest.json` (`runInfo.submittedTime`, `blobs`). The latest complete run of a date range
  is current. Runs without a manifest are deliveries too (one per run folder), ordered by time.
* Anything else: a file is its own delivery, except numbered parts written together (same
  folder, same name but for a trailing `-N`/`_N`, delivered within PART_WINDOW of each other:
  `export-00001.csv.gz`, `focus-000000000000.csv`), which are one delivery.

A manifest whose files are not all present is *incomplete*: its files wait (nothing loaded,
nothing set aside) until the rest arrives. What is left for billing_ledger to decide from the
contents (account, billing period, charge days) is which of two different deliveries counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from unitcost.errors import InputError

BILLING_SUFFIXES = (".csv", ".csv.gz", ".parquet")
PART_WINDOW = timedelta(hours=1)
_RANGE = re.compile(r"^\d{8}-\d{8}$")  # yyyymmdd-yyyymmdd (CUR periods, Azure date ranges)
_PARTITION = re.compile(r"^billing_period=", re.IGNORECASE)
_RUN_TIME = re.compile(r"^\d{12}$")  # Azure's export-time folder, yyyyMMddHHmm
_PART = re.compile(r"^(?P<stem>.*[-_])\d+(?P<ext>(?:\.[A-Za-z0-9]+)+)$")


def is_billing_file(name: str) -> bool:
    return name.lower().endswith(BILLING_SUFFIXES)


def is_manifest(name: str) -> bool:
    """AWS writes `<report>-Manifest.json`; Azure writes `manifest.json`."""
    low = name.lower()
    return low == "manifest.json" or low.endswith("-manifest.json")


@dataclass(frozen=True)
class Entry:
    """One object at a billing location: a local file or an S3 object."""

    uri: str  # what billing_files.source_file records: an absolute path or s3:// URI
    rel: str  # '/'-separated path the layout is read from (relative path, or the S3 key)
    size: int
    modified: datetime  # file modification time / S3 LastModified, UTC
    fingerprint: str  # size+mtime (local) or ETag+size (S3): unchanged means not re-read

    @property
    def parent(self) -> str:
        return str(PurePosixPath(self.rel).parent)

    @property
    def name(self) -> str:
        return PurePosixPath(self.rel).name


@dataclass
class Delivery:
    """Files that together are one delivery of a report; they never replace each other."""

    delivery_id: str
    delivered_at: datetime
    files: list[Entry]
    by: str  # what grouped them: a manifest's path, 'run folder', 'numbered parts', 'file'


@dataclass(frozen=True)
class SetAside:
    """A file the layout says does not count now (superseded) or not yet (waiting)."""

    entry: Entry
    by: str  # the manifest (or run) that decides
    reason: str


@dataclass
class Plan:
    deliveries: list[Delivery] = field(default_factory=list)  # to load, oldest first
    superseded: list[SetAside] = field(default_factory=list)  # not the current delivery
    waiting: list[SetAside] = field(default_factory=list)  # incomplete delivery: untouched


@dataclass
class _Scope:
    """The files one manifest decides about: those under `folder` (a rel path prefix)."""

    folder: str
    manifest: Entry
    current: list[str]  # rel paths of the current delivery's files
    delivery_id: str
    delivered_at: datetime
    what: str  # how the reason names the current delivery


ReadJson = Callable[[Entry], Any]


def plan(entries: Iterable[Entry], read_json: ReadJson) -> Plan:
    """Group the billing files at a location into deliveries, reading only manifests."""
    items = sorted(entries, key=lambda e: e.rel)
    data = {e.rel: e for e in items if is_billing_file(e.name)}
    manifests = [e for e in items if is_manifest(e.name)]
    out = Plan()
    claimed: set[str] = set()
    for scope_files, decide in _manifest_scopes(manifests, data, read_json):
        claimed.update(scope_files)
        decide(out)
    rest = [e for rel, e in data.items() if rel not in claimed]
    out.deliveries.extend(_group_rest(rest))
    out.deliveries.sort(key=lambda d: (d.delivered_at, d.delivery_id))
    return out


# ------------------------------------------------------------------ manifests
def _under(folder: str, rel: str) -> bool:
    return folder in ("", ".") or rel.startswith(folder.rstrip("/") + "/")


def _join(folder: str, tail: str) -> str:
    return tail if folder in ("", ".") else f"{folder.rstrip('/')}/{tail}"


def _after(key: str, anchor: str) -> str | None:
    """The part of a manifest's key after the `/<anchor>/` folder (anchor compared exactly,
    else case-insensitively), e.g. reportKeys relative to their billing period folder."""
    key = re.sub(r"^s3://[^/]+/", "", key)
    for cand in (f"/{anchor}/", f"{anchor}/"):
        i = key.find(cand)
        if i >= 0 and (i == 0 or cand.startswith("/")):
            return key[i + len(cand) :]
    low, anc = key.lower(), f"/{anchor.lower()}/"
    i = low.find(anc)
    return key[i + len(anc) :] if i >= 0 else None


def _time(text: Any) -> datetime | None:
    """A manifest's timestamp (`2024-02-03T18:33:03.1032074Z`, `20240901T000000.000Z`)."""
    if not isinstance(text, str) or not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    t = re.sub(r"(\.\d{6})\d+", r"\1", t)  # Azure writes 7 fractional digits
    for fmt in (None, "%Y%m%dT%H%M%S.%f%z"):
        try:
            dt = datetime.fromisoformat(t) if fmt is None else datetime.strptime(t, fmt)
        except ValueError:
            continue
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _read(read_json: ReadJson, m: Entry) -> dict[str, Any]:
    try:
        doc = read_json(m)
    except (OSError, ValueError) as exc:
        raise InputError(f"{m.uri}: cannot read this manifest: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{m.uri}: not a manifest unitcost knows (not a JSON object)")
    return doc


def _keys(doc: dict[str, Any], m: Entry, *names: str) -> list[str]:
    for name in names:
        value = doc.get(name)
        if isinstance(value, list):
            return [
                str(v.get("blobName", "")) if isinstance(v, dict) else str(v) for v in value if v
            ]
    raise InputError(f"{m.uri}: manifest without {' or '.join(names)}: cannot tell its files")


def _manifest_scopes(
    manifests: list[Entry], data: dict[str, Entry], read_json: ReadJson
) -> Iterable[tuple[set[str], Callable[[Plan], None]]]:
    """For each manifest-governed folder: its data files and how to decide about them."""
    cur_periods: dict[str, list[Entry]] = {}  # CUR period folder -> its manifests
    azure: dict[tuple[str, str], list[tuple[Entry, dict[str, Any]]]] = {}
    for m in manifests:
        parts = PurePosixPath(m.rel).parts
        folder = m.parent
        if m.name.lower() == "manifest.json":
            rng = next((i for i in range(len(parts) - 2, -1, -1) if _RANGE.match(parts[i])), None)
            if rng is not None and rng < len(parts) - 2:
                doc = _read(read_json, m)
                config = doc.get("exportConfig")
                export = ""
                if isinstance(config, dict):
                    export = str(config.get("resourceId") or config.get("exportName") or "")
                # runs of one export and date range compete; another export there does not
                azure.setdefault(("/".join(parts[: rng + 1]), export), []).append((m, doc))
            continue
        if len(parts) >= 3 and parts[-3].lower() == "metadata" and _PARTITION.match(parts[-2]):
            yield _data_exports(m, parts, data, read_json)
        elif len(parts) >= 2 and _RANGE.match(parts[-2]):
            cur_periods.setdefault(folder, []).append(m)
        elif len(parts) >= 3 and _RANGE.match(parts[-3]):
            cur_periods.setdefault(str(PurePosixPath(folder).parent), []).append(m)
        else:
            yield _overwrite(m, data, read_json)
    for period, ms in cur_periods.items():
        yield _cur_versions(period, ms, data, read_json)
    for (rng_folder, _export), runs in azure.items():
        yield _azure_runs(rng_folder, runs, data)


def _incomplete(scope: _Scope, data: dict[str, Entry]) -> str | None:
    """Why a manifest's delivery is not complete yet, or None."""
    missing = [rel for rel in scope.current if rel not in data]
    if not missing:
        return None
    return (
        f"{scope.what} is incomplete ({len(scope.current) - len(missing)} of "
        f"{len(scope.current)} files present, e.g. {missing[0]} is missing): nothing of it is "
        "loaded and nothing is replaced until the rest arrives"
    )


def _decide(
    scope: _Scope, data: dict[str, Entry], newer: Sequence[_Scope] = ()
) -> tuple[set[str], Callable[[Plan], None]]:
    """Load the scope's current files and set aside the rest of its folder, except the files
    of `newer` deliveries that are not complete yet: those wait."""
    files = {rel for rel in data if _under(scope.folder, rel)}

    def decide(out: Plan) -> None:
        why = _incomplete(scope, data)
        if why is not None:
            out.waiting.extend(
                SetAside(data[rel], scope.manifest.uri, why) for rel in sorted(files)
            )
            return
        out.deliveries.append(
            Delivery(
                scope.delivery_id,
                scope.delivered_at,
                [data[rel] for rel in scope.current],
                scope.manifest.uri,
            )
        )
        waiting: set[str] = set()
        for n in newer:
            later = sorted(
                rel
                for rel in n.current
                if rel in data and rel not in scope.current and rel not in waiting
            )
            out.waiting.extend(
                SetAside(data[rel], n.manifest.uri, _incomplete(n, data) or "") for rel in later
            )
            waiting.update(later)
        for rel in sorted(files - set(scope.current) - waiting):
            out.superseded.append(
                SetAside(data[rel], scope.manifest.uri, f"not part of {scope.what}")
            )

    return files, decide


def _data_exports(
    m: Entry, parts: tuple[str, ...], data: dict[str, Entry], read_json: ReadJson
) -> tuple[set[str], Callable[[Plan], None]]:
    doc = _read(read_json, m)
    root = "/".join(parts[:-3])
    partition = parts[-2]
    folder = _join(root, f"data/{partition}")
    current = []
    for key in _keys(doc, m, "dataFiles", "reportKeys"):
        tail = _after(key, partition)
        current.append(_join(folder, tail if tail is not None else PurePosixPath(key).name))
    execution = str(doc.get("executionId") or m.fingerprint)
    scope = _Scope(
        folder,
        m,
        sorted(set(current)),
        f"data-exports:{folder}:{execution}",
        m.modified,
        f"the current export version (execution {execution}) listed by {m.uri}",
    )
    return _decide(scope, data)


def _overwrite(
    m: Entry, data: dict[str, Entry], read_json: ReadJson
) -> tuple[set[str], Callable[[Plan], None]]:
    doc = _read(read_json, m)
    folder = m.parent
    anchor = PurePosixPath(folder).name
    current = []
    for key in _keys(doc, m, "reportKeys", "dataFiles"):
        tail = _after(key, anchor) if anchor else None
        current.append(_join(folder, tail if tail is not None else PurePosixPath(key).name))
    assembly = str(doc.get("assemblyId") or m.fingerprint)
    scope = _Scope(
        folder,
        m,
        sorted(set(current)),
        f"cur:{folder}:{assembly}",
        m.modified,
        f"the current report version (assembly {assembly}) listed by {m.uri}",
    )
    return _decide(scope, data)


def _cur_versions(
    period: str, ms: list[Entry], data: dict[str, Entry], read_json: ReadJson
) -> tuple[set[str], Callable[[Plan], None]]:
    """CUR legacy with new versions: the period manifest names the current assembly; if that
    one is incomplete, the newest complete assembly (by its own manifest's time) stands."""
    anchor = PurePosixPath(period).name
    candidates: list[_Scope] = []
    named: _Scope | None = None
    for m in sorted(ms, key=lambda e: e.modified, reverse=True):
        doc = _read(read_json, m)
        assembly = str(doc.get("assemblyId") or "")
        if not assembly:
            raise InputError(f"{m.uri}: CUR manifest without assemblyId")
        current = []
        for key in _keys(doc, m, "reportKeys"):
            tail = _after(key, anchor)
            current.append(_join(period, tail if tail is not None else f"{assembly}/{key}"))
        scope = _Scope(
            period,
            m,
            sorted(set(current)),
            f"cur:{period}:{assembly}",
            m.modified,
            f"the current assembly {assembly} named by {m.uri}",
        )
        if m.parent == period:
            named = scope
        candidates.append(scope)
    complete = [c for c in candidates if _incomplete(c, data) is None]
    chosen = named if named is not None and named in complete else None
    if chosen is None and complete:
        chosen = max(complete, key=lambda c: c.delivered_at)
    if chosen is None:
        return _decide(named or candidates[0], data)
    # assemblies newer than the one that stands (the named one included) that are still
    # arriving wait; older ones are set aside
    newer = [c for c in candidates if c not in complete and c.delivered_at >= chosen.delivered_at]
    return _decide(chosen, data, newer)


def _azure_runs(
    rng_folder: str, manifests: list[tuple[Entry, dict[str, Any]]], data: dict[str, Entry]
) -> tuple[set[str], Callable[[Plan], None]]:
    """Azure: each run folder with a manifest.json is a delivery of the export's date range;
    the latest complete run (runInfo.submittedTime) is current, every earlier one set aside."""
    anchor = PurePosixPath(rng_folder).name
    runs: list[_Scope] = []
    for m, doc in manifests:
        raw = doc.get("runInfo")
        info: dict[str, Any] = raw if isinstance(raw, dict) else {}
        current = []
        for key in _keys(doc, m, "blobs"):
            tail = _after(key, anchor)
            current.append(
                _join(rng_folder, tail) if tail else _join(m.parent, PurePosixPath(key).name)
            )
        run_id = str(info.get("runId") or m.parent)
        runs.append(
            _Scope(
                m.parent,
                m,
                sorted(set(current)),
                f"azure:{m.parent}:{run_id}",
                _time(info.get("submittedTime")) or m.modified,
                f"the latest complete run ({run_id}, {m.uri})",
            )
        )
    complete = [r for r in runs if all(rel in data for rel in r.current)]
    manifest_runs = {rel for r in runs for rel in data if _under(r.folder, rel)}

    def decide(out: Plan) -> None:
        for r in runs:
            if r not in complete:
                _decide(r, data)[1](out)  # reports it as waiting
        if not complete:
            return
        latest = max(complete, key=lambda r: (r.delivered_at, r.delivery_id))
        ties = [r for r in complete if r.delivered_at == latest.delivered_at and r is not latest]
        if ties:
            raise InputError(
                f"{latest.manifest.uri} and {ties[0].manifest.uri}: two runs of the same export "
                "and dates with the same submitted time; cannot tell which is current. Remove "
                "the one that is not"
            )
        out.deliveries.append(
            Delivery(
                latest.delivery_id,
                latest.delivered_at,
                [data[rel] for rel in latest.current],
                latest.manifest.uri,
            )
        )
        for r in complete:
            if r is latest:
                continue
            for rel in sorted(x for x in data if _under(r.folder, x)):
                out.superseded.append(
                    SetAside(
                        data[rel],
                        latest.manifest.uri,
                        f"an earlier run of the same export and dates; current: {latest.what}",
                    )
                )

    return manifest_runs, decide


# ------------------------------------------------------------------ no manifest
def _group_rest(rest: list[Entry]) -> list[Delivery]:
    """Deliveries of the files no manifest claims: run folders of a date range or billing
    period partition, numbered parts written together, else one file each."""
    out: list[Delivery] = []
    by_run: dict[str, list[Entry]] = {}
    loose: list[Entry] = []
    for e in rest:
        run = _run_folder(PurePosixPath(e.rel).parts)
        if run is not None:
            by_run.setdefault(run, []).append(e)
        else:
            loose.append(e)
    for run, files in sorted(by_run.items()):
        out.append(
            Delivery(
                f"run:{files[0].uri[: -len(files[0].rel)]}{run}",
                _latest(files),
                files,
                "run folder",
            )
        )
    groups: dict[tuple[str, str, str], list[Entry]] = {}
    for e in loose:
        m = _PART.match(e.name)
        if m is None:
            out.append(Delivery(f"file:{e.uri}", e.modified, [e], "file"))
            continue
        groups.setdefault((e.parent, m.group("stem"), m.group("ext")), []).append(e)
    for (_folder, _stem, _ext), files in sorted(groups.items()):
        out.extend(_cluster(sorted(files, key=lambda e: (e.modified, e.rel))))
    return out


def _run_folder(parts: tuple[str, ...]) -> str | None:
    """The run folder a file sits in under a date range or billing period partition: the
    export-time folder (`yyyyMMddHHmm`, Azure) if there is one, else the first subfolder (a CUR
    assembly, a Data Exports version). None for a file directly in such a folder, or outside."""
    for i in range(len(parts) - 2):
        if _RANGE.match(parts[i]) or _PARTITION.match(parts[i]):
            for j in range(i + 1, len(parts) - 1):
                if _RUN_TIME.match(parts[j]):
                    return "/".join(parts[: j + 1])
            return "/".join(parts[: i + 2])
    return None


def _cluster(files: list[Entry]) -> list[Delivery]:
    """Numbered parts delivered within PART_WINDOW of the first are one delivery."""
    out: list[Delivery] = []
    batch: list[Entry] = []
    for e in files:
        if batch and e.modified - batch[0].modified > PART_WINDOW:
            out.append(_parts(batch))
            batch = []
        batch.append(e)
    if batch:
        out.append(_parts(batch))
    return out


def _parts(files: list[Entry]) -> Delivery:
    if len(files) == 1:
        return Delivery(f"file:{files[0].uri}", files[0].modified, files, "file")
    first = min(files, key=lambda e: e.rel)
    return Delivery(f"parts:{first.uri}", _latest(files), files, "numbered parts")


def _latest(files: list[Entry]) -> datetime:
    return max(e.modified for e in files)


def read_local_json(entry: Entry) -> Any:
    """A manifest on the local disk."""
    with open(entry.uri, encoding="utf-8-sig") as fh:
        return json.load(fh)
