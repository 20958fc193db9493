"""/benchmarks axes and fronts: worked out by hand from the seeded runs."""

from __future__ import annotations

import pandas as pd
import pytest
from unitcost.dashboard import charts, data
from unitcost.dashboard.pareto import front_mask, top_configs, with_axes

from tests.unit.dashboard.seed import seed_all
from unitcost.store import Store


@pytest.fixture
def runs(store: Store) -> pd.DataFrame:
    seed_all(store)
    with store.read() as con:
        return data.bench_runs(con)


def test_axes_from_the_seeded_runs(runs: pd.DataFrame) -> None:
    df = with_axes(runs, None).set_index("run_id")
    # interactivity = 1000 / TPOT p50
    assert df.loc["m8-c8", "interactivity"] == pytest.approx(80.0)
    assert df.loc["m8-c8", "output_tokens_per_s_per_gpu"] == pytest.approx(640.0)
    # catalog: p5.48xlarge on demand 98.32 USD/h for 8 GPUs -> 12.29 USD per GPU-hour (shipped)
    rate = df.loc["m8-c8", "usd_per_gpu_hour"]
    assert rate == pytest.approx(98.32 / 8)
    assert df.loc["m8-c8", "usd_per_1m_output_tokens"] == pytest.approx(rate / 3600 / 640 * 1e6)
    assert df.loc["m8-c8", "usd_per_1m_input_tokens"] == pytest.approx(rate / 3600 / 320 * 1e6)
    assert df.loc["m8-c8", "usd_per_1m_total_tokens"] == pytest.approx(rate / 3600 / 960 * 1e6)
    # emulated runs have no price_ref: no catalog cost, said as such
    assert df.loc["e8-c1", "price_basis"] == "no price"
    assert pd.isna(df.loc["e8-c1", "usd_per_1m_output_tokens"])
    assert df.loc["e8-c1", "config"].endswith("(emulated)")
    own = with_axes(runs, 2.0).set_index("run_id")
    assert own.loc["e8-c8", "usd_per_1m_output_tokens"] == pytest.approx(2.0 / 3600 / 240 * 1e6)
    assert set(own["price_basis"]) == {"own rate"}


def test_energy_per_token_over_the_runs_scrapes(runs: pd.DataFrame) -> None:
    df = runs.set_index("run_id")
    # GPU0 500 J, GPU1 100 J then a reset to 50 J (50 J more); 1500 engine tokens
    assert df.loc["m8-c8", "energy_j"] == pytest.approx(650.0)
    assert df.loc["m8-c8", "engine_output_tokens"] == pytest.approx(1500.0)
    assert df.loc["m8-c8", "joules_per_output_token"] == pytest.approx(650 / 1500)
    assert df["joules_per_output_token"].notna().sum() == 1


def test_fronts_per_configuration(runs: pd.DataFrame) -> None:
    df = with_axes(runs, None)
    mask = front_mask(df, "interactivity", "output_tokens_per_s_per_gpu", y_higher_is_better=True)
    on = set(df.loc[mask, "run_id"])
    # H100: c1 (100 tok/s/user, 100) and c8 (80, 640) are on the front; c16 (40, 600) is beaten
    # by c8 on both axes. Emulated L4 runs form their own front: both on it.
    assert on == {"m8-c1", "m8-c8", "e8-c1", "e8-c8"}
    cost = front_mask(df, "interactivity", "usd_per_1m_output_tokens", y_higher_is_better=False)
    assert set(df.loc[cost, "run_id"]) == {"m8-c1", "m8-c8"}  # emulated ones have no price


def test_pareto_chart_draws_emulated_apart(runs: pd.DataFrame) -> None:
    fig = charts.fig_pareto(with_axes(runs, None), "output_tokens_per_s_per_gpu")
    lines = [t for t in fig.data if t.mode == "lines"]
    assert {t.name: t.line.dash for t in lines} == {
        "llama-3.1-8b · fp16 · 1x H100 · vllm": "solid",
        "llama-3.1-8b · int4 · 1x L4 · vllm (emulated)": "dash",
    }
    h100 = next(t for t in lines if "H100" in t.name)
    assert list(h100.x) == [80.0, 100.0] and list(h100.y) == [640.0, 100.0]
    empty = charts.fig_pareto(with_axes(runs, None), "joules_per_output_token")
    assert len([t for t in empty.data if t.mode == "lines"]) == 1  # only m8-c8 has energy


def test_the_configs_shown_first_are_the_fastest_per_gpu() -> None:
    axes = pd.DataFrame(
        {
            "config": ["a", "a", "b", "c", "d", "e"],
            "output_tokens_per_s_per_gpu": [10.0, 90.0, 50.0, None, 70.0, 20.0],
        }
    )
    # best runs: a 90, d 70, b 50, e 20, c none
    assert top_configs(axes, 3) == ["a", "b", "d"]
    assert top_configs(axes, 5) == ["a", "b", "c", "d", "e"]
    assert top_configs(axes, 9) == ["a", "b", "c", "d", "e"]
