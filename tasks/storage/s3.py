"""A bucket reached with a connection's own credentials (S3 or an S3-compatible server).

Every boto3 failure becomes a StorageError whose message says what to fix (no such bucket,
bad credentials, unreachable endpoint), so an API answers 400 and a sync records it, never a
500. A user-given endpoint obeys the outbound rule of annotator/outbound.py: a private or
loopback address is refused unless OUTBOUND_ALLOW_PRIVATE_URLS. The check runs before each
request, but boto3 resolves the name again to connect: a DNS answer that changes in between
is not caught (the admin's own S3_ENDPOINT_URL is trusted and not checked).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from annotator.outbound import OutboundError, check_url

# Reading a task file or listing a page must not hang a worker on a dead endpoint.
_CONFIG = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}}
MAX_TASK_FILE_BYTES = 200 * 1024 * 1024
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")

# S3 error code -> (what to tell the user, the input to fix).
_CODES: dict[str, tuple[str, str]] = {
    "NoSuchBucket": ("the bucket does not exist", "bucket"),
    "InvalidBucketName": ("the bucket name is not valid", "bucket"),
    "InvalidAccessKeyId": ("the access key id is not valid", "aws_access_key_id"),
    "SignatureDoesNotMatch": (
        "the secret access key does not match the access key id",
        "aws_secret_access_key",
    ),
    "AccessDenied": ("access denied: the credentials may not use this bucket", "bucket"),
    "403": ("access denied: the credentials may not use this bucket", "bucket"),
    "404": ("the bucket or object does not exist", "bucket"),
    "NoSuchKey": ("the object does not exist", "prefix"),
    "PermanentRedirect": ("the bucket is in another region: set region_name", "region_name"),
    "AuthorizationHeaderMalformed": (
        "the region does not match the bucket's: set region_name",
        "region_name",
    ),
}


class StorageError(Exception):
    """A bucket operation that failed; ``field`` names the input to fix when one is to blame."""

    def __init__(self, message: str, *, field: str = "bucket") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Bucket:
    """Where and how to reach a bucket: a storage connection's fields, no Django model."""

    bucket: str
    aws_access_key_id: str = ""
    aws_secret_access_key: str = ""
    aws_session_token: str = ""
    region_name: str = ""
    s3_endpoint: str = ""
    trusted: bool = False  # the admin's default storage: its endpoint is not checked

    @classmethod
    def of(cls, storage: Any) -> Bucket:
        return cls(
            bucket=storage.bucket,
            aws_access_key_id=storage.aws_access_key_id,
            aws_secret_access_key=storage.aws_secret_access_key,
            aws_session_token=storage.aws_session_token,
            region_name=storage.region_name,
            s3_endpoint=storage.s3_endpoint,
        )


def client(target: Bucket) -> Any:
    """A boto3 S3 client for ``target``; StorageError when its endpoint is refused (checked
    on every call: the client itself is cached, its endpoint's address is not)."""
    if not _BUCKET_NAME.fullmatch(target.bucket):
        raise StorageError("the bucket name is not valid (3-63 lower-case letters, digits, . -)")
    endpoint = target.s3_endpoint.strip()
    if endpoint and not target.trusted:
        try:
            check_url(endpoint, allow_private=settings.OUTBOUND_ALLOW_PRIVATE_URLS)
        except OutboundError as exc:
            raise StorageError(str(exc), field="s3_endpoint") from None
    return _client(target)


@functools.lru_cache(maxsize=64)
def _client(target: Bucket) -> Any:
    # Building a client loads botocore's service model: ~0.5 s, against ~1 ms to sign a URL.
    # Clients are thread-safe; one per connection settings is kept per process.
    endpoint = target.s3_endpoint.strip() or None
    # A connection without keys reads public buckets anonymously. It must never fall back to
    # the server's own credentials (environment, instance role): a project manager would
    # then reach every bucket the server can.
    anonymous = not target.trusted and not (
        target.aws_access_key_id and target.aws_secret_access_key
    )
    config = Config(
        signature_version=UNSIGNED if anonymous else "s3v4",
        s3={"addressing_style": "path" if endpoint else "auto"},
        **_CONFIG,
    )
    try:
        with _SESSION_LOCK:  # a boto3 session must not build clients on two threads at once
            return _SESSION.client(
                "s3",
                endpoint_url=endpoint,
                region_name=target.region_name or None,
                aws_access_key_id=None if anonymous else target.aws_access_key_id or None,
                aws_secret_access_key=None if anonymous else target.aws_secret_access_key,
                aws_session_token=None if anonymous else target.aws_session_token or None,
                config=config,
            )
    except (ValueError, BotoCoreError) as exc:
        field = "region_name" if "region" in str(exc).lower() else "s3_endpoint"
        raise StorageError(f"cannot connect: {exc}", field=field) from None


def _error(exc: Exception, target: Bucket) -> StorageError:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        reason, field = _CODES.get(code, (f"{code or 'error'}: {exc}", "bucket"))
        return StorageError(f"s3://{target.bucket}: {reason}", field=field)
    return StorageError(
        f"s3://{target.bucket}: cannot reach the endpoint ({exc})", field="s3_endpoint"
    )


def bucket_check(target: Bucket, *, prefix: str = "") -> None:
    """Raise StorageError unless the credentials can list the bucket under ``prefix``."""
    s3 = client(target)
    try:
        s3.list_objects_v2(Bucket=target.bucket, Prefix=prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, target) from None


def keys_iter(target: Bucket, *, prefix: str, recursive: bool = True) -> Iterator[str]:
    """Every object key under ``prefix`` in key order (one ``list_objects_v2`` page at a
    time); without ``recursive``, only the level right under the prefix."""
    s3 = client(target)
    options: dict[str, Any] = {"Bucket": target.bucket, "Prefix": prefix}
    if not recursive:
        options["Delimiter"] = "/"
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(**options):
            for item in page.get("Contents", ()):
                key = item["Key"]
                if not key.endswith("/"):  # "folder" placeholders
                    yield key
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, target) from None


def object_read(target: Bucket, key: str, *, max_bytes: int = MAX_TASK_FILE_BYTES) -> bytes:
    s3 = client(target)
    try:
        answer = s3.get_object(Bucket=target.bucket, Key=key)
        if int(answer.get("ContentLength") or 0) > max_bytes:
            raise StorageError(f"s3://{target.bucket}/{key} is over {max_bytes} bytes")
        return bytes(answer["Body"].read())
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, target) from None


def object_write(target: Bucket, key: str, body: bytes, *, content_type: str) -> None:
    s3 = client(target)
    try:
        s3.put_object(Bucket=target.bucket, Key=key, Body=body, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise _error(exc, target) from None


def presigned_get(target: Bucket, key: str, *, seconds: int) -> str:
    """A GET URL for one object that stops working after ``seconds``. Signed locally: the
    server makes no request, so the endpoint is not checked (the browser fetches it)."""
    if not _BUCKET_NAME.fullmatch(target.bucket):
        raise StorageError("the bucket name is not valid (3-63 lower-case letters, digits, . -)")
    return str(
        _client(target).generate_presigned_url(
            "get_object", Params={"Bucket": target.bucket, "Key": key}, ExpiresIn=seconds
        )
    )
