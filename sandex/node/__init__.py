"""The node: sequencing and applying commands (the single writer)."""

from sandex.node.clock import Clock, ClockMode, ManualClock, SystemClock, VenueClock
from sandex.node.commands import (
    ClockSet,
    CreateApiKey,
    KeyCreated,
    KeyRevoked,
    RevokeApiKey,
    SetClock,
)
from sandex.node.ids import Ids
from sandex.node.node import Node

__all__ = ["Clock", "ClockMode", "ClockSet", "CreateApiKey", "Ids", "KeyCreated", "KeyRevoked",
           "ManualClock", "Node", "RevokeApiKey", "SetClock", "SystemClock", "VenueClock"]
