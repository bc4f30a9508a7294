"""The one client for outbound HTTP: URL imports now, ML backends and webhooks later.

A request resolves its host once, refuses the whole answer if any address in it is forbidden,
and connects to the address it validated. The name is kept only for the Host header, SNI and
the certificate check. Handing the URL to a client that resolves it again would let a DNS
record that moves between the check and the connect (rebinding) steer the request inside our
network. Every redirect hop goes through the same check.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 50 * 2**20
DEFAULT_TIMEOUT = 10.0

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "Annotator (+outbound)"
# Headers the client sets itself; a caller's (a webhook's configured headers) never replace them.
_RESERVED_HEADERS = frozenset(
    {"host", "user-agent", "accept-encoding", "content-type", "content-length", "transfer-encoding"}
)
# A host whose last label is a number is an IPv4 address in some spelling (decimal, octal, hex,
# short form: the WHATWG URL rule), never a DNS name, so it is decoded rather than resolved.
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/?#]*@", re.IGNORECASE)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Characters left as they are in a request target; everything else is percent-encoded.
_SAFE_TARGET_CHARS = "/%:@!$&'()*+,;=-._~?"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# First match names the reason, so specific kinds come before the catch-all.
_FORBIDDEN_KINDS: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("an unspecified", lambda ip: ip.is_unspecified),
    ("a loopback", lambda ip: ip.is_loopback),
    ("a link-local", lambda ip: ip.is_link_local),
    ("a multicast", lambda ip: ip.is_multicast),
    ("a reserved", lambda ip: ip.is_reserved),
    ("a private", lambda ip: ip.is_private),
    ("a non-public", lambda ip: not ip.is_global),
)


class OutboundError(ValueError):
    """A request that was refused or failed; the message names the URL (without credentials)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"{self.url}: {reason}")


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes
    url: str  # the final URL after redirects, without credentials

    def json(self) -> Any:
        return json.loads(self.content)


def outbound_get(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    connect_timeout: float | None = None,
) -> OutboundResponse:
    """GET ``url``; ``timeout`` bounds the whole call, redirects included, and
    ``connect_timeout`` (when shorter) each connection attempt: a host that does not answer
    fails fast even when a slow answer is allowed."""
    return _request("GET", url, None, None, allow_private, max_bytes, timeout, connect_timeout)


def outbound_post_json(
    url: str,
    payload: object,
    *,
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    connect_timeout: float | None = None,
) -> OutboundResponse:
    body = json.dumps(payload).encode()
    return _request(
        "POST", url, body, "application/json", allow_private, max_bytes, timeout, connect_timeout
    )


