"""The one place each external client is made, so tests point them at local servers by URL.

Secrets never pass through here as values: a bearer token is read from the environment variable
the config names, at the moment the client is made, and is never logged or stored.
"""

from __future__ import annotations

import os
from typing import Any

from unitcost.config import AwsSettings
from unitcost.errors import ConfigError


def make_boto3_client(service: str, settings: AwsSettings | None = None) -> Any:
    """A boto3 client for `s3` or `ce`; `aws.endpoint_url` points it at moto or a proxy."""
    import boto3

    s = settings or AwsSettings()
    session = (
        boto3.session.Session(profile_name=s.profile) if s.profile else boto3.session.Session()
    )
    return session.client(  # type: ignore[call-overload]
        service, region_name=s.region, endpoint_url=s.endpoint_url
    )


def bearer_headers(token_env: str | None) -> dict[str, str]:
    """Authorization header from the named environment variable (never from the config)."""
    if not token_env:
        return {}
    token = os.environ.get(token_env)
    if not token:
        raise ConfigError(f"environment variable {token_env} (bearer_token_env) is not set")
    return {"Authorization": f"Bearer {token}"}


def make_prometheus_client(url: str, *, bearer_token_env: str | None = None) -> Any:
    """A prometheus-api-client connection; retries are ours (see prometheus.py), not urllib3's."""
    from prometheus_api_client import PrometheusConnect

    return PrometheusConnect(
        url=url, headers=bearer_headers(bearer_token_env) or None, disable_ssl=False, retry=None
    )


def make_http_session() -> Any:
    """A requests session for direct /metrics scrapes."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "unitcost-collector"
    session.headers["Accept"] = "text/plain;version=0.0.4"
    return session
