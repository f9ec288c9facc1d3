"""What the node's listeners cost a command, alone: the group commits of a ``bench/stack.py``
run (signed place-and-cancel through the whole stack, journal on) recorded as the listeners
got them, then handed again to every listener ``sandex serve`` installs (the feed's mirror,
REST's, FIX order entry's, drop copy's, both market-data gateways', the race controls') by
the node's own dispatch, ``Node._notify``, ``--repeat`` times. No connection of any kind is
open, as in ``bench/rest.py``'s and ``stack.py``'s runs. A recorded place-and-cancel run
leaves no order resting, so every repetition finds the mirror as the first did.

    .venv/bin/python bench/listeners.py [--src DIR] [--rounds R] [--repeat N]
    PYTHONHASHSEED=0 valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=cg.out .venv/bin/python bench/listeners.py ...
        (cg.out.2's "totals" over the commands printed: the listeners' instructions a
        command; ``LISTENERS_INSTRUMENT=1`` turns instrumentation on for the timed part;
        under valgrind its dumps are made by callgrind's client request, ``bench/cgmarks.py``,
        since Debian's stripped interpreter has no ``sys_call_tracing`` symbol to dump at)

Prints the commands and group commits recorded and the CPU a command of the timed replays.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    parser.add_argument("--rounds", type=int, default=8, help="place-and-cancel rounds a "
                        "connection (64 connections) recorded")
    parser.add_argument("--repeat", type=int, default=50, help="timed replays of them")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import cgmarks
    import stack
    stack.setup_path(args.src)
    if cgmarks.under_valgrind():
        cgmarks.mark()
    import uvloop
    from kit import SCENARIO

    from sandex import server
    from sandex.node import Batched

    recorded: list[list[list[Any]]] = []
    with tempfile.TemporaryDirectory(prefix="sandex-listeners-") as data_dir, \
            asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        venue = server.build(SCENARIO, rate_limits=False, demo=False,
                             data_dir=Path(data_dir) / "d")
        node = venue.node
        runner.run(stack.drive(venue.app, 64, 1))  # imports, first passphrase checks
        recorder = Batched(lambda batches: recorded.append(list(batches)))
        node.listeners.insert(0, recorder)
        _, errors = runner.run(stack.drive(venue.app, 64, args.rounds))
        node.listeners.remove(recorder)
        if errors:
            raise SystemExit(f"errors: {errors[:1]}")
        commands = sum(len(batch) for batch in recorded)
        notify = node._notify

        def replay(times: int) -> None:
            for _ in range(times):
                for batch in recorded:
                    notify(batch)

        replay(1)
        if os.environ.get("LISTENERS_INSTRUMENT"):
            os.system(f"callgrind_control -i on {os.getpid()} >/dev/null 2>&1")
        started = time.process_time()
        sys.call_tracing(replay, (args.repeat,))
        cpu = time.process_time() - started
        runner.run(node.close())
    print(f"{commands} commands in {len(recorded)} group commits recorded; "
          f"{len(node.listeners)} listeners; replayed {args.repeat} times: "
          f"{cpu / (commands * args.repeat) * 1e9:.0f} ns of CPU a command "
          f"({commands * args.repeat} commands timed)", file=sys.stderr)


if __name__ == "__main__":
    main()
