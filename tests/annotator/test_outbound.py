"""annotator.outbound against real HTTP servers on loopback.

The only faked edge is name resolution (``socket.getaddrinfo``): a fake DNS answers for the
test names, and a "public" address used by a test is routed to a server on another loopback
address, the way a network would deliver it. Any other lookup fails the test, so nothing here
can reach beyond this machine.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from annotator.outbound import (
    OutboundError,
    address_problem,
    check_url,
    outbound_get,
    outbound_post_json,
    redact_url,
)

PUBLIC_IP = "93.184.215.14"  # a global address; the fake network delivers it to loopback

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    host: str
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


def reply(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return route


def redirect(location: str, status: int = 302) -> Route:
    return reply(status, headers={"Location": location})


def start_server(host: str) -> tuple[Server, ThreadingHTTPServer]:
    state = Server(host)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            route = state.routes.get(self.path.split("?")[0], reply(404, b"not found"))
            # The client may hang up on purpose (size cap, deadline).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    try:
        httpd = ThreadingHTTPServer((host, 0), Handler)
    except OSError:
        pytest.skip(f"cannot bind {host}")
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    return state, httpd


@pytest.fixture
def servers() -> Iterator[Callable[[str], Server]]:
    started: list[ThreadingHTTPServer] = []

    def make(host: str = "127.0.0.1") -> Server:
        state, httpd = start_server(host)
        started.append(httpd)
        return state

    yield make
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(servers) -> Server:
    return servers("127.0.0.1")


@dataclass
class FakeNetwork:
    # host -> addresses, or a function called on each lookup (a record that moves)
    names: dict[str, list[str] | Callable[[], list[str]]] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)  # public address -> loopback address
    lookups: list[str] = field(default_factory=list)


@pytest.fixture
def network(monkeypatch) -> FakeNetwork:
    net = FakeNetwork()
    real = socket.getaddrinfo

    def answer(address: str, port: int) -> tuple:
        if ":" in address:
            return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
        return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))

    def fake_getaddrinfo(host, port, *args, **kwargs):
        host = host.decode() if isinstance(host, bytes) else host
        net.lookups.append(host)
        if host in net.names:
            found = net.names[host]
            return [answer(address, port) for address in (found() if callable(found) else found)]
        if host in net.routes:
            return [answer(net.routes[host], port)]
        if host.startswith("127."):
            return real(host, port, *args, **kwargs)
        # Like NXDOMAIN: an unknown name or unrouted address cannot be reached at all.
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return net


# --- refusals without a connection ---------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/tasks.json",
        "gopher://example.com:70/_GET",
        "javascript:alert(1)",
        "data:text/plain,hello",
        "//example.com/tasks.json",
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_refuses_schemes_other_than_http(url, allow_private):
    with pytest.raises(OutboundError, match="only http and https"):
        check_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://127.8.9.10:8000/", "a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://10.1.2.3/", "a private address"),
        ("http://172.16.0.1/", "a private address"),
        ("http://172.31.255.255/", "a private address"),
        ("http://192.168.1.1/", "a private address"),
        ("http://[fc00::1]/", "a private address"),
        ("http://[fd12:3456::1]/", "a private address"),
        ("http://169.254.1.1/", "a link-local address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address (the cloud metadata"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://[ff02::1]/", "a multicast address"),
        ("http://240.0.0.1/", "a reserved address"),
        ("http://255.255.255.255/", "a reserved address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://[::]/", "an unspecified address"),
        ("http://100.64.0.1/", "a non-public address"),
        ("http://[::ffff:127.0.0.1]/", "wrapping 127.0.0.1, a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "wrapping 169.254.169.254, a link-local"),
        ("http://[64:ff9b::a9fe:a9fe]/", "wrapping 169.254.169.254"),
        ("http://[2002:c0a8:101::]/", "wrapping 192.168.1.1, a private address"),
    ],
)
def test_refuses_forbidden_literal_addresses(url, reason):
    with pytest.raises(OutboundError, match=reason.replace("(", r"\(")) as caught:
        check_url(url)
    assert str(caught.value).startswith(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://2130706433/", "2130706433 is 127.0.0.1, a loopback address"),
        ("http://0177.0.0.1/", "0177.0.0.1 is 127.0.0.1, a loopback address"),
        ("http://0x7f.1/", "0x7f.1 is 127.0.0.1, a loopback address"),
        ("http://0x7F000001/", "0x7f000001 is 127.0.0.1, a loopback address"),
        ("http://127.1/", "127.1 is 127.0.0.1, a loopback address"),
        ("http://127.0.0.1./", "127.0.0.1. is 127.0.0.1, a loopback address"),
        (
            "http://①②⑦.0.0.1/",
            "127.0.0.1 is a loopback address",
        ),  # IDNA folds the look-alike digits first
    ],
)
def test_refuses_encoded_loopback_addresses(url, reason):
    with pytest.raises(OutboundError, match=re.escape(reason)):
        check_url(url)


def test_refuses_short_zero_as_unspecified():
    with pytest.raises(OutboundError, match=re.escape("0 is 0.0.0.0, an unspecified address")):
        check_url("http://0/")


@pytest.mark.parametrize("url", ["http://1.2.3.999/", "http://1.2.3.4.5/", "http://0x/"])
def test_refuses_invalid_numeric_hosts_instead_of_resolving_them(url):
    with pytest.raises(OutboundError, match="looks like an IPv4 address but is not a valid one"):
        check_url(url)


def test_refuses_localhost_by_what_it_resolves_to():
    with pytest.raises(OutboundError, match=r"localhost resolves to .*, a loopback address"):
        check_url("http://localhost:8080/")


def test_refuses_dns_answer_containing_any_private_address(network, server):
    network.names["mixed.example.test"] = [PUBLIC_IP, "10.0.0.5"]
    with pytest.raises(OutboundError, match=re.escape("resolves to 10.0.0.5, a private address")):
        outbound_get(f"http://mixed.example.test:{server.port}/")
    assert server.seen == []


def test_refuses_dns_answer_with_mapped_metadata_address(network):
    network.names["meta.example.test"] = ["::ffff:169.254.169.254"]
    with pytest.raises(OutboundError, match="the cloud metadata service"):
        check_url("http://meta.example.test/")


def test_accepts_public_dns_answer(network):
    network.names["files.example.test"] = [PUBLIC_IP, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    check_url("https://files.example.test/tasks.json")


def test_refuses_unresolvable_host(network):
    with pytest.raises(OutboundError, match=re.escape("nowhere.invalid does not resolve")):
        check_url("http://nowhere.invalid/")


def test_allow_private_lifts_the_address_rule_only():
    check_url("http://127.0.0.1:9000/", allow_private=True)
    check_url("http://169.254.169.254/", allow_private=True)
    with pytest.raises(OutboundError, match="scheme 'file'"):
        check_url("file:///etc/passwd", allow_private=True)


@pytest.mark.parametrize("url", ["http://x:99999/", "http:///no-host", "http://a\r\nb/"])
def test_refuses_malformed_urls(url):
    with pytest.raises(OutboundError):
        check_url(url)


def test_credentials_never_appear_in_errors():
    with pytest.raises(OutboundError) as caught:
        check_url("http://admin:s3cret@10.0.0.1/x")
    assert "s3cret" not in str(caught.value)
    assert "admin" not in str(caught.value)
    assert caught.value.url == "http://***@10.0.0.1/x"


def test_redact_url_keeps_everything_but_credentials():
    assert redact_url("https://u:p@h.test:8443/a?b=c") == "https://***@h.test:8443/a?b=c"
    assert redact_url("https://h.test/a@b") == "https://h.test/a@b"
    assert redact_url("https://h.test?next=a@b") == "https://h.test?next=a@b"
    assert redact_url("http://a@b@h.test/") == "http://***@h.test/"


def test_address_problem_is_none_for_public_addresses():
    import ipaddress

    assert address_problem(ipaddress.ip_address(PUBLIC_IP)) is None
    assert address_problem(ipaddress.ip_address("2606:4700::1111")) is None


# --- real requests ---------------------------------------------------------------------------
def test_get_returns_status_headers_and_body(server):
    server.routes["/tasks.json"] = reply(200, b"[1, 2]", {"Content-Type": "application/json"})
    response = outbound_get(server.url("/tasks.json?x=1"), allow_private=True)
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b"[1, 2]"
    assert response.json() == [1, 2]
    assert response.url == server.url("/tasks.json?x=1")
    assert server.seen[0].path == "/tasks.json?x=1"
    assert server.seen[0].headers["Host"] == f"127.0.0.1:{server.port}"


def test_get_returns_error_statuses_without_raising(server):
    response = outbound_get(server.url("/missing"), allow_private=True)
    assert response.status == 404


def test_get_to_loopback_is_refused_before_connecting(server):
    server.routes["/"] = reply(200, b"secret")
    with pytest.raises(OutboundError, match="a loopback address"):
        outbound_get(server.url("/"))
    assert server.seen == []


def test_url_credentials_are_sent_as_basic_auth(server):
    server.routes["/"] = reply(200, b"ok")
    outbound_get(f"http://ann%40x:p%3Ass@127.0.0.1:{server.port}/", allow_private=True)
    expected = "Basic " + base64.b64encode(b"ann@x:p:ss").decode()
    assert server.seen[0].headers["Authorization"] == expected


def test_post_json_sends_the_payload(server):
    server.routes["/predict"] = reply(200, b'{"results": []}')
    response = outbound_post_json(server.url("/predict"), {"tasks": [1]}, allow_private=True)
    assert response.json() == {"results": []}
    seen = server.seen[0]
    assert (seen.method, seen.headers["Content-Type"]) == ("POST", "application/json")
    assert json.loads(seen.body) == {"tasks": [1]}


def test_follows_relative_redirects_and_reports_the_final_url(server):
    server.routes["/old"] = redirect("/new", 301)
    server.routes["/new"] = reply(200, b"moved here")
    response = outbound_get(server.url("/old"), allow_private=True)
    assert (response.content, response.url) == (b"moved here", server.url("/new"))


def test_post_redirected_with_303_becomes_get(server):
    server.routes["/submit"] = redirect("/done", 303)
    server.routes["/done"] = reply(200, b"done")
    outbound_post_json(server.url("/submit"), {"a": 1}, allow_private=True)
    assert [(s.method, s.path, s.body) for s in server.seen] == [
        ("POST", "/submit", b'{"a": 1}'),
        ("GET", "/done", b""),
    ]


def test_307_keeps_method_and_body(server):
    server.routes["/a"] = redirect("/b", 307)
    server.routes["/b"] = reply(200)
    outbound_post_json(server.url("/a"), [1], allow_private=True)
    assert [(s.method, s.body) for s in server.seen] == [("POST", b"[1]"), ("POST", b"[1]")]


def test_redirect_to_another_origin_drops_credentials(servers):
    first, second = servers("127.0.0.1"), servers("127.0.0.1")
    first.routes["/"] = redirect(second.url("/landing"))
    second.routes["/landing"] = reply(200, b"ok")
    outbound_get(f"http://u:pw@127.0.0.1:{first.port}/", allow_private=True)
    assert "Authorization" in first.seen[0].headers
    assert "Authorization" not in second.seen[0].headers


def test_redirect_from_public_host_to_loopback_is_refused(network, servers):
    public, internal = servers("127.0.0.2"), servers("127.0.0.1")
    network.names["files.example.test"] = [PUBLIC_IP]
    network.routes[PUBLIC_IP] = "127.0.0.2"
    public.routes["/tasks.json"] = redirect(internal.url("/admin"))
    internal.routes["/admin"] = reply(200, b"secret")

    with pytest.raises(OutboundError) as caught:
        outbound_get(public.url("/tasks.json", host="files.example.test"))

    assert "127.0.0.1 is a loopback address" in str(caught.value)
    assert "redirected from http://files.example.test" in str(caught.value)
    assert len(public.seen) == 1
    assert internal.seen == []


def test_redirect_to_a_file_url_is_refused_even_when_private_is_allowed(server):
    server.routes["/"] = redirect("file:///etc/passwd")
    with pytest.raises(OutboundError, match="scheme 'file' is not allowed"):
        outbound_get(server.url("/"), allow_private=True)


def test_redirects_are_capped_at_five(server):
    server.routes["/loop"] = redirect("/loop")
    with pytest.raises(OutboundError, match="more than 5 redirects"):
        outbound_get(server.url("/loop"), allow_private=True)
    assert len(server.seen) == 6


def test_connects_to_the_validated_address_not_a_second_lookup(network, servers):
    # A rebinding name: public on the first lookup, internal on any later one. Each answer
    # lands on its own server, so a client that resolved twice would read "internal".
    public, internal = servers("127.0.0.2"), servers("127.0.0.3")
    public.routes["/"] = reply(200, b"public")
    internal.routes["/"] = reply(200, b"internal")
    network.routes[PUBLIC_IP] = "127.0.0.2"
    answers = iter([[PUBLIC_IP]])
    network.names["rebind.example.test"] = lambda: next(answers, ["127.0.0.3"])
    response = outbound_get(f"http://rebind.example.test:{public.port}/")

    assert response.content == b"public"
    assert network.lookups.count("rebind.example.test") == 1
    assert public.seen[0].headers["Host"] == f"rebind.example.test:{public.port}"
    assert internal.seen == []


# --- limits ----------------------------------------------------------------------------------
def test_refuses_a_declared_length_over_the_cap(server):
    server.routes["/big"] = reply(200, b"x" * 2000)
    with pytest.raises(OutboundError, match="2000 bytes, over the 1000-byte limit"):
        outbound_get(server.url("/big"), allow_private=True, max_bytes=1000)


def test_stops_reading_an_undeclared_body_past_the_cap(server):
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the body runs until the server closes
        for _ in range(200):
            handler.wfile.write(b"x" * 65536)

    server.routes["/stream"] = endless
    started = time.monotonic()
    with pytest.raises(OutboundError, match="over the 1048576-byte limit"):
        outbound_get(server.url("/stream"), allow_private=True, max_bytes=2**20)
    assert time.monotonic() - started < 5


def test_body_at_the_cap_is_accepted(server):
    server.routes["/exact"] = reply(200, b"y" * 1000)
    assert (
        len(outbound_get(server.url("/exact"), allow_private=True, max_bytes=1000).content) == 1000
    )


def test_times_out_on_a_server_that_does_not_answer(server):
    server.routes["/slow"] = lambda handler: time.sleep(2)
    started = time.monotonic()
    with pytest.raises(OutboundError, match=r"timed out after 0.3s"):
        outbound_get(server.url("/slow"), allow_private=True, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_timeout_bounds_a_body_that_trickles(server):
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.03)

    server.routes["/trickle"] = trickle
    started = time.monotonic()
    with pytest.raises(OutboundError, match=re.escape("timed out after 0.5s")):
        outbound_get(server.url("/trickle"), allow_private=True, timeout=0.5)
    assert time.monotonic() - started < 1.2


def test_refused_connection_is_an_outbound_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(OutboundError, match="could not connect"):
            outbound_get(f"http://127.0.0.1:{port}/", allow_private=True, timeout=2)


def test_https_to_a_plain_http_server_fails_cleanly(server):
    with pytest.raises(OutboundError, match="request failed"):
        outbound_get(f"https://127.0.0.1:{server.port}/", allow_private=True, timeout=2)
