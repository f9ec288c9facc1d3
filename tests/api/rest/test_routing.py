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
