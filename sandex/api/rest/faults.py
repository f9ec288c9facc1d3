"""The REST layer's fault actions: what a request gets when a ``rest`` rule fires on it.

``RestApp.handle`` comes here only while the venue has ``rest`` rules (otherwise a request
pays one test of an empty list). A request is matched on its method, path, API key (the
``CB-ACCESS-KEY`` header as sent, before any check) and product (the ``/products/<id>`` of
its path, its ``product_id`` query parameter or JSON field), before routing, auth and rate
limits. Actions:

* ``status``, ``reject_before_accept``: answered ``{"message"}`` with the status; not applied.
* ``delay``: the request waits ``ms`` of real time, then is served.
* ``accept_then_timeout``: served (applied, and durable: a handler answers only after the
  fsync), then after ``hold_ms`` the reply is withheld: the connection closed (``close``),
  answered 504 ``{"message": "Gateway Timeout"}`` or a 502 HTML page (``502-html``).
* ``accept_then_error``: served, then answered with the rule's 5xx instead.
* ``reset``: the connection is reset (TCP RST) before the request is applied.
* ``stale_read``: a GET answered with the answer the same key got for the same target ``lag``
  reads earlier (see ``StaleReads``); the fresh answer is still computed and remembered.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from sandex.api.http import (
    Abort,
    HtmlResponse,
    Request,
    Response,
    error_response,
    message_response,
)
from sandex.errors import Error
from sandex.faults import Armed, FaultSet
from sandex.faults.actions import STALE_LAG_MAX

STALE_TARGETS_MAX = 1_024
"""(key, target) pairs whose recent GET answers are kept while a ``stale_read`` rule exists,
each with its last ``STALE_LAG_MAX`` answers; the least recently read is forgotten first."""

BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n")
"""What a load balancer in front of an exchange answers when the backend did not."""

Serve = Callable[[Request], Awaitable[Response]]


class StaleReads:
    """The last 200 answers to each (API key, GET target), newest last: the older views a
    ``stale_read`` serves. Only filled while a ``stale_read`` rule is installed."""

    def __init__(self) -> None:
        self._answers: OrderedDict[tuple[str, str], deque[Response]] = OrderedDict()

    def clear(self) -> None:
        self._answers.clear()

    def remember(self, request: Request, response: Response, lag: int | None) -> Response:
        """Keep ``response``; with a ``lag``, answer the one ``lag`` reads older instead
        (``response`` itself if there is none that old)."""
        key = (request.headers.get("cb-access-key", ""), request.target)
        answers = self._answers.get(key)
        if answers is None:
            answers = self._answers[key] = deque(maxlen=STALE_LAG_MAX)
            if len(self._answers) > STALE_TARGETS_MAX:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        served = response
        if lag is not None and len(answers) >= lag:
            served = answers[-lag]
        if response.status == 200:
            answers.append(response)
        return served


class RestFaults:
    """Executes the ``rest`` rules of ``faults`` around ``serve`` (the normal dispatch)."""

    def __init__(self, faults: FaultSet, serve: Serve) -> None:
        self.faults = faults
        self.rules = faults.layer("rest")
        self.serve = serve
        self.stale = StaleReads()
        self.recording = False  # a stale_read rule is installed: remember GET answers
        faults.listeners.append(self._changed)

    def _changed(self) -> None:
        self.recording = any(armed.rule.kind == "stale_read" for armed in self.rules)
        if not self.recording:
            self.stale.clear()

    async def handle(self, request: Request) -> Response:
        armed = self.faults.fire(self.rules, _target(request), lambda: {"request": {
            "method": request.method, "path": request.path,
            "key": request.headers.get("cb-access-key")}})
        if armed is None:
            return await self._served(request)
        return await ACTIONS[armed.rule.kind](self, armed, request)

    async def _served(self, request: Request) -> Response:
        response = await self.serve(request)
        if self.recording and request.method == "GET":
            self.stale.remember(request, response, None)
        return response


def _target(request: Request) -> Callable[[str], str | None]:
    def value(name: str) -> str | None:
        if name == "method":
            return request.method
        if name == "path":
            return request.path
        if name == "key":
            return request.headers.get("cb-access-key")
        return _product(request)

    return value


def _product(request: Request) -> str | None:
    parts = request.path.split("/")
    if len(parts) > 2 and parts[1] == "products":
        return parts[2]
    found = request.param("product_id")
    if found is None and request.body:
        try:
            body = request.json()
        except Exception:  # a bad body is the handler's to refuse, not the matcher's
            return None
        found = body.get("product_id") if isinstance(body, dict) else None
    return found if isinstance(found, str) else None


# -- the actions ----------------------------------------------------------------------------
Action = Callable[[RestFaults, Armed, Request], Awaitable[Response]]


async def _status(faults: RestFaults, armed: Armed, request: Request) -> Response:
    params = armed.rule.params
    return message_response(params["message"], params["status"])


async def _delay(faults: RestFaults, armed: Armed, request: Request) -> Response:
    await asyncio.sleep(armed.rule.params["ms"] / 1000)
    return await faults._served(request)


async def _accept_then_timeout(faults: RestFaults, armed: Armed, request: Request) -> Response:
    params = armed.rule.params
    served = await faults._served(request)
    faults.faults.note(armed, f"applied: {served.status}")
    if params["hold_ms"]:
        await asyncio.sleep(params["hold_ms"] / 1000)
    then = params["then"]
    if then == "close":
        return Abort(reset=False)
    if then == "504":
        return error_response(Error.GATEWAY_TIMEOUT)
    return HtmlResponse(BAD_GATEWAY_PAGE, 502)


async def _accept_then_error(faults: RestFaults, armed: Armed, request: Request) -> Response:
    served = await faults._served(request)
    faults.faults.note(armed, f"applied: {served.status}")
    return await _status(faults, armed, request)


async def _reset(faults: RestFaults, armed: Armed, request: Request) -> Response:
    return Abort(reset=True)


async def _stale_read(faults: RestFaults, armed: Armed, request: Request) -> Response:
    if request.method != "GET":
        faults.faults.note(armed, "not a GET: served fresh")
        return await faults._served(request)
    response = await faults.serve(request)
    served = faults.stale.remember(request, response, armed.rule.params["lag"])
    if served is response:
        faults.faults.note(armed, "no older answer: served fresh")
    return served


ACTIONS: dict[str, Action] = {  # a test checks these are the ``rest`` layer's kinds
    "status": _status,
    "reject_before_accept": _status,
    "delay": _delay,
    "accept_then_timeout": _accept_then_timeout,
    "accept_then_error": _accept_then_error,
    "reset": _reset,
    "stale_read": _stale_read,
}

