"""How big the engine's containers are after the engine bench's stream: what grows with N.

    PYTHONPATH=. .venv/bin/python bench/core_sizes.py [--commands 300000 1000000 ...]

For each N, a fresh engine applies ``streams.generate(N, seed=1)`` (``bench/engine.py``'s
stream) and the lengths and own sizes (``sys.getsizeof``) of its order index, archive,
profiles' order lists and tallies, the books' levels and heaps and the expiries are printed,
with the orders' count by status, the process's peak RSS and the blocks CPython's allocator
holds (``sys.getallocatedblocks``).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from streams import generate

from sandex.core import Engine


def sizes(n: int) -> dict[str, str]:
    stream = generate(n, seed=1)
    engine = Engine()
    for cmd in stream.setup:
        engine.apply(cmd)
    gc.collect()
    blocks = sys.getallocatedblocks()
    for cmd in stream.commands:
        engine.apply(cmd)
    del stream
    gc.collect()
    out: dict[str, str] = {}

    def row(name: str, obj: object, length: int | None = None) -> None:
        size = sys.getsizeof(obj)
        out[name] = f"{len(obj) if length is None else length:,} ({size / 1024:,.0f} KiB)"  # type: ignore[arg-type]

    row("_live (orders on record)", engine.orders_on_record)
    row("_archive (done with fills)", engine._archive)
    statuses = Counter(str(o.status) for o in engine.orders_on_record.values())
    out["_live by status"] = ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))
    profiles = list(engine.profiles.values())
    out["profiles' _orders (sum)"] = f"{sum(len(p._orders) for p in profiles):,} " \
        f"(dead {sum(p._dead for p in profiles):,})"
    out["profiles' by_client_oid (sum)"] = f"{sum(len(p.by_client_oid) for p in profiles):,}"
    out["profiles' _tallies (sum)"] = f"{sum(len(p._tallies) for p in profiles):,}"
    for product in engine.products.values():
        book = product.book
        out[f"{product.id} levels bid/ask"] = f"{len(book.bids):,} / {len(book.asks):,}"
        out[f"{product.id} heaps bid/ask"] = f"{len(book._bid_heap):,} / {len(book._ask_heap):,}"
        resting = sum(lv.count for s in (book.bids, book.asks) for lv in s.values())
        out[f"{product.id} resting orders"] = f"{resting:,}"
    row("_expiries", engine._expiries)
    out["allocated blocks grown by"] = f"{sys.getallocatedblocks() - blocks:,}"
    out["peak RSS"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, nargs="+", default=[300_000])
    args = parser.parse_args()
    for n in args.commands:
        print(f"{n:,} commands:")
        for name, value in sizes(n).items():
            print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
