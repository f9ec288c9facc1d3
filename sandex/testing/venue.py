"""``Venue``: a running sandex seen from a test, through its REST API and admin endpoint.

Everything goes over HTTP (``/admin/...`` with the admin token, loopback only), so the same
object drives a venue the pytest plugin started or one started by hand. A refusal raises
``VenueError`` carrying the venue's ``{"message"}``; the venue changed nothing then.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandex.testing.http import Http
from sandex.testing.replay import Replay
from sandex.testing.setup import EPOCH, Credentials, default_keys, utc_text
from sandex.timefmt import parse_iso


def _duration(by: str | timedelta | float) -> str:
    """``by`` as the admin endpoint's duration text: ``"90s"`` as is, a timedelta or a
    number of seconds in milliseconds (a negative one is refused by the venue)."""
    if isinstance(by, str):
        return by
    micros = by // timedelta(microseconds=1) if isinstance(by, timedelta) else round(by * 1e6)
    return f"{'-' if micros < 0 else ''}{abs(micros) / 1000:.3f}ms"


class Clock:
    """The venue clock (``/admin/clock...``): each move answers the clock as it now is."""

    def __init__(self, admin: Http) -> None:
        self._admin = admin

    def get(self) -> dict[str, Any]:
        """``{"mode", "now", "epoch", "rate", "frozen", "next_due"}``."""
        answer: dict[str, Any] = self._admin.get("/admin/clock")
        return answer

    @property
    def now(self) -> datetime:
        """Venue time, as an aware UTC datetime."""
        micros = parse_iso(self.get()["now"])
        assert micros is not None
        return EPOCH + timedelta(microseconds=micros)

    def freeze(self) -> dict[str, Any]:
        """Stop the clock (a virtual clock at rate 0): nothing expires, no bucket refills."""
        answer: dict[str, Any] = self._admin.post("/admin/clock.freeze", {})
        return answer

    def rate(self, rate: float) -> dict[str, Any]:
        """Run the clock ``rate`` times real time from now (0: frozen)."""
        answer: dict[str, Any] = self._admin.post("/admin/clock.rate", {"rate": rate})
        return answer

    def advance(self, by: str | timedelta | float | None = None, *,
                to: datetime | str | None = None, until: str | None = None) -> dict[str, Any]:
        """Move forward ``by`` (``"90s"``, ``"1h30m"``, a timedelta, seconds), ``to`` a time,
        or ``until="next-expiry"``; GTT orders due on the way expire at their own time.
        The answer's ``fired.expiries`` counts them."""
        args: dict[str, Any] = {}
        if by is not None:
            args["by"] = _duration(by)
        if to is not None:
            args["to"] = to if isinstance(to, str) else utc_text(to)
        if until is not None:
            args["until"] = until
        answer: dict[str, Any] = self._admin.post("/admin/clock.advance", args)
        return answer


Listing = list[dict[str, Any]]
Ids = list[str]


