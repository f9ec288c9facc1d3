"""FIX market data fan-out in process: one trade increment to N level-3 sessions, for A/B.

    .venv/bin/python bench/fix_md_inprocess.py EVENTS [--sessions 100] [--per-commit 1] [--src DIR]
    PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/fix_md_inprocess.py EVENTS [...]

N sans-I/O order-by-order (``L3``) sessions, logged on and subscribed to BTC-USD, each
writing into a list (no socket); EVENTS ``Matched`` events go through
``MarketData.on_events``, the node listener that frames one ``X`` per session and event.
Prints the CPU microseconds per session and increment. Run it with EVENTS = 0 and EVENTS = E
under cachegrind: the difference of the instruction counts over E * N is the cost of one
increment to one session (encoding the entry once, then each session's MDReqID, header,
checksum and resend history). ``--per-commit K`` hands the events over K at a time, as a group
commit of K events does (the demo's ticks: about 5): each session's K increments go out in one
write. ``--src DIR`` runs the ``sandex`` package found in DIR.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--per-commit", type=int, default=1,
                        help="events handed over together (one group commit)")
    parser.add_argument("--src", help="the directory holding the sandex package to run")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    sys.path.insert(1 if args.src else 0, str(HERE.parent))
    import sandex
    from sandex.api.fix.market_data import L3, MarketData
    from sandex.api.fix.session import Outbound, Session, State
    from sandex.core import Matched, Side

    class Gateway:
        limits = False

        def wall(self) -> float:
            return time.time()

    market_data = MarketData(None, None, time.time, True)  # type: ignore[arg-type]
    written: list[bytes] = []
    subscribed = market_data.subscribers["BTC-USD"] = {}
    for n in range(args.sessions):
        session = Session(Gateway(), 0.0, f"bench:{n}")  # type: ignore[arg-type]
        session.writer = written.append
        session.write_now = written.append  # builds since send_all: its writes at once
        session.state = State.ACTIVE
        session.out = Outbound()
        session._client_comp = f"{n:032x}"  # as its Logon sets it
        if hasattr(session, "_lead"):  # builds since the one-pass header
            session._lead = f"49=Coinbase\x0156={session._client_comp}\x0134="
        subscribed[session] = [f"md-{n:08x}", 0, L3]
    started = time.process_time()
    step = max(1, args.per_commit)
    for first in range(0, args.events, step):
        market_data.on_events([Matched(
            1_796_299_263_026_194 + i, "BTC-USD", 10 + i, 5 + i,
            "7bc7305f-1043-428c-bbba-beb988fd5ba8", "8bc7305f-1043-428c-bbba-beb988fd5ba8",
            "p1", "p2", Side.BUY, 10_000_000_000, 10_000_000, 0, 600_000_000_000_000, 0, 0,
            1, 0, 0, 0, 0) for i in range(first, min(first + step, args.events))])
        assert len(written) == args.sessions
        written.clear()
    took = time.process_time() - started
    per = took / (args.events * args.sessions) * 1e6 if args.events else 0.0
    print(f"{args.events} increments to {args.sessions} sessions: {took:.3f} s CPU, "
          f"{per:.2f} us per session and increment (sandex from "
          f"{Path(sandex.__file__).parent})", file=sys.stderr)


if __name__ == "__main__":
    main()
