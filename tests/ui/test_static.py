"""The web page's files on a real ``sandex serve``: types, caching, compression, no way out of
the page's directory, the API's JSON 404 untouched, every link of the page resolvable, the
vendored chart library as its pinned tarball has it, and a first load under 500 KB."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import socket
from pathlib import Path

import pytest

from tests.support.rest_kit import RawClient, Server

ROOT = Path(__file__).resolve().parent.parent.parent
UI = ROOT / "sandex" / "ui"
VENDOR = "vendor/lightweight-charts-5.2.1.standalone.production.mjs"


def get(server: Server, path: str, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return (response.status, {k.lower(): v for k, v in response.getheaders()},
            response.read())


def raw(server: Server, target: str, method: str = "GET") -> tuple[int, bytes]:
    """A request line sent as given (no client normalises ``..`` or ``%2e``)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_page_and_assets_have_their_types_and_cache_rules(server):
    status, headers, body = get(server, "/ui/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    assert body == (UI / "index.html").read_bytes()
    assert headers["etag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "access-control-allow-origin" not in headers  # the API's CORS is not the page's
    for path, kind in [("/ui/style.css", "text/css; charset=utf-8"),
                       ("/ui/js/main.js", "text/javascript; charset=utf-8"),
                       ("/ui/favicon.svg", "image/svg+xml"),
                       ("/ui/" + VENDOR, "text/javascript; charset=utf-8"),
                       ("/ui/vendor/lightweight-charts.LICENSE", "text/plain; charset=utf-8")]:
        status, headers, body = get(server, path)
        assert (status, headers["content-type"]) == (200, kind), path
        assert body == (UI / path[4:]).read_bytes()
        assert headers["cache-control"] == ("public, max-age=31536000, immutable"
                                            if "/vendor/" in path else "no-cache"), path


def test_etag_answers_304_and_gzip_is_the_same_bytes(server):
    _, headers, _ = get(server, "/ui/js/market.js")
    status, again, empty = get(server, "/ui/js/market.js", {"If-None-Match": headers["etag"]})
    assert (status, empty, again["etag"]) == (304, b"", headers["etag"])
    status, zipped, packed = get(server, "/ui/" + VENDOR, {"Accept-Encoding": "gzip, br"})
    assert status == 200 and zipped["content-encoding"] == "gzip"
    assert zipped["vary"] == "accept-encoding"
    assert gzip.decompress(packed) == (UI / VENDOR).read_bytes()
    assert len(packed) < len(gzip.decompress(packed)) // 2


def test_head_answers_the_headers_only(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("HEAD", "/ui/style.css")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-length") == str((UI / "style.css").stat().st_size)
    assert response.read() == b""
    conn.request("GET", "/ui/favicon.svg")  # the same connection: nothing was left unread
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, (UI / "favicon.svg").read_bytes())


def test_ui_without_slash_redirects_to_the_page(server):
    status, headers, _ = get(server, "/ui")
    assert (status, headers["location"]) == (308, "/ui/")


@pytest.mark.parametrize("target", [
    "/ui/../pyproject.toml", "/ui/../sandex/server.py", "/ui/js/../../api/ui.py",
    "/ui/%2e%2e/api/ui.py", "/ui/%2E%2E%2Fserver.py", "/ui/..%2fserver.py",
    "/ui/js/..%2f..%2fapi%2fui.py", "/ui//etc/passwd", "/ui/%2fetc%2fpasswd",
    "/ui/..\\server.py", "/ui/vendor/", "/ui/js", "/ui/js/", "/ui/__init__.py",
    "/ui/js/main.js%00.png", "/ui/.hidden", "/ui/nope.html"])
def test_no_path_leaves_the_page_directory(server, target):
    status, body = raw(server, target)
    assert (status, body) == (404, b'{"message":"NotFound"}'), target


def test_api_paths_keep_the_coinbase_404(server):
    for path in ["/nope", "/uix", "/ui.js", "/products/NOPE-USD/book"]:
        status, headers, body = get(server, path)
        assert status == 404, path
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert body == b'{"message":"NotFound"}'
    reply = RawClient(server.port).post("/ui/", {"a": 1})
    assert (reply.status, reply.body) == (404, b'{"message":"NotFound"}')


def _links(path: str, text: str) -> set[str]:
    """The files a page or module names: src/href in HTML, import specifiers in JS."""
    base = path.rsplit("/", 1)[0] + "/"
    found = set(re.findall(r'(?:src|href)="([^"#:]+)"', text)) | set(
        re.findall(r'from\s+"(\.[^"]+)"', text))
    out = set()
    for link in found:
        if link.startswith("/"):
            continue  # the API's (/openapi.json)
        parts: list[str] = []
        for part in (base + link).split("/"):
            if part == "..":
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        out.add("/" + "/".join(parts))
    return out


def test_every_link_resolves_and_first_load_is_under_500_kb(server):
    """Walk the page as a browser loads it (module imports included): every file answers
    200, and the compressed total is under 500 KB (the uncompressed one too)."""
    seen: set[str] = set()
    todo = ["/ui/"]
    sent = plain = 0
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        status, headers, body = get(server, path, {"Accept-Encoding": "gzip"})
        assert status == 200, path
        sent += len(body)
        text = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        plain += len(text)
        if path.endswith(("/", ".js", ".html")):
            todo += _links(path if not path.endswith("/") else path + "index.html",
                           text.decode())
    assert {"/ui/style.css", "/ui/js/main.js", "/ui/js/trading.js", "/ui/" + VENDOR,
            "/ui/favicon.svg", "/ui/vendor/lightweight-charts.LICENSE"} <= seen
    assert sent < 500_000 and plain < 500_000, (sent, plain)


def test_vendored_library_is_the_pinned_one():
    """The committed file is the one the pinned tarball holds (the script pins both sha256s;
    ``scripts/fetch_ui_assets.py --check`` compares with the tarball itself, online)."""
    script = (ROOT / "scripts" / "fetch_ui_assets.py").read_text()
    version = re.search(r'VERSION = "([^"]+)"', script).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r'[0-9a-f]{64}', re.search(  # type: ignore[union-attr]
        r'SHA256 = "([^"]+)"', script).group(1))
    library = (UI / VENDOR).read_text()
    assert f"lightweight-charts-{version}." in VENDOR
    assert f"TradingView Lightweight Charts™ v{version}" in library[:300]
    assert "Apache License" in (UI / "vendor" / "lightweight-charts.LICENSE").read_text()
    pinned = re.search(r'MODULE_SHA256 = "([^"]+)"', script).group(1)  # type: ignore[union-attr]
    assert hashlib.sha256((UI / VENDOR).read_bytes()).hexdigest() == pinned


def test_package_data_ships_the_page():
    """A wheel carries every file of sandex/ui (pyproject's package-data globs)."""
    globs = re.search(r'sandex = \[(.*?)\]', (ROOT / "pyproject.toml").read_text()).group(1)  # type: ignore[union-attr]
    patterns = re.findall(r'"([^"]+)"', globs)
    files = [p.relative_to(ROOT / "sandex") for p in UI.rglob("*") if p.is_file()]
    for file in files:
        assert any(file.match(pattern) for pattern in patterns), file
