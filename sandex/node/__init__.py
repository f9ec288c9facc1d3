"""The node: sequencing and applying commands (the single writer)."""

from sandex.node.clock import Clock, ManualClock, SystemClock
from sandex.node.commands import CreateApiKey, KeyCreated, KeyRevoked, RevokeApiKey
from sandex.node.ids import Ids
from sandex.node.node import Node

__all__ = ["Clock", "CreateApiKey", "Ids", "KeyCreated", "KeyRevoked", "ManualClock", "Node",
           "RevokeApiKey", "SystemClock"]
