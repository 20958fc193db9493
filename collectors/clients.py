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


class PrometheusHttpError(Exception):
    """A non-200 answer of the Prometheus HTTP API: its status, message and Retry-After."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


class PrometheusApi:
    """The Prometheus HTTP API's range query (also Thanos, Mimir, VictoriaMetrics), raw.

    Ours rather than prometheus-api-client's custom_query_range, which rounds start and end
    to whole seconds, installs urllib3 retries under ours, reports a 400 and a 503 alike as a
    message string, and decodes every sample into Python objects (the bulk of a pull's time):
    this returns the body for one decode straight into arrays (collectors.prometheus).
    """

    def __init__(self, url: str, session: Any, timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.session = session
        self.timeout_s = timeout_s

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> bytes:
        """GET /api/v1/query_range; the JSON body. Times are unix seconds (ms precision)."""
        r = self.session.get(
            f"{self.url}/api/v1/query_range",
            params={
                "query": promql,
                "start": f"{start:.3f}",
                "end": f"{end:.3f}",
                "step": f"{step_s:g}",
            },
            timeout=self.timeout_s,
        )
        if r.status_code != 200:
            raise PrometheusHttpError(r.status_code, _api_error(r), _retry_after(r))
        body: bytes = r.content
        return body


def _api_error(r: Any) -> str:
    """The API's own error text ({"error": ...}), else the start of the body."""
    try:
        return str(r.json()["error"])
    except (ValueError, KeyError, TypeError):
        return (r.text or r.reason or "").strip()[:500]


def _retry_after(r: Any) -> float | None:
    value = r.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def make_prometheus_client(
    url: str, *, bearer_token_env: str | None = None, timeout_s: float = 120.0
) -> PrometheusApi:
    """A Prometheus API client on a requests session; retries are ours (collectors.prometheus)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "unitcost-collector"
    session.headers.update(bearer_headers(bearer_token_env))
    return PrometheusApi(url, session, timeout_s)


def make_http_session() -> Any:
    """A requests session for direct /metrics scrapes."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "unitcost-collector"
    session.headers["Accept"] = "text/plain;version=0.0.4"
    return session
