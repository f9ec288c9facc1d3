"""The hub: who is subscribed to what, and the fan-out of each durable command's messages.

Sans-I/O apart from ``Session.push`` (a deque append): the endpoint feeds it client text
(``handle``), the node feeds it durable events (``on_events``, a node listener), and timers
call ``heartbeats``/``flush_level2_batch``/``flush_ticker_batch``/``send_status``.

Ordering guarantees, per connection:

* every message of a command leaves after every message of the commands before it (the node
  calls listeners in command order, and each connection has one FIFO queue);
* a subscribe's reply, snapshot, ticker and ``last_match`` are queued in the same step that
  registers the subscription, with no await in between, so the snapshot is exactly the state
  after the last command already delivered and the next update applies on top of it;
* ``full``/``level3`` carry every sequence number of the product, so they have no gaps.

Each frame is encoded once and shared by all its recipients; only copies that carry a
subscriber's own fields (``full``, ``user``, authenticated ``matches``) are rendered per
profile, once per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sandex.api.clocks import SignatureClock
from sandex.api.feed import render
from sandex.api.feed.auth import Identity, verify
from sandex.api.feed.balances import Balances
from sandex.api.feed.protocol import (
    AUTH_REQUIRED,
    BALANCE,
    CHANNELS,
    FULL,
    HEARTBEAT,
    LEVEL2,
    LEVEL2_BATCH,
    LEVEL3,
    MATCHES,
    STATUS,
    TICKER,
    TICKER_BATCH,
    USER,
    Failure,
    error,
    parse,
    subscriptions,
)
from sandex.api.feed.session import Session, push_all
from sandex.api.feed.state import FeedState, Level
from sandex.core import (
    Activated,
    Changed,
    CurrencyAdded,
    Done,
    Event,
    Matched,
    Opened,
    ProductUpdated,
    Received,
)
from sandex.errors import Error
from sandex.node import Node

ORDER_EVENTS = frozenset({Received, Opened, Done, Matched, Changed, Activated})
_ANY_PRODUCT = ""  # the index key of ``status`` (it takes no product ids)
_LEVEL3_SCHEMA = render.encode({"type": "level3", "schema": render.LEVEL3_SCHEMA})


class Hub:
    def __init__(self, node: Node, signature_clock: SignatureClock,
                 subscription_limit: int | None = None) -> None:
        self.node = node
        self.signature_clock = signature_clock  # for the ±30 s signature window
        self.subscription_limit = subscription_limit  # §9.4 per product and channel, or None
        self.state = FeedState(node.engine, node.market)
        self.balances = Balances(node)  # the ``balance`` channel's accounts and figures
        # (owner, channel, product or account id) -> subscriptions, and who owns each one
        self._counts: dict[tuple[str, str, str], int] = {}
        self._owners: dict[tuple[Session, str, str], str] = {}
        # channel -> product id -> subscribed sessions (a dict used as an ordered set)
        self.index: dict[str, dict[str, dict[Session, None]]] = {c: {} for c in CHANNELS}
        # profile id -> its authenticated sessions (whose own orders get their own copies)
        self.by_profile: dict[str, dict[Session, None]] = {}
        self._level2_pending: dict[str, tuple[dict[Level, None], int]] = {}
        self._tickers_changed: dict[str, None] = {}

    # -- client messages ---------------------------------------------------------------------
    def handle(self, session: Session, text: str | bytes) -> None:
        """Apply one (un)subscribe and queue its answers (§9.2, §9.3)."""
        result = parse(text, self.state.products)
        if isinstance(result, Failure):
            session.push(render.encode(error(result.message, result.reason)))
            return
        if result.credentials is not None:
            who = verify(result.credentials, self.node.keys, self.node.engine.profiles,
                         self.signature_clock())
            if isinstance(who, Failure):
                session.push(render.encode(error(who.message, who.reason)))
                return
            self._identify(session, who)
        added: dict[str, list[str]] = {}
        if result.subscribe:
            if session.identity is None and not AUTH_REQUIRED.isdisjoint(result.channels):
                session.push(render.encode(error(Error.FEED_SUBSCRIBE_FAILED,
                                                 Error.FEED_AUTH_REQUIRED.format())))
                return
            refused = self._refusal(session, result.channels)
            if refused is not None:
                session.push(render.encode(error(Error.FEED_SUBSCRIBE_FAILED, refused)))
                return
            added = self._subscribe(session, result.channels)
        else:
            self._unsubscribe(session, result.channels)
        session.accepted = True
        session.push(render.encode(subscriptions(session.channels())))
        self._first_messages(session, added)

    def _identify(self, session: Session, who: Identity) -> None:
        """``session`` is ``who``'s from now on (a later signed subscribe may change it)."""
        self._unidentify(session)
        session.identity = who
        self.by_profile.setdefault(who.profile_id, {})[session] = None

    def _unidentify(self, session: Session) -> None:
        old = session.identity
        if old is not None:
            mine = self.by_profile.get(old.profile_id)
            if mine is not None:
                mine.pop(session, None)
                if not mine:
                    del self.by_profile[old.profile_id]

    def _refusal(self, session: Session, channels: dict[str, list[str]]) -> str | None:
        """Why a subscribe is refused as a whole (``balance`` rules, §9.4 limit), or None."""
        accounts = channels.get(BALANCE)
        if accounts is not None:
            if session.identity is None:
                return Error.FEED_BALANCE_AUTH_REQUIRED.format()
            owned = self.balances.accounts_of(session.identity.profile_id)
            if any(a not in owned for a in accounts):
                return Error.FEED_INVALID_ACCOUNTS.format()
        limit = self.subscription_limit
        if limit is None:
            return None
        owner = _owner(session)
        for channel, ids in channels.items():
            mine = session.subscriptions.get(channel, {})
            for product_id in ids:
                if product_id not in mine and \
                        self._counts.get((owner, channel, product_id), 0) >= limit:
                    return Error.FEED_SUBSCRIPTION_LIMIT.format(limit, product_id, channel)
        return None

    def _subscribe(self, session: Session, channels: dict[str, list[str]]) -> dict[str, list[str]]:
        added: dict[str, list[str]] = {}
        for channel, product_ids in channels.items():
            mine = session.subscriptions.setdefault(channel, {})
            if channel == STATUS:
                subs = self.index[STATUS].setdefault(_ANY_PRODUCT, {})
                if session not in subs:
                    subs[session] = None
                    added[STATUS] = []
                continue
            for product_id in product_ids:
                if product_id not in mine:
                    mine[product_id] = None
                    subs = self.index[channel].setdefault(product_id, {})
                    if channel == BALANCE and not subs:
                        assert session.identity is not None  # checked by ``_refusal``
                        self.balances.watch(product_id, session.identity.profile_id,
                                            self.balances.accounts_of(
                                                session.identity.profile_id)[product_id])
                    subs[session] = None
                    added.setdefault(channel, []).append(product_id)
                    if self.subscription_limit is not None:
                        owner = self._owners[session, channel, product_id] = _owner(session)
                        key = (owner, channel, product_id)
                        self._counts[key] = self._counts.get(key, 0) + 1
        return added

    def _unsubscribe(self, session: Session, channels: dict[str, list[str]]) -> None:
        for channel, product_ids in channels.items():
            mine = session.subscriptions.get(channel)
            if mine is None:
                continue
            targets = product_ids or list(mine)
            if channel == STATUS:
                targets = [_ANY_PRODUCT]
            for product_id in targets:
                mine.pop(product_id, None)
                self._unindex(channel, product_id, session)
            if not mine or channel == STATUS:
                del session.subscriptions[channel]

    def _unindex(self, channel: str, product_id: str, session: Session) -> None:
        sessions = self.index[channel].get(product_id)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self.index[channel][product_id]
                if channel == BALANCE:
                    self.balances.unwatch(product_id)
        owner = self._owners.pop((session, channel, product_id), None)
        if owner is not None:
            key = (owner, channel, product_id)
            left = self._counts.get(key, 0) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)

    def remove(self, session: Session) -> None:
        """Forget a closed connection."""
        self._unidentify(session)
        for channel, product_ids in session.subscriptions.items():
            for product_id in (product_ids or [_ANY_PRODUCT]):
                self._unindex(channel, product_id, session)
        session.subscriptions.clear()

    def _first_messages(self, session: Session, added: dict[str, list[str]]) -> None:
        """What a new subscription sends at once: ticker, snapshot, last_match, schema."""
        state = self.state
        for channel, product_ids in added.items():
            if channel == STATUS:
                session.push(render.encode(render.status(self.node.engine)), STATUS)
            elif channel == LEVEL3:
                session.push(_LEVEL3_SCHEMA, LEVEL3)
            elif channel == BALANCE:
                for account in product_ids:
                    message = self.balances.first(account)
                    if message is not None:
                        session.push(render.encode(message), BALANCE)
                continue
            for product_id in product_ids:
                product = state.products.get(product_id)
                if product is None:
                    continue
                if channel in (TICKER, TICKER_BATCH):
                    tick = render.ticker(state, product, self.node.now(), product.sequence)
                    if tick is not None:
                        session.push(render.encode(tick), channel, product_id)
                elif channel in (LEVEL2, LEVEL2_BATCH):
                    session.push(render.encode(render.snapshot(product)), channel, product_id)
                elif channel == MATCHES and product.last_match is not None:
                    session.push(render.encode(render.match(product.last_match, "last_match")),
                                 MATCHES, product_id)

    # -- durable events (the node listener) --------------------------------------------------
    def on_events(self, events: list[Event]) -> None:
        """One durable command's events: update the mirror and queue every message."""
        state = self.state
        products = state.products
        index = self.index
        # whether anyone takes order events at all (most commands of a busy venue: nobody)
        listening = bool(index[FULL] or index[USER] or index[MATCHES] or index[LEVEL3])
        touched: dict[str, dict[Level, None]] | None = None
        matched: dict[str, Matched] | None = None
        time = 0
        for event in events:
            kind = type(event)
            if kind in ORDER_EVENTS:
                product_id: str = event.product_id  # type: ignore[attr-defined]
                time = event.time  # type: ignore[attr-defined]
                # ``FeedState.apply`` written out for what is not a trade (a call less)
                level = state.apply(event) if kind is Matched else \
                    products[product_id].apply(event)
                if level is not None:
                    if touched is None:
                        touched = {}
                    changed = touched.get(product_id)
                    if changed is None:
                        changed = touched[product_id] = {}
                    changed[level] = None
                    if kind is Changed:  # a modify may also empty the level it left
                        vacated = products[product_id].take_vacated()
                        if vacated is not None:
                            changed[vacated] = None
                if kind is Matched:
                    if matched is None:
                        matched = {}
                    matched[product_id] = event  # type: ignore[assignment]
                if listening:
                    self._fan_out(event, kind, product_id)
            elif kind is ProductUpdated:
                state.add_product(event.product_id)  # type: ignore[attr-defined]
                self.send_status()
            elif kind is CurrencyAdded:
                self.send_status()
        if touched is not None and (index[LEVEL2] or index[LEVEL2_BATCH]):
            for product_id, levels in touched.items():
                self._level2(product_id, list(levels), time)
        if matched is not None:
            for product_id, m in matched.items():
                self._ticker(product_id, m)
        if self.balances.by_profile:  # someone watches balances (a call less otherwise)
            self.balances.on_events(events)

    def _fan_out(self, event: Any, kind: type, product_id: str) -> None:
        index = self.index
        if not (index[FULL].get(product_id) or index[USER].get(product_id)
                or index[MATCHES].get(product_id) or index[LEVEL3].get(product_id)):
            return  # no one listens to this product's order events (a replay at full speed)
        if kind is Matched:
            involved: tuple[str, ...] = (event.maker_profile_id, event.taker_profile_id)
        else:
            involved = (event.profile_id,)
        public = event.sequence is not None if kind is not Activated else False
        by_profile = self.by_profile
        owners = [by_profile[p] for p in involved if p in by_profile]  # usually none
        own_frames: dict[str, str] = {}

        def own(identity: Identity) -> str:
            frame = own_frames.get(identity.profile_id)
            if frame is None:
                frame = own_frames[identity.profile_id] = render.encode(
                    _own_message(event, kind, identity))
            return frame

        subs = index[FULL].get(product_id)
        if subs:
            _deliver(subs, owners, own, None if not public else lambda: render.encode(
                render.order_event(event, None) if kind is not Matched else render.match(event)),
                FULL, product_id)
        subs = index[USER].get(product_id)
        if subs and owners:
            _deliver(subs, owners, own, None, USER, product_id)
        if kind is Matched:
            subs = index[MATCHES].get(product_id)
            if subs:
                _deliver(subs, owners, own, lambda: render.encode(render.match(event)),
                         MATCHES, product_id)
        if public:
            subs = index[LEVEL3].get(product_id)
            if subs:
                compact = render.level3(event)
                if compact is not None:
                    push_all(subs, render.encode(compact), LEVEL3, product_id)

    def _level2(self, product_id: str, levels: list[Level], time: int) -> None:
        subs = self.index[LEVEL2].get(product_id)
        if subs:
            frame = render.encode(render.l2update(self.state.products[product_id], levels, time))
            push_all(subs, frame, LEVEL2, product_id)
        if self.index[LEVEL2_BATCH].get(product_id):
            pending = self._level2_pending.get(product_id)
            merged = pending[0] if pending is not None else {}
            merged.update(dict.fromkeys(levels))
            self._level2_pending[product_id] = (merged, time)

    def _ticker(self, product_id: str, m: Matched) -> None:
        subs = self.index[TICKER].get(product_id)
        if subs:
            tick = render.ticker(self.state, self.state.products[product_id], m.time, m.sequence)
            push_all(subs, render.encode(tick), TICKER, product_id)  # type: ignore[arg-type]
        self._tickers_changed[product_id] = None

    # -- timers --------------------------------------------------------------------------------
    def heartbeats(self, now: int) -> None:
        """§9.5: one heartbeat per subscribed product."""
        for product_id, subs in self.index[HEARTBEAT].items():
            frame = render.encode(render.heartbeat(self.state.products[product_id], now))
            _push_all(subs, frame, HEARTBEAT, product_id)

    def flush_level2_batch(self) -> None:
        """§9.5 ``level2_batch``: the changed levels since the last flush, in one update."""
        pending, self._level2_pending = self._level2_pending, {}
        for product_id, (levels, time) in pending.items():
            subs = self.index[LEVEL2_BATCH].get(product_id)
            if subs:
                product = self.state.products[product_id]
                _push_all(subs, render.encode(render.l2update(product, list(levels), time)),
                          LEVEL2_BATCH, product_id)

    def flush_ticker_batch(self) -> None:
        """§9.5 ``ticker_batch``: the ticker of each product that traded since the last one."""
        changed, self._tickers_changed = self._tickers_changed, {}
        for product_id in changed:
            subs = self.index[TICKER_BATCH].get(product_id)
            if subs:
                product = self.state.products[product_id]
                last = product.last_trade
                tick = render.ticker(self.state, product, last.time if last else 0,
                                     product.sequence)
                if tick is not None:
                    _push_all(subs, render.encode(tick), TICKER_BATCH, product_id)

    def flush_balances(self) -> None:
        """The ``balance`` channel: each changed account's latest figures (``Balances``)."""
        subs = self.index[BALANCE]
        for account, message in self.balances.due():
            watching = subs.get(account)
            if watching:
                _push_all(watching, render.encode(message), BALANCE)

    def send_status(self) -> None:
        subs = self.index[STATUS].get(_ANY_PRODUCT)
        if subs:
            _push_all(subs, render.encode(render.status(self.node.engine)), STATUS)


