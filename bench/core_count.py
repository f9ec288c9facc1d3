"""Instructions per command of the full core (cachegrind), this checkout beside others.

    .venv/bin/python bench/core_count.py [--commands 20000] [--baseline DIR ...] [--pure]

The method of ``docs/performance.md``: the engine bench's stream (``streams.generate(N,
seed=1)``) is pickled first; then two runs under ``valgrind --tool=cachegrind
--cache-sim=no`` load it and apply its setup, the second also its ``N`` trading commands;
the difference over ``N`` is the instructions per command, which repeat to within a few
instructions on a busy machine (wall clock does not). ``PYTHONHASHSEED=0``. Each checkout
runs with its own ``.venv`` when it has one (``--baseline /work/main``); ``--pure`` runs the
pure-Python modules (``SANDEX_PURE_PYTHON=1``); ``--node`` applies through a ``Node`` (the
engine and the read models, what recovery's replay does per record; refused commands
included, which a journal never holds); ``--held`` keeps each
command's events list until the next command's replaces it (``bench/engine.py``'s loop; the
engine reuses a list only once its caller has dropped it, docs/performance.md's thirtieth core
pass); ``--decoded`` round-trips each command through
msgspec's JSON first, so its strings are fresh objects as production's decoders (REST, FIX,
the journal's replay) give them, not the stream's shared ones (the pickle keeps which are one
object: the generator's cancel names its order by the place's own id string).
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


def _child(src: str, mode: str, path: str, n: int) -> None:
    sys.path.insert(0, src)
    sys.path.insert(1, str(HERE.parent))
    if mode in ("make", "make-decoded"):
        from streams import generate

        stream = generate(n, seed=1)
        setup, commands = stream.setup, stream.commands
        if mode == "make-decoded":  # each command through msgspec, as production's come
            import msgspec

            from sandex.core.commands import AnyCommand

            decode = msgspec.json.Decoder(AnyCommand).decode
            encode = msgspec.json.Encoder().encode
            setup = [decode(encode(cmd)) for cmd in setup]
            commands = [decode(encode(cmd)) for cmd in commands]
        with open(path, "wb") as f:  # the pickle keeps which strings are one object
            pickle.dump((setup, commands), f)
        return
    with open(path, "rb") as f:
        setup, commands = pickle.load(f)
    if mode == "node":  # the whole node: engine and read models, as replay applies them
        from sandex.core import Rejected
        from sandex.node.node import Node

        node = Node()
        for cmd in setup:
            node.apply(cmd)
        for cmd in commands[:n]:
            if (events := node.apply(cmd)) and type(events[0]) is Rejected:
                continue
        return
    from sandex.core import Engine

    apply = Engine().apply
    for cmd in setup:
        apply(cmd)
    if mode == "held":  # each command's events held until the next one's replace them
        events = None
        for cmd in commands[:n]:
            events = apply(cmd)
        del events
        return
    for cmd in commands[:n]:
        apply(cmd)


def instructions(command: list[str], env: dict[str, str]) -> int:
    """The instructions ``command`` runs, counted by cachegrind (no cache simulation)."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                           "--cachegrind-out-file=/dev/null", *command], env=env,
                          capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    assert found, done.stderr[-2000:]
    return int(found.group(1).replace(",", ""))


def count(src: Path, n: int, pure: bool, mode: str = "apply",
          decoded: bool = False) -> tuple[float, str]:
    python = src / ".venv" / "bin" / "python"
    exe = str(python if python.exists() else sys.executable)
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(src)}
    if pure:
        env["SANDEX_PURE_PYTHON"] = "1"
    else:
        env.pop("SANDEX_PURE_PYTHON", None)
    with tempfile.TemporaryDirectory() as tmp:
        stream = f"{tmp}/stream.pickle"
        subprocess.run([exe, str(HERE), "--child", str(src),
                        "make-decoded" if decoded else "make", stream, str(n)], env=env,
                       check=True)
        # once without valgrind: .pyc files written, so neither counted run compiles any
        subprocess.run([exe, str(HERE), "--child", str(src), "apply", stream, "1"], env=env,
                       check=True)
        totals = [instructions([exe, str(HERE), "--child", str(src), mode, stream, str(k)], env)
                  for k in (0, n)]
        how = subprocess.run([exe, "-c", "from sandex import native; print(native.describe())"],
                             env=env, capture_output=True, text=True, cwd=tmp).stdout.strip()
    return (totals[1] - totals[0]) / n, how


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--baseline", type=Path, nargs="*", default=[])
    parser.add_argument("--pure", action="store_true", help="the pure-Python modules")
    parser.add_argument("--node", action="store_true",
                        help="apply through a Node (engine + read models, as replay does)")
    parser.add_argument("--held", action="store_true",
                        help="hold each command's events until the next command's replace "
                             "them (``events = apply(cmd)``, as bench/engine.py's loop does); "
                             "by default each list is dropped at once")
    parser.add_argument("--decoded", action="store_true",
                        help="each command decoded by msgspec from its JSON (production's "
                             "fresh strings: no id shared with the setup's or another's)")
    args = parser.parse_args()
    results = []
    for src in [ROOT, *args.baseline]:
        per, how = count(src.resolve(), args.commands, args.pure,
                         "node" if args.node else "held" if args.held else "apply",
                         args.decoded)
        results.append(per)
        versus = "" if len(results) == 1 else f" ({per / results[0] - 1:+.1%} vs this checkout)"
        print(f"{src}: {per:,.0f} instructions/command [{how}]{versus}", flush=True)


if __name__ == "__main__":
    main()
