"""Named snapshots and reset as admin commands: save, list, restore, delete, reset, state.

Plans for ``sandex.admin.ops``. Saving and restoring are journaled commands
(``SaveSnapshot``, ``RestoreSnapshot``), so a restart or a replay ends in the same state;
``reset`` restores ``baseline``, the snapshot a new venue saves once its scenario has loaded.
"""

from __future__ import annotations

import re
from typing import Any

from sandex.admin.clock import clock_json
from sandex.errors import Error
from sandex.node import BASELINE, DeleteSnapshot, Node, RestoreSnapshot, SaveSnapshot
from sandex.node.saved import Saved
from sandex.node.snapshot import node_hash
from sandex.timefmt import iso

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def name_of(value: object) -> str:
    """``value`` as a snapshot name; ``ValueError`` says why it is not one."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise ValueError(f"name: {value!r} is not a snapshot name (1 to 64 letters, digits, "
                         "'.', '_' or '-', starting with a letter or digit)")
    return value


def saved_json(saved: Saved) -> dict[str, Any]:
    return {"name": saved.name, "position": saved.position, "time": iso(saved.time),
            "state_hash": saved.state_hash}


def state_json(node: Node) -> dict[str, Any]:
    """Where the venue is: journal position, state hash, venue time; in a cluster
    (docs/cluster.md) also the leader epoch and, on a follower, who leads."""
    state = {"position": node.position, "state_hash": node_hash(node), "time": iso(node.now())}
    if node.epoch or node.follower_of is not None:  # a cluster's node
        state.update(epoch=node.epoch, follower_of=node.follower_of)
    return state


def save(node: Node, name: str) -> SaveSnapshot:
    return SaveSnapshot(time=node.stamp(), name=name)


def restore(node: Node, name: str) -> RestoreSnapshot:
    """The command restoring ``name``; ``ValueError`` if no snapshot has that name."""
    found = node.saved.get(name)
    if found is None:
        if name == BASELINE:
            raise ValueError("this venue has no baseline snapshot (its data dir was created "
                             "before sandex kept one): save one with `sandex snapshot save "
                             "baseline`")
        raise ValueError(Error.SNAPSHOT_NOT_FOUND.format(name))
    return RestoreSnapshot(time=node.stamp(), name=name, state_hash=found.state_hash)


def delete(node: Node, name: str) -> DeleteSnapshot:
    """The command forgetting ``name``; ``ValueError`` if there is none, or for the baseline
    (reset needs it; saving over it moves it)."""
    if name == BASELINE:
        raise ValueError("the baseline cannot be deleted (reset restores it); save over it "
                         "to move it")
    if name not in node.saved:
        raise ValueError(Error.SNAPSHOT_NOT_FOUND.format(name))
    return DeleteSnapshot(time=node.stamp(), name=name)


def restored_json(node: Node, name: str) -> dict[str, Any]:
    """What a restore answers: the snapshot's state hash (the venue's now: tests check it
    with ``state``) and the clock."""
    return {"name": name, "state_hash": node.saved[name].state_hash, "clock": clock_json(node)}
