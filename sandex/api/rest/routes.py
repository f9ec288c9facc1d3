"""The REST route table: every route the gateway serves, in one list (docs: ``GET /openapi.json``).

Handlers live by subject (``market``, ``accounts``, ``orders``); ``openapi`` describes this
same list, so a route cannot be served without being described.
"""

from __future__ import annotations

from sandex.api.rest import accounts, funding, market, openapi, orders, transfers
from sandex.api.rest.routing import Route

ROUTES: tuple[Route, ...] = (*market.ROUTES, *accounts.ROUTES, *orders.ROUTES,
                             *transfers.ROUTES, *funding.ROUTES, openapi.ROUTE)
