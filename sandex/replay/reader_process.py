"""The replay's reader process: ``python -m sandex.replay.reader_process SPEC``.

Reads and maps a recording (``sandex.replay.stream.serve``) and writes the mapped events to
its standard output in length-prefixed msgpack chunks; started and read by ``ProcessStream``.
"""

from __future__ import annotations

import contextlib
import json
import sys

from sandex.replay.stream import serve


def main() -> None:
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the venue stopped reading
        serve(json.loads(sys.argv[1]), sys.stdout.buffer)


if __name__ == "__main__":
    main()
