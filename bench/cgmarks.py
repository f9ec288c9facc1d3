"""Callgrind dumps around ``sys.call_tracing``, by callgrind's client request.

The benches count a timed part by running it through ``sys.call_tracing`` (a C function
nothing else calls) under ``--toggle-collect=sys_call_tracing`` or
``--dump-before/after=sys_call_tracing``. Those options find the function by its symbol:
Debian's ``/usr/bin/python3.11`` (the interpreter ``make`` picks since
``scripts/pick_python.py``) is stripped of its static symbols, and they then count or dump
nothing (one part: start-up and every round together). ``mark()`` instead replaces
``sys.call_tracing`` with a call between two dumps made by ``CALLGRIND_DUMP_STATS_AT`` from a
small C library built here (``cc``, valgrind's ``callgrind.h``): the even parts of the run's
``callgrind.out.N`` files (``.2``, ``.4``, ...) are each one ``sys.call_tracing`` call,
``Trigger: Client Request: WHY``. Outside valgrind the request is a few no-op
instructions."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SOURCE = b"""#include <valgrind/callgrind.h>
void dump(const char *why) { CALLGRIND_DUMP_STATS_AT(why); }
"""


def dumper() -> Callable[[bytes], None]:
    """``dump(why)``: a callgrind dump now, its trigger named ``why``."""
    folder = Path(tempfile.mkdtemp(prefix="cgmarks-"))
    source, library = folder / "marks.c", folder / "marks.so"
    source.write_bytes(_SOURCE)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source)],
                   check=True)
    dump = ctypes.CDLL(str(library)).dump
    dump.argtypes = [ctypes.c_char_p]
    dump.restype = None
    return dump


def under_valgrind() -> bool:
    """Whether this process runs under valgrind (its preloaded core library)."""
    return "vgpreload" in os.environ.get("LD_PRELOAD", "")


def mark(name: Callable[[], str] = lambda: "sys.call_tracing") -> None:
    """Each later ``sys.call_tracing`` call between two dumps (``before NAME``, ``NAME``:
    ``name()`` read at the call). Once a process: a second call changes nothing (a bench
    that marks may import another that does too)."""
    if getattr(sys.call_tracing, "cgmarked", False):
        return
    dump = dumper()
    call_tracing = sys.call_tracing

    def marked(function: Any, args: tuple[Any, ...]) -> Any:
        why = name().encode()
        dump(b"before " + why)
        try:
            return call_tracing(function, args)
        finally:
            dump(why)

    marked.cgmarked = True  # type: ignore[attr-defined]
    sys.call_tracing = marked
