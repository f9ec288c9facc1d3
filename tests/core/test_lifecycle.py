"""The order lifecycle ``docs/architecture.md`` shows is the one the core enforces.

The property tests (``core.harness``) check every order's moves against ``LIFECYCLE``; here
the table in the docs must equal it, row for row and in order.
"""

from __future__ import annotations

from pathlib import Path

from sandex.core.lifecycle import ENTERED_BY, LIFECYCLE
from sandex.core.model import Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _doc_rows() -> list[tuple[str, str, str]]:
    section = DOC.read_text().split("\n## Order lifecycle\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    assert rows[0] == [" from ", " to ", " when "] and set(rows[1]) <= {"---"}
    return [(a.strip(), b.strip(), c.strip()) for a, b, c in rows[2:]]


def test_the_docs_show_the_lifecycle_table_of_the_code() -> None:
    code = [("new" if before is None else str(before), str(after), when)
            for (before, after), when in LIFECYCLE.items()]
    assert _doc_rows() == code


def test_every_status_is_entered_by_one_event_and_done_is_final() -> None:
    assert sorted(ENTERED_BY.values()) == sorted(Status)
    assert {after for _, after in LIFECYCLE} == set(Status)
    assert not any(before is Status.DONE for before, _ in LIFECYCLE)
