"""Cost per token: the formula, the run's share of its instance, and prices that cannot be used."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from unitcost.bench.cost import Share, cost_figures, resolve, run_cost, share_of, usd_per_1m

from unitcost import prices
from unitcost.config import PriceRow
from unitcost.errors import ConfigError
from unitcost.store import Store

PRICE = {
    "price_ref": "aws/us-east-1/g5.xlarge",
    "price_model": "on_demand",
    "on_demand_usd_per_hour": 1.006,
    "spot_usd_per_hour_low": 0.36,
    "spot_usd_per_hour_high": 0.5,
    "source": "t",
    "as_of": "2025",
    "verified": "true",
    "caveat": None,
}
WHOLE = Share(1.0, "the instance's one GPU", 1, 1, False)


@pytest.fixture
def store(store: Store) -> Store:
    """The shared migrated store, with the shipped price catalog loaded (as `db init` does)."""
    with store.write() as con:
        prices.load_shipped(con)
    return store


def test_cost_formula() -> None:
    # 2 USD/h at 1,000 tok/s: 2 / 3600 / 1000 * 1e6 = 0.5555... USD per 1M tokens
    assert usd_per_1m(2.0, 1000.0) == pytest.approx(0.5555555556)
    assert usd_per_1m(None, 1000.0) is None and usd_per_1m(2.0, 0.0) is None
    c = cost_figures(
        PRICE,
        WHOLE,
        {
            "output_tokens_per_s": 500.0,
            "total_tokens_per_s": 1500.0,
            "good_output_tokens_per_s": 250.0,
        },
    )
    assert c["usd_per_1m_output_tokens"] == pytest.approx(1.006 / 3600 / 500 * 1e6)
    assert c["usd_per_1m_total_tokens"] == pytest.approx(1.006 / 3600 / 1500 * 1e6)
    assert c["usd_per_1m_output_tokens_spot_low"] == pytest.approx(0.36 / 3600 / 500 * 1e6)
    assert c["usd_per_1m_output_tokens_at_slo"] == pytest.approx(1.006 / 3600 / 250 * 1e6)
    none = cost_figures(None, None, {"output_tokens_per_s": 500.0})
    assert none["usd_per_1m_output_tokens"] is None and none["price"] is None


def test_share_of_an_instance() -> None:
    one = share_of(8, 1, False, where="--price-ref x")
    assert one.share == 1 / 8 and one.basis == "1 of the instance's 8 GPUs"
    assert share_of(8, 8, False, where="w").share == 1.0
    assert share_of(8, 16, False, where="w").share == 2.0  # two instances' worth of GPUs
    assert share_of(8, 1, True, where="w").share == 1.0  # holds the whole instance
    assert share_of(8, 12, True, where="w").share == 2.0  # occupies two whole instances
    assert share_of(8, None, True, where="w").share == 1.0
    assert share_of(1, None, False, where="w").share == 1.0  # a 1-GPU instance needs no count
    with pytest.raises(ConfigError, match=r"--price-ref x: the instance has 8 GPUs .*--gpu-count"):
        share_of(8, None, False, where="--price-ref x")
    with pytest.raises(ConfigError, match="0 GPUs"):
        share_of(8, 0, False, where="w")


def test_one_gpu_on_a_p5_is_charged_an_eighth(store: Store) -> None:
    """The issue's case: 1 GPU priced with the 8-GPU p5.48xlarge is charged 1/8 of it."""
    tps = 98.32 / 3600 / 62.74e-6  # the throughput at which the whole instance gave USD 62.74
    summary = {"output_tokens_per_s": tps, "total_tokens_per_s": tps}
    with store.read() as con:
        shared, warnings = run_cost(con, "aws/us-east-1/p5.48xlarge", 1, False, summary)
        whole, _ = run_cost(con, "aws/us-east-1/p5.48xlarge", 1, True, summary)
    assert whole["usd_per_1m_output_tokens"] == pytest.approx(62.74)
    assert shared["usd_per_1m_output_tokens"] == pytest.approx(62.74 / 8)
    assert round(shared["usd_per_1m_output_tokens"], 2) == 7.84
    p = shared["price"]
    assert (p["share"], p["instance_gpu_count"], p["run_gpu_count"]) == (0.125, 8, 1)
    assert p["charged_usd_per_hour"] == pytest.approx(98.32 / 8)
    assert p["share_basis"] == "1 of the instance's 8 GPUs"
    assert shared["usd_per_1m_output_tokens_spot_low"] == pytest.approx(
        20.99 / 8 / 3600 / tps * 1e6
    )
    # the pre-cut caveat travels with every cost it produces
    assert warnings == [f"price aws/us-east-1/p5.48xlarge (on_demand): {prices.PRE_CUT_CAVEAT}"]


