"""What the upgrade tests compare (imported by their subprocesses too, so it names no
class that a test renames)."""

from __future__ import annotations

from pathlib import Path

import msgspec

from sandex.core.image import OrderImage
from sandex.journal import SqliteJournal
from sandex.node import snapshot
from sandex.node.node import Node
from sandex.node.storage import JOURNAL_FILE, replay

ORDER_FIELDS = sorted(set(OrderImage.__struct_fields__) - {"hold_account", "recv_account"})


def state_of(node: Node) -> dict[str, object]:
    """Every order (by field name), balance, hold and fill, and the state hash."""
    engine = node.engine
    state: dict[str, object] = msgspec.to_builtins({
        "orders": {o.id: [getattr(o, f) for f in ORDER_FIELDS] + [o.hold_account.currency,
                                                                   o.recv_account.currency]
                   for o in engine.orders.values()},
        "accounts": {p.id: {a.currency: [a.balance, a.hold] for a in p.accounts.values()}
                     for p in engine.profiles.values()},
        "fees": {c: a.balance for c, a in engine.fee_accounts.items()},
        "fills": {k: [msgspec.to_builtins(f) for f in node.fills.for_order(k)]
                  for k in node.fills.by_order},
        "listed": {p: list(by_id) for p, by_id in node.orders.by_profile.items()},
        "hash": snapshot.node_hash(node),
    })
    return state


def replayed_hash(data_dir: Path) -> str:
    node, journal = Node(), SqliteJournal(data_dir / JOURNAL_FILE)
    replay(node, journal)
    journal.close()
    return snapshot.node_hash(node)
