"""spec.plan: every check that needs no request, with errors naming the flag or suite key."""

from __future__ import annotations

from pathlib import Path

import pytest
from unitcost.bench import spec
from unitcost.bench.spec import RunInput

from unitcost import prices
from unitcost.config import Endpoint, Settings
from unitcost.errors import ConfigError, UnitcostError
from unitcost.store import Store

URL = "http://127.0.0.1:9"  # never contacted: plan() sends nothing


@pytest.fixture
def store(store: Store) -> Store:
    with store.write() as con:
        prices.load_shipped(con)
    return store


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"price_ref": "aws/us-east-1/p5.48xlrge"}, "closest: aws/us-east-1/p5.48xlarge"),
        ({"price_ref": "gcp/us-central1/a3-highgpu-1g"}, "VM part only"),
        ({"price_ref": "aws/us-east-1/p5.48xlarge", "gpu_count": 0}, "0 GPUs"),
        ({"extra_body": '{"stream": false}'}, "--extra-body: 'stream' is set by the harness"),
        ({"extra_body": '{"max_tokens": 9}'}, "use --output-tokens"),
        ({"extra_body": "[1]"}, "must be a JSON object"),
        ({"extra_body": "{nope"}, "not JSON"),
        ({"headers": ("no-colon",)}, "--header 'no-colon': expected 'Name: value'"),
        ({"stream": False, "slo": "ttft:100"}, "only e2el can be an SLO term"),
        ({"percentiles": "50,101"}, "not between 0 and 100"),
        ({"percentiles": "50,x"}, "'x' is not a number"),
        ({"workers": 2, "concurrency": 1}, "--workers 2 needs --concurrency >= 2"),
        ({"workers": 2, "concurrency": 4, "until_steady": True}, "--until-steady needs"),
        ({"endpoint": "ftp://h:1"}, "unsupported URL scheme 'ftp'"),
        ({"endpoint": "localhost:8080"}, "neither a URL (http://host:port) nor a configured"),
        ({"requests": None}, "say when to stop"),
        ({"slo_attainment": 1.5}, "--slo-attainment must be in (0, 1]"),
        ({"dataset": Path("/nonexistent.jsonl")}, "--dataset /nonexistent.jsonl: no such file"),
        ({"api_key_env": "UNITCOST_TEST_UNSET_KEY"}, "UNITCOST_TEST_UNSET_KEY"),
    ],
)
def test_plan_errors_name_the_flag(store: Store, kw: dict[str, object], needle: str) -> None:
    inp = RunInput(**{"endpoint": URL, "model": "m", "requests": 4, **kw})  # type: ignore[arg-type]
    with pytest.raises(UnitcostError) as exc:
        spec.plan(inp, settings=Settings(), store=store)
    assert needle in str(exc.value)


def test_suite_keys_name_themselves(store: Store) -> None:
    inp = RunInput(
        endpoint=URL,
        model="m",
        requests=4,
        price_ref="aws/x/y",
        names={"price_ref": "s.toml: targets[0].price_ref"},
    )
    with pytest.raises(ConfigError, match=r"^s\.toml: targets\[0\]\.price_ref 'aws/x/y'"):
        spec.plan(inp, settings=Settings(), store=store)


def test_configured_endpoint_defaults_are_not_claims(store: Store) -> None:
    ep = Endpoint(name="e", base_url=URL, model="m", price_ref="aws/us-east-1/g5.xlarge")
    p = spec.plan(
        RunInput(endpoint="e", requests=4), settings=Settings(endpoints=[ep]), store=store
    )
    assert p.target["engine"] is None and p.target["hardware"] is None  # not "unknown"
    assert p.target["gpu_count"] == 1 and p.target["_gpu_count_default"]  # the server may say
    assert p.price is not None and p.price["price_ref"] == "aws/us-east-1/g5.xlarge"
    assert p.percentiles == (50, 90, 95, 99) and p.profile.concurrency == 1


def test_missing_store_comes_first(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="unitcost db init"):
        spec.plan(
            RunInput(endpoint="ftp://x", requests=1),
            settings=Settings(),
            store=Store(tmp_path / "none.duckdb"),
        )
