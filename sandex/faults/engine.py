"""Engine faults: the engine layer's rules as windows on the venue clock.

A rule of layer ``engine`` (with a ``when`` window) becomes a window on the node's scheduler
(``sandex.node.windows``): ``product_status`` and ``engine_offline`` a ``StatusWindow`` (at
the window's start the matched products, every product if the rule names none, take the
status, at its end they go back, each edge a journaled ``set_product_status``),
``halt_matching`` a ``HaltWindow`` (matching halted, then resumed: journaled
``set_matching``). Each edge runs at its own venue time and is seen as Coinbase shows it
(``GET /products``, the ``status`` channel). The rule is configuration, like every fault
rule; what it does to the venue is journaled, so a run replays. ``sync`` keeps a node's
windows equal to its engine rules after every change to them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from sandex.core import Command, ProductStatus
from sandex.faults.rules import Armed, faults_of
from sandex.node import Node
from sandex.node.windows import HaltWindow, StatusWindow, Window

_WINDOWS: weakref.WeakKeyDictionary[Node, dict[str, tuple[Armed, Window]]] = \
    weakref.WeakKeyDictionary()


def sync(node: Node) -> list[Window]:
    """Make ``node``'s windows those of its engine rules, now: a window for each new
    rule; a removed rule's window leaves the scheduler and is returned, for the caller to run
    its ``close()`` (the commands putting its products back, if it had started) or, after a
    restore that put the products back already, to drop."""
    windows = _WINDOWS.setdefault(node, {})
    rules = {armed.rule.id: armed for armed in faults_of(node).layer("engine")}
    removed = []
    for rule_id in [rule_id for rule_id, (armed, _) in windows.items()
                    if rules.get(rule_id) is not armed]:  # cleared, or replaced
        _, window = windows.pop(rule_id)
        node.scheduler.remove(window)
        removed.append(window)
    for rule_id, armed in rules.items():
        if rule_id not in windows:
            window = _window(node, armed)
            windows[rule_id] = (armed, window)
            node.scheduler.add(window)
    return removed


def closing(windows: list[Window]) -> Iterator[Command]:
    """The commands ending ``windows`` now, each stamped when pulled."""
    for window in windows:
        yield from window.close()


def _window(node: Node, armed: Armed) -> Window:
    rule, when = armed.rule, armed.rule.when
    assert when.length is not None  # the model requires a window for the engine layer
    start = when.start if when.start is not None else armed.added_at + (when.start_after or 0)
    products = tuple(str(value) for name, value in rule.match if name == "product")
    faults = faults_of(node)
    if rule.kind == "halt_matching":
        def halted(edge: str, at: int) -> None:
            faults.record(armed, at, {"edge": edge, "matching": "halted" if edge == "start"
                                      else "as before", "products": list(products) or "all"})

        return HaltWindow(node, rule.id, start, start + when.length, products, halted)
    status = (ProductStatus.DISABLED if rule.kind == "engine_offline"
              else ProductStatus(rule.params["status"]))

    def logged(edge: str, at: int) -> None:
        faults.record(armed, at, {"edge": edge, "status": status.value if edge == "start"
                                  else "as before", "products": list(products) or "all"})

    return StatusWindow(node, rule.id, status, start, start + when.length, products, logged)
