"""Reports: ``POST /reports`` for fills and account statements, CSV or PDF;
``GET /reports/{id}`` and ``GET /reports``; the file itself at its ``file_url``.

A report covers [start_date, end_date], its end never after its creation (so its rows never
change); its status runs ``pending`` -> ``creating`` -> ``ready`` on the venue clock (half
way, then at ``ready_at``, journaled with it). ``file_url`` is a capability URL on the venue
itself, as Coinbase's presigned one: whoever has it downloads the file, with no signature.
Rows are read when the file is downloaded, from the views ``GET /fills`` and the ledger
read: the same rows, by construction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sandex.api.http import ApiError, FileResponse, Request, Response, json_response
from sandex.api.order_request import product_id_of
from sandex.api.rest import wire
from sandex.api.rest.conversions import own_profile
from sandex.api.rest.pagination import LIMIT_DEFAULT, parse_limit
from sandex.api.rest.report_files import (
    ACCOUNT_COLUMNS,
    CONTENT_TYPES,
    FILLS_COLUMNS,
    ROWS_MAX_CSV,
    ROWS_MAX_PDF,
    render,
)
from sandex.api.rest.routing import VIEW_OR_TRADE, Context, Route
from sandex.core import CreateReport, Report, Side
from sandex.core.events import Rejected
from sandex.errors import Error
from sandex.node import Node
from sandex.timefmt import iso, parse_iso
from sandex.units import AMOUNT_DECIMALS, format_trimmed, price_text

DAY_US = 86_400_000_000
EXPIRES_US = 7 * DAY_US  # expires_at = created_at + 7 days (Coinbase's examples)
TYPES = ("fills", "account")  # of Coinbase's seven, the two sandex has the data for
TOO_LARGE = "Report too large: at most {} rows in {}; narrow start_date and end_date"  # GUESS


def _params(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The report's parameters: the ``fills``/``account`` object (spec), else flat (cbpro)."""
    nested = body.get(kind)
    if nested is None:
        return body
    if not isinstance(nested, dict):
        raise ApiError(Error.INVALID_FIELD, kind)
    return nested


