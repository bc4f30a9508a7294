"""tasks.importers.iter_url_items against a real HTTP server on loopback."""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tasks.importers import ImportFormatError, iter_url_items

FILES: dict[str, tuple[str, bytes]] = {
    "/tasks.json": ("application/json", b'[{"text": "a"}, {"data": {"text": "b"}}]'),
    "/tasks.csv": ("text/csv", b"text,label\nc,pos\n"),
    "/tasks.txt.gz": ("application/gzip", gzip.compress(b"d\ne\n")),
    "/api/export": ("application/x-ndjson", b'{"text": "f"}\n'),
    "/broken.csv": ("text/csv", b"a,b\n1,2,3\n"),
}


class Handler(BaseHTTPRequestHandler):
    requested: list[str] = []  # noqa: RUF012 - reset by the fixture

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.requested.append(path)
        content_type, body = FILES.get(path, ("text/plain", b"not found"))
        self.send_response(200 if path in FILES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def base_url() -> Iterator[str]:
    Handler.requested = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetches_and_parses_each_url_by_its_extension(base_url):
    urls = [
        f"{base_url}/tasks.json",
        f"  {base_url}/tasks.csv?sig=abc  ",
        "",
        f"{base_url}/tasks.txt.gz",
    ]
    assert list(iter_url_items(urls, allow_private=True)) == [
        {"text": "a"},
        {"data": {"text": "b"}},
        {"text": "c", "label": "pos"},
        {"text": "d"},
        {"text": "e"},
    ]


def test_content_type_decides_when_the_path_has_no_extension(base_url):
    assert list(iter_url_items([f"{base_url}/api/export"], allow_private=True)) == [{"text": "f"}]


def test_media_urls_become_items_without_a_download(base_url):
    urls = [f"{base_url}/img/cat.PNG", f"{base_url}/a/song.mp3?x=1", f"{base_url}/v/clip.mp4"]
    assert list(iter_url_items(urls, allow_private=True)) == [
        {"image": urls[0]},
        {"audio": urls[1]},
        {"video": urls[2]},
    ]
    assert Handler.requested == []


def test_loopback_is_refused_unless_private_is_allowed(base_url):
    with pytest.raises(ImportFormatError, match=re.escape("127.0.0.1 is a loopback address")):
        list(iter_url_items([f"{base_url}/tasks.json"], allow_private=False))
    assert Handler.requested == []


def test_parse_errors_name_the_url(base_url):
    with pytest.raises(ImportFormatError) as caught:
        list(iter_url_items([f"{base_url}/broken.csv"], allow_private=True))
    assert str(caught.value) == (
        f"{base_url}/broken.csv line 2: expected 2 columns as in the header, found 3"
    )


def test_http_error_status_is_refused(base_url):
    with pytest.raises(ImportFormatError, match="answered HTTP 404"):
        list(iter_url_items([f"{base_url}/missing.json"], allow_private=True))


def test_download_size_is_capped(base_url):
    with pytest.raises(ImportFormatError, match="over the 10-byte limit"):
        list(iter_url_items([f"{base_url}/tasks.json"], allow_private=True, max_bytes=10))


def test_credentials_in_a_url_are_not_shown_in_errors(base_url):
    url = base_url.replace("http://", "http://user:hunter2@") + "/missing.json"
    with pytest.raises(ImportFormatError) as caught:
        list(iter_url_items([url], allow_private=True))
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/t.json", "t.json"])
def test_non_http_urls_are_refused(url):
    with pytest.raises(ImportFormatError, match="only http and https"):
        list(iter_url_items([url], allow_private=True))
