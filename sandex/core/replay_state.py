"""Where a replay is and what it owes (``sandex.core.replay`` applies its rules)."""

from __future__ import annotations

from sandex.core.model import Side

Key = tuple[str, Side, int]  # (product, side, price): one level


class ReplayState:
    """The replay in progress (or the last one): where it is and what it owes.

    ``debt`` is what users took from a level-2 level's replay orders and the recording does
    not know; ``expected`` the replay's size at each level when it last acted there (what
    is missing since was taken by users)."""

    __slots__ = ("active", "batches", "cancel_from", "cancels_noop", "consumed", "debt",
                 "ended_early", "events", "expected", "finished", "format", "halted_skipped",
                 "line", "mapping",
                 "products", "recorded_trades", "reproduced_trades", "seed", "sha256", "source",
                 "source_time", "speed", "synthetic", "user_fills")

    def __init__(self, source: str, sha256: str, format: str, products: tuple[str, ...],
                 seed: str, cancel_from: str, mapping: tuple[tuple[str, str, str, str], ...],
                 speed: str) -> None:
        self.source, self.sha256, self.format = source, sha256, format
        self.products, self.seed, self.cancel_from = products, seed, cancel_from
        self.mapping, self.speed = mapping, speed
        self.active = True  # false once finished or unloaded
        self.finished = False  # it reached the end of the recording
        self.events = 0  # source events consumed
        self.batches = 0
        self.line = 0
        self.source_time = 0
        self.recorded_trades = 0
        self.reproduced_trades = 0  # trades between two replay orders
        self.user_fills = 0  # trades in which a replay taker hit a user's order
        self.cancels_noop = 0  # recorded cancels of orders no longer live
        self.ended_early = 0  # replay orders canceled where the recording saw them filled
        self.halted_skipped = 0  # actions skipped while their product's matching was halted
        self.consumed: dict[str, int] = {}  # product -> size users took from replay levels
        self.synthetic = 0  # synthetic orders made (their ids are numbered)
        self.debt: dict[Key, int] = {}
        self.expected: dict[Key, int] = {}
