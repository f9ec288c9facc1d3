"""Routes: method + path pattern -> handler, with the permission the route needs (§2.1).

``permission`` is ``None`` for public routes, else the set of permissions any one of which
suffices (private GETs take view or trade; §2.1). Paths match with or without a trailing
slash (cbpro calls ``GET /accounts/``). A handler sees the gateway only as a ``Context``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sandex.api.http import Response
from sandex.api.rest.account_config import AccountConfig
from sandex.auth.keys import ApiKey, Permission
from sandex.errors import Error
from sandex.node import Node

Handler = Callable[..., Awaitable[Response]]

VIEW_OR_TRADE = frozenset({Permission.VIEW, Permission.TRADE})
"""Private reads (§2.1): a key with either permission may read."""
TRADE = frozenset({Permission.TRADE})
TRANSFER = frozenset({Permission.TRANSFER})
MANAGE = frozenset({Permission.MANAGE})
VIEW_ONLY = frozenset({Permission.VIEW})
ANY = frozenset(Permission)


class Context(Protocol):
    """What a handler uses of the gateway: the node, and the OpenAPI document as bytes."""

    node: Node
    account: AccountConfig  # fee tiers, wrapped assets, reports (the scenario's settings)

    @property
    def openapi(self) -> bytes: ...


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler
    permission: frozenset[Permission] | None = None
    fills_bucket: bool = False  # /fills has its own rate limit (§8.1)


class Router:
    """Static routes by path and method; routes with parameters by (method, first segment),
    tried in table order (every pattern's first segment is literal). A route whose one
    parameter is its last segment (``/orders/{order_id}``) is also found by (method, the
    path before its last segment) when no other route of its group has as many segments
    (so no other could match the same path): a lookup instead of a regular expression."""

    def __init__(self, routes: Sequence[Route]) -> None:
        # static routes by path, then method: two lookups of the request's own texts, no
        # (method, path) tuple made, hashed and compared each request (~470 instructions)
        self._by_path: dict[str, dict[str, Route]] = {}
        self._dynamic: dict[tuple[str, str], list[tuple[re.Pattern[str], Route]]] = {}
        self._last: dict[tuple[str, str], tuple[Route, str]] = {}
        for route in routes:
            if "{" in route.pattern:
                first = route.pattern[1:].partition("/")[0]
                if "{" in first:
                    raise ValueError(f"{route.pattern}: the first segment must be literal")
                regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.pattern)
                self._dynamic.setdefault((route.method, first), []).append(
                    (re.compile(f"^{regex}$"), route))
            else:
                self._by_path.setdefault(route.pattern, {})[route.method] = route
        for group in self._dynamic.values():
            for _, route in group:
                head, _, last = route.pattern.rpartition("/")
                segments = route.pattern.count("/")
                if ("{" not in head and last[:1] == "{" and last[-1:] == "}"
                        and re.fullmatch(r"\w+", last[1:-1])
                        and sum(r.pattern.count("/") == segments for _, r in group) == 1):
                    self._last[(route.method, head)] = (route, last[1:-1])
        self.routes = routes

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        if len(path) > 1 and path[-1] == "/":
            path = path[:-1]
        methods = self._by_path.get(path)
        if methods is not None:
            route = methods.get(method)
            if route is not None:
                return route, {}
        head, _, last = path.rpartition("/")
        found_last = self._last.get((method, head))
        if found_last is not None and last:
            return found_last[0], {found_last[1]: last}
        for regex, route in self._dynamic.get((method, path[1:].partition("/")[0]), ()):
            found = regex.match(path)
            if found:
                return route, found.groupdict()
        return None, {}


def authorize(api_key: ApiKey, needed: frozenset[Permission],
              active: bool = True) -> Error | None:
    """``Error.FORBIDDEN`` (403, §2.1) unless the key holds one of ``needed``. The key of a
    deactivated profile (``active`` false) holds view only, as Coinbase downgrades it.

    An empty set is a programming error and raises ``ValueError``.
    """
    if not needed:
        raise ValueError("authorize() needs at least one permission")
    held = api_key.permissions if active else api_key.permissions & VIEW_ONLY
    return None if not held.isdisjoint(needed) else Error.FORBIDDEN
