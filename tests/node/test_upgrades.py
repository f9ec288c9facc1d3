"""A data dir survives the code changing under it (issue 12 §1): a field inserted in the
order record or two of its fields swapped, a command or read-model class renamed, and a
snapshot whose document is damaged. After each restart every order, balance, hold and fill is
what it was, and the state hash is that of a full journal replay. Code changes are made for
real, in a subprocess: ``Order`` redefined and swapped in wherever it is imported, or the
package copied and a class renamed in its source."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from sandex.core.image import EngineImage, ProfileImage
from sandex.node import snapshot
from sandex.node.storage import SNAPSHOT_DIR, open_node, snapshot_now
from sandex.server import build
from tests.node.test_storage import close, sandex, trade
from tests.support.rest_kit import SCENARIO, start_server
from tests.support.upgrade_kit import replayed_hash, state_of

HERE = Path(__file__).parent
REPORT = """
    import json, sys
    sys.path.append({root!r})  # the tests package, after the sandex under test
    from sandex.node.storage import open_node
    from tests.support.upgrade_kit import replayed_hash, state_of
    node = open_node(__import__("pathlib").Path({data_dir!r}))
    print(json.dumps({{"state": state_of(node), "snapshot": node.snapshot_position,
                      "replayed": replayed_hash(node.journal.path.parent),
                      "module": __import__("sandex").__file__}}))
