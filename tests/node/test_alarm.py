"""The scheduler's wake-up (``sandex.node.alarm``): once, never early, replaced by a new arm,
silenced by disarm; a ``timerfd`` on Linux, the loop's timer elsewhere."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
import uvloop

from sandex.node.alarm import LoopAlarm, TimerfdAlarm, open_alarm

KINDS = [TimerfdAlarm, LoopAlarm] if sys.platform == "linux" else [LoopAlarm]


def run(main: object) -> None:
    loop = uvloop.new_event_loop()  # the server's loop
    try:
        loop.run_until_complete(main)  # type: ignore[arg-type]
    finally:
        loop.close()


@pytest.mark.parametrize("kind", KINDS)
def test_it_fires_once_and_not_before_its_time(kind: type) -> None:
    async def main() -> None:
        fired: list[float] = []
        alarm = kind(asyncio.get_running_loop(), lambda: fired.append(time.monotonic()))
        try:
            armed = time.monotonic()
            alarm.arm(0.005)
            await asyncio.sleep(0.05)
            assert len(fired) == 1
            assert fired[0] - armed >= 0.004  # the loop's timer counts whole milliseconds
        finally:
            alarm.close()
    run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_a_new_arm_replaces_the_last_and_disarm_silences_it(kind: type) -> None:
    async def main() -> None:
        fired: list[float] = []
        alarm = kind(asyncio.get_running_loop(), lambda: fired.append(time.monotonic()))
        try:
            armed = time.monotonic()
            alarm.arm(0.002)
            alarm.arm(0.030)  # instead
            await asyncio.sleep(0.015)
            assert fired == []
            await asyncio.sleep(0.040)
            assert len(fired) == 1 and fired[0] - armed >= 0.029
            alarm.arm(0.005)
            alarm.disarm()
            await asyncio.sleep(0.030)
            assert len(fired) == 1
        finally:
            alarm.close()
    run(main())


def test_the_timerfd_where_there_is_one_else_the_loops_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        alarm = open_alarm(loop, lambda: None)
        try:
            assert type(alarm) is (TimerfdAlarm if sys.platform == "linux" else LoopAlarm)
            assert alarm.precise is (sys.platform == "linux")
        finally:
            alarm.close()
        monkeypatch.setattr(sys, "platform", "darwin")
        other = open_alarm(loop, lambda: None)
        assert type(other) is LoopAlarm and not other.precise
        other.close()
    run(main())


def test_a_loop_that_cannot_watch_a_descriptor_gets_the_loops_timer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As asyncio's proactor loop, whose ``add_reader`` is not implemented: the timerfd is
    closed again and the loop's timer still calls back."""
    async def main() -> None:
        loop = asyncio.get_running_loop()

        def refuse(fd: int, callback: object) -> None:
            raise NotImplementedError

        monkeypatch.setattr(loop, "add_reader", refuse)
        fired: list[bool] = []
        alarm = open_alarm(loop, lambda: fired.append(True))
        assert type(alarm) is LoopAlarm
        alarm.arm(0.002)
        await asyncio.sleep(0.03)
        assert fired == [True]
        alarm.close()
    run(main())
