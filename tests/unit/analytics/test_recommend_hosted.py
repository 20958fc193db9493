"""The hosted-API price table: built from LiteLLM's list as documented, and the baseline sums."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from unitcost.analytics.hosted import (
    baseline,
    convert_litellm,
    hosted_price,
    load_table,
    table_path,
)

from unitcost.errors import ConfigError

EXCERPT = Path(__file__).parents[2] / "fixtures" / "prices" / "litellm_excerpt_v1.110.2.json"


def test_conversion_keeps_chat_models_per_million_tokens() -> None:
    rows = convert_litellm(json.loads(EXCERPT.read_text()))
    # The embedding model and sample_spec are dropped; USD/token x 1e6.
    assert [r.model for r in rows] == [
        "bedrock/us-east-1/meta.llama3-8b-instruct-v1:0",
        "deepinfra/meta-llama/Meta-Llama-3.1-70B-Instruct",
        "gpt-4o-mini",
    ]
    mini = rows[2]
    assert (mini.provider, mini.usd_per_1m_input_tokens, mini.usd_per_1m_output_tokens) == (
        "openai",
        Decimal("0.15"),
        Decimal("0.6"),
    )


def test_the_shipped_table_holds_the_converted_rows() -> None:
    with table_path().open() as fh:
        shipped = {r["model"]: r for r in csv.DictReader(fh)}
    assert len(shipped) > 3000
    for r in convert_litellm(json.loads(EXCERPT.read_text())):
        row = shipped[r.model]
        assert row["provider"] == r.provider
        assert Decimal(row["usd_per_1m_input_tokens"]) == r.usd_per_1m_input_tokens
        assert Decimal(row["usd_per_1m_output_tokens"]) == r.usd_per_1m_output_tokens


def test_baseline_prices_the_scenarios_requests() -> None:
    # gpt-4o-mini: 0.15 in, 0.60 out per 1M. 512 in + 128 out per request:
    # 512 x 0.15e-6 + 128 x 0.60e-6 = 0.0000768 + 0.0000768 = 0.0001536 USD per request.
    # Per 1M output tokens: 0.0001536 / 128 x 1e6 = 1.20 USD. At 10 req/s: x 36000 = 5.5296 USD/h.
    out = baseline(hosted_price("GPT-4o-mini"), 512, 128, 10.0)
    assert out["usd_per_1m_output_tokens_at_this_shape"] == pytest.approx(1.20)
    assert out["usd_per_hour_at_peak"] == pytest.approx(5.5296)
    assert out["as_of"] == "litellm 1.110.2" and "MIT" in out["source"]
    assert baseline(hosted_price("gpt-4o-mini"), 512, 128, None)["usd_per_hour_at_peak"] is None


def test_an_unknown_hosted_model_names_the_closest() -> None:
    assert "gpt-4o-mini" in load_table()
    with pytest.raises(ConfigError) as exc:
        hosted_price("gpt-4o-minii", where="scenarios[0].hosted_models")
    msg = str(exc.value)
    assert msg.startswith("scenarios[0].hosted_models: 'gpt-4o-minii' is not in the hosted price")
    assert "closest: gpt-4o-mini" in msg
