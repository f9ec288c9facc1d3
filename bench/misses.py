"""Per-function cache misses a request from callgrind cache simulations, apps side by side.

    .venv/bin/python bench/misses.py --requests N [--top K] [--by EVENTS] [--objects]
        NAME=cg.out.2 [NAME=cg.out.2 ...]

Each file is the timed requests' dump of a ``--cache-sim=yes`` run (``bench/ablate.py``'s
docstring: ``ABLATE_INSTRUMENT=1 ... valgrind --tool=callgrind --instr-atstart=no
--cache-sim=yes --LL=...``; its timed part's dumps made by ``bench/cgmarks.py``),
each of ``N`` requests. Prints each function's exclusive instructions, D1 read and write
misses and last-level (LL) read and write misses per request in each file, the top ``K``
functions by the first file's ``--by`` events (default ``DLmr,DLmw``: the LL's data misses),
and the totals; ``--objects`` sums them by shared object (the interpreter, libc, SQLite,
sandex's compiled modules) first.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

SHOWN = ("Ir", "D1mr", "D1mw", "DLmr", "DLmw")
_NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")


class Profile:
    """A callgrind dump's exclusive costs by function (and by object)."""

    def __init__(self, path: Path) -> None:
        self.events: list[str] = []
        self.by_function: dict[str, list[int]] = defaultdict(lambda: [0] * len(self.events))
        self.by_object: dict[str, list[int]] = defaultdict(lambda: [0] * len(self.events))
        self._read(path)

    def _read(self, path: Path) -> None:
        names: dict[tuple[str, str], str] = {}
        obj = fn = ""
        skip_next = False  # the cost line after ``calls=`` is the callee's, inclusive
        with path.open() as f:
            for line in f:
                if not line or line[0] in "#\n":
                    continue
                head = line[0]
                if head.isdigit() or head in "+-*":
                    if skip_next:
                        skip_next = False
                        continue
                    fields = line.split()
                    costs = [int(v) for v in fields[1:]]
                    own = self.by_function[fn]
                    mine = self.by_object[obj]
                    for i, cost in enumerate(costs):
                        own[i] += cost
                        mine[i] += cost
                    continue
                key, _, value = line.rstrip("\n").partition("=")
                if key in ("fn", "ob", "cfn", "cob", "fl", "fi", "fe", "cfi", "cfl"):
                    kind = "ob" if key in ("ob", "cob") else "fn" if key in ("fn", "cfn") \
                        else "fl"
                    match = _NAMED.match(value)
                    if match is not None:
                        if match.group(2) is not None:
                            names[(kind, match.group(1))] = match.group(2)
                        name = names.get((kind, match.group(1)), value)
                    else:
                        name = value
                    if key == "fn":
                        fn = f"{name} [{Path(obj).name}]"
                    elif key == "ob":
                        obj = name
                elif key == "calls":
                    skip_next = True
                elif line.startswith("events:"):
                    self.events = line.split()[1:]

    def per_request(self, table: dict[str, list[int]], name: str, requests: int
                    ) -> list[float]:
        costs = table.get(name, [0] * len(self.events))
        return [costs[self.events.index(e)] / requests if e in self.events else 0.0
                for e in SHOWN]

    def totals(self, requests: int) -> list[float]:
        sums = [0] * len(self.events)
        for costs in self.by_function.values():
            for i, value in enumerate(costs):
                sums[i] += value
        return [sums[self.events.index(e)] / requests if e in self.events else 0.0
                for e in SHOWN]


def table(profiles: list[tuple[str, Profile]], which: str, requests: int, top: int,
          by: list[str]) -> None:
    first = profiles[0][1]
    rows = getattr(first, which)
    names = set(rows)
    for _, profile in profiles[1:]:
        names |= set(getattr(profile, which))

    def weight(name: str) -> float:
        values = dict(zip(SHOWN, first.per_request(rows, name, requests), strict=True))
        others = sum(sum(dict(zip(SHOWN, p.per_request(getattr(p, which), name, requests),
                                  strict=True))[e] for e in by) for _, p in profiles[1:])
        return sum(values[e] for e in by) + 1e-9 * others

    header = " | ".join(f"{label} {'/'.join(SHOWN)}" for label, _ in profiles)
    print(f"| {which[3:]} | {header} |")
    for name in sorted(names, key=weight, reverse=True)[:top]:
        cells = []
        for _, profile in profiles:
            values = profile.per_request(getattr(profile, which), name, requests)
            cells.append(" / ".join(f"{v:,.0f}" if i == 0 else f"{v:,.1f}"
                                    for i, v in enumerate(values)))
        print(f"| {name} | {' | '.join(cells)} |")
    cells = [" / ".join(f"{v:,.0f}" if i == 0 else f"{v:,.1f}"
                        for i, v in enumerate(p.totals(requests))) for _, p in profiles]
    print(f"| total | {' | '.join(cells)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="NAME=callgrind.out (or a path)")
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--by", default="DLmr,DLmw", help="events to sort by (of the first)")
    parser.add_argument("--objects", action="store_true", help="by shared object first")
    args = parser.parse_args()
    profiles = []
    for spec in args.files:
        label, _, path = spec.rpartition("=")
        profiles.append((label or Path(path).name, Profile(Path(path))))
    by = args.by.split(",")
    if args.objects:
        table(profiles, "by_object", args.requests, args.top, by)
        print()
    table(profiles, "by_function", args.requests, args.top, by)


if __name__ == "__main__":
    main()