def _owner(session: Session) -> str:
    """Whose subscriptions a connection's count against (§9.4): its profile, else its IP."""
    return session.identity.profile_id if session.identity is not None else \
        f"ip:{session.client}"


def _own_message(event: Any, kind: type, identity: Identity) -> dict[str, Any]:
    if kind is Matched:
        maker = identity if identity.profile_id == event.maker_profile_id else None
        taker = identity if identity.profile_id == event.taker_profile_id else None
        return render.own_match(event, maker, taker)
    return render.order_event(event, identity)


def _push_all(sessions: Iterable[Session], frame: str, channel: str,
              product_id: str | None = None) -> None:
    push_all(sessions, frame, channel, product_id)


def _deliver(subs: dict[Session, None], owners: list[dict[Session, None]],
             own: Callable[[Identity], str], public: Callable[[], str] | None,
             channel: str, product_id: str) -> None:
    """Push each subscriber whose profile is involved (``owners``: those profiles' sessions)
    its own copy, every other one the public frame (``None``: this channel has none)."""
    mine: dict[Session, None] = {}
    for sessions in owners:
        for s in sessions:
            if s in subs:
                mine[s] = None
    for s in mine:
        assert s.identity is not None  # in ``by_profile``
        s.push(own(s.identity), channel, product_id)
    if public is not None and len(mine) < len(subs):
        push_all(subs, public(), channel, product_id, mine)
