"""The REST route table: every route the gateway serves, in one list (docs: ``GET /openapi.json``).

Handlers live by subject (``market``, ``accounts``, ``orders``); ``openapi`` describes this
same list, so a route cannot be served without being described.
"""

from __future__ import annotations

from sandex.api.rest import (
    accounts,
    conversions,
    funding,
    market,
    openapi,
    orders,
    profiles,
    reports,
    transfers,
    travel_rules,
    volumes,
)
from sandex.api.rest.routing import Route

ROUTES: tuple[Route, ...] = (
    *market.ROUTES, *accounts.ROUTES, *orders.ROUTES, openapi.ROUTE,
    # issue 16: deposits, withdrawals and transfers with the simulated outside world
    *transfers.ROUTES, *funding.ROUTES, *travel_rules.ROUTES,
    # issue 16: conversions, profile writes, reports, volumes
    *conversions.ROUTES, *profiles.ROUTES, *reports.ROUTES, *volumes.ROUTES,
)
