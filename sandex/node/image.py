"""The node's state document: what a snapshot holds, as an explicit, versioned schema.

``NodeImage`` is the core's ``EngineImage``, the API keys, the read models' ``ViewsImage``,
the node's last stamped time, its clock's mode and rate, and the named snapshots kept (each
a ``SavedImage`` holding a ``NodeImage`` of its own, without named snapshots), encoded as
msgspec JSON (integers of any size; the many small structs as arrays). ``SCHEMA`` is a
digest of the document's JSON schema (every field's name, type and position) and of the
shape of the classes it is read from: a snapshot written under another schema is not loaded
(the journal rebuilds the state instead), so nothing is ever read into the wrong field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Final, NamedTuple

import msgspec

from sandex.auth.keys import ApiKey, KeyRegistry
from sandex.core import image as core_image
from sandex.core.engine import Engine
from sandex.core.records import Profile
from sandex.node.clock import ClockMode
from sandex.views import FillsView, LedgerView, MarketView, OrdersView, TransfersView
from sandex.views import image as views_image


class NodeImage(msgspec.Struct, frozen=True, kw_only=True):
    engine: core_image.EngineImage
    keys: list[ApiKey]  # in creation order
    views: views_image.ViewsImage
    last_time: int
    clock_mode: ClockMode = ClockMode.WALL
    clock_rate: float = 1.0
    saved: list[SavedImage] = []  # named snapshots, in the order they were first saved


class SavedImage(msgspec.Struct, frozen=True, kw_only=True):
    """A named snapshot: the state when ``SaveSnapshot`` was applied at ``position``."""

    name: str
    position: int
    time: int
    state_hash: str
    image: NodeImage


def _schema() -> str:
    digest = hashlib.sha256(msgspec.json.encode(msgspec.json.schema(NodeImage)))
    digest.update(msgspec.json.encode(core_image.shape()))
    return digest.hexdigest()[:16]


SCHEMA: Final = _schema()

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(NodeImage)


class NodeParts(NamedTuple):
    """The live objects a node's state is made of (what ``NodeImage`` documents)."""

    engine: Engine
    keys: KeyRegistry
    fills: FillsView
    ledger: LedgerView
    market: MarketView
    orders: OrdersView
    last_time: int
    clock_mode: ClockMode
    clock_rate: float
    transfers: TransfersView


def export(parts: NodeParts, saved: list[SavedImage] | None = None) -> NodeImage:
    """The document of a node's state (as of one position), with its named snapshots."""
    return NodeImage(
        saved=saved or [],
        engine=core_image.export(parts.engine),
        keys=list(parts.keys.list()),
        views=views_image.export(parts.fills, parts.ledger, parts.market, parts.orders,
                                 parts.transfers),
        last_time=parts.last_time,
        clock_mode=parts.clock_mode,
        clock_rate=parts.clock_rate)


def restore(state: NodeImage) -> NodeParts:
    """Fresh live objects from ``state`` (its named snapshots aside); raises if inconsistent."""
    engine = core_image.restore(state.engine)
    fills, ledger, market, orders, transfers = views_image.restore(state.views, engine)
    return NodeParts(engine, restore_keys(state.keys, engine.profiles), fills, ledger, market,
                     orders, state.last_time, state.clock_mode, state.clock_rate, transfers)


def encode(image: NodeImage) -> bytes:
    return _encoder.encode(image)


def decode(data: bytes) -> NodeImage:
    """``msgspec.DecodeError`` (a ``ValueError``) if ``data`` is not a ``NodeImage``."""
    return _decoder.decode(data)


def restore_keys(keys: list[ApiKey], profiles: Mapping[str, Profile]) -> KeyRegistry:
    """The registry of ``keys``; a key whose profile is in ``profiles`` holds that table's own
    id object (an equal string: each probe by it then hits by identity, not by ``memcmp``)."""
    registry = KeyRegistry()
    get = profiles.get
    for key in keys:
        profile = get(key.profile_id)
        registry.add(key.key, key.secret, key.passphrase_hash, key.salt, key.permissions,
                     key.profile_id if profile is None else profile.id, key.created_at,
                     key.kdf)
    return registry
