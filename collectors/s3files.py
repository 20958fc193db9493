"""Billing exports in S3: boto3 lists and downloads, DuckDB reads the local copy.

DuckDB's httpfs extension cannot be fetched offline, and boto3 already knows the user's
credentials chain. Each object is downloaded to a temporary file, loaded in its own transaction
under its s3:// URI (the lineage), and deleted. An object whose ETag and size are unchanged since
its last load is skipped without downloading.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unitcost.collectors import billing
from unitcost.collectors.clients import make_boto3_client

from unitcost import sqlfiles
from unitcost.errors import CollectorError, InputError
from unitcost.store import Store


def split_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix)."""
    if not uri.startswith("s3://"):
        raise InputError(f"{uri}: not an s3:// URI")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise InputError(f"{uri}: no bucket name")
    return bucket, prefix


def list_objects(client: Any, uri: str) -> list[dict[str, Any]]:
    """Every billing file under the prefix, all pages, sorted by key."""
    bucket, prefix = split_uri(uri)
    out: list[dict[str, Any]] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend(o for o in page.get("Contents", []) if billing.is_billing_file(o["Key"]))
    except Exception as exc:  # botocore raises many types; all mean the same to the user
        raise CollectorError(f"{uri}: cannot list objects: {exc}") from exc
    return sorted(out, key=lambda o: str(o["Key"]))


def iter_loads(
    store: Store, uri: str, *, fmt: str, client: Any, run_id: str, force: bool
) -> Iterator[billing.FileLoad]:
    client = client or make_boto3_client("s3")
    bucket, _ = split_uri(uri)
    for obj in list_objects(client, uri):
        key = str(obj["Key"])
        source_file = f"s3://{bucket}/{key}"
        fingerprint = f"etag={obj.get('ETag', '')};size={obj.get('Size', '')}"
        if not force:
            with store.read() as con:
                row = con.execute(
                    sqlfiles.load("queries", "billing_file_get"), [source_file]
                ).fetchone()
            if row and row[0] == fingerprint:
                yield billing.FileLoad(source_file, "unchanged", 0, True, [])
                continue
        suffix = (
            ".parquet"
            if key.lower().endswith(".parquet")
            else (".csv.gz" if key.lower().endswith(".gz") else ".csv")
        )
        with tempfile.TemporaryDirectory(prefix="unitcost-s3-") as tmp:
            local = Path(tmp) / f"object{suffix}"
            try:
                client.download_file(bucket, key, str(local))
            except Exception as exc:
                raise CollectorError(f"{source_file}: download failed: {exc}") from exc
            yield billing.load_file(
                store,
                str(local),
                source_file=source_file,
                fingerprint=fingerprint,
                fmt=fmt,
                run_id=run_id,
                watermark_source=uri,
                force=True,
            )