def outbound_post(
    url: str,
    body: bytes,
    *,
    content_type: str,
    headers: Mapping[str, str],
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OutboundResponse:
    """POST ``body`` as it is (a signature covers these exact bytes) with extra ``headers``;
    they never replace Host, Authorization or Content-Type, and a redirect to another origin
    drops them like it drops credentials."""
    return _request(
        "POST", url, body, content_type, allow_private, max_bytes, timeout, None, headers
    )


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise OutboundError unless a request to ``url`` would be made now (resolves DNS)."""
    try:
        _prepare(url, allow_private=allow_private)
    except _Refusal as exc:
        raise OutboundError(url, exc.reason) from None


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced, so it can be shown or logged."""
    return _USERINFO.sub(r"\1***@", url, count=1)


def address_problem(ip: IPAddress) -> str | None:
    """Why the server must not connect to ``ip`` ("a loopback address"), or None if public."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        problem = address_problem(inner)
        return None if problem is None else f"wrapping {inner}, {problem}"
    for kind, matches in _FORBIDDEN_KINDS:
        if matches(ip):
            note = " (the cloud metadata service)" if ip in _METADATA else ""
            return f"{kind} address{note}"
    return None


# --- internals -------------------------------------------------------------------------------
class _Refusal(Exception):
    """Raised below the public functions; they add the URL and re-raise as OutboundError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII, lower-case, no brackets
    port: int
    request_target: str
    host_header: str
    authorization: str | None
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class _Hop:
    status: int
    headers: Mapping[str, str]
    content: bytes
    location: str | None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    # IPv6 forms that carry an IPv4 address reach that address (mapped sockets, 6to4, NAT64).
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _request(
    method: str,
    url: str,
    body: bytes | None,
    content_type: str | None,
    allow_private: bool,
    max_bytes: int,
    timeout: float,
    connect_timeout: float | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> OutboundResponse:
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            target = _prepare(current, allow_private=allow_private)
            hop = _exchange(
                target,
                method,
                body,
                content_type,
                deadline,
                max_bytes,
                timeout,
                connect_timeout,
                extra_headers,
            )
        except _Refusal as exc:
            origin = "" if current == url else f" (redirected from {redact_url(url)})"
            raise OutboundError(current, exc.reason + origin) from exc.__cause__
        if hop.location is None:
            return OutboundResponse(hop.status, hop.headers, hop.content, redact_url(current))
        # The next hop's credentials can only come from its own URL: a relative Location keeps
        # them on the same origin, an absolute one to another host drops them.
        following = urljoin(current, hop.location)
        if urlsplit(following)[:2] != urlsplit(current)[:2]:
            extra_headers = None
        current = following
        if hop.status == 303 or (hop.status in (301, 302) and method == "POST"):
            method, body, content_type = "GET", None, None
    raise OutboundError(url, f"more than {MAX_REDIRECTS} redirects")


def _prepare(url: str, *, allow_private: bool) -> _Target:
    if _CONTROL_CHARS.search(url):
        raise _Refusal("the URL contains control characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise _Refusal(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise _Refusal(f"{shown} is not allowed, only http and https")
    host = _ascii_host(parts.hostname or "")
    port = port or _DEFAULT_PORTS[scheme]
    if port == 0:
        raise _Refusal("port 0 is not valid")
    literal = _literal_address(host)
    addresses = (literal,) if literal is not None else _resolve(host, port)
    if not allow_private:
        for ip in addresses:
            problem = address_problem(ip)
            if problem is not None:
                raise _Refusal(_address_refusal(host, ip, problem, literal=literal is not None))
    shown_host = f"[{host}]" if ":" in host else host
    host_header = shown_host if port == _DEFAULT_PORTS[scheme] else f"{shown_host}:{port}"
    request_target = quote(parts.path or "/", safe=_SAFE_TARGET_CHARS)
    if parts.query:
        request_target += "?" + quote(parts.query, safe=_SAFE_TARGET_CHARS)
    return _Target(
        scheme=scheme,
        host=host,
        port=port,
        request_target=request_target,
        host_header=host_header,
        authorization=_basic_auth(parts.username, parts.password),
        addresses=addresses,
    )


def _address_refusal(host: str, ip: IPAddress, problem: str, *, literal: bool) -> str:
    if not literal:
        return f"{host} resolves to {ip}, {problem}"
    if host == str(ip):
        return f"{ip} is {problem}"
    return f"{host} is {ip}, {problem}"


def _ascii_host(host: str) -> str:
    if not host:
        raise _Refusal("the URL has no host")
    if host.isascii():
        return host.lower()
    # The IDNA codec applies NFKC, so look-alike digits ("①②⑦.0.0.1") become the address
    # they spell and are checked as that address.
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _Refusal(f"{host!r} is not a valid host name") from None


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    bare = host.rstrip(".")
    if not _NUMERIC_LABEL.fullmatch(bare.rsplit(".", 1)[-1]):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except OSError:
        raise _Refusal(f"{host} looks like an IPv4 address but is not a valid one") from None


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _Refusal(f"{host} does not resolve ({exc})") from None
    addresses: dict[IPAddress, None] = {}
    for family, _type, _proto, _name, sockaddr in answers:
        if family in (socket.AF_INET, socket.AF_INET6):
            addresses[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    if not addresses:
        raise _Refusal(f"{host} has no IPv4 or IPv6 address")
    return tuple(addresses)


def _basic_auth(username: str | None, password: str | None) -> str | None:
    if username is None and password is None:
        return None
    pair = f"{unquote(username or '')}:{unquote(password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _exchange(
    target: _Target,
    method: str,
    body: bytes | None,
    content_type: str | None,
    deadline: float,
    max_bytes: int,
    timeout: float,
    connect_timeout: float | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> _Hop:
    headers = {
        name: value
        for name, value in (extra_headers or {}).items()
        if name.lower() not in _RESERVED_HEADERS
        and not (target.authorization and name.lower() == "authorization")
    }
    headers |= {
        "Host": target.host_header,
        "User-Agent": _USER_AGENT,
        "Accept-Encoding": "identity",
    }
    if target.authorization:
        headers["Authorization"] = target.authorization
    if content_type:
        headers["Content-Type"] = content_type
    last_error: Exception | None = None
    # Later addresses of the same (fully validated) answer are tried only when a connection
    # cannot be opened, e.g. an AAAA record on a host without IPv6.
    for ip in target.addresses:
        with _pool(target, ip, _remaining(deadline, timeout), connect_timeout) as pool:
            try:
                response = pool.urlopen(
                    method,
                    target.request_target,
                    body=body,
                    headers=headers,
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                    decode_content=True,
                )
            except NewConnectionError as exc:
                last_error = exc
                continue
            except (Urllib3Error, OSError) as exc:
                raise _failure(exc, timeout) from exc
            try:
                return _read_hop(response, deadline, max_bytes, timeout)
            finally:
                response.release_conn()
    raise _Refusal(f"could not connect ({last_error})") from last_error


def _pool(
    target: _Target, ip: IPAddress, seconds: float, connect_seconds: float | None = None
) -> urllib3.HTTPConnectionPool:
    connect = seconds if connect_seconds is None else min(seconds, connect_seconds)
    limits = urllib3.Timeout(connect=connect, read=seconds)
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(str(ip), target.port, timeout=limits, maxsize=1)
    # The socket goes to the pinned address; SNI and certificate matching use the name.
    return urllib3.HTTPSConnectionPool(
        str(ip),
        target.port,
        timeout=limits,
        maxsize=1,
        cert_reqs="CERT_REQUIRED",
        server_hostname=target.host,
        assert_hostname=target.host,
    )


def _read_hop(
    response: urllib3.BaseHTTPResponse, deadline: float, max_bytes: int, timeout: float
) -> _Hop:
    headers = urllib3.HTTPHeaderDict(response.headers)
    location = headers.get("Location")
    if response.status in _REDIRECT_STATUSES and location:
        return _Hop(response.status, headers, b"", location)
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _Refusal(f"the response is {int(declared)} bytes, over the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            _shrink_read_timeout(response, _remaining(deadline, timeout))
            # read1 returns after one socket read, so the deadline is checked between reads.
            chunk = response.read1(_CHUNK_BYTES)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _Refusal(f"the response is over the {max_bytes}-byte limit")
            chunks.append(chunk)
    except (Urllib3Error, OSError) as exc:
        raise _failure(exc, timeout) from exc
    return _Hop(response.status, headers, b"".join(chunks), None)


def _remaining(deadline: float, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Refusal(f"timed out after {timeout:g}s")
    return left


def _shrink_read_timeout(response: urllib3.BaseHTTPResponse, seconds: float) -> None:
    # urllib3's read timeout applies to each socket read; narrowing it to what is left of the
    # deadline keeps a server that trickles bytes from stretching the call past ``timeout``.
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _failure(exc: Exception, timeout: float) -> _Refusal:
    if isinstance(exc, Urllib3Timeout | TimeoutError):
        return _Refusal(f"timed out after {timeout:g}s")
    return _Refusal(f"request failed ({exc})")
