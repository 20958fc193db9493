"""AWS Cost Explorer (`get_cost_and_usage`) into billing_line_items.

Fetch pages (NextPageToken until none), parse each page with a pure function into rows, and
write each period in one transaction under `ce:<query hash>:<period start>`, replacing what an
earlier run stored for that period: collecting a window twice leaves identical rows.
BilledCost is UnblendedCost (cash) and EffectiveCost is AmortizedCost (commitments spread over
the usage they cover), both in the currency Cost Explorer reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from unitcost.collectors.base import collector_run, set_watermark, utc_session
from unitcost.collectors.clients import make_boto3_client

from unitcost import sqlfiles
from unitcost.errors import CollectorError, InputError
from unitcost.store import Store

METRICS = ["UnblendedCost", "AmortizedCost", "UsageQuantity"]
GROUP_DIMENSIONS = {
    "SERVICE",
    "INSTANCE_TYPE",
    "USAGE_TYPE",
    "REGION",
    "LINKED_ACCOUNT",
    "PURCHASE_TYPE",
}
_PURCHASE = {  # CE PURCHASE_TYPE -> FOCUS PricingCategory
    "On Demand Instances": "Standard",
    "Spot Instances": "Dynamic",
    "Standard Reserved Instances": "Committed",
    "Convertible Reserved Instances": "Committed",
    "Savings Plans": "Committed",
}


@dataclass(frozen=True)
class CeRow:
    """One (period, group) of a Cost Explorer answer."""

    start: datetime
    end: datetime
    keys: dict[str, str]  # group type/key -> value, e.g. {"SERVICE": "Amazon EC2"}
    unblended: Decimal
    amortized: Decimal
    currency: str | None
    usage: Decimal | None
    usage_unit: str | None
    estimated: bool


def parse_group_by(specs: list[str]) -> list[dict[str, str]]:
    """`SERVICE`, `INSTANCE_TYPE`, `TAG:unitcost:deployment` -> CE GroupBy (at most two)."""
    out = []
    for spec in specs:
        if spec.upper().startswith("TAG:"):
            out.append({"Type": "TAG", "Key": spec[4:]})
        elif spec.upper() in GROUP_DIMENSIONS:
            out.append({"Type": "DIMENSION", "Key": spec.upper()})
        else:
            raise InputError(
                f"--group-by {spec!r}: expected one of "
                f"{', '.join(sorted(GROUP_DIMENSIONS))} or TAG:<key>"
            )
    if len(out) > 2:
        raise InputError("--group-by: Cost Explorer allows at most two groupings")
    return out


def _ts(text: str) -> datetime:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _amount(metrics: dict[str, Any], name: str) -> tuple[Decimal | None, str | None]:
    m = metrics.get(name)
    if not m:
        return None, None
    return Decimal(str(m["Amount"])), m.get("Unit")


def parse_page(page: dict[str, Any], group_by: list[dict[str, str]]) -> list[CeRow]:
    """Pure: one get_cost_and_usage response -> rows (money as Decimal from CE's text)."""
    names = [("TAG:" + g["Key"]) if g["Type"] == "TAG" else g["Key"] for g in group_by]
    rows: list[CeRow] = []
    for period in page.get("ResultsByTime", []):
        start, end = _ts(period["TimePeriod"]["Start"]), _ts(period["TimePeriod"]["End"])
        groups = period.get("Groups") or [{"Keys": [], "Metrics": period.get("Total", {})}]
        for g in groups:
            unb, cur = _amount(g["Metrics"], "UnblendedCost")
            amo, cur2 = _amount(g["Metrics"], "AmortizedCost")
            usage, unit = _amount(g["Metrics"], "UsageQuantity")
            rows.append(
                CeRow(
                    start,
                    end,
                    dict(zip(names, g.get("Keys", []), strict=False)),
                    unb or Decimal(0),
                    amo if amo is not None else (unb or Decimal(0)),
                    cur or cur2,
                    usage,
                    unit,
                    bool(period.get("Estimated")),
                )
            )
    return rows


def fetch_pages(client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of one query (NextPageToken until none)."""
    token: str | None = None
    while True:
        args = dict(request, NextPageToken=token) if token else request
        try:
            page = client.get_cost_and_usage(**args)
        except Exception as exc:
            raise CollectorError(f"Cost Explorer get_cost_and_usage failed: {exc}") from exc
        yield page
        token = page.get("NextPageToken")
        if not token:
            return


def query_id(granularity: str, group_by: list[dict[str, str]], metrics: list[str]) -> str:
    """Stable id of a query shape (not its window), so re-runs replace the same rows."""
    blob = json.dumps([granularity, group_by, metrics], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _record(r: CeRow, source_file: str, n: int, run_id: str) -> list[Any]:
    tag_keys = {k[4:]: v for k, v in r.keys.items() if k.startswith("TAG:")}
    tags = {k: v.split("$", 1)[1] if "$" in v else v for k, v in tag_keys.items()}
    tags = {k: v for k, v in tags.items() if v}
    ext = {"ce_group_keys": r.keys, "ce_estimated": r.estimated}
    return [
        source_file,
        n,
        r.start,
        r.end,
        r.start,
        r.unblended,
        r.amortized,
        r.currency,
        r.usage,
        r.usage_unit,
        r.keys.get("SERVICE"),
        r.keys.get("INSTANCE_TYPE"),
        r.keys.get("USAGE_TYPE"),
        r.keys.get("REGION"),
        r.keys.get("LINKED_ACCOUNT"),
        _PURCHASE.get(r.keys.get("PURCHASE_TYPE", "")),
        json.dumps(tags) if tags else None,
        json.dumps(ext),
        run_id,
    ]


def write_rows(store: Store, rows: list[CeRow], qid: str, run_id: str, source: str) -> int:
    """One transaction per period: delete that period's rows, insert the new ones."""
    by_period: dict[datetime, list[CeRow]] = {}
    for r in rows:
        by_period.setdefault(r.start, []).append(r)
    written = 0
    for start, group in sorted(by_period.items()):
        source_file = f"ce:{qid}:{start.isoformat()}"
        group.sort(key=lambda r: sorted(r.keys.items()))
        with store.write() as con:
            utc_session(con)
            con.execute(sqlfiles.load("queries", "billing_delete_file"), [source_file])
            con.executemany(
                sqlfiles.load("queries", "billing_insert_ce"),
                [_record(r, source_file, i + 1, run_id) for i, r in enumerate(group)],
            )
            set_watermark(con, "cost-explorer", source, max(r.end for r in group))
        written += len(group)
    return written


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    granularity: str = "DAILY",
    group_by: list[str] | None = None,
    source: str = "aws-cost-explorer",
) -> int:
    """Pull [since, until) at DAILY or HOURLY granularity, grouped, all pages. Rows written."""
    granularity = granularity.upper()
    if granularity not in ("DAILY", "HOURLY", "MONTHLY"):
        raise InputError(f"--granularity {granularity}: expected DAILY, HOURLY or MONTHLY")
    now = datetime.now(UTC)
    until = until or now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = since or (until - timedelta(days=14))
    fmt = "%Y-%m-%dT%H:%M:%SZ" if granularity == "HOURLY" else "%Y-%m-%d"
    gb = parse_group_by(group_by or ["SERVICE"])
    request: dict[str, Any] = {
        "TimePeriod": {"Start": since.strftime(fmt), "End": until.strftime(fmt)},
        "Granularity": granularity,
        "Metrics": METRICS,
    }
    if gb:
        request["GroupBy"] = gb
    client = client or make_boto3_client("ce")
    qid = query_id(granularity, gb, METRICS)
    with collector_run(store, "cost-explorer", source, since=since, until=until) as run:
        rows: list[CeRow] = []
        for page in fetch_pages(client, request):
            rows.extend(parse_page(page, gb))
        run.rows = write_rows(store, rows, qid, run.run_id, source)
        return run.rows
