"""The fault rules as admin commands: add, list, clear, log, preset.

For ``sandex.admin.ops``: each function checks its arguments and returns what to run on the
live venue; either raises ``ValueError`` (``RuleError``) with one line, changing nothing.
Rules live in a running venue's memory beside its node (``sandex.faults.faults_of``) and
change no state, so nothing is journaled; on a stopped data dir every fault command is
refused (``OFFLINE``): there is no venue to hold the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandex.faults import faults_of, preset
from sandex.node import Node

OFFLINE = ("fault rules live in a running venue (in memory, not journaled): start `sandex "
           "serve` and send this to it")

Live = Callable[[], Any]


def add(node: Node, args: dict[str, Any]) -> Live:
    """Install the rule ``args`` is (the rule object itself is the body)."""
    return lambda: faults_of(node).add(args)


def replace(node: Node, args: dict[str, Any]) -> Live:
    """Put the rule ``args`` is in place of the installed rule with its id."""
    return lambda: faults_of(node).replace(args)


def listed(node: Node, args: dict[str, Any]) -> Live:
    return lambda: faults_of(node).rules()


def clear(node: Node, args: dict[str, Any]) -> Live:
    """Remove every rule, or the one whose id is ``args["id"]``."""
    rule_id = args.get("id")
    if rule_id is not None and not isinstance(rule_id, str):
        raise ValueError("id must be the id of a rule (a text)")
    return lambda: {"cleared": faults_of(node).clear(rule_id)}


def log(node: Node, args: dict[str, Any]) -> Live:
    return lambda: faults_of(node).log()


def install_preset(node: Node, args: dict[str, Any]) -> Live:
    """Install the rules of preset ``args["name"]`` (all or none), seeded with
    ``args["seed"]`` if given."""
    rules: list[object] = list(preset(args.get("name"), args.get("seed")))
    return lambda: faults_of(node).add_all(rules)
