"""Coverage and data labels: what the figures of a period stand on."""

from __future__ import annotations

import datetime as dt

from unitcost.analytics.coverage import coverage_daily, data_labels
from unitcost.analytics.period import day_range

from tests.support.kpi_seed import D0, D1, seed
from unitcost.store import Store


def test_coverage_per_day(store: Store) -> None:
    seed(store)
    D2 = D1 + dt.timedelta(days=1)
    with store.read() as con:
        days = coverage_daily(con, day_range(D0, D2))
    by_day = {d["day"]: d for d in days}
    assert [d["day"] for d in days] == [D0, D1, D2]  # every day, the empty one included
    assert by_day[D2]["status"] == "missing"
    d1 = by_day[D1]
    # billed: chat, eu (unmapped spend is not a deployment); estimated: self; no cost: vmonly
    # and the telemetry no rule claims
    assert (d1["billed"], d1["estimated"], d1["cost_missing"]) == (2, 1, 2)
    assert d1["unmapped_spend"] is True and d1["status"] == "partial"
    assert by_day[D0]["status"] == "measured"


def test_labels_say_estimated_and_emulated(store: Store) -> None:
    seed(store)
    with store.read() as con:
        labels = data_labels(con, day_range(D1, D1))
    assert labels["estimated"] and labels["cost_missing"]
    assert not labels["demo"] and not labels["emulated"]
    assert any(n.startswith("Estimated:") for n in labels["notes"])
    with store.write() as con:
        con.execute(
            "UPDATE deployments SET labels = MAP {'emulated': 'true', 'demo': 'true'} "
            "WHERE deployment_id = 'self'"
        )
    with store.read() as con:
        labels = data_labels(con, day_range(D1, D1))
        before = data_labels(con, day_range(D0, D0))
    assert labels["demo"] and labels["emulated"]
    assert not before["emulated"]  # 'self' had no data on D0
