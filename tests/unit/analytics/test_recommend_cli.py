"""`unitcost recommend` as a user runs it: the table says which models were considered and
why, flags demand from emulated telemetry, and says which cases change the choice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.analytics.recommenddata import MODEL, PRICES, add_fleet, add_traffic
from unitcost.store import Store

CONFIG = """[[scenarios]]
name = "chat"
input_tokens = 512
output_tokens = 101
slo_tpot_ms = 15
deployment = "chat"
"""


def _config(tmp_path: Path) -> None:
    text = CONFIG
    for gpu, itype, usd in PRICES:  # [[prices]] replace config prices on every run
        text += (
            f'[[prices]]\nprovider = "test"\nregion = "r1"\ninstance_type = "{itype}"\n'
            f'gpu_model = "{gpu}"\ngpu_count = 1\non_demand_usd_per_hour = {usd}\n'
            'source = "test"\nas_of = "2026-09"\n'
        )
    (tmp_path / "unitcost.toml").write_text(text)


def test_the_table_names_the_model_rule_emulated_demand_and_what_moves_the_choice(
    run_cli: Any, store: Store, tmp_path: Path
) -> None:
    add_fleet(store, with_prices=False)
    add_traffic(store, {"emulated": "true"})
    _config(tmp_path)
    r = run_cli("recommend", "--no-save")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())  # rich wraps long lines
    # Peak 7.75 req/s (hour 23): 2 x A = 8 req/s for 4.00 USD/h (3 B = 4.35, 1 A + 2 B = 4.90).
    assert "chat (interactive): 4.00 USD/hour" in text
    assert "demand: peak 7.75 req/s, the busiest 5 minutes of the deployment's traffic" in text
    assert "(EMULATED telemetry: simulated, not measured)" in text
    assert (
        "models considered: no allowed_models or quality_floor: only the model deployment "
        f"'chat' serves today ({MODEL}), so quantization, GPU and price may change but not "
        "the model; set allowed_models or quality_floor to consider others"
    ) in text
    # A at +20% (2.40): keeping 2 A costs 4.80, 3 B 4.35: the choice changes.
    assert "if chosen candidates' prices +20%: the choice changes to 3 on demand of " in text
    assert "(4.35 USD/h; today's fleet: 4.80 USD/h)" in text
    assert (
        "the choice holds if: chosen candidates' prices -20%; spot at the low end of its price "
        "range; no spot interruptions; spot interruption rate doubled (0.2)"
    ) in text
    assert "warning: the demand of deployment 'chat' comes from EMULATED telemetry" in text
    # Text from the data is printed as is, never read as rich markup.
    assert "or price_ref in [[deployments]])" in text
    assert "rejected 1: 1 costs more" in text
