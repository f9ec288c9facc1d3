"""Commands the node applies outside the core: API keys, the clock and named snapshots
(journaled like every command).

The passphrase never appears in a command: it is hashed with a fresh salt when the command
is stamped, so the journal holds only the hash (§2.1: Coinbase keeps only a salted hash).
"""

from __future__ import annotations

from sandex.core import Command, Event
from sandex.node.clock import ClockMode


class CreateApiKey(Command, frozen=True, gc=False, tag="create_api_key", kw_only=True):
    key: str
    secret: str  # base64
    passphrase_hash: bytes
    salt: bytes
    permissions: tuple[str, ...]
    profile_id: str
    kdf: str = "sha256"  # how passphrase_hash was made; records without it are salted SHA-256


class RevokeApiKey(Command, frozen=True, gc=False, tag="revoke_api_key", kw_only=True):
    key: str


class SetClock(Command, frozen=True, gc=False, tag="set_clock", kw_only=True):
    """Switch the venue clock to ``mode``; a virtual clock reads ``time`` (the command's stamp,
    its anchor) at once and then runs at ``rate`` (0: frozen). Moving it forward is
    ``AdvanceClock``."""

    mode: ClockMode
    rate: float = 1.0


BASELINE = "baseline"  # the snapshot a new venue saves once its scenario has loaded (reset)


class SaveSnapshot(Command, frozen=True, gc=False, tag="save_snapshot", kw_only=True):
    """Keep the venue's whole state, as of this command, under ``name`` (replacing a snapshot
    of that name). Replay captures the same state at the same position."""

    name: str


class RestoreSnapshot(Command, frozen=True, gc=False, tag="restore_snapshot", kw_only=True):
    """Put the venue back in the state saved as ``name``, which hashes to ``state_hash`` (a
    replay that captured another state refuses it: the journal diverged)."""

    name: str
    state_hash: str


class DeleteSnapshot(Command, frozen=True, gc=False, tag="delete_snapshot", kw_only=True):
    name: str


class Takeover(Command, frozen=True, gc=False, tag="takeover", kw_only=True):
    """Node ``node`` leads from here, in leader epoch ``epoch`` (``sandex.cluster``): the first
    record it appends after winning the lease. It changes no state; it marks in the journal
    where each leader's history starts."""

    epoch: int
    node: str


class SnapshotSaved(Event, frozen=True, gc=False, tag=True):
    time: int
    name: str
    state_hash: str


class SnapshotDeleted(Event, frozen=True, gc=False, tag=True):
    time: int
    name: str


class Restored(Event, frozen=True, gc=False, tag=True):
    """The venue went back to snapshot ``name``: sequences, balances and (on a virtual clock)
    time go back; gateways drop what they derived from the state before."""

    time: int
    name: str
    state_hash: str
    position: int  # the restore's journal position (listeners hear later ones afterwards)


class ClockSet(Event, frozen=True, gc=False, tag=True):
    time: int
    mode: ClockMode
    rate: float


class TookOver(Event, frozen=True, gc=False, tag=True):
    time: int
    epoch: int
    node: str


class KeyCreated(Event, frozen=True, gc=False, tag=True):
    time: int
    key: str
    profile_id: str


class KeyRevoked(Event, frozen=True, gc=False, tag=True):
    time: int
    key: str
