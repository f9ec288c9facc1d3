"""A group commit's own kernel cost: the system calls of one SQLite journal commit, and what
each kind costs here.

    .venv/bin/python bench/rest_commit.py [--commits N] [--records R] [--no-sync]
        [--locking normal|exclusive] [--strace] [--parts] [--dir DIR]

1. ``SqliteJournal.write`` of ``R`` records (~200 bytes each, as an order command's) then
   ``WalSync.now`` (its ``fdatasync``), ``N`` times after 200 untimed: the process's user
   and system CPU and the wall time a commit (``--no-sync``: the write alone, the sync left
   out). ``--strace`` runs the same again under ``strace -f -c`` and prints the system calls
   a commit by kind (SQLite's ``pwrite64`` of the log's frames, its ``fcntl`` locks on the
   ``-shm`` file, the ``fdatasync``; the checkpoint thread's included).
   ``--locking exclusive`` sets ``PRAGMA locking_mode=EXCLUSIVE`` on the writer first: what
   that would save, measured only (the checkpoint thread's connection is then locked out:
   its checkpoints fail, the writer's own at the log's ceiling remain).
2. ``--parts``: the kinds alone on scratch files: a commit's six ``fcntl`` locks (as SQLite
   takes them: its read mark written, its read lock, the write lock, both dropped), and its
   four WAL frames as eight ``pwrite`` calls (a 24-byte header and a 4 KB page apart, as
   SQLite writes them) against four (header and page in one).

The data dir is a fresh temporary directory under ``--dir`` (the disk matters; default the
system's temporary directory).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandex.journal.store import SqliteJournal  # noqa: E402

WARM = 200
FRAME = 24 + 4096


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def commits(args: argparse.Namespace) -> None:
    where = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        journal = SqliteJournal(where / "journal.sqlite3")
        if args.locking == "exclusive":
            journal._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        records = [os.urandom(100).hex().encode() for _ in range(args.records)]
        sync = journal._wal.now

        def one() -> None:
            journal.write(records)
            if not args.no_sync:
                sync()

        for _ in range(WARM):
            one()
        user, system = _cpu()
        started = time.perf_counter()
        for _ in range(args.commits):
            one()
        wall = time.perf_counter() - started
        user2, system2 = _cpu()
        n = args.commits
        print(f"{args.locking}{' no sync' if args.no_sync else ''}: {n} commits of "
              f"{args.records} records: wall {wall / n * 1e6:.1f} us, user "
              f"{(user2 - user) / n * 1e6:.1f} us, system {(system2 - system) / n * 1e6:.1f} us "
              "a commit")
        journal.close()
    finally:
        shutil.rmtree(where, ignore_errors=True)


def traced(args: argparse.Namespace) -> None:
    """The same run under ``strace -f -c``: system calls a commit by kind."""
    out = Path(tempfile.mkdtemp(dir=args.dir)) / "strace.txt"
    command = [sys.executable, __file__, "--commits", str(args.commits), "--records",
               str(args.records), "--locking", args.locking, "--dir", args.dir]
    if args.no_sync:
        command.append("--no-sync")
    subprocess.run(["strace", "-f", "-c", "-o", str(out), *command], check=True,
                   stdout=subprocess.DEVNULL)
    total = args.commits + WARM
    calls: dict[str, int] = {}
    for line in out.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and re.fullmatch(r"[\d.]+", fields[0]) and fields[-1] != "total":
            calls[fields[-1]] = int(fields[3])
    shutil.rmtree(out.parent, ignore_errors=True)
    kinds = ("pwrite64", "fcntl", "pread64", "fdatasync")
    print(f"strace, {total} commits (the start-up's calls included): " + ", ".join(
        f"{kind} {calls.get(kind, 0) / total:.2f}" for kind in kinds) + " a commit")


def _timed(name: str, step: Callable[[], None], n: int = 20000) -> None:
    user, system = _cpu()
    started = time.perf_counter()
    for _ in range(n):
        step()
    wall = time.perf_counter() - started
    user2, system2 = _cpu()
    print(f"{name:34} wall {wall / n * 1e6:6.2f} us, user {(user2 - user) / n * 1e6:5.2f}, "
          f"system {(system2 - system) / n * 1e6:5.2f} us")


def parts(args: argparse.Namespace) -> None:
    where = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        shm = os.open(where / "shm", os.O_RDWR | os.O_CREAT)
        os.ftruncate(shm, 32768)

        def lock(kind: int, start: int) -> None:
            fcntl.fcntl(shm, fcntl.F_SETLK, struct.pack("hhqqi", kind, 0, start, 1, 0))

        def six() -> None:  # SQLite's, offsets 120 (write lock) and 124 (read slot 1)
            lock(fcntl.F_WRLCK, 124)
            lock(fcntl.F_UNLCK, 124)
            lock(fcntl.F_RDLCK, 124)
            lock(fcntl.F_WRLCK, 120)
            lock(fcntl.F_UNLCK, 120)
            lock(fcntl.F_UNLCK, 124)

        wal = os.open(where / "wal", os.O_RDWR | os.O_CREAT)
        slots = 64
        os.pwrite(wal, b"\0" * (FRAME * 4 * slots), 0)  # overwritten in place, as a reused log
        header, page = b"h" * 24, b"p" * 4096
        at = [0]

        def eight() -> None:
            base = (at[0] % slots) * 4 * FRAME
            at[0] += 1
            for frame in range(4):
                os.pwrite(wal, header, base + frame * FRAME)
                os.pwrite(wal, page, base + frame * FRAME + 24)

        def four() -> None:
            base = (at[0] % slots) * 4 * FRAME
            at[0] += 1
            for frame in range(4):
                os.pwrite(wal, header + page, base + frame * FRAME)

        _timed("6 fcntl (a commit's locks)", six)
        _timed("8 pwrite (4 frames, as SQLite)", eight)
        _timed("4 pwrite (4 frames whole)", four)
        os.close(shm)
        os.close(wal)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--records", type=int, default=22, help="records a commit")
    parser.add_argument("--no-sync", action="store_true", help="the write alone")
    parser.add_argument("--locking", choices=("normal", "exclusive"), default="normal")
    parser.add_argument("--strace", action="store_true", help="system calls a commit too")
    parser.add_argument("--parts", action="store_true", help="the kinds alone")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    if args.parts:
        parts(args)
        return
    commits(args)
    if args.strace:
        traced(args)


if __name__ == "__main__":
    main()
