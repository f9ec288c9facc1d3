"""The admin endpoint: ``POST /admin/<command>`` with a JSON object of arguments, or
``GET /admin/<command>`` for a command that only reads (``GET /admin/clock``).

sandex's own (Coinbase has none): it answers only clients on the loopback interface, with
``Authorization: Bearer <token>`` (the token in the data dir's ``admin.token``), and runs
``sandex.admin.ops`` on the live node, so each change is journaled like any command.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from typing import Any

from sandex.admin.catalogue import CATALOGUE
from sandex.admin.ops import READS, AdminError, UnknownCommand, run_online
from sandex.api.http import ApiError, Request, Response, json_response
from sandex.errors import Error
from sandex.node import Node
from sandex.node.node import NodeStopped

PREFIX = "/admin/"


class AdminGateway:
    """``POST /admin/<command>`` on the shared port; raises ``ApiError`` to refuse."""

    def __init__(self, node: Node, token: str,
                 extras: dict[str, Callable[[dict[str, Any]], Any]] | None = None) -> None:
        self.node = node
        self._token = token.encode()
        self.extras = extras or {}  # commands another gateway answers (``explain``: REST's)

    async def __call__(self, request: Request) -> Response:
        if not _loopback(request.client):
            raise ApiError(Error.ADMIN_LOOPBACK_ONLY)
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer ") or not hmac.compare_digest(
                given[7:].strip().encode(), self._token):
            raise ApiError(Error.ADMIN_BAD_TOKEN)
        request.route = PREFIX + "{command}"
        name = request.path[len(PREFIX):]
        if request.method not in ("GET", "POST") or not name:
            raise ApiError(Error.ADMIN_UNKNOWN_COMMAND, name or "(none)")
        reading = request.method == "GET"
        args: dict[str, Any] = request.json_object() if request.body and not reading else {}
        extra = self.extras.get(name)
        if extra is not None:
            if reading:
                raise ApiError(Error.ADMIN_REFUSED, f"{name} takes a JSON body: send it with POST")
            try:  # like a read: made at once, answered once what it shows is durable
                answer = json_response(extra(args))
            except ValueError as exc:
                if self.node.in_flight:
                    await self.node.synced()
                raise ApiError(Error.ADMIN_REFUSED, exc) from None
            if self.node.in_flight:
                await self.node.synced()
            return answer
        try:
            return json_response(await run_online(self.node, name, args, read_only=reading))
        except NodeStopped:
            raise
        except UnknownCommand:
            raise ApiError(Error.ADMIN_UNKNOWN_COMMAND, name) from None
        except AdminError as exc:
            raise ApiError(Error.ADMIN_REFUSED, exc) from None


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {"400": "bad arguments or a refused command", "401": "missing or wrong admin token",
           "403": "not from the loopback interface", "404": "unknown admin command"}


def openapi_paths() -> dict[str, dict[str, Any]]:
    """The admin commands as OpenAPI paths: ``GET`` for reads, ``POST`` with a JSON object of
    arguments for the others (``sandex.admin.catalogue``)."""
    paths: dict[str, dict[str, Any]] = {}
    for name, entry in CATALOGUE.items():
        operation: dict[str, Any] = {
            "operationId": "admin_" + name.replace(".", "_").replace("-", "_"),
            "summary": entry.summary, "tags": ["admin"], "parameters": [],
            "security": [{"AdminToken": []}],
            "responses": {"200": {"description": "success", "content": {
                "application/json": {"schema": {}}}},
                **{code: {"description": text, **_ERROR} for code, text in _ERRORS.items()}}}
        methods: dict[str, Any] = {}
        if name in READS:
            methods["get"] = operation
        if name not in READS or entry.args:  # a read with arguments takes them by POST
            body: dict[str, Any] = {"type": "object", "properties": entry.args}
            if entry.required:
                body["required"] = list(entry.required)
            methods["post"] = {**operation, "operationId": operation["operationId"] + (
                "_post" if name in READS else ""), "requestBody": {
                "required": bool(entry.required), "content": {
                    "application/json": {"schema": body}}}}
        paths[PREFIX + name] = methods
    return paths
