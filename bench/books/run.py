"""sandex's full core beside the PyPI order books, on one seeded stream: ops/s of each.

    make bench-books [ARGS="--commands N"]
    .venv/bin/python bench/books/run.py [--commands N] [--seed S] [--peers PYTHON]

The stream is the engine bench's (``bench/streams.py``: ~60 % limit orders near a walking
mid, ~35 % cancels, ~5 % marketable orders: IOC limits, market by size, market by funds) on
one product. sandex runs it through its whole core (``Engine.apply``: book, accounts, holds,
fees, events; what ``bench/engine.py`` calls the full core) and through its bare ``Book``;
each peer runs the same orders and cancels through its own book in its own process, with its
own environment (``bench/books/.venv``, made by ``make bench-books`` from
``requirements.txt``; never sandex's dependencies). Prices go to the peers in ticks and sizes
in the product's smallest unit, both machine-sized ints; a market order by funds goes as the
size those funds bought in sandex (peers have no funds orders). Every peer's book must hold
as many orders at the end as sandex's (it replayed the stream), or its line says so.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from engine import run_book, run_core  # noqa: E402  (bench/ on the path first)
from kit import machine  # noqa: E402
from streams import PRODUCTS, Stream, book_order, cancel, generate, place  # noqa: E402

from sandex import native  # noqa: E402
from sandex.core.book import Book  # noqa: E402
from sandex.core.model import Account, Order, OrderType, Side, TimeInForce  # noqa: E402

PEERS = ("limit-order-book", "cython-orderbook", "liquibook", "lightmatchingengine",
         "akhil4n-orderbook")
LIMIT, IOC, MARKET, CANCEL = 0, 1, 2, 3
BUY = Side.BUY


def peer_ops(stream: Stream) -> list[tuple[int, bool, int, int, int]]:
    """The stream as the peers take it (see ``peers.py``)."""
    account = Account("bench", "X")
    book = Book()
    increment = stream.increments[0]
    tick = PRODUCTS[0][4]  # the quote increment of the stream's one product
    orders: list[Order] = []
    ops: list[tuple[int, bool, int, int, int]] = []
    for op, _, k in stream.book_ops:
        if op:
            cancel(book, orders[k])
            ops.append((CANCEL, False, 0, 0, k))
            continue
        cmd = stream.places[k]
        order = book_order(cmd, k, stream.taker_rates[cmd.profile_id], account)
        orders.append(order)
        place(book, order, increment)
        filled = order.filled_size
        buy = cmd.side is BUY
        if cmd.type is OrderType.MARKET:
            ops.append((MARKET, buy, 0, cmd.size if cmd.size is not None else filled, k))
        else:
            assert cmd.price is not None and cmd.size is not None and not cmd.price % tick
            kind = LIMIT if cmd.time_in_force is TimeInForce.GTC else IOC
            ops.append((kind, buy, cmd.price // tick, cmd.size, k))
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--peers", type=Path, default=BENCH / "books" / ".venv" / "bin" / "python",
                        help="the Python of the peers' environment")
    parser.add_argument("--only", nargs="*", default=PEERS, help="peers to run")
    args = parser.parse_args()
    print(f"machine: {machine()} | load {os.getloadavg()[0]:.1f}")
    print(f"sandex core: {native.describe()}")
    stream = generate(args.commands, args.seed)
    ops = peer_ops(stream)
    print(f"stream: {len(ops):,} ops, seed {args.seed}: {stream.mix['limit']:,} limit / "
          f"{stream.mix['cancel']:,} cancel / {stream.mix['marketable']:,} marketable; "
          f"{stream.shadow_resting:,} orders rest at the end")
    rows: list[tuple[str, float, float, str]] = []
    core = run_core(stream, frozen=False, check=False)
    rows.append(("sandex full core (Engine.apply)", core["per_s"], core["cpu_per_s"], ""))
    book = run_book(stream)
    rows.append(("sandex bare Book", book["per_s"], book["cpu_per_s"], ""))
    with tempfile.NamedTemporaryFile(suffix=".pickle") as f:
        pickle.dump((ops, stream.shadow_resting), f)
        f.flush()
        for name in args.only:
            done = subprocess.run([str(args.peers), str(BENCH / "books" / "peers.py"), name,
                                   f.name], capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["?"])[-1]
                rows.append((name, 0.0, 0.0, f"failed: {last}"))
                continue
            figures = json.loads(done.stdout.splitlines()[-1])
            note = ("" if figures["resting"] == stream.shadow_resting else
                    f"holds {figures['resting']:,} orders at the end, sandex "
                    f"{stream.shadow_resting:,}: a different book")
            rows.append((name, figures["per_s"], figures["cpu_per_s"], note))
    print(f"{'':34s} {'ops/s':>11s} {'ops/s CPU':>11s}")
    for name, per_s, cpu_per_s, note in rows:
        print(f"{name:34s} {per_s:11,.0f} {cpu_per_s:11,.0f}  {note}")
    full = core["cpu_per_s"]
    faster = [name for name, _, cpu, note in rows[2:] if cpu and full > cpu]
    print(f"sandex's full core is faster (CPU time) than {len(faster)} of {len(rows) - 2} "
          f"peers' bare books: {', '.join(faster) or 'none'}")


if __name__ == "__main__":
    main()