def test_unknown_ref_names_the_closest(store: Store) -> None:
    with store.read() as con, pytest.raises(ConfigError) as exc:
        resolve(
            con, "aws/us-east-1/p5.48xlrge", gpu_count=1, whole_instance=False, where="--price-ref"
        )
    msg = str(exc.value)
    assert msg.startswith("--price-ref 'aws/us-east-1/p5.48xlrge': no such instance")
    assert "closest: aws/us-east-1/p5.48xlarge" in msg


def test_vm_only_row_is_refused(store: Store) -> None:
    with store.read() as con, pytest.raises(ConfigError) as exc:
        resolve(
            con,
            "gcp/us-central1/a3-highgpu-1g",
            gpu_count=1,
            whole_instance=False,
            where="--price-ref",
        )
    msg = str(exc.value)
    assert "gcp/us-central1/a3-highgpu-1g (on_demand_vm_only" in msg
    assert "VM part only" in msg and "cannot give a GPU cost" in msg
    # a stored run that names it gets no cost, and says why
    with store.read() as con:
        c, w = run_cost(
            con, "gcp/us-central1/a3-highgpu-1g", 1, False, {"output_tokens_per_s": 9.0}
        )
    assert c["usd_per_1m_output_tokens"] is None and "cannot give a GPU cost" in w[0]


def test_vm_only_row_yields_to_a_full_price_of_the_same_instance(store: Store) -> None:
    row = PriceRow(
        provider="gcp",
        region="us-central1",
        instance_type="a3-highgpu-1g",
        gpu_model="H100",
        gpu_count=1,
        on_demand_usd_per_hour=Decimal("11.06"),
    )
    prices.apply_config(store, [row])
    with store.read() as con:
        price, share = resolve(
            con, "gcp/us-central1/a3-highgpu-1g", gpu_count=1, whole_instance=False, where="w"
        )
    assert (price["price_model"], price["origin"]) == ("on_demand", "config")
    assert price["on_demand_usd_per_hour"] == Decimal("11.06") and share.share == 1.0


def test_config_prices_apply_without_db_init(store: Store, tmp_path: Path) -> None:
    """[[prices]] take effect on the next command that reads prices; unchanged rows are not
    rewritten; removed rows go away."""
    row = PriceRow(
        provider="aws",
        region="us-east-1",
        instance_type="p5.48xlarge",
        gpu_model="H100",
        gpu_count=8,
        on_demand_usd_per_hour=Decimal("55.04"),
    )
    assert prices.apply_config(store, [row]) is True
    assert prices.apply_config(store, [row]) is False  # same rows: no write
    with store.read() as con:
        price, _ = resolve(
            con, "aws/us-east-1/p5.48xlarge", gpu_count=8, whole_instance=False, where="w"
        )
    assert (price["origin"], price["on_demand_usd_per_hour"]) == ("config", Decimal("55.04"))
    assert prices.apply_config(store, []) is True
    with store.read() as con:
        price, _ = resolve(
            con, "aws/us-east-1/p5.48xlarge", gpu_count=8, whole_instance=False, where="w"
        )
    assert price["origin"] == "shipped"
