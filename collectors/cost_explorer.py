"""AWS Cost Explorer (`get_cost_and_usage`) into billing_line_items, one source of truth per
billing account and period.

Fetch pages (NextPageToken until none), parse each page with a pure function into rows, and
write the whole pull in one transaction. Each period of the answer is stored under
`ce:<billing account>:<start>..<end>`, so the latest pull of a period replaces the earlier one
whatever its grouping (two `--group-by` pulls never add up). The billing account is the one the
credentials belong to (STS GetCallerIdentity: for an organization's management account, its
consolidated bill), or `--billing-account`.

Precedence (billing_ledger.decide): an export (CUR, FOCUS) of the same billing account and
billing period takes precedence: the Cost Explorer figures of that period are set aside, whether
the export was loaded before or after the pull, and the collector says so. Between pulls, a
later pull replaces an earlier one whose periods it covers (MONTHLY after DAILY); a pull that
covers only part of an earlier, longer period (DAILY inside a stored MONTHLY) is refused.

BilledCost is UnblendedCost (cash) and EffectiveCost is AmortizedCost (commitments spread over
the usage they cover), both in the currency Cost Explorer reports. Amounts are read by the one
money rule (unitcost/money.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from unitcost.collectors import billing_ledger as ledger
from unitcost.collectors.base import collector_run, set_watermark, utc_session
from unitcost.collectors.clients import make_boto3_client

from unitcost import money, sqlfiles
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


def _amount(metrics: dict[str, Any], name: str, where: str) -> tuple[Decimal | None, str | None]:
    m = metrics.get(name)
    if not m:
        return None, None
    value = money.parse_money(str(m.get("Amount", "")), where=f"{where}, metric {name}")
    return value, m.get("Unit")


def parse_page(page: dict[str, Any], group_by: list[dict[str, str]]) -> list[CeRow]:
    """Pure: one get_cost_and_usage response -> rows (money as Decimal from CE's text)."""
    names = [("TAG:" + g["Key"]) if g["Type"] == "TAG" else g["Key"] for g in group_by]
    rows: list[CeRow] = []
    for period in page.get("ResultsByTime", []):
        start, end = _ts(period["TimePeriod"]["Start"]), _ts(period["TimePeriod"]["End"])
        groups = period.get("Groups") or [{"Keys": [], "Metrics": period.get("Total", {})}]
        for g in groups:
            where = (
                f"Cost Explorer answer for {period['TimePeriod']['Start']}.."
                f"{period['TimePeriod']['End']}, group {g.get('Keys', [])}"
            )
            unb, cur = _amount(g["Metrics"], "UnblendedCost", where)
            amo, cur2 = _amount(g["Metrics"], "AmortizedCost", where)
            usage, unit = _amount(g["Metrics"], "UsageQuantity", where)
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


def _record(r: CeRow, source_file: str, n: int, run_id: str, account: str) -> list[Any]:
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
        account,
    ]


def period_file(account: str, start: datetime, end: datetime) -> str:
    """The source_file of one period's rows: the same for every pull of that period."""
    return f"ce:{account}:{start.isoformat()}..{end.isoformat()}"


def write_rows(
    store: Store,
    rows: list[CeRow],
    *,
    account: str,
    run_id: str,
    source: str,
    pulled_at: datetime,
    window: tuple[datetime, datetime],
    describe: str,
) -> tuple[int, list[ledger.Supersession]]:
    """One transaction for the whole pull: each period's rows replace what an earlier pull stored
    for that period; then what counts is resolved (exports first) and rolled up."""
    by_period: dict[tuple[datetime, datetime], list[CeRow]] = {}
    for r in rows:
        by_period.setdefault((r.start, r.end), []).append(r)
    delivery = f"ce-pull:{run_id}"
    written = 0
    with store.write() as con:
        utc_session(con)
        events: list[ledger.Supersession] = []
        old = con.execute(sqlfiles.load("queries", "billing_ce_unaccounted"), list(window))
        for (f,) in old.fetchall():
            events += ledger.supersede_file(
                con,
                str(f),
                delivery,
                "replaced by a newer Cost Explorer pull of the same period (the earlier one was "
                "stored before pulls carried their billing account)",
            )
        files = []
        for (start, end), group in sorted(by_period.items()):
            source_file = period_file(account, start, end)
            group.sort(key=lambda r: sorted(r.keys.items()))
            ledger.forget_file(con, source_file)
            con.executemany(
                sqlfiles.load("queries", "billing_insert_ce"),
                [_record(r, source_file, i + 1, run_id, account) for i, r in enumerate(group)],
            )
            written += ledger.add_lines(
                con,
                source_file,
                source_format="cost-explorer",
                delivery_id=delivery,
                delivered_at=pulled_at,
                fingerprint=describe,
                run_id=run_id,
            )
            files.append(source_file)
        events += ledger.finish(con, delivery, files)
        if rows:
            set_watermark(con, "cost-explorer", source, max(r.end for r in rows))
    return written, events


def caller_account(client: Any) -> str:
    """The AWS account the credentials belong to (its consolidated bill, for a management
    account): the billing account Cost Explorer figures are recorded under."""
    try:
        return str(client.get_caller_identity()["Account"])
    except Exception as exc:
        raise CollectorError(
            f"cannot tell which billing account Cost Explorer reports (STS GetCallerIdentity "
            f"failed: {exc}); pass --billing-account"
        ) from exc


def collect(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    client: Any = None,
    granularity: str = "DAILY",
    group_by: list[str] | None = None,
    source: str = "aws-cost-explorer",
    billing_account: str | None = None,
    sts_client: Any = None,
    on_note: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Pull [since, until) at DAILY, HOURLY or MONTHLY granularity, grouped, all pages. Rows
    written; `on_note` hears what was set aside (exports first) or replaced, and why."""
    granularity = granularity.upper()
    if granularity not in ("DAILY", "HOURLY", "MONTHLY"):
        raise InputError(f"--granularity {granularity}: expected DAILY, HOURLY or MONTHLY")
    now = now or datetime.now(UTC)
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
    account = billing_account or caller_account(sts_client or make_boto3_client("sts"))
    describe = json.dumps({"granularity": granularity, "group_by": gb}, sort_keys=True)
    with collector_run(store, "cost-explorer", source, since=since, until=until) as run:
        rows: list[CeRow] = []
        for page in fetch_pages(client, request):
            rows.extend(parse_page(page, gb))
        run.rows, events = write_rows(
            store,
            rows,
            account=account,
            run_id=run.run_id,
            source=source,
            pulled_at=now,
            window=(since, until),
            describe=describe,
        )
        for e in events:
            if on_note is not None:
                on_note(e.describe())
        return run.rows
