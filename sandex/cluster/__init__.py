"""A venue on a replicated command log: the journal on NATS JetStream, a leader and hot
standbys (``docs/cluster.md``). Needs the ``cluster`` extra: ``pip install sandex[cluster]``.

``sandex.cluster.journal``: ``NatsJournal``, the journal as a 3-replica JetStream stream,
compare-and-append per group commit; ``sandex.cluster.role``: the lease, the standby's tail
and the takeover; ``sandex.cluster.local``: a local 3-server JetStream cluster (tests, ``make
cluster-up``).
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandex.cluster.options import ClusterOptions
    from sandex.cluster.role import Cluster


def join(options: ClusterOptions, url: str) -> Cluster:
    """Open the JetStream journal (refusing an unsafe one); the node takes the lease, if it
    is free, once it has replayed the stream (``Cluster.acquire``, in ``sandex.server.build``).

    Raises ``StorageError`` (``UnsafeJournal`` for an unsafe configuration), or
    ``ModuleNotFoundError`` naming the extra if nats-py is not installed."""
    try:
        from sandex.cluster.journal import NatsJournal
        from sandex.cluster.role import Cluster
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"--journal nats://... needs the cluster extra: pip install "
                                  f"'sandex[cluster]' ({exc})") from exc
    journal = NatsJournal(options.url, monitors=list(options.monitors) or None,
                          unsafe=options.unsafe)
    try:
        name = options.node or f"{socket.gethostname()}:{url.rsplit(':', 1)[-1]}"
        cluster = Cluster(journal, name, url, options.lease_ttl)
    except BaseException:
        journal.close()
        raise
    return cluster
