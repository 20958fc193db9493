"""Settings precedence, validation messages, secrets and the docs-completeness rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitcost.config import documented_keys, load_settings, redact
from unitcost.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "unitcost.toml"
    path.write_text(text)
    return path


def test_defaults_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(environ={})
    assert loaded.config_file is None
    assert loaded.settings.db == Path("unitcost.duckdb")
    assert loaded.settings.aws.region == "us-east-1"


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path, 'db = "from-file.duckdb"\nlock_timeout_s = 5\n[aws]\nregion = "eu-west-1"\n'
    )
    file_only = load_settings(cfg, environ={}).settings
    assert file_only.db == tmp_path / "from-file.duckdb"  # relative to the config file
    assert file_only.aws.region == "eu-west-1"
    env = {"UNITCOST_DB": "/env.duckdb", "UNITCOST_AWS__REGION": "ap-south-1"}
    with_env = load_settings(cfg, environ=env)
    assert with_env.settings.db == Path("/env.duckdb")
    assert with_env.settings.aws.region == "ap-south-1"
    assert with_env.settings.lock_timeout_s == 5
    assert with_env.origins["aws.region"] == "environment variable UNITCOST_AWS__REGION"
    with_flag = load_settings(cfg, environ=env, flags={"db": Path("/flag.duckdb")})
    assert with_flag.settings.db == Path("/flag.duckdb")


def test_bad_value_names_file_and_key(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path,
        '[[endpoints]]\nname = "a"\nbase_url = "http://x/v1"\nmodel = "m"\ngpu_count = "two"\n',
    )
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg, environ={})
    assert f"{cfg}: endpoints[0].gpu_count:" in str(exc.value)


def test_unknown_key_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "[aws]\nregoin = 'us-west-2'\n")
    with pytest.raises(ConfigError, match=r"aws\.regoin: unknown setting"):
        load_settings(cfg, environ={})


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable UNITCOST_LOCK_TIMEOUT_S"):
        load_settings(None, environ={"UNITCOST_LOCK_TIMEOUT_S": "soon"})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "db = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, environ={})


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config .*no such file"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_api_key_itself_is_refused_only_its_variable_name(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path,
        '[[endpoints]]\nname = "a"\nbase_url = "http://x/v1"\nmodel = "m"\n'
        'api_key_env = "sk-live-abc123!"\n',
    )
    with pytest.raises(ConfigError, match=r"endpoints\[0\]\.api_key_env: .*NAME of an environment"):
        load_settings(cfg, environ={})


def test_duplicate_endpoint_names(tmp_path: Path) -> None:
    ep = '[[endpoints]]\nname = "a"\nbase_url = "http://x/v1"\nmodel = "m"\n'
    cfg = _write(tmp_path, ep + ep)
    with pytest.raises(ConfigError, match="duplicate name 'a'"):
        load_settings(cfg, environ={})


def test_redact_masks_secrets_and_url_passwords() -> None:
    data = {
        "api_key_env": "OPENAI_API_KEY",
        "api_key": "sk-123",
        "url": "http://user:hunter2@prom:9090/x",
        "nested": [{"token": "t"}],
    }
    out = redact(data)
    assert out["api_key_env"] == "OPENAI_API_KEY"
    assert out["api_key"] == "***"
    assert "hunter2" not in out["url"] and "user:***@prom:9090" in out["url"]
    assert out["nested"][0]["token"] == "***"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [k for k in documented_keys() if f"`{k}`" not in readme]
    assert not missing, f"README configuration reference lacks: {missing}"


@pytest.mark.parametrize("text", ["$55.04", "55,04", "1_000", "1,000.00"])
def test_config_prices_follow_the_money_rule(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "unitcost.toml"
    cfg.write_text(
        '[[prices]]\nprovider = "aws"\nregion = "r"\ninstance_type = "x"\n'
        f'gpu_model = "H100"\ngpu_count = 8\non_demand_usd_per_hour = "{text}"\n'
    )
    with pytest.raises(ConfigError, match=r"prices\[0\]\.on_demand_usd_per_hour"):
        load_settings(cfg, environ={})


def test_config_price_numbers_keep_their_decimal_text(tmp_path: Path) -> None:
    cfg = tmp_path / "unitcost.toml"
    cfg.write_text(
        '[[prices]]\nprovider = "aws"\nregion = "r"\ninstance_type = "x"\n'
        'gpu_model = "H100"\ngpu_count = 8\non_demand_usd_per_hour = 55.04\n'
        'spot_usd_per_hour_low = "20.5"\n'
    )
    row = load_settings(cfg, environ={}).settings.prices[0]
    assert str(row.on_demand_usd_per_hour) == "55.04" and str(row.spot_usd_per_hour_low) == "20.5"
