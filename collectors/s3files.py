"""Billing exports in S3: boto3 lists and downloads, DuckDB reads the local copy.

DuckDB's httpfs extension cannot be fetched offline, and boto3 already knows the user's
credentials chain. Every object under the prefix is listed (billing files and the manifests that
say which of them are current, see billing_deliveries); each delivery's changed objects are
downloaded to a temporary folder, loaded in one transaction under their s3:// URIs (the lineage),
and deleted. An object whose ETag and size are unchanged since it was read is not downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from unitcost.collectors.billing import Source
from unitcost.collectors.billing_deliveries import Entry, is_billing_file, is_manifest
from unitcost.collectors.clients import make_boto3_client

from unitcost.errors import CollectorError, InputError


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix)."""
    if not uri.startswith("s3://"):
        raise InputError(f"{uri}: not an s3:// URI")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise InputError(f"{uri}: no bucket name")
    return bucket, prefix


def list_entries(client: Any, uri: str) -> list[Entry]:
    """Every billing file and manifest under the prefix, all pages, sorted by key."""
    bucket, prefix = split_uri(uri)
    out: list[Entry] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                key = str(o["Key"])
                name = PurePosixPath(key).name
                if not (is_billing_file(name) or is_manifest(name)):
                    continue
                modified = o.get("LastModified") or datetime.fromtimestamp(0, UTC)
                out.append(
                    Entry(
                        f"s3://{bucket}/{key}",
                        key,
                        int(o.get("Size", 0)),
                        modified.astimezone(UTC),
                        f"etag={o.get('ETag', '')};size={o.get('Size', '')}",
                    )
                )
    except Exception as exc:  # botocore raises many types; all mean the same to the user
        raise CollectorError(f"{uri}: cannot list objects: {exc}") from exc
    return sorted(out, key=lambda e: e.rel)


def source(
    uri: str, client: Any = None
) -> tuple[list[Entry], Callable[[Entry], Any], Callable[[list[Entry], str], list[Source]]]:
    """(entries, manifest reader, downloader) for billing.collect."""
    client = client or make_boto3_client("s3")
    bucket, _ = split_uri(uri)

    def read_json(entry: Entry) -> Any:
        try:
            body = client.get_object(Bucket=bucket, Key=entry.rel)["Body"].read()
        except Exception as exc:
            raise CollectorError(f"{entry.uri}: download failed: {exc}") from exc
        return json.loads(body.decode("utf-8-sig"))

    def fetch(entries: list[Entry], tmp: str) -> list[Source]:
        out = []
        for i, e in enumerate(entries):
            key = e.rel.lower()
            suffix = (
                ".parquet"
                if key.endswith(".parquet")
                else (".csv.gz" if key.endswith(".gz") else ".csv")
            )
            local = Path(tmp) / f"object{i}{suffix}"
            try:
                client.download_file(bucket, e.rel, str(local))
            except Exception as exc:
                raise CollectorError(f"{e.uri}: download failed: {exc}") from exc
            out.append(Source(str(local), e.uri, e.fingerprint))
        return out

    return list_entries(client, uri), read_json, fetch
