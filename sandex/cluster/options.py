"""What ``sandex serve --journal nats://...`` was asked for (no NATS import: the server reads
it whether or not the ``cluster`` extra is installed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ClusterOptions:
    """``--journal nats://...`` and its companions (``docs/cluster.md``)."""

    url: str  # nats://host:port[,host:port...]
    monitors: tuple[str, ...] = ()  # each server's monitoring URL (its /varz)
    unsafe: bool = False  # run on a configuration that could lose acknowledged commands
    node: str = ""  # this node's name in the lease ("": hostname:port)
    lease_ttl: float = 3.0
