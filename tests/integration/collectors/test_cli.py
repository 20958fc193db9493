"""The `unitcost collect` commands run as a user runs them: a subprocess on a real DuckDB file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.integration.collectors.conftest import FIXTURES, MetricsServer

pytestmark = pytest.mark.integration
UNITCOST = [sys.executable, "-c", "from unitcost.cli import main; main()"]
SAMPLE = FIXTURES / "billing" / "focus" / "focus_1.0_sample_1000_multiprovider.csv"


def run(tmp: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNITCOST_")}
    env["COLUMNS"] = "200"
    env.update(extra_env)
    return subprocess.run(
        [*UNITCOST, "--db", str(tmp / "u.duckdb"), *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(tmp: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(tmp / "u.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_billing_command_and_bad_file(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "init").returncode == 0
    ok = run(tmp_path, "collect", "billing", "--source", str(SAMPLE))
    assert ok.returncode == 0, ok.stderr
    assert "1,000" in ok.stdout and "collect summary" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("BilledCost,EffectiveCost,ChargePeriodStart\n1,1,2025-01-01\n1,x,2025-01-01\n")
    res = run(tmp_path, "collect", "billing", "--source", str(bad))
    assert res.returncode == 1
    assert f"Error: {bad}, row 2, column 'EffectiveCost'" in " ".join(res.stderr.split())
    assert rows(tmp_path, "SELECT count(*) FROM billing_line_items") == [(1000,)]


def test_gpu_command_without_gpu_exits_cleanly(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "init").returncode == 0
    res = run(tmp_path, "collect", "gpu", "--count", "1")
    assert res.returncode == 0, res.stderr
    if shutil.which("nvidia-smi") is None and not Path("/dev/nvidia0").exists():
        assert "no NVIDIA GPU found" in " ".join(res.stderr.split())
        assert "no GPU" in res.stdout
        assert rows(tmp_path, "SELECT count(*) FROM gpu_samples") == [(0,)]
    else:
        assert rows(tmp_path, "SELECT count(*) FROM gpu_samples")[0][0] >= 1


def test_collect_all_from_config(tmp_path: Path, metrics_server: MetricsServer) -> None:
    (tmp_path / "unitcost.toml").write_text(
        f"""
[[billing]]
name = "focus"
location = "{SAMPLE}"

[[endpoints]]
name = "vllm"
base_url = "http://127.0.0.1:1"
model = "facebook/opt-125m"
metrics_url = "{metrics_server.url}/vllm"

[[deployments]]
id = "opt"
model = "facebook/opt-125m"
[deployments.match]
metric_labels = {{ model = "facebook/opt-125m" }}
tags = {{ application = "BrightLensMatrix" }}
"""
    )
    assert run(tmp_path, "db", "init").returncode == 0
    res = run(tmp_path, "collect", "all")
    assert res.returncode == 0, res.stderr
    assert rows(tmp_path, "SELECT count(*) FROM billing_line_items") == [(1000,)]
    assert rows(tmp_path, "SELECT count(DISTINCT metric) > 10 FROM metric_samples") == [(True,)]
    spend = rows(
        tmp_path,
        "SELECT deployment_id, count(*) FROM billing_attributed_lines GROUP BY 1 ORDER BY 1",
    )
    assert [d for d, _ in spend] == ["opt", "unmapped"] and sum(n for _, n in spend) == 1000
    # twice: identical billing tables (the file is unchanged and skipped)
    before = rows(tmp_path, "SELECT * FROM billing_line_items ORDER BY source_row")
    assert run(tmp_path, "collect", "all").returncode == 0
    assert rows(tmp_path, "SELECT * FROM billing_line_items ORDER BY source_row") == before


def test_cost_explorer_and_s3_commands_against_moto(tmp_path: Path, moto_url: str) -> None:
    from unitcost.collectors.clients import make_boto3_client

    from tests.integration.collectors.test_aws_moto import PAGES, seed_ce
    from unitcost.config import AwsSettings

    seed_ce(moto_url, PAGES)
    s3 = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    s3.create_bucket(Bucket="bills")
    s3.upload_file(str(SAMPLE), "bills", "focus/2024-09.csv")
    assert run(tmp_path, "db", "init").returncode == 0
    env = {"UNITCOST_AWS__ENDPOINT_URL": moto_url}
    ce = run(
        tmp_path,
        "collect",
        "cost-explorer",
        "--since",
        "2025-03-01",
        "--until",
        "2025-03-04",
        "--group-by",
        "SERVICE",
        **env,
    )
    assert ce.returncode == 0, ce.stderr
    bills = run(tmp_path, "collect", "billing", "--source", "s3://bills/focus/", **env)
    assert bills.returncode == 0, bills.stderr
    got = rows(
        tmp_path, "SELECT source_format, count(*) FROM billing_line_items GROUP BY 1 ORDER BY 1"
    )
    assert got == [("cost-explorer", 4), ("focus-1.0", 1000)]


def test_billing_and_cost_explorer_say_what_they_set_aside(tmp_path: Path, moto_url: str) -> None:
    """A restated CUR assembly in S3, then a Cost Explorer pull of the same account and days:
    both commands print what they set aside and why; the store holds the bill once."""
    from datetime import timedelta

    import requests
    from unitcost.collectors.clients import make_boto3_client

    from tests.integration.collectors.test_aws_moto import _ce_page, seed_ce
    from tests.unit.collectors import billing_trees as bt
    from unitcost.config import AwsSettings

    # moto keeps its state per process: start from none (queued Cost Explorer answers included)
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    s3 = make_boto3_client("s3", AwsSettings(endpoint_url=moto_url))
    s3.create_bucket(Bucket="bills")
    env = {"UNITCOST_AWS__ENDPOINT_URL": moto_url}
    assert run(tmp_path, "db", "init").returncode == 0
    kw = {"prefix": "cur", "report": "r", "period": "20240901-20241001"}
    for i, cost in enumerate(("1.00", "1.25")):
        tree = bt.Tree()
        data, total = bt.cur(bt.hours(1, 24), cost)
        bt.cur_assembly(
            tree, assembly=f"asm{i}", parts=[data], when=bt.T0 + timedelta(days=i), **kw
        )
        for key, (body, _) in tree.files.items():
            s3.put_object(Bucket="bills", Key=key, Body=body)
        res = run(tmp_path, "collect", "billing", "--source", "s3://bills/cur/", **env)
        assert res.returncode == 0, res.stderr
    err = " ".join(res.stderr.split())
    assert "set aside s3://bills/cur/r/20240901-20241001/asm0/r-1.csv.gz [AWS 123456789012" in err
    assert "not part of the current assembly asm1" in err
    seed_ce(moto_url, [_ce_page("2024-09-01", [("Amazon EC2", "99.00", "99.00")], None)])
    ce = run(
        tmp_path,
        "collect",
        "cost-explorer",
        "--since",
        "2024-09-01",
        "--until",
        "2024-09-02",
        **env,
    )
    assert ce.returncode == 0, ce.stderr
    assert "exports take precedence over Cost Explorer" in " ".join(ce.stderr.split())
    assert rows(tmp_path, "SELECT sum(billed_cost) FROM billing_cost_by_deployment_daily") == [
        (total,)
    ]
