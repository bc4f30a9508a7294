"""moto's S3 server on a free loopback port, for the storage tests (STYLE §5: S3 is real).

moto serves S3 but checks no credentials and no presigned URL's signature or expiry. The
``SignatureGuard`` in front of it does what S3 does with them, so the tests see S3's answers:
a request signed with another access key id is refused (InvalidAccessKeyId), a presigned URL
whose signature does not match its query is refused (SignatureDoesNotMatch), and one used
after ``X-Amz-Date + X-Amz-Expires`` is refused (AccessDenied, "Request has expired").
Anonymous requests reach moto, which refuses them on private objects.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import boto3
import pytest
from botocore.client import Config
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

ACCESS_KEY = "AKIATESTSTORAGE0001"
SECRET_KEY = "test-secret-key-for-the-moto-server"
REGION = "us-east-1"


def _s3_error(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml")])
    return [body]


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _query_signature(environ: dict[str, Any], params: list[tuple[str, str]]) -> str:
    """SigV4 query signature of the request as received (signed header: host only)."""
    fields = dict(params)
    raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "/").split("?", 1)[0]
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(params)
        if k != "X-Amz-Signature"
    )
    canonical = "\n".join(
        [
            environ["REQUEST_METHOD"],
            raw_path,
            query,
            f"host:{environ['HTTP_HOST']}\n",
            fields["X-Amz-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = fields["X-Amz-Credential"].split("/", 1)[1]
    date, region, service = scope.split("/")[:3]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            fields["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{SECRET_KEY}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class SignatureGuard:
    """WSGI middleware in front of moto: S3's credential and presigned-URL checks."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        fields = dict(params)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if "X-Amz-Signature" in fields:
            if not fields.get("X-Amz-Credential", "").startswith(ACCESS_KEY + "/"):
                return _s3_error(start_response, "InvalidAccessKeyId", "Unknown access key")
            if not hmac.compare_digest(
                _query_signature(environ, params), fields["X-Amz-Signature"]
            ):
                return _s3_error(start_response, "SignatureDoesNotMatch", "Bad signature")
            signed = datetime.strptime(fields["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = timedelta(seconds=int(fields["X-Amz-Expires"]))
            if datetime.now(UTC) > signed + expires:
                return _s3_error(start_response, "AccessDenied", "Request has expired")
        elif authorization and f"Credential={ACCESS_KEY}/" not in authorization:
            return _s3_error(start_response, "InvalidAccessKeyId", "Unknown access key")
        return self.app(environ, start_response)


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def bucket(self, name: str) -> str:
        """A new empty bucket (moto keeps its state for the whole session)."""
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    app = SignatureGuard(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield S3Server(endpoint=f"http://{host}:{port}")
    finally:
        server.shutdown()
        thread.join()
