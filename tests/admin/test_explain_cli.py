"""``sandex explain``: a dry run through a running server's admin endpoint (it needs REST's
parser, so a stopped data dir is refused with how to get one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.admin.test_admin_cli import data_dir, sandex
from tests.api.rest.test_explain import LIMIT
from tests.support.rest_kit import ALICE, start_server

__all__ = ["data_dir"]  # the fixture, shared with the admin CLI tests


def test_sandex_explain_on_the_command_line(capsys: pytest.CaptureFixture[str],
                                            data_dir: Path) -> None:
    body = json.dumps({**LIMIT, "size": "100000"})
    code, _, err = sandex(capsys, "explain", "--key", ALICE[0], body, "--data-dir",
                          str(data_dir))
    assert code == 2 and "explain needs a running server" in err
    server = start_server(data_dir=data_dir)
    try:
        code, verdict, _ = sandex(capsys, "explain", "--key", ALICE[0], body, "--data-dir",
                                  str(data_dir))
        assert code == 0 and (verdict["would"], verdict["message"]) == (
            "reject", "Insufficient funds")
        code, _, err = sandex(capsys, "explain", "--key", ALICE[0], "[1]", "--data-dir",
                              str(data_dir))
        assert code == 2 and "the body must be a JSON object" in err
    finally:
        server.stop()
