"""``bench/ablate.py``'s stubs reach the order path they claim to switch off.

A stub that patches a function the order path no longer calls switches nothing off and
measures nothing (``--off parse`` patched ``parse_order`` alone for three passes after
``place_order`` had moved to ``order_fields`` and ``parse_fields``): each counting part must
answer the commands of the timed requests.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 128  # 64 connections x 1 round of POST + DELETE


def test_the_counting_stubs_answer_the_timed_requests() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ablate.py"), "--off", "parse,reply,apply",
         "--app", "sandex", "--requests", str(REQUESTS), "--scheduler"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    line = next(line for line in result.stderr.splitlines() if line.startswith("stubbed: "))
    stubbed = ast.literal_eval(line.removeprefix("stubbed: "))
    # one POST and one DELETE a connection: the POSTs' bodies parsed and answered, every
    # command applied
    assert stubbed == {"parse": REQUESTS // 2, "reply": REQUESTS // 2, "apply": REQUESTS}
