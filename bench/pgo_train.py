"""The training run of a profile-guided build (``make pgo``, ``SANDEX_PGO=1 setup.py``).

    python bench/pgo_train.py [--commands 30000]

Runs the work the compiled modules are built for, a few seconds of it, in a build made with
``-fprofile-generate``: the engine bench's kind of stream (``streams.generate``, with a seed
other than the benchmarks' so the profile is not fitted to the measured stream) applied by a
bare ``Engine``; the same stream applied through a ``Node`` into a journal (the read models
and the apply path, as ``bench/recovery.py`` builds its journal); then the journal recovered
by ``open_node`` (the replay). The counts land in the build's profile directory; the second
pass of the build reads them. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 7  # the benchmarks use seed 1


def train(commands: int) -> int:
    sys.path.insert(0, str(HERE))
    from streams import generate

    from sandex import native
    from sandex.core import Duplicate, Engine, Rejected
    from sandex.node.codec import encode
    from sandex.node.storage import open_node

    print(f"sandex pgo training: {native.describe()}", file=sys.stderr)
    stream = generate(commands, seed=SEED)
    apply = Engine().apply
    for command in stream.setup + stream.commands:
        apply(command)
    with tempfile.TemporaryDirectory(prefix="sandex-pgo-") as tmp:
        data_dir = Path(tmp)
        node = open_node(data_dir)  # a journal of the stream, as bench/recovery.py builds it
        batch: list[bytes] = []
        for command in stream.setup + stream.commands:
            events = node.apply(command)
            if not events or type(events[0]) not in (Rejected, Duplicate):
                batch.append(encode(command))
        node.journal.append(batch)
        end = node.journal.last_position
        node.journal.close()
        node = open_node(data_dir)  # the replay
        assert node.position == end, (node.position, end)
        node.journal.close()
    return end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=30_000)
    args = parser.parse_args()
    records = train(args.commands)
    print(f"sandex pgo training: {args.commands:,} commands, {records:,} records replayed",
          file=sys.stderr)


if __name__ == "__main__":
    main()
