"""The generated tables of ``docs/wire.md``: every REST route and every error answer.

The tables are written from the code (``ROUTES``, ``Error``), between marker comments, so the
wire reference cannot drift from what the server answers: ``tests/test_wire_doc.py`` fails
when the file differs from what this module would write.

Rewrite them after adding a route or an error::

    .venv/bin/python -m tests.support.wire_doc --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sandex.api.rest.routes import ROUTES
from sandex.api.rest.routing import Route
from sandex.errors import Error

WIRE_DOC = Path(__file__).resolve().parents[2] / "docs" / "wire.md"

_BLOCK = re.compile(r"(<!-- (\w+):begin -->\n).*?(<!-- \2:end -->)", re.S)


def _access(route: Route) -> str:
    if route.permission is None:
        return "public"
    return " or ".join(sorted(p.value for p in route.permission))


def _bucket(route: Route) -> str:
    if route.permission is None:
        return "public"
    return "fills" if route.fills_bucket else "private"


def routes_table() -> str:
    """One row per route, in the order the gateway declares them."""
    rows = ["| method | path | key permission | rate-limit bucket |", "|---|---|---|---|"]
    for route in ROUTES:
        rows.append(f"| `{route.method}` | `{route.pattern}` | {_access(route)} "
                    f"| {_bucket(route)} |")
    return "\n".join(rows) + "\n"


def errors_table() -> str:
    """One row per error answer; ``{}`` in a text is filled in when the answer is made."""
    rows = ["| status | `message` | name in `sandex/errors.py` |", "|---|---|---|"]
    for error in Error:
        status, template = error.value
        text = template.replace("|", "\\|")
        rows.append(f"| {status} | `{text}` | `{error.name}` |")
    return "\n".join(rows) + "\n"


TABLES = {"routes": routes_table, "errors": errors_table}


def render(text: str) -> str:
    """``text`` with each marked block replaced by its freshly generated table."""
    def fill(match: re.Match[str]) -> str:
        return match.group(1) + TABLES[match.group(2)]() + match.group(3)
    return _BLOCK.sub(fill, text)


def main(argv: list[str]) -> int:
    current = WIRE_DOC.read_text()
    fresh = render(current)
    if "--write" in argv:
        WIRE_DOC.write_text(fresh)
        return 0
    print("up to date" if fresh == current else "stale: run with --write")
    return 0 if fresh == current else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
