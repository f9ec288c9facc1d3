"""The journal's writer thread: calls in order, on one thread, all finished by shutdown."""

from __future__ import annotations

import logging
import threading

import pytest

from sandex.node.writer import WriterThread


def test_calls_run_in_order_on_one_named_thread_and_shutdown_finishes_them() -> None:
    writer = WriterThread("sandex-journal")
    seen: list[tuple[int, str]] = []
    gate = threading.Event()
    writer.submit(gate.wait)  # the next calls queue up behind a blocked one
    for n in range(100):
        writer.submit(lambda n: seen.append((n, threading.current_thread().name)), n)
    assert seen == []
    gate.set()
    writer.shutdown()
    assert seen == [(n, "sandex-journal") for n in range(100)]
    writer.shutdown()  # idempotent


def test_a_failing_call_is_logged_and_the_next_still_runs(
        caplog: pytest.LogCaptureFixture) -> None:
    writer = WriterThread("w")
    ran: list[int] = []

    def fail() -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="sandex"):
        writer.submit(fail)
        writer.submit(ran.append, 1)
        writer.shutdown()
    assert ran == [1]
    assert "boom" in caplog.text


def test_submit_after_shutdown_is_refused() -> None:
    writer = WriterThread("w")
    writer.submit(int)
    writer.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        writer.submit(int)
