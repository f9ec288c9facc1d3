"""The web page at ``/ui/``: the files of ``sandex/ui`` (package data), served as they are.

Only names found in that directory when the venue starts are ever answered (a fixed table,
no path is joined to a directory), so no request can reach another file: ``..``, encoded
slashes and absolute paths are simply unknown names, answered 404 ``{"message":"NotFound"}``
like any unknown path. Each file is read once, on its first request, and kept with its gzip
form and an ETag. The vendored library has its version in its name and is cached for a year;
the page's own files are revalidated (``no-cache`` + ``ETag``, answered 304 when unchanged).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

from sandex.api.http import ApiError, FileResponse, Request, Response
from sandex.errors import Error

PREFIX = "/ui"
TYPES = {".html": b"text/html; charset=utf-8", ".js": b"text/javascript; charset=utf-8",
         ".mjs": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8",
         ".svg": b"image/svg+xml", ".png": b"image/png",
         ".LICENSE": b"text/plain; charset=utf-8"}
IMMUTABLE = b"public, max-age=31536000, immutable"  # versioned names (vendor/)
REVALIDATE = b"no-cache"
POLICY = (b"default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
          b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
          b"form-action 'none'")
_SECURITY = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
             (b"content-security-policy", POLICY)]


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None  # None: not worth compressing
    content_type: bytes
    etag: bytes
    cache: bytes


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            found.update(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.is_file() and any(entry.name.endswith(ext) for ext in TYPES):
            found[prefix + entry.name] = entry
    return found


class UiFiles:
    """The handler of ``GET /ui/...`` on the shared port (a ``sandex.api.http.Handle``)."""

    def __init__(self, root: Traversable | None = None) -> None:
        self.files = _walk(root if root is not None else resources.files("sandex") / "ui")
        self._assets: dict[str, Asset] = {}

    def asset(self, name: str) -> Asset | None:
        """The file ``name`` (relative, ``/``-separated) if it is one of the page's."""
        cached = self._assets.get(name)
        if cached is not None:
            return cached
        source = self.files.get(name)
        if source is None:
            return None
        body = source.read_bytes()
        kind = TYPES[next(ext for ext in TYPES if name.endswith(ext))]
        packed = gzip.compress(body, 9, mtime=0) if not kind.startswith(b"image/png") else None
        asset = Asset(body, packed if packed is not None and len(packed) < len(body) else None,
                      kind, b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"',
                      IMMUTABLE if name.startswith("vendor/") else REVALIDATE)
        self._assets[name] = asset
        return asset

    async def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(Error.NOT_FOUND)
        if request.path == PREFIX:  # the page's relative links need the trailing slash
            return FileResponse(b"", b"text/plain; charset=utf-8", 308,
                                [(b"location", b"/ui/"), (b"cache-control", REVALIDATE)])
        name = request.path[len(PREFIX) + 1:] or "index.html"
        asset = self.asset(name)
        if asset is None:
            raise ApiError(Error.NOT_FOUND)
        headers = [(b"cache-control", asset.cache), (b"etag", asset.etag),
                   (b"vary", b"accept-encoding"), *_SECURITY]
        if asset.etag in request.headers.get("if-none-match", "").encode():
            return FileResponse(b"", asset.content_type, 304, headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        return FileResponse(body, asset.content_type, 200, headers)  # HEAD: uvicorn drops it


_UNDER = PREFIX + "/"


def is_ui(path: str) -> bool:
    """Whether ``path`` is the page's (``/ui`` or under ``/ui/``)."""
    return path.startswith(PREFIX) and (path == PREFIX or path.startswith(_UNDER))
