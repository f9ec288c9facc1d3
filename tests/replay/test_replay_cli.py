"""``sandex replay ...`` (the real CLI, in subprocesses) against a running server: ``load
--wait`` shows progress on stderr and prints the final status on stdout; ``status``,
``pause``, ``step``, ``unload --clear`` answer JSON; files are named relative to where the
CLI runs; an error is one line on stderr and exit status 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandex.timefmt import iso
from tests.replay.test_replay_products import (
    assert_created,
    assert_replayed_on_xbt,
    products_file,
    recording,
    rest,
)
from tests.support.recordings_kit import START_US, write
from tests.support.rest_kit import Server, start_server

PROGRESS = re.compile(r"^(running|paused): [\d,]+ events, line [\d,]+(, [\d,]+ events/s)?"
                      r"(, \d+\.\d %)?(, ETA \d+ s)?, \d+ s$")


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    data_dir = tmp_path / "data"
    server = start_server("--no-demo", data_dir=data_dir)
    yield server, data_dir
    server.stop()


def sandex(data_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandex.cli", "replay", *args,
                           "--data-dir", str(data_dir)],
                          cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def answer(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_load_wait_shows_progress_and_prints_the_final_status(
        venue: tuple[Server, Path], tmp_path: Path) -> None:
    server, data_dir = venue
    recording(tmp_path, 3_000)
    products_file(tmp_path)
    done = sandex(data_dir, tmp_path, "load", "xbt-l2.jsonl", "--format", "coinbase-level2",
                  "--product", "XBT-USD=XBT-USD", "--create-products-from", "products.json",
                  "--speed", "max", "--start", "--wait")
    final = answer(done)
    assert final["state"] == "finished" and final["events"] >= 3_000
    assert final["source"] == [str(tmp_path / "xbt-l2.jsonl")]  # relative to the CLI
    assert final["products"] == ["XBT-USD"] and final["speed"] == "max"
    assert all(PROGRESS.match(line) for line in done.stderr.splitlines()), done.stderr
    assert_created(lambda target: rest(server, target))
    assert_replayed_on_xbt(lambda target: rest(server, target))


def test_a_clock_replay_reports_progress_while_it_runs(venue: tuple[Server, Path],
                                                       tmp_path: Path) -> None:
    _, data_dir = venue
    lines = [{"type": "snapshot", "product_id": "BTC-USD", "bids": [["99.00", "1"]],
              "asks": [["101.00", "1"]]}]
    lines += [{"type": "l2update", "product_id": "BTC-USD", "time": iso(START_US + i * 600_000),
               "changes": [["buy", "99.50", str(i + 1)]]} for i in range(3)]
    write(tmp_path / "slow.jsonl", (json.dumps(line) for line in lines))
    done = sandex(data_dir, tmp_path, "load", "slow.jsonl", "--format", "coinbase-level2",
                  "--wait")  # --wait starts it; the venue clock runs at real time
    final = answer(done)
    assert (final["state"], final["events"], final["speed"]) == ("finished", 4, "clock")
    progress = done.stderr.splitlines()
    assert progress and all(PROGRESS.match(line) for line in progress), done.stderr
    assert progress[0].startswith("running: ")


def test_status_pause_step_and_unload(venue: tuple[Server, Path], tmp_path: Path) -> None:
    server, data_dir = venue
    assert answer(sandex(data_dir, tmp_path, "status")) == {"state": "idle"}
    recording(tmp_path, 100)
    loaded = answer(sandex(data_dir, tmp_path, "load", str(tmp_path / "xbt-l2.jsonl"),
                           "--format", "coinbase-level2", "--product", "XBT-USD=BTC-USD",
                           "--speed", "max"))
    assert (loaded["state"], loaded["events"], loaded["products"]) == ("paused", 0, ["BTC-USD"])
    stepped = answer(sandex(data_dir, tmp_path, "step", "10"))
    assert (stepped["state"], stepped["events"]) == ("paused", 10)
    assert answer(sandex(data_dir, tmp_path, "pause"))["events"] == 10
    status = answer(sandex(data_dir, tmp_path, "status"))
    assert (status["state"], status["events"], status["line"]) == ("paused", 10, stepped["line"])
    _, book = rest(server, "/products/BTC-USD/book?level=2")
    assert book["bids"] and book["asks"]
    unloaded = answer(sandex(data_dir, tmp_path, "unload", "--clear"))
    assert (unloaded["state"], unloaded["events"]) == ("idle", 10)
    assert answer(sandex(data_dir, tmp_path, "status"))["state"] == "idle"
    _, book = rest(server, "/products/BTC-USD/book?level=2")
    assert (book["bids"], book["asks"]) == ([], [])  # --clear canceled the replay's orders


@pytest.mark.parametrize(("args", "message"), [
    (("start",), "sandex: no replay is loaded (sandex replay load FILE --format ...)"),
    (("step", "0"), "sandex: events must be a whole number from 1"),
    (("unload",), "sandex: no replay is loaded"),
    (("load", "nope.jsonl", "--format", "coinbase-full"), "sandex: {tmp}/nope.jsonl: no such "
     "file"),
    (("load", "bad.json", "--format", "coinbase-full", "--create-products-from", "bad.json"),
     "sandex: {tmp}/bad.json: not a GET /products reply (a JSON list)"),
])
def test_errors_are_one_line_and_exit_2(venue: tuple[Server, Path], tmp_path: Path,
                                        args: tuple[str, ...], message: str) -> None:
    _, data_dir = venue
    (tmp_path / "bad.json").write_text("{}\n")
    done = sandex(data_dir, tmp_path, *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == message.format(tmp=tmp_path) + "\n"
