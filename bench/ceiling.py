"""The no-engine ceiling of ``bench/rest.py``: a bare signed-order ASGI handler on sandex's
server stack.

    .venv/bin/python bench/ceiling.py PORT [--scenario FILE]

The same stack as ``sandex serve`` (``sandex.server.serve``): uvicorn on uvloop with the
httptools parser, sandex's guarded HTTP protocol (``sandex.api.guard``, default limits) and the
same uvicorn settings (no access log, no server or date header). The ASGI app is what any
signed-order endpoint must do at the least, written plainly: read the body, find the four
``CB-ACCESS-*`` headers, look the key up, check the timestamp window (30 s) and the passphrase,
verify the HMAC-SHA256 signature over timestamp + method + target + body with the standard
library, and answer a canned reply of the size and headers of sandex's (an order-shaped
``POST /orders`` answer with a fresh id; the id as a JSON string for ``DELETE``). No engine,
no journal, no rate limit, no routing table. A request that fails a check is answered 401.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import uvicorn
from kit import SCENARIO, scenario_keys

from sandex.api.guard import HttpLimits, protocols

_HEADERS = [(b"content-type", b"application/json; charset=utf-8"),
            (b"cache-control", b"no-store"), (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", b"cb-before, cb-after")]
_REFUSED = b'{"message":"invalid signature"}'


def app_for(scenario: Path) -> Any:
    """The ASGI app answering the scenario's keys."""
    keys = {k.key: (base64.b64decode(k.secret), k.passphrase, k.profile_id)
            for k in scenario_keys(scenario)}
    counter = [0]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        message = await receive()
        body = message.get("body", b"")
        while message.get("more_body", False):
            message = await receive()
            body += message.get("body", b"")
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            lower = name.lower()
            if lower.startswith(b"cb-access-"):
                found[lower] = value
        method = scope["method"]
        status, reply = 401, _REFUSED
        key = keys.get(found.get(b"cb-access-key", b"").decode())
        timestamp = found.get(b"cb-access-timestamp", b"")
        if scope["path"] == "/time":
            status, reply = 200, b'{"iso":"2024-01-01T00:00:00.000Z","epoch":1704067200.0}'
        elif key is not None and timestamp.isdigit() \
                and abs(int(timestamp) - time.time()) <= 30 \
                and hmac.compare_digest(found.get(b"cb-access-passphrase", b""),
                                        key[1].encode()):
            query = scope["query_string"]
            target = scope["raw_path"] + (b"?" + query if query else b"")
            digest = hmac.new(key[0], timestamp + method.encode() + target + body,
                              hashlib.sha256).digest()
            if hmac.compare_digest(base64.b64encode(digest),
                                   found.get(b"cb-access-sign", b"")):
                counter[0] += 1
                order_id = f"{counter[0]:08x}-0000-4000-8000-000000000000"
                status = 200
                if method == "POST":
                    reply = (
                        f'{{"id":"{order_id}","price":"10.00","size":"0.2","product_id":'
                        f'"BTC-USD","profile_id":"{key[2]}","side":"buy","stp":"dc",'
                        '"type":"limit","time_in_force":"GTC","post_only":false,'
                        '"created_at":"2024-01-01T00:00:00.000000Z","fill_fees":"0",'
                        '"filled_size":"0","executed_value":"0","status":"pending",'
                        '"settled":false}').encode()
                else:
                    reply = b'"' + scope["path"].rpartition("/")[2].encode() + b'"'
        await send({"type": "http.response.start", "status": status,
                    "headers": [*_HEADERS, (b"content-length", str(len(reply)).encode())]})
        await send({"type": "http.response.body", "body": reply})

    return app


def serve_ceiling(port: int, scenario: Path = SCENARIO) -> None:
    """Serve the ceiling app on 127.0.0.1:``port`` until killed (``sandex serve``'s stack)."""
    import uvloop

    http, ws = protocols(HttpLimits())
    config = uvicorn.Config(app_for(scenario), host="127.0.0.1", port=port, loop="uvloop",
                            http=http, ws=ws, lifespan="off", log_level="warning",
                            access_log=False, server_header=False, date_header=False,
                            proxy_headers=False)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(uvicorn.Server(config).serve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    args = parser.parse_args()
    serve_ceiling(args.port, args.scenario)


if __name__ == "__main__":
    main()
