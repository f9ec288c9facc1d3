"""Throughput of the deterministic matching-engine core, and of its order book alone.

    cd /work/main && PYTHONPATH=/work/main python bench/engine.py [--commands N] [--seed S]
        [--products K] [--profiles P] [--repeat R] [--no-frozen] [--check] [--json]

A seeded stream (``bench/streams.py``) is generated and stamped before anything is timed:
setup (products, profiles, deposits, applied untimed), then N trading commands, ~60 % limit
orders near a random-walking mid, ~35 % cancels of live orders, ~5 % marketable orders.

* full core: ``Engine.apply(cmd)`` over the N commands (book + accounts + holds + fees +
  events), ``time.perf_counter``, the garbage collector as normal. The secondary figure runs
  the same stream on a fresh engine after ``gc.collect(); gc.freeze(); gc.disable()``.
* book alone: the same order flow straight on ``sandex.core.book.Book``: ``add``/``remove``
  plus a simple taker loop popping makers from the best level (``streams.place``); ``Order``
  objects are made before the clock starts.

* compiled and pure Python side by side: the core runs compiled when the extension is built
  (``make bench`` builds it); the same stream is then run again in a subprocess on the
  pure-Python modules (``SANDEX_PURE_PYTHON=1``) and both figures are printed
  (``--one-build``: only this process's).

Rates are wall clock (``perf_counter``); the CPU-time rate (``process_time``) is printed beside
them because on a shared machine the wall clock also counts time spent waiting for a core.
``--json`` prints one JSON line of the figures on stdout (the human lines go to stderr).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kit import machine as describe_machine
from streams import Stream, book_order, cancel, generate, place

from sandex import native
from sandex.core import Account, Engine, Rejected, check_invariants, state_hash
from sandex.core.book import Book

CORE = Path(__file__).resolve().parent.parent / "sandex" / "core"


def core_digest() -> str:
    """A short hash of ``sandex/core/*.py``: tells runs of different engine code apart."""
    digest = hashlib.sha256()
    for path in sorted(CORE.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def apply_all(commands: list[Any], apply: Any, rejects: list[str]) -> int:
    """The timed loop: ``apply`` each command; the events' count, each reject's reason in
    ``rejects``. Run through ``sys.call_tracing``, a call ``bench/books/count.py`` counts
    alone under callgrind."""
    n_events = 0
    for cmd in commands:
        events = apply(cmd)
        n_events += len(events)
        if events and type(events[0]) is Rejected:
            rejects.append(events[0].reason)
    return n_events


def place_all(ops: list[tuple[int, Book, Any, int]]) -> int:
    """The bare book's timed loop (as ``apply_all``): each op's place or cancel; the fills."""
    fills = 0
    for op, book, order, increment in ops:
        if op:
            cancel(book, order)
        else:
            fills += place(book, order, increment)
    return fills


def run_core(stream: Stream, frozen: bool, check: bool) -> dict[str, Any]:
    """Apply the stream to a fresh engine; time the trading commands."""
    engine = Engine()
    for cmd in stream.setup:
        events = engine.apply(cmd)
        assert not any(type(e) is Rejected for e in events), events
    commands = stream.commands
    apply = engine.apply
    rejects: list[str] = []
    gc.collect()
    if frozen:
        gc.freeze()
        gc.disable()
    before = [s["collections"] for s in gc.get_stats()]
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        n_events = sys.call_tracing(apply_all, (commands, apply, rejects))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    finally:
        if frozen:
            gc.enable()
            gc.unfreeze()
    collections = [s["collections"] - b for s, b in zip(gc.get_stats(), before, strict=True)]
    result: dict[str, Any] = {
        "seconds": elapsed,
        "per_s": len(commands) / elapsed,
        "cpu_per_s": len(commands) / cpu,
        "trades": sum(p.trade_id for p in engine.products.values()),
        "events": n_events,
        "rejects": dict(Counter(rejects).most_common()),
        "open_orders": sum(len(p.live) for p in engine.profiles.values()),
        "gc_collections": collections,
    }
    if check:
        check_invariants(engine)
        result["state_hash"] = state_hash(engine)
    return result


def run_book(stream: Stream) -> dict[str, Any]:
    """The same order flow on bare ``Book`` objects with the simple taker loop."""
    account = Account("bench", "X")
    books = [Book() for _ in stream.increments]
    orders = [book_order(cmd, i, stream.taker_rates[cmd.profile_id], account)
              for i, cmd in enumerate(stream.places)]
    ops = [(op, books[p], orders[k], stream.increments[p]) for op, p, k in stream.book_ops]
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    fills = sys.call_tracing(place_all, (ops,))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    resting = sum(level.count for b in books for side in (b.bids, b.asks)
                  for level in side.values())
    assert (fills, resting) == (stream.shadow_trades, stream.shadow_resting), "book not replayed"
    return {"seconds": elapsed, "per_s": len(ops) / elapsed, "cpu_per_s": len(ops) / cpu,
            "fills": fills, "resting": resting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=1_000_000, help="trading commands")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--products", type=int, default=1, choices=range(1, 5))
    parser.add_argument("--profiles", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1,
                        help="full-core runs on fresh engines; the best is reported")
    parser.add_argument("--no-frozen", action="store_true",
                        help="skip the secondary gc.freeze()/gc.disable() run")
    parser.add_argument("--check", action="store_true",
                        help="check invariants after each run and compare state hashes")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line of the figures on stdout (text to stderr)")
    parser.add_argument("--one-build", action="store_true",
                        help="skip the run of the other build (pure Python beside compiled)")
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    python = f"{platform.python_implementation()} {platform.python_version()}"
    machine = describe_machine()
    load = os.getloadavg()[0]
    say(f"machine: {machine} | load {load:.1f}")
    say(f"core: {native.describe()}")

    start = time.perf_counter()
    stream = generate(args.commands, args.seed, args.products, args.profiles)
    generated = time.perf_counter() - start
    mix = stream.mix
    n = len(stream.commands)
    say(f"stream: {n:,} commands, seed {args.seed}, {args.products} product(s), "
        f"{args.profiles} profiles, core {core_digest()}: {mix['limit']:,} limit / "
        f"{mix['cancel']:,} cancel ({mix['cancel of a done order']:,} of done orders) / "
        f"{mix['marketable']:,} marketable (generated in {generated:.1f} s, untimed)")

    runs = [run_core(stream, frozen=False, check=args.check and i == 0)
            for i in range(max(1, args.repeat))]
    core = max(runs, key=lambda run: run["per_s"])
    core_cpu = max(run["cpu_per_s"] for run in runs)
    rejects = ", ".join(f"{k} {v:,}" for k, v in core["rejects"].items()) or "none"
    best = f"best of {len(runs)}, " if len(runs) > 1 else ""
    say(f"full core:  {core['per_s']:,.0f} commands/s ({core['seconds']:.2f} s, {best}gc normal, "
        f"gc runs {'/'.join(map(str, core['gc_collections']))}; "
        f"{core_cpu:,.0f}/s of CPU time)")
    say(f"  trades {core['trades']:,}, events {core['events']:,}, "
        f"open orders {core['open_orders']:,}, rejects {rejects}")
    frozen = None
    if not args.no_frozen:
        frozen = run_core(stream, frozen=True, check=args.check)
        same = all(frozen[k] == runs[0][k] for k in ("trades", "events", "open_orders", "rejects",
                                                   "state_hash") if k in runs[0])
        say(f"full core, gc frozen+disabled: {frozen['per_s']:,.0f} commands/s "
            f"({frozen['seconds']:.2f} s; {frozen['cpu_per_s']:,.0f}/s of CPU time)"
            f"{'' if same else ' -- RESULTS DIFFER'}")
    if args.check:
        say(f"invariants ok, state {runs[0]['state_hash'][:16]}")

    pure = None
    if native.compiled() and not args.one_build:  # the same stream on the pure-Python modules
        command = [sys.executable, __file__, "--commands", str(args.commands), "--seed",
                   str(args.seed), "--products", str(args.products), "--profiles",
                   str(args.profiles), "--repeat", str(args.repeat), "--no-frozen",
                   "--one-build", "--json"]
        done = subprocess.run(command, capture_output=True, text=True, check=True,
                              env={**os.environ, native.PURE_ENV: "1"})
        pure = json.loads(done.stdout.splitlines()[-1])
        same = all(pure[k] == core[k] for k in ("trades", "events", "open_orders"))
        say(f"full core, pure Python: {pure['core_cmds_per_s']:,} commands/s "
            f"({pure['core_seconds']:.2f} s; {pure['core_cpu_cmds_per_s']:,}/s of CPU time): "
            f"compiled {core['per_s'] / pure['core_cmds_per_s']:.2f}x wall, "
            f"{core_cpu / pure['core_cpu_cmds_per_s']:.2f}x CPU"
            f"{'' if same else ' -- RESULTS DIFFER'}")

    book = run_book(stream)
    say(f"book alone: {book['per_s']:,.0f} ops/s ({book['seconds']:.2f} s; "
        f"{book['cpu_per_s']:,.0f}/s of CPU time) | "
        f"fills {book['fills']:,}, resting {book['resting']:,}")

    if args.json:
        print(json.dumps({
            "python": python, "machine": machine, "load": load, "compiled": native.compiled(),
            "commands": n, "seed": args.seed,
            "products": args.products, "profiles": args.profiles, "core_src": core_digest(),
            "mix": dict(mix), "core_cmds_per_s": round(core["per_s"]),
            "core_seconds": round(core["seconds"], 4), "repeat": len(runs),
            "core_cpu_cmds_per_s": round(core_cpu),
            "core_frozen_cmds_per_s": frozen and round(frozen["per_s"]),
            "core_frozen_cpu_cmds_per_s": frozen and round(frozen["cpu_per_s"]),
            "trades": core["trades"], "events": core["events"],
            "open_orders": core["open_orders"], "rejects": core["rejects"],
            "gc_collections": core["gc_collections"], "book_ops_per_s": round(book["per_s"]),
            "book_seconds": round(book["seconds"], 4),
            "book_cpu_ops_per_s": round(book["cpu_per_s"]), "book_fills": book["fills"],
            "book_resting": book["resting"],
            "pure_cmds_per_s": pure and pure["core_cmds_per_s"],
            "pure_cpu_cmds_per_s": pure and pure["core_cpu_cmds_per_s"],
        }))


if __name__ == "__main__":
    main()
