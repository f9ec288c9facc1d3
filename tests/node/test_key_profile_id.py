"""A key holds its profile's id as the ``profiles`` table's own key object (an equal string
that is the same object): after ``CreateApiKey`` however its id was decoded, and after a
snapshot's restore. Each probe by the key's ``profile_id`` (the gateway's, the engine's, the
views', the rate limiter's) then hits by identity, not by comparing the text."""

from __future__ import annotations

import dataclasses

import msgspec

from sandex.core import Command, Event
from sandex.node import snapshot
from sandex.node.codec import decode, encode
from sandex.node.commands import CreateApiKey
from sandex.node.image import restore_keys
from sandex.node.node import Node
from tests.core.harness import T0
from tests.core.streams import setup_commands


def table_key(node: Node, profile_id: str) -> str:
    return next(k for k in node.engine.profiles if k == profile_id)


def key_of(profile_id: str, name: str = "k") -> CreateApiKey:
    return CreateApiKey(time=T0, key=name, secret="c2VjcmV0", passphrase_hash=b"h" * 32,
                        salt=b"salt", permissions=("view", "trade"), profile_id=profile_id)


def built(*commands: Command) -> tuple[Node, list[list[Event]]]:
    """A node given the core's setup and ``commands``, each stamped after the last (the node
    takes strictly increasing stamps only)."""
    node = Node()
    events = [node.apply(msgspec.structs.replace(c, time=T0 + n))
              for n, c in enumerate([*setup_commands(), *commands])]
    return node, events


def test_a_new_key_holds_the_profile_tables_own_id_object() -> None:
    sent = "".join(["p", "0"])  # equal to the profile's id, another object
    node, events = built(key_of(sent))
    stored = table_key(node, "p0")
    assert sent is not stored
    api_key = node.keys.get("k")
    assert api_key is not None
    assert api_key.profile_id == "p0" and api_key.profile_id is stored
    assert type(events[-1][0]).__name__ == "KeyCreated"


def test_a_key_replayed_from_its_journal_record_holds_the_tables_own_id() -> None:
    """As a restarted venue applies it: the command decoded from the journal's bytes."""
    command = decode(encode(key_of("p1")))
    node, _ = built(command)
    api_key = node.keys.get("k")
    assert api_key is not None and api_key.profile_id is table_key(node, "p1")


def test_the_key_events_journal_and_state_are_the_same_as_before() -> None:
    """Only the object changes: an equal id gives the same events, image and hash."""
    a, events_a = built(key_of("p0"), key_of("".join(["p", "1"]), "k2"))
    b, events_b = built(key_of("p0"), key_of("p1", "k2"))
    assert events_a == events_b
    assert a.dump_state() == b.dump_state()
    assert snapshot.node_hash(a) == snapshot.node_hash(b)


def test_an_unknown_profile_is_still_refused() -> None:
    node, events = built(key_of("nobody"))
    assert node.keys.get("k") is None
    assert type(events[-1][0]).__name__ == "Rejected"


def test_a_restored_snapshot_s_keys_hold_the_restored_tables_own_ids() -> None:
    node, _ = built(key_of("p0"), key_of("p1", "k2"))
    restored = Node()
    restored.load_state(node.dump_state(), len(setup_commands()) + 2)
    assert restored.dump_state() == node.dump_state()
    for name, profile_id in (("k", "p0"), ("k2", "p1")):
        api_key = restored.keys.get(name)
        assert api_key is not None
        assert api_key.profile_id is table_key(restored, profile_id)
        assert api_key.profile_id is restored.engine.profiles[profile_id].id


def test_a_key_whose_profile_is_not_in_the_image_keeps_its_own_id() -> None:
    """``restore_keys`` given a table without the key's profile: the key's id as decoded."""
    node, _ = built(key_of("p0"))
    keys = [dataclasses.replace(k, profile_id="elsewhere") for k in node.keys.list()]
    registry = restore_keys(keys, node.engine.profiles)
    api_key = registry.get("k")
    assert api_key is not None and api_key.profile_id == "elsewhere"