def _date(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    parsed = parse_iso(value) if isinstance(value, str) else None
    if parsed is None:
        raise ApiError(Error.INVALID_FIELD, name)
    return parsed


def _fill_rows(node: Node, report: Report) -> list[tuple[str, ...]]:
    """Every fill of the report's profile (and product) in [start, end], in trade order."""
    profile = node.engine.profiles[report.profile_id]
    products = ([report.product_id] if report.product_id != "ALL"
                else sorted(p for (pid, p) in node.fills.by_product if pid == profile.id))
    rows = []
    for product_id in products:
        product = node.engine.products[product_id]
        for f in node.fills.for_product(profile.id, product_id):
            if report.start <= f.created_at <= report.end:
                value = f.price * f.size
                total = -value - f.fee if f.side is Side.BUY else value - f.fee
                rows.append((f.trade_id, profile.name, product_id, f.side.value.upper(),
                             iso(f.created_at), price_text(f.size), product.base_currency,
                             price_text(f.price), format_trimmed(f.fee, AMOUNT_DECIMALS),
                             format_trimmed(total, AMOUNT_DECIMALS), product.quote_currency))
    rows.sort(key=lambda r: (r[4], r[0]))  # by time, then trade id, across products
    return [(r[1], str(r[0]), *r[2:]) for r in rows]


def _account_rows(node: Node, report: Report) -> list[tuple[str, ...]]:
    """Every ledger entry of the report's account (or all of them) in [start, end]."""
    profile = node.engine.profiles[report.profile_id]
    currencies = [c for c in node.engine.currencies if report.account_id in (
        "ALL", wire.account_id(profile.id, c))]
    entries = sorted((e for c in currencies for e in node.ledger.for_account(profile.id, c)
                      if report.start <= e.time <= report.end), key=lambda e: e.entry_id)
    return [(profile.name, e.kind.value, iso(e.time), format_trimmed(e.amount, AMOUNT_DECIMALS),
             format_trimmed(e.balance, AMOUNT_DECIMALS), e.currency,
             e.transfer_id or "", "" if e.trade_id is None else str(e.trade_id),
             e.order_id or "") for e in entries]


def rows(node: Node, report: Report) -> tuple[Sequence[str], list[tuple[str, ...]]]:
    if report.type == "fills":
        return FILLS_COLUMNS, _fill_rows(node, report)
    return ACCOUNT_COLUMNS, _account_rows(node, report)


async def create_report(app: Context, request: Request) -> Response:
    body = request.json_object()
    kind = body.get("type")
    if kind is None or kind == "":
        raise ApiError(Error.MISSING_FIELD, "type")
    if kind not in TYPES:
        raise ApiError(Error.INVALID_REPORT_TYPE)
    fmt = body.get("format", "pdf")
    if fmt not in ("pdf", "csv"):
        raise ApiError(Error.INVALID_FIELD, "format")
    email = body.get("email")
    if email is not None and not isinstance(email, str):
        raise ApiError(Error.INVALID_FIELD, "email")
    own_profile(request, body.get("profile_id"))
    params = _params(body, kind)
    node = app.node
    now = node.now()
    end = min(_date(params, "end_date", now), now)  # what has happened only: rows never change
    start = _date(params, "start_date", end - 30 * DAY_US)
    if start > end:
        raise ApiError(Error.INVALID_FIELD, "start_date")
    profile_id = request.profile_id
    product_id, account_id = "ALL", "ALL"
    if kind == "fills":
        product_id = product_id_of(params.get("product_id") or "ALL") or "ALL"
        if product_id != "ALL" and product_id not in node.engine.products:
            raise ApiError(Error.INVALID_FIELD, "product_id")
    else:
        account_id = params.get("account_id") or "ALL"
        if account_id != "ALL" and not any(
                wire.account_id(profile_id, c) == account_id for c in node.engine.currencies):
            raise ApiError(Error.INVALID_FIELD, "account_id")
    report_id, token = node.ids.uuid(), node.ids.uuid().replace("-", "")
    seconds = int(app.account.report_seconds * 1_000_000)
    t = node.stamp()
    command = CreateReport(
        time=t, report_id=report_id, token=token, profile_id=profile_id, type=kind,
        format=fmt, ready_at=t + seconds, start=start, end=min(end, t), product_id=product_id,
        account_id=account_id, email=email)
    cap = ROWS_MAX_CSV if fmt == "csv" else ROWS_MAX_PDF
    preview = Report(report_id, token, profile_id, kind, fmt, t, t, start, command.end,
                     product_id, account_id, email)
    if len(rows(node, preview)[1]) > cap:
        raise ApiError(Error.INVALID_FIELD, message=TOO_LARGE.format(cap, fmt))
    events = await node.execute(command)
    if events and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response({"id": report_id, "type": kind, "status": "pending"})


def status(report: Report, now: int) -> str:
    if now >= report.ready_at:
        return "ready"
    return "creating" if now >= (report.created_at + report.ready_at) // 2 else "pending"


def report_json(app: Context, request: Request, report: Report) -> dict[str, Any]:
    node = app.node
    state = status(report, node.now())
    profile = node.engine.profiles[report.profile_id]
    ready = state == "ready"
    host = request.headers.get("host", "127.0.0.1")
    return {
        "id": report.id, "type": report.type, "status": state,
        "created_at": iso(report.created_at),
        "completed_at": iso(report.ready_at) if ready else None,
        "expires_at": iso(report.created_at + EXPIRES_US),
        "user_id": profile.user_id,
        "file_url": (f"http://{host}/reports/{report.id}/file/{report.token}.{report.format}"
                     if ready else None),
        "params": {"start_date": iso(report.start), "end_date": iso(report.end),
                   "format": report.format, "product_id": report.product_id,
                   "account_id": report.account_id, "profile_id": report.profile_id,
                   "email": report.email, "new_york_state": False},
        "file_count": None,
    }


def _mine(app: Context, request: Request) -> list[Report]:
    return [r for r in app.node.engine.reports.values() if r.profile_id == request.profile_id]


async def get_report(app: Context, request: Request, report_id: str) -> Response:
    report = app.node.engine.reports.get(report_id)
    if report is None or report.profile_id != request.profile_id:
        raise ApiError(Error.NOT_FOUND)
    return json_response(report_json(app, request, report))


async def list_reports(app: Context, request: Request) -> Response:
    """Newest first; ``after``: created before it; ``type``, ``ignore_expired``, ``limit``."""
    own_profile(request, request.param("profile_id") or request.param("portfolio_id"))
    reports = _mine(app, request)
    kind = request.param("type")
    if kind:
        reports = [r for r in reports if r.type == kind]
    after = request.param("after")
    if after:
        cursor = parse_iso(after)
        if cursor is None:
            raise ApiError(Error.AFTER_CURSOR)
        reports = [r for r in reports if r.created_at < cursor]
    if request.param("ignore_expired") == "true":
        now = app.node.now()
        reports = [r for r in reports if r.created_at + EXPIRES_US > now]
    limit = parse_limit(request) if request.param("limit") else LIMIT_DEFAULT
    return json_response([report_json(app, request, r) for r in reversed(reports)][:limit])


async def download(app: Context, request: Request, report_id: str, name: str) -> Response:
    """The file at a ``file_url``: 404 ``NotFound`` unless the token is right, the report
    ready and not expired."""
    report = app.node.engine.reports.get(report_id)
    now = app.node.now()
    if (report is None or name != f"{report.token}.{report.format}"
            or status(report, now) != "ready" or now >= report.created_at + EXPIRES_US):
        raise ApiError(Error.NOT_FOUND)
    columns, lines = rows(app.node, report)
    title = f"{report.type} report {report.id}"
    body = await asyncio.to_thread(render, report.format, title, columns, lines,
                                   report.created_at)
    disposition = f'attachment; filename="{report.id}.{report.format}"'.encode()
    return FileResponse(body, CONTENT_TYPES[report.format],
                        headers=[(b"content-disposition", disposition),
                                 (b"cache-control", b"no-store")])


ROUTES = [
    Route("POST", "/reports", create_report, VIEW_OR_TRADE),
    Route("GET", "/reports", list_reports, VIEW_OR_TRADE),
    Route("GET", "/reports/{report_id}", get_report, VIEW_OR_TRADE),
    Route("GET", "/reports/{report_id}/file/{name}", download),
]
