"""The router: static paths by table, parameter routes by (method, first segment) in table order."""

from __future__ import annotations

import pytest

from sandex.api.http import Response
from sandex.api.rest.routes import ROUTES
from sandex.api.rest.routing import Route, Router


async def _handler(*_: object, **__: object) -> Response:
    return Response(b"{}")


def test_the_route_table_matches_what_each_pattern_names() -> None:
    router = Router(ROUTES)
    route, params = router.match("DELETE", "/orders/0b7a3c2e-5f1d-4e8a-9c6b-2d4f8e1a7b3c")
    assert route is not None and (route.method, route.pattern) == ("DELETE", "/orders/{order_id}")
    assert params == {"order_id": "0b7a3c2e-5f1d-4e8a-9c6b-2d4f8e1a7b3c"}
    route, params = router.match("GET", "/orders/client:abc/")  # trailing slash (cbpro)
    assert route is not None and route.pattern == "/orders/{order_id}"
    assert params == {"order_id": "client:abc"}
    route, params = router.match("GET", "/reports/r1/file/out.csv")
    assert route is not None and route.pattern == "/reports/{report_id}/file/{name}"
    assert params == {"report_id": "r1", "name": "out.csv"}
    route, _ = router.match("POST", "/orders")
    assert route is not None and route.pattern == "/orders"
    assert router.match("PATCH", "/orders/x") == (None, {})
    assert router.match("GET", "/nowhere/x") == (None, {})
    assert router.match("GET", "/orders/a/b/c") == (None, {})
    assert router.match("GET", "") == (None, {})


def test_parameter_routes_sharing_a_first_segment_are_tried_in_table_order() -> None:
    router = Router([Route("GET", "/things/{a}/special", _handler),
                     Route("GET", "/things/{a}/{b}", _handler),
                     Route("GET", "/other/{a}/{b}", _handler)])
    route, params = router.match("GET", "/things/1/special")
    assert route is not None and route.pattern == "/things/{a}/special" and params == {"a": "1"}
    route, params = router.match("GET", "/things/1/2")
    assert route is not None and route.pattern == "/things/{a}/{b}"
    assert params == {"a": "1", "b": "2"}
    route, _ = router.match("GET", "/other/1/special")
    assert route is not None and route.pattern == "/other/{a}/{b}"


def test_a_pattern_whose_first_segment_is_a_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="first segment must be literal"):
        Router([Route("GET", "/{kind}/list", _handler)])


def _by_patterns(router: Router, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """What the router answered before it looked up last-segment routes: static routes, then
    every parameter route of the first segment's group by its regular expression."""
    if len(path) > 1 and path[-1] == "/":
        path = path[:-1]
    static = {(r.method, r.pattern): r for r in router.routes if "{" not in r.pattern}
    route = static.get((method, path))
    if route is not None:
        return route, {}
    for regex, route in router._dynamic.get((method, path[1:].partition("/")[0]), ()):
        found = regex.match(path)
        if found:
            return route, found.groupdict()
    return None, {}


def test_a_last_segment_parameter_is_found_by_lookup_exactly_as_by_its_pattern() -> None:
    router = Router(ROUTES)
    assert router._last[("DELETE", "/orders")][1] == "order_id"
    segments = sorted({part for route in ROUTES for part in route.pattern.split("/")}
                      | {"", "x", "BTC-USD", "client:a", "a b", "0b7a3c2e", "%2F", "a\n"})
    paths = [f"/{a}" for a in segments] + [f"/{a}/{b}" for a in segments for b in segments]
    paths += [f"/{a}/{b}/{c}" for a in segments[:12] for b in segments for c in segments[:12]]
    paths += [p + "/" for p in paths[:2000]]
    for method in ("GET", "POST", "PUT", "DELETE"):
        for path in paths:
            assert router.match(method, path) == _by_patterns(router, method, path), path


def test_a_last_segment_route_sharing_its_depth_with_another_is_left_to_table_order() -> None:
    router = Router([Route("GET", "/things/{a}/special", _handler),
                     Route("GET", "/things/x/{b}", _handler)])
    assert ("GET", "/things/x") not in router._last  # both match /things/x/special
    route, params = router.match("GET", "/things/x/special")
    assert route is not None and route.pattern == "/things/{a}/special" and params == {"a": "x"}


def test_each_static_route_is_found_by_its_path_then_method_as_by_the_pair() -> None:
    """The static routes are looked up by path, then method (the twentieth pass): every
    static route of the table answers its own (method, path), with and without a trailing
    slash; the same path with another method answers as the pair's table would; a route
    named twice keeps the later, as the pair's dict kept it."""
    router = Router(ROUTES)
    static = [r for r in ROUTES if "{" not in r.pattern]
    assert static
    for route in static:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "get"):
            for path in (route.pattern, route.pattern + "/"):
                assert router.match(method, path) == _by_patterns(router, method, path)
        assert router.match(route.method, route.pattern) == (route, {})
    twice = Router([Route("GET", "/a", _handler), Route("POST", "/a", _handler),
                    Route("GET", "/a", _handler, fills_bucket=True)])
    found, params = twice.match("GET", "/a")
    assert found is not None and found.fills_bucket and params == {}
    found, _ = twice.match("POST", "/a")
    assert found is not None and found.method == "POST"
    assert twice.match("PUT", "/a") == (None, {})
