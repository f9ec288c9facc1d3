"""Where the instructions are, by object file: the sandex extensions against libpython and libc.

    .venv/bin/python bench/objects.py core [--commands 20000] [--baseline DIR]
    .venv/bin/python bench/objects.py recovery --keep DIR [--commands 20000] [--baseline DIR]

The C compiler's options reach only our own extensions (the ``.so`` files under ``sandex/``),
not the interpreter (``libpython3.11.so``) or the C library. This runs the two measurements
of ``bench/core_count.py`` (the engine bench's stream, ``N`` commands beside none) and of
``bench/recovery_count.py`` (``open_node`` on a journal beside only opening it) under
``valgrind --tool=callgrind`` and sums each run's own (self) instructions by object file; the
difference over the commands or records is the instructions each object costs per command or
record. ``--baseline DIR`` counts another checkout the same way in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

import recovery_count  # noqa: E402


def by_object(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Counter[str]:
    """Self instructions of ``command`` under callgrind, summed by object file."""
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                        *command], env=env, cwd=cwd, check=True, capture_output=True)
        return parse(Path(out.name).read_text(errors="replace"))


def parse(text: str) -> Counter[str]:
    names: dict[str, str] = {}
    totals: Counter[str] = Counter()
    current = "?"
    skip_next = False  # the line after ``calls=`` is the callee's inclusive cost
    for line in text.splitlines():
        if line.startswith(("ob=", "cob=")):  # the names' ids are shared by both
            found = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
            name = line.split("=", 1)[1]
            if found:
                if found.group(2):
                    names[found.group(1)] = found.group(2)
                name = names.get(found.group(1), found.group(1))
            if line.startswith("ob="):
                current = name
        elif line.startswith("calls="):
            skip_next = True
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if skip_next:
                skip_next = False
                continue
            parts = line.split()
            if len(parts) > 1:
                totals[current] += int(parts[1])
    return totals


def group(name: str) -> str:
    base = os.path.basename(name)
    if "/sandex/" in name and base.endswith(".so"):
        return "sandex .so"
    if base.startswith("libpython"):
        return base
    if base.startswith("libc.so") or base.startswith("libc-"):
        return "libc"
    if base.startswith("libsqlite3") or "_sqlite3" in base:
        return "sqlite3"
    if base.startswith("ld-linux"):
        return "ld.so"
    if base.startswith("vgpreload") or "valgrind" in name:
        return "valgrind"
    return "other"


def grouped(counts: Counter[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for name, value in counts.items():
        out[group(name)] += value
    return out


def core(src: Path, n: int) -> tuple[Counter[str], Counter[str]]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(src)}
    env.pop("SANDEX_PURE_PYTHON", None)
    exe = sys.executable
    script = str(HERE.parent / "core_count.py")
    with tempfile.TemporaryDirectory() as tmp:
        stream = f"{tmp}/stream.pickle"
        subprocess.run([exe, script, "--child", str(src), "make", stream, str(n)], env=env,
                       check=True)
        subprocess.run([exe, script, "--child", str(src), "apply", stream, "1"], env=env,
                       check=True)
        runs = [by_object([exe, script, "--child", str(src), "apply", stream, str(k)], env)
                for k in (0, n)]
    return runs[0], runs[1]


def recovery(src: Path, data_dir: Path) -> tuple[Counter[str], Counter[str]]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(src)}
    env.pop("SANDEX_PURE_PYTHON", None)
    exe = sys.executable
    runs = [by_object([exe, "-c", script, str(data_dir)], env, cwd=src)
            for script in (recovery_count.EMPTY, recovery_count.FULL)]
    return runs[0], runs[1]


def report(label: str, before: Counter[str], after: Counter[str], per: int, unit: str) -> None:
    diff = grouped(after)
    diff.subtract(grouped(before))
    total = sum(diff.values())
    print(f"{label}: {total / per:,.0f} instructions a {unit}")
    for name, value in diff.most_common():
        print(f"  {name:24} {value / per:9,.0f}  {value / total:6.1%}")
    sandex = Counter({k: v for k, v in after.items() if group(k) == "sandex .so"})
    sandex.subtract({k: v for k, v in before.items() if group(k) == "sandex .so"})
    for name, value in sandex.most_common(8):
        print(f"    {os.path.relpath(name, label) if name.startswith('/') else name:40}"
              f" {value / per:8,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("core", "recovery"))
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="recovery: the data dir (built if missing)")
    parser.add_argument("--baseline", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    for src in [ROOT, *args.baseline]:
        src = src.resolve()
        if args.what == "core":
            before, after = core(src, args.commands)
            report(str(src), before, after, args.commands, "command")
            continue
        data_dir = args.keep or Path(tempfile.mkdtemp(prefix="sandex-objects-"))
        if not (data_dir / "journal.sqlite3").exists():
            from recovery import build

            build(data_dir, args.commands)
        from sandex.journal import SqliteJournal

        journal = SqliteJournal(data_dir / "journal.sqlite3", check_after=1 << 62)
        records = journal.last_position
        journal.close()
        before, after = recovery(src, data_dir)
        report(str(src), before, after, records, "record")


if __name__ == "__main__":
    main()
