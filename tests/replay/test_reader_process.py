"""The replay's reader process (``sandex.replay.stream.ProcessStream``) against reading in
process: the same recording gives the same venue, bit for bit, whichever reads it; pausing,
stepping, a bad line and a reader process that dies behave as in process.

Recordings this small are read in process by default; ``PROCESS_MIN_BYTES`` is lowered here
to send them through a reader process."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sandex.replay.stream as stream_module
from sandex.core import state_hash
from sandex.replay import replay_of
from sandex.replay.stream import ProcessStream
from sandex.server import build
from tests.support.recordings_kit import framed, full_messages, level2_messages, write

SCENARIO = Path(__file__).resolve().parent.parent / "scenario.toml"
COUNTERS = ("events", "line", "source_time", "recorded_trades", "reproduced_trades",
            "user_fills", "cancels_noop", "ended_early", "consumed")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("reader-process")
    return {
        "coinbase-full": write(tmp / "full.jsonl.gz", framed(full_messages(12_000)), "gzip"),
        "coinbase-level2": write(tmp / "l2.jsonl.zst", framed(level2_messages(8_000)), "zstd"),
    }


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(stream_module, "PROCESS_MIN_BYTES", 1 << 62)
    yield


def replay(path: Path, fmt: str, process: bool, script: Any = None
           ) -> tuple[str, dict[str, Any], Any]:
    """Replay ``path`` into a fresh venue in memory: the state hash, the final status and
    every product's resting orders (price, size, id) in priority order."""
    stream_module.PROCESS_MIN_BYTES = 0 if process else 1 << 62
    venue = build(SCENARIO, demo=False)
    node = venue.node

    async def main() -> dict[str, Any]:
        controller = replay_of(node)
        await controller.load({"source": str(path), "format": fmt, "speed": "max"})
        assert isinstance(controller.loaded.stream, ProcessStream) is process  # type: ignore[union-attr]
        if script is not None:
            await script(controller)
        else:
            controller.start()
        status = await controller.wait(120)
        await node.close()
        return status

    status = asyncio.run(main())
    books = {pid: product.book.level3() for pid, product in node.engine.products.items()}
    return state_hash(node.engine), status, books


@pytest.mark.parametrize("fmt", ["coinbase-full", "coinbase-level2"])
def test_the_same_venue_whichever_reads(recordings: dict[str, Path], fmt: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "PROCESS_MIN_BYTES", stream_module.PROCESS_MIN_BYTES)
    inline_hash, inline, _ = replay(recordings[fmt], fmt, process=False)
    process_hash, process, _ = replay(recordings[fmt], fmt, process=True)
    assert inline["state"] == process["state"] == "finished"
    assert inline["events"] >= 8_000
    assert {k: process[k] for k in COUNTERS} == {k: inline[k] for k in COUNTERS}
    assert process_hash == inline_hash


def test_step_pause_and_go_on_through_the_reader_process(
        recordings: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "PROCESS_MIN_BYTES", stream_module.PROCESS_MIN_BYTES)
    path = recordings["coinbase-full"]
    seen: list[int] = []

    async def script(controller: Any) -> None:
        seen.append((await controller.step(1_500))["events"])
        seen.append((await controller.step(1))["events"])
        controller.start()
        await asyncio.sleep(0)
        seen.append(controller.pause()["events"])
        seen.append((await controller.step(7))["events"])
        controller.start()

    _, stepped, stepped_books = replay(path, "coinbase-full", process=True, script=script)
    _, whole, whole_books = replay(path, "coinbase-full", process=False)
    assert seen[:2] == [1_500, 1_501]
    assert seen[3] == seen[2] + 7
    assert {k: stepped[k] for k in COUNTERS} == {k: whole[k] for k in COUNTERS}
    # batches fall elsewhere, so orders carry other stamps (the hash differs); the books not
    assert stepped_books == whole_books
    assert sum(len(side) for book in whole_books.values() for side in book) > 50


def test_a_bad_line_fails_at_the_same_place(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "PROCESS_MIN_BYTES", stream_module.PROCESS_MIN_BYTES)
    lines = list(framed(full_messages(3_000)))
    lines.insert(2_500, '{"type": "received", "product_id": "BTC-USD"')  # cut short
    path = write(tmp_path / "bad.jsonl", lines)
    inline_hash, inline, _ = replay(path, "coinbase-full", process=False)
    process_hash, process, _ = replay(path, "coinbase-full", process=True)
    assert inline["state"] == process["state"] == "failed"
    assert process["error"] == inline["error"]
    assert process["error"].startswith(f"{path}:2501: ")
    assert process["events"] == inline["events"] == 2_500
    assert process_hash == inline_hash


def test_a_reader_process_that_dies_fails_the_replay(
        recordings: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "PROCESS_MIN_BYTES", stream_module.PROCESS_MIN_BYTES)

    async def script(controller: Any) -> None:
        await controller.step(10)
        os.kill(controller.loaded.stream._child.pid, signal.SIGKILL)
        controller.start()

    _, status, _ = replay(recordings["coinbase-full"], "coinbase-full", process=True,
                       script=script)
    assert status["state"] == "failed"
    assert "the replay's reader process stopped (exit status -9)" in status["error"]
    assert 10 <= status["events"] < 12_000
