"""`unitcost recommend`'s answers as tables, for /tiers, the Overview, /cost and the review.

Only reshaping: every figure is the recommend JSON's own (analytics.recommend, definitions in
its `definitions`); nothing is re-derived here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

SUMMARY = [
    "scenario",
    "kind",
    "status",
    "fleet",
    "usd_per_hour",
    "usd_per_1m_output_tokens",
    "current_usd_per_hour",
    "savings_usd_per_month",
    "run_at",
    "reason",
]


def candidate_label(c: Mapping[str, Any]) -> str:
    """'llama-3.1-8b int4 vllm 1x T4 @ aws/us-east-1/g4dn.12xlarge (emulated)'."""
    label = (
        f"{c.get('model')} {c.get('quantization')} {c.get('engine')} "
        f"{c.get('gpu_count')}x {c.get('hardware')}"
    )
    if c.get("price_ref"):
        label += f" @ {c['price_ref']}"
    if c.get("basis") == "emulated":
        label += " (emulated)"
    return label


def fleet_label(choice: Sequence[Mapping[str, Any]]) -> str:
    """'2 on-demand + 1 spot x <candidate>; ...' for a scenario's choice."""
    parts = []
    for pick in choice:
        n = []
        if pick.get("replicas_on_demand"):
            n.append(f"{pick['replicas_on_demand']} on-demand")
        if pick.get("replicas_spot"):
            n.append(f"{pick['replicas_spot']} spot")
        parts.append(f"{' + '.join(n) or '0'} x {candidate_label(pick['candidate'])}")
    return "; ".join(parts)


def summary_frame(latest: Mapping[str, Any]) -> pd.DataFrame:
    """One row per scenario: the chosen fleet, its cost, today's cost and the savings."""
    rows = []
    for s in latest.get("scenarios", []):
        rows.append(
            {
                "scenario": s["scenario"],
                "kind": s.get("kind"),
                "status": s["status"],
                "fleet": fleet_label(s.get("choice", [])),
                "usd_per_hour": s.get("usd_per_hour"),
                "usd_per_1m_output_tokens": s.get("usd_per_1m_output_tokens"),
                "current_usd_per_hour": s.get("current_usd_per_hour"),
                "savings_usd_per_month": s.get("savings_usd_per_month"),
                "run_at": s.get("run_at"),
                "reason": s.get("reason"),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY)


def top_savings(latest: Mapping[str, Any], n: int = 3) -> pd.DataFrame:
    """The scenarios with the largest positive monthly savings, largest first."""
    df = summary_frame(latest)
    df = df[pd.to_numeric(df["savings_usd_per_month"], errors="coerce") > 0]
    return df.sort_values("savings_usd_per_month", ascending=False).head(n)


def choice_frame(s: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for pick in s.get("choice", []):
        c = pick["candidate"]
        rows.append(
            {
                "candidate": candidate_label(c),
                "basis": c.get("basis"),
                "replicas_on_demand": pick.get("replicas_on_demand"),
                "replicas_spot": pick.get("replicas_spot"),
                "capacity_rps_per_replica": pick.get("capacity_rps_per_replica"),
                "output_tokens_per_s_per_replica": pick.get("output_tokens_per_s_per_replica"),
                "usd_per_hour": pick.get("usd_per_hour"),
                "capacity_note": c.get("capacity_note"),
                "price_note": c.get("price_note"),
            }
        )
    return pd.DataFrame(rows)


def rejected_frame(s: Mapping[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "candidate": candidate_label(r["candidate"]),
            "basis": r["candidate"].get("basis"),
            "why": r["reason"].split(":")[0],
            "reason": r["reason"],
        }
        for r in s.get("rejected", [])
    ]
    return pd.DataFrame(rows, columns=["candidate", "basis", "why", "reason"])


def sensitivity_frame(s: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for case in s.get("sensitivity", []):
        choice = case.get("choice")
        rows.append(
            {
                "case": case["case"],
                "status": case["status"],
                "usd_per_hour": case.get("usd_per_hour"),
                "choice_changed": case.get("choice_changed"),
                "new_choice": "; ".join(
                    f"{p.get('on_demand', 0)} on-demand + {p.get('spot', 0)} spot x "
                    f"{p.get('candidate')}"
                    for p in choice
                )
                if choice
                else "",
                "reason": case.get("reason"),
            }
        )
    return pd.DataFrame(rows)


def autoscaling_frame(s: Mapping[str, Any]) -> pd.DataFrame:
    auto = s.get("autoscaling") or {}
    return pd.DataFrame(
        [
            {
                "hour_utc": h["hour"],
                "peak_rps": h.get("rps"),
                "replicas": h.get("replicas"),
                "usd_per_hour": h.get("usd_per_hour"),
            }
            for h in auto.get("hours", [])
        ],
        columns=["hour_utc", "peak_rps", "replicas", "usd_per_hour"],
    )


def hosted_frame(latest: Mapping[str, Any]) -> pd.DataFrame:
    """Each scenario's hosted-API baseline beside the recommended fleet's cost per token."""
    rows = []
    for s in latest.get("scenarios", []):
        for h in s.get("hosted_baseline", []):
            rows.append(
                {
                    "scenario": s["scenario"],
                    "hosted_model": h["model"],
                    "provider": h.get("provider"),
                    "usd_per_1m_input_tokens": h.get("usd_per_1m_input_tokens"),
                    "usd_per_1m_output_tokens": h.get("usd_per_1m_output_tokens"),
                    "usd_per_1m_output_tokens_at_this_shape": h.get(
                        "usd_per_1m_output_tokens_at_this_shape"
                    ),
                    "fleet_usd_per_1m_output_tokens": s.get("usd_per_1m_output_tokens"),
                    "source": h.get("source"),
                    "as_of": h.get("as_of"),
                }
            )
    return pd.DataFrame(rows)