class Faults:
    """The venue's fault rules (``/admin/fault.*``, docs/testing.md "Faults"): a rule is the
    same dict as a scenario's ``[[faults]]`` table or the admin endpoint's JSON body."""

    def __init__(self, admin: Http) -> None:
        self._admin = admin

    def add(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Install ``rule`` after the others; a bad one raises ``VenueError`` (400) saying
        why, and nothing changes. Returns the rule as listed."""
        answer: dict[str, Any] = self._admin.post("/admin/fault.add", rule)
        return answer

    def replace(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Put ``rule`` in place of the installed rule with its ``id`` (same place in the
        order, counters anew); ``VenueError`` if none has it or ``rule`` is bad."""
        answer: dict[str, Any] = self._admin.post("/admin/fault.replace", rule)
        return answer

    def list(self) -> Listing:
        """The rules in order, each with ``matched`` and ``fired`` counts."""
        answer: Listing = self._admin.get("/admin/fault.list")
        return answer

    def clear(self, rule_id: str | None = None) -> Ids:
        """Remove every rule, or the one with ``rule_id``; the ids removed."""
        body = {} if rule_id is None else {"id": rule_id}
        answer: dict[str, Any] = self._admin.post("/admin/fault.clear", body)
        cleared: Ids = answer["cleared"]
        return cleared

    def log(self) -> Listing:
        """The firings, oldest first: ``rule``, venue ``time``, ``action``, and the
        ``request`` (method, path, key) or feed ``connection``."""
        answer: Listing = self._admin.get("/admin/fault.log")
        return answer

    def preset(self, name: str, seed: int | None = None) -> Listing:
        """Install preset ``name``'s rules (their random streams seeded with ``seed``)."""
        body: dict[str, Any] = {"name": name} if seed is None else {"name": name, "seed": seed}
        answer: Listing = self._admin.post("/admin/fault.preset", body)
        return answer


class _HoldList:
    """One hold list of the venue (``/admin/<prefix>.*``): what it holds, in arrival order,
    as ``{"id", "method", "path", "key", "client_oid", "order_id", "summary", "waited_ms"}``."""

    def __init__(self, admin: Http, prefix: str) -> None:
        self._admin = admin
        self._prefix = prefix

    def _hold(self, close: str, match: dict[str, Any] | None) -> dict[str, Any]:
        answer: dict[str, Any] = self._admin.post(f"/admin/{self._prefix}.{close}",
                                                  {"match": match or {}})
        return answer

    def held(self) -> list[dict[str, Any]]:
        answer: dict[str, Any] = self._admin.get(f"/admin/{self._prefix}.held")
        return list(answer["held"])

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The held list once it holds at least ``count`` (``TimeoutError`` after
        ``timeout`` seconds): a request sent from another thread is held once listed."""
        deadline = time.monotonic() + timeout
        while len(held := self.held()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(held)} held after {timeout} s, not {count}")
            time.sleep(0.005)
        return held

    def release(self, ids: Sequence[int] | None = None, n: int | None = None,
                all: bool = False) -> dict[str, Any]:
        """Let held entries go, in the order given (``ids``), the oldest ``n``, or ``all``;
        answers once what they applied is durable: ``{"released": [ids], ...}``."""
        args: dict[str, Any] = {"all": True} if all else {}
        if ids is not None:
            args["ids"] = list(ids)
        if n is not None:
            args["n"] = n
        answer: dict[str, Any] = self._admin.post(f"/admin/{self._prefix}.release", args)
        return answer

    def open(self) -> dict[str, Any]:
        """Stop holding and release everything held, in arrival order."""
        answer: dict[str, Any] = self._admin.post(f"/admin/{self._prefix}.open", {})
        return answer


class Gate(_HoldList):
    """The gate in front of the sequencer: held order requests are not applied yet."""

    def close(self, match: dict[str, Any] | None = None) -> dict[str, Any]:
        """Hold order requests matching ``match`` (``type``: place, cancel, cancel_all;
        ``order_id``, ``client_oid``, ``key``, ``profile``, ``product_id``; ``{}``: all)."""
        return self._hold("close", match)


class Replies(_HoldList):
    """Reply holds: matching order requests are applied at once, their answers wait."""

    def hold(self, match: dict[str, Any] | None = None) -> dict[str, Any]:
        """Hold the replies of order requests matching ``match`` (as ``Gate.close``)."""
        return self._hold("hold", match)


class FeedHolds:
    """Feed holds: frames for matching WebSocket connections stay queued until released."""

    def __init__(self, admin: Http) -> None:
        self._admin = admin

    def hold(self, match: dict[str, Any]) -> dict[str, Any]:
        """Hold frames of connections matching ``match``: ``connection`` (an id of
        ``held()``'s list), ``key`` or ``profile`` (of an authenticated subscribe)."""
        answer: dict[str, Any] = self._admin.post("/admin/feed.hold", {"match": match})
        return answer

    def held(self) -> dict[str, Any]:
        """``{"matches": [...], "held": [{"connection", "client", "key", "profile",
        "queued"}]}``."""
        answer: dict[str, Any] = self._admin.get("/admin/feed.held")
        return answer

    def release(self, match: dict[str, Any] | None = None, all: bool = False
                ) -> dict[str, Any]:
        """Drop the hold ``match`` (or every hold): the queued frames go out."""
        args: dict[str, Any] = {"all": True} if all else {"match": match}
        answer: dict[str, Any] = self._admin.post("/admin/feed.release", args)
        return answer


class Venue:
    """A sandex venue at ``url`` (``http://127.0.0.1:PORT``) with its admin token.

    ``keys`` are its scenario's trading keys, trader first then counterparty (default: those
    of the packaged ``testing.toml``, the plugin's default starting state).
    """

    def __init__(self, url: str, admin_token: str, *,
                 keys: Sequence[Credentials] | None = None) -> None:
        self.rest_url = url.rstrip("/")
        self.ws_url = "ws" + self.rest_url.removeprefix("http")
        self._admin = Http(self.rest_url, {"Authorization": f"Bearer {admin_token}"})
        self._public = Http(self.rest_url)
        self.clock = Clock(self._admin)
        self.faults = Faults(self._admin)
        self.gate = Gate(self._admin, "gate")
        self.replies = Replies(self._admin, "reply")
        self.feed = FeedHolds(self._admin)
        self.replay = Replay(self._admin)
        self._keys = tuple(default_keys() if keys is None else keys)

    @property
    def credentials(self) -> Credentials:
        """The trader's key: sign with it, or hand it to ``ccxt()``."""
        return self._key(0, "a profile with a trading key")

    @property
    def counterparty(self) -> Credentials:
        """A second funded profile's key, to trade against the trader."""
        return self._key(1, "two profiles with trading keys")

    def _key(self, index: int, wanted: str) -> Credentials:
        if index >= len(self._keys):
            raise LookupError(f"this venue's scenario has no {wanted}")
        return self._keys[index]

    # -- admin ----------------------------------------------------------------------------------
    def admin(self, command: str, **args: Any) -> Any:
        """``POST /admin/<command>`` with ``args`` (any admin command of docs/cli.md)."""
        return self._admin.post(f"/admin/{command}", args)

    def fund(self, currency: str, amount: Decimal | str | int,
             profile: str | Credentials | None = None) -> dict[str, Any]:
        """Deposit ``amount`` of ``currency`` to ``profile`` (default: the trader's)."""
        if isinstance(profile, Credentials) or profile is None:
            profile = (profile or self.credentials).profile_id
        answer: dict[str, Any] = self.admin("deposit", profile=profile, currency=currency,
                                            amount=format(Decimal(str(amount)), "f"))
        return answer

    def receive_crypto(self, address: str, amount: Decimal | str | int,
                       delay: str | None = None) -> dict[str, Any]:
        """A crypto deposit of ``amount`` arrives at deposit ``address`` (from
        ``POST /coinbase-accounts/{id}/addresses``): pending until the venue clock passes
        the scenario's ``crypto_deposit_delay`` (or ``delay``, e.g. ``"10m"``)."""
        args: dict[str, Any] = {"address": address, "amount": format(Decimal(str(amount)), "f")}
        if delay is not None:
            args["delay"] = delay
        answer: dict[str, Any] = self.admin("crypto.receive", **args)
        return answer

    def inject(self, profile: str | Credentials, command: dict[str, Any]) -> Any:
        """Run ``command`` as ``profile`` past the gate, journaled like a REST request:
        ``{"place": {...POST /orders body}}``, ``{"cancel": {"order_id": ID or
        "client:OID", "product_id"?}}`` or ``{"cancel_all": {"product_id"?}}``. Answers
        what REST would (the order; the canceled id(s)); a refusal raises ``VenueError``
        with REST's message."""
        if isinstance(profile, Credentials):
            profile = profile.profile_id
        return self._admin.post("/admin/inject", {"profile": profile, "command": command})

    def book(self, product: str, level: int = 2) -> dict[str, Any]:
        """``GET /products/<product>/book?level=N``, a public request (rate-limited as any)."""
        answer: dict[str, Any] = self._public.get(f"/products/{product}/book?level={level}")
        return answer

    def snapshot(self, name: str) -> dict[str, Any]:
        """Save the whole venue as ``name`` (in memory): ``{"name", "position", "time",
        "state_hash"}``."""
        answer: dict[str, Any] = self.admin("snapshot.save", name=name)
        return answer

    def snapshots(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self._admin.get("/admin/snapshot.list")
        return answer

    def restore(self, name: str) -> dict[str, Any]:
        """Put the venue back as snapshot ``name`` was: balances, orders, books, sequences,
        clock; every WebSocket is closed (code 1012) and rate-limit buckets are refilled."""
        answer: dict[str, Any] = self.admin("snapshot.restore", name=name)
        return answer

    def reset(self) -> dict[str, Any]:
        """Restore ``baseline``: the venue as its scenario loaded it."""
        answer: dict[str, Any] = self.admin("reset")
        return answer

    def state(self) -> dict[str, Any]:
        """``{"position", "state_hash", "time"}``."""
        answer: dict[str, Any] = self._admin.get("/admin/state")
        return answer

    def state_hash(self) -> str:
        return str(self.state()["state_hash"])

    def trace(self, order_id: str | None = None, client_oid: str | None = None,
              request_id: str | None = None, after: str | None = None,
              refused: bool = False) -> list[dict[str, Any]]:
        """REST request traces, oldest first: everything that touched ``order_id`` or
        ``client_oid`` (the requests that named, placed or filled it, and the commands no
        request made, ``request_id`` ``None``), request ``request_id`` (the
        ``X-Sandex-Request-Id`` header), or every request after ``after`` (``refused``: only
        those answered 400 or more). Each: ``request_id``, ``time``, ``method``, ``target``,
        ``key``, ``order_id``, ``client_oid``, ``status``, ``message``, ``rule`` (the error
        table's name of a refusal), ``position`` (journal), ``ms``, ``detail``, ``auth``,
        ``rate_limit``, ``faults``, ``gate``, ``reply_hold``, ``commands`` (docs/testing.md,
        "Trace")."""
        args: dict[str, Any] = {name: value for name, value in (
            ("order_id", order_id), ("client_oid", client_oid), ("request_id", request_id),
            ("after", after)) if value is not None}
        if refused:
            args["refused"] = True
        answer: list[dict[str, Any]] = self.admin("trace", **args)
        return answer

    def newest_request(self) -> str:
        """The id of the venue's latest REST request (``r-000000`` before the first)."""
        return str(self.admin("trace", newest=True)["request_id"])

    def explain(self, body: dict[str, Any],
                credentials: Credentials | None = None) -> dict[str, Any]:
        """What ``POST /orders`` with ``body`` would answer for ``credentials`` (default: the
        trader's), and why: a dry run that changes nothing (``docs/testing.md``)."""
        creds = credentials or self.credentials
        answer: dict[str, Any] = self.admin("explain", key=creds.key, request=body)
        return answer

    # -- clients --------------------------------------------------------------------------------
    def ccxt(self, credentials: Credentials | None = None, **options: Any) -> Any:
        """A ``ccxt.coinbaseexchange`` signed with ``credentials`` (default: the trader's),
        pointed at this venue, its own throttle off (the venue's limits apply)."""
        try:
            ccxt = importlib.import_module("ccxt")
        except ImportError:
            raise ImportError("Venue.ccxt() needs ccxt: pip install ccxt") from None
        creds = credentials or self.credentials
        exchange = ccxt.coinbaseexchange({"apiKey": creds.key, "secret": creds.secret,
                                          "password": creds.passphrase,
                                          "enableRateLimit": False, "timeout": 10000,
                                          **options})
        exchange.urls["api"] = {"public": self.rest_url, "private": self.rest_url}
        return exchange

    def close(self) -> None:
        """Close the kept-alive connections (the venue keeps running)."""
        self._admin.close()
        self._public.close()