"""


def data_dir_with_a_tail(path: Path) -> tuple[dict[str, object], int]:
    """A data dir: trades, a snapshot, more trades after it; its state and snapshot position."""
    node = build(SCENARIO, data_dir=path).node
    trade(node, 4)
    snapshot_now(node, path)
    at = node.position
    trade(node, 3)
    state = state_of(node)
    close(node)
    return state, at


def run(script: str, data_dir: Path, pythonpath: str = "", cwd: Path | None = None,
        ) -> dict[str, object]:
    code = textwrap.dedent(script) + textwrap.dedent(REPORT).format(
        root=str(HERE.parent.parent), data_dir=str(data_dir))
    env = {**os.environ, "PYTHONPATH": pythonpath}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


ORDER_VARIANT = """
    import os, sys
    os.environ["SANDEX_PURE_PYTHON"] = "1"  # compiled code builds orders in C: patch pure code
    import sandex.core.records as records
    Orig, OrigNew = records.Order, records.new_order
    names = list(records.ORDER_FIELDS)
    variant = list(names)
    if {mode!r} == "swap":
        i, j = names.index("maker_rate"), names.index("hold_rate")
        variant[i], variant[j] = variant[j], variant[i]
    else:
        variant.insert(names.index("post_only"), "note")
    defaults = dict(hold=0, status=records.PENDING, filled_size=0, executed_value=0,
                    fill_fees=0, done_at=None, done_reason=None, cancel_reason=None, note=None)

    class Variant:  # the two nullable sizes stored as the core reads them (records._STORED)
        # and the engine's own non-field attributes (its profile's tally, its place among the
        # profile's live orders, its level and product: not imaged)
        __slots__ = (*(records._STORED.get(name, name) for name in variant), "_level",
                     "_live_at", "_product", "_tally")
        remaining, funds_remaining = Orig.remaining, Orig.funds_remaining

        def __init__(self, **fields):
            for name in variant:
                setattr(self, name, fields[name] if name in fields else defaults[name])
            self._tally = None
            self._live_at = -1
            self._level = None
            self._product = None

    def Order(*args, **kwargs):  # the engine builds orders positionally, in the old order
        return Variant(**dict(zip(names, args)), **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("sandex"):
            if getattr(module, "Order", None) is Orig:
                module.Order = Order
            if getattr(module, "new_order", None) is OrigNew:  # Order's positional twin
                module.new_order = Order
            if getattr(module, "ORDER_FIELDS", None) == tuple(names):
                module.ORDER_FIELDS = tuple(variant)
    assert variant != names
"""


@pytest.mark.parametrize("mode", ["swap", "insert"])
def test_a_changed_order_record_keeps_the_data_dir(tmp_path: Path, mode: str) -> None:
    expected, at = data_dir_with_a_tail(tmp_path)
    result = run(ORDER_VARIANT.format(mode=mode), tmp_path)
    assert result["state"] == expected
    assert result["replayed"] == expected["hash"]
    # a swap changes nothing the snapshot depends on; a new field changes its schema, and
    # the journal rebuilds the state instead
    assert result["snapshot"] == (at if mode == "swap" else 0)


@pytest.mark.parametrize("old,new", [("PlaceOrder", "SubmitOrder"),
                                     ("FillsView", "FillIndex"), ("LedgerEntry", "LedgerLine"),
                                     ("MarketView", "Markets")])
def test_a_renamed_class_keeps_the_data_dir(tmp_path: Path, old: str, new: str) -> None:
    data_dir = tmp_path / "data"
    expected, _ = data_dir_with_a_tail(data_dir)
    package = tmp_path / "renamed" / "sandex"
    shutil.copytree(Path(snapshot.__file__).parent.parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    renamed = 0
    for source in package.rglob("*.py"):
        text = source.read_text()
        changed = re.sub(rf"\b{old}\b", new, text)
        renamed += changed != text
        source.write_text(changed)
    assert renamed
    result = run("", data_dir, pythonpath=str(package.parent), cwd=package.parent)
    assert result["module"] == str(package / "__init__.py")
    assert result["state"] == expected
    assert result["replayed"] == expected["hash"]


def damage_document(path: Path, how: str) -> None:
    """Change a snapshot's document but keep its checksum right: only the schema, decoding
    or the state hash can tell."""
    header_line, document = path.read_bytes().split(b"\n", 1)
    if how == "truncated":
        document = document[: len(document) // 2]
    else:
        doc = json.loads(document)
        engine = doc["engine"]  # image structs are arrays: find fields by their index
        if how == "balance":
            profile = engine[EngineImage.__struct_fields__.index("profiles")][0]
            profile[ProfileImage.__struct_fields__.index("accounts")][0][1] += 1
        else:  # an order missing its last field, as after a schema change
            engine[EngineImage.__struct_fields__.index("archive")][0].pop()
        document = json.dumps(doc, separators=(",", ":")).encode()
    header = json.loads(header_line)
    header.update(length=len(document), crc32=zlib.crc32(document))
    path.write_bytes(json.dumps(header).encode() + b"\n" + document)


@pytest.mark.parametrize("how", ["balance", "truncated", "missing field"])
def test_a_damaged_snapshot_document_is_rebuilt_from_the_journal(
        tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture) -> None:
    expected, at = data_dir_with_a_tail(tmp_path)
    path = tmp_path / SNAPSHOT_DIR / f"snapshot-{at:012d}.bin"
    damage_document(path, how)
    with caplog.at_level(logging.WARNING):
        node = open_node(tmp_path)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"skipping snapshot: {path}: ")
    assert node.snapshot_position == 0
    assert state_of(node) == expected
    assert replayed_hash(tmp_path) == expected["hash"]
    close(node)

    done = sandex("verify", "--data-dir", str(tmp_path))
    assert done.returncode == 1, done.stdout
    assert " OK" not in done.stdout
    assert f"  {path.name}: not usable: {path}: " in done.stdout


def test_the_server_starts_on_a_damaged_snapshot_and_writes_a_good_one(tmp_path: Path) -> None:
    expected, at = data_dir_with_a_tail(tmp_path)
    damage_document(tmp_path / SNAPSHOT_DIR / f"snapshot-{at:012d}.bin", "balance")
    server = start_server(data_dir=tmp_path)
    server.stop()
    log = server.log()
    assert server.process.returncode == 0, log
    assert log.count("skipping snapshot") == 1 and "Traceback" not in log
    node = open_node(tmp_path)  # from the snapshot written at shutdown, no warning
    assert node.snapshot_position == node.position > at
    assert state_of(node)["accounts"] == expected["accounts"]
    close(node)
    assert sandex("verify", "--data-dir", str(tmp_path)).returncode == 0
