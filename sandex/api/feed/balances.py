"""The ``balance`` channel's state: which accounts are watched, which changed, what was sent.

Coinbase (2024): an authenticated subscriber names its own accounts (``account_ids``) and
gets ``{"type":"balance", account_id, currency, holds, available, updated, timestamp}`` for
each; "it does not track every update". Here (GUESS where the docs are silent):

* one message per account right after the ``subscriptions`` reply;
* then, every ``balance_interval_s``, one message per watched account whose ``holds`` or
  ``available`` differs from what was last sent, with the latest figures (changes in between
  are coalesced); ``updated`` is the venue time of the last command that touched the account's
  profile (at subscribe: the subscribe time), ``timestamp`` the venue time of sending;
* figures are read from the engine only when no applied command is still being written
  (``Node.in_flight``), so a message never shows what is not yet durable; a tick that finds
  commands in flight waits for the next one.

Amounts print trimmed (``"1000.23"``, as the docs' example). Cost on the order path while
nobody watches balances: one dict test per command (``Balances.on_events``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sandex.core import Account, Event, Matched
from sandex.node import Node
from sandex.timefmt import iso
from sandex.units import AMOUNT_DECIMALS, format_trimmed

_ACCOUNT_NAMESPACE = uuid.UUID("6f1d3b0a-0c3e-4a57-9a52-5e0a5d1c7b10")  # as REST's accounts


def account_id(profile_id: str, currency: str) -> str:
    """The account's id as ``GET /accounts`` shows it (``sandex.api.rest.wire.account_id``:
    a UUID 5 of the pair; ``tests/feed/test_balance.py`` checks the two agree)."""
    return str(uuid.uuid5(_ACCOUNT_NAMESPACE, f"{profile_id}:{currency}"))


class Balances:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.watched: dict[str, tuple[str, str]] = {}  # account id -> (profile id, currency)
        self.by_profile: dict[str, dict[str, str]] = {}  # profile -> account id -> currency
        self.changed: dict[str, int] = {}  # profile -> venue time of its last change (µs)
        self.updated: dict[str, int] = {}  # account id -> its ``updated`` time
        self.sent: dict[str, tuple[int, int]] = {}  # account id -> (balance, hold) last sent
        self.pending: dict[str, None] = {}  # accounts whose first message waits (in flight)

    def accounts_of(self, profile_id: str) -> dict[str, str]:
        """Every account id of the profile (one per venue currency) -> its currency."""
        return {account_id(profile_id, c): c for c in self.node.engine.currencies}

    def watch(self, account: str, profile_id: str, currency: str) -> None:
        self.watched[account] = (profile_id, currency)
        self.by_profile.setdefault(profile_id, {})[account] = currency
        self.updated.setdefault(account, self.node.now())

    def unwatch(self, account: str) -> None:
        """Nobody watches ``account`` any more."""
        owner = self.watched.pop(account, None)
        if owner is None:
            return
        mine = self.by_profile.get(owner[0])
        if mine is not None:
            mine.pop(account, None)
            if not mine:
                del self.by_profile[owner[0]]
        self.updated.pop(account, None)
        self.sent.pop(account, None)
        self.pending.pop(account, None)

    def on_events(self, events: list[Event]) -> None:
        """Note the watched profiles a durable command touched."""
        watching = self.by_profile
        if not watching:
            return
        for event in events:
            if type(event) is Matched:
                for profile_id in (event.maker_profile_id, event.taker_profile_id):
                    if profile_id in watching:
                        self.changed[profile_id] = event.time
            else:
                owner = getattr(event, "profile_id", None)
                if owner in watching:
                    self.changed[owner] = event.time  # type: ignore[attr-defined]

    def first(self, account: str) -> dict[str, Any] | None:
        """The message right after subscribing, or ``None`` while commands are in flight
        (``due`` sends it with the next tick)."""
        if self.node.in_flight:
            self.pending[account] = None
            return None
        return self._message(account)

    def due(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(account id, message)`` for each watched account that changed since it was last
        sent (and each first message still pending); nothing while commands are in flight."""
        if self.node.in_flight or not (self.changed or self.pending):
            return
        changed, self.changed = self.changed, {}
        for profile_id, time in changed.items():
            for account in self.by_profile.get(profile_id, {}):
                self.updated[account] = time
                figures = self._figures(account)
                if figures != self.sent.get(account) or account in self.pending:
                    yield account, self._message(account)
        pending, self.pending = self.pending, {}
        for account in pending:
            if account in self.watched and account not in self.sent:
                yield account, self._message(account)

    def _figures(self, account: str) -> tuple[int, int]:
        profile_id, currency = self.watched[account]
        profile = self.node.engine.profiles.get(profile_id)
        held = profile.accounts.get(currency) if profile is not None else None
        found = held if held is not None else Account(profile_id, currency)
        return found.balance, found.hold

    def _message(self, account: str) -> dict[str, Any]:
        balance, hold = self.sent[account] = self._figures(account)
        self.pending.pop(account, None)
        return {"type": "balance", "account_id": account, "currency": self.watched[account][1],
                "holds": format_trimmed(hold, AMOUNT_DECIMALS),
                "available": format_trimmed(balance - hold, AMOUNT_DECIMALS),
                "updated": iso(self.updated.get(account, self.node.now())),
                "timestamp": iso(self.node.now())}
