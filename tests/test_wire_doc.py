"""docs/wire.md's tables are what the server answers: every route and every error text."""

from __future__ import annotations

from sandex.api.rest.routes import ROUTES
from sandex.errors import Error
from tests.support import wire_doc


def test_the_generated_tables_are_up_to_date() -> None:
    current = wire_doc.WIRE_DOC.read_text()
    assert wire_doc.render(current) == current, (
        "docs/wire.md is stale: run .venv/bin/python -m tests.support.wire_doc --write")


def test_every_route_and_error_text_is_listed() -> None:
    text = wire_doc.WIRE_DOC.read_text()
    for route in ROUTES:
        assert f"| `{route.method}` | `{route.pattern}` |" in text
    assert "| 400 | `Insufficient funds` | `INSUFFICIENT_FUNDS` |" in text
    assert "| 404 | `order not found` | `ORDER_NOT_FOUND` |" in text
    assert "| `DELETE` | `/orders/{order_id}` | trade | private |" in text
    assert "| `GET` | `/fills` | trade or view | fills |" in text
    assert len([line for line in text.splitlines() if line.startswith("| 4")
                or line.startswith("| 5")]) >= len(Error)


def test_the_docs_cite_nothing_outside_the_repository() -> None:
    docs = wire_doc.WIRE_DOC.parent
    for page in [*docs.glob("*.md"), docs.parent / "README.md"]:
        assert "../shared" not in page.read_text(), page
