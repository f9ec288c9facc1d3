"""The node: sequencing and applying commands (the single writer)."""

from sandex.node.clock import Clock, ClockMode, ManualClock, SystemClock, VenueClock
from sandex.node.commands import (
    BASELINE,
    ClockSet,
    CreateApiKey,
    DeleteSnapshot,
    KeyCreated,
    KeyRevoked,
    Restored,
    RestoreSnapshot,
    RevokeApiKey,
    SaveSnapshot,
    SetClock,
    SnapshotDeleted,
    SnapshotSaved,
    Takeover,
    TookOver,
)
from sandex.node.ids import Ids
from sandex.node.node import Batched, Node, RestoreWatch

__all__ = ["BASELINE", "Batched", "Clock", "ClockMode", "ClockSet", "CreateApiKey",
           "DeleteSnapshot", "Ids", "KeyCreated", "KeyRevoked", "ManualClock", "Node",
           "RestoreSnapshot", "RestoreWatch", "Restored", "RevokeApiKey", "SaveSnapshot",
           "SetClock", "SnapshotDeleted", "SnapshotSaved", "SystemClock", "Takeover",
           "TookOver", "VenueClock"]
