"""Journal and snapshot formats across versions: a data dir written before tags were explicit
(``format1_data_dir``: journal format 1, a pickled snapshot; written once by that code, never
edited) still opens, and a journal of a newer format is refused, changing nothing."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sandex.core import AdvanceClock
from sandex.node import snapshot
from sandex.node.storage import JOURNAL_FILE, open_node, verify

FORMAT1 = Path(__file__).parent / "format1_data_dir"
SCENARIO = Path(__file__).parent.parent / "scenario.toml"


def meta(path: Path) -> dict[str, object]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, value FROM meta").fetchall())
    finally:
        con.close()


@pytest.fixture
def old_dir(tmp_path: Path) -> Path:
    shutil.copytree(FORMAT1, tmp_path / "data")
    return tmp_path / "data"


@pytest.mark.parametrize("chunk", [4096, 2, 3])  # replay decodes a chunk at a time: one of
def test_a_format1_data_dir_opens_and_rebuilds_from_its_journal(  # 2, 3 spans both formats
        old_dir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
        chunk: int) -> None:
    import sandex.node.storage as storage

    monkeypatch.setattr(storage, "CHUNK", chunk)
    expected = json.loads((old_dir / "expected.json").read_text())
    with caplog.at_level(logging.WARNING):
        node = open_node(old_dir)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "format 1, this sandex reads format 2" in warnings[0].getMessage()
    assert "rebuilding the state from the journal" in warnings[0].getMessage()
    assert node.position == expected["position"] and node.snapshot_position == 0
    assert snapshot.node_hash(node) == expected["state_hash"]
    assert meta(old_dir / JOURNAL_FILE) == {"format": 2, "format2_from": node.position + 1}

    node.record(AdvanceClock(time=node.stamp()))  # written in format 2 after the old records
    node.journal.close()
    again = open_node(old_dir)
    assert again.position == expected["position"] + 1
    assert snapshot.node_hash(again) == snapshot.node_hash(node)
    again.journal.close()
    result = verify(old_dir)
    assert result.journal_end == expected["position"] + 1
    assert [c.problem is None for c in result.snapshots] == [False]  # the pickle


def sandex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandex.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_a_newer_journal_format_is_refused_with_one_line_and_nothing_changes(
        old_dir: Path) -> None:
    path = old_dir / JOURNAL_FILE
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE meta SET value = 3 WHERE name = 'format'")
    con.close()
    for written in [old_dir, *old_dir.rglob("*")]:  # as a newer sandex leaves its data dir
        written.chmod(0o700 if written.is_dir() else 0o600)
    before = {p.name: p.read_bytes() for p in old_dir.rglob("*") if p.is_file()}

    done = sandex("serve", "--port", "1", "--scenario", str(SCENARIO), "--data-dir",
                  str(old_dir))
    assert done.returncode == 2
    assert done.stderr == (f"sandex: {path}: journal format 3; this sandex reads formats up "
                           "to 2: refusing to open it\n")
    after = {p.name: p.read_bytes() for p in old_dir.rglob("*") if p.is_file() and p.name != "lock"}
    assert after == before
