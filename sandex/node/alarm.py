"""A one-shot wake-up on the event loop, to the microsecond where the system allows.

The event loop's own timers (``loop.call_later``) count in whole milliseconds under uvloop
(libuv's clock): a timer fires up to a millisecond after its time, ~0.6 ms on average, and
the scheduler's timers (a demo tick, a GTT order's expiry) with it. On Linux a ``timerfd``
(``CLOCK_MONOTONIC``, nanoseconds) watched by the loop wakes it at the time asked for.
``open_alarm`` gives one or, where there is none (another system, a sandbox without it),
an alarm on ``call_later``: the same calls, millisecond precision.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
from collections.abc import Callable

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK, _TFD_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC  # the timerfd flags' values


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class LoopAlarm:
    """``callback`` on ``loop`` once ``arm``'s seconds have passed (the loop's timer)."""

    precise = False

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self._loop, self._callback = loop, callback
        self._handle: asyncio.TimerHandle | None = None

    def arm(self, seconds: float) -> None:
        """Call back after ``seconds`` (once), instead of when armed before."""
        self.disarm()
        self._handle = self._loop.call_later(seconds, self._callback)

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def close(self) -> None:
        self.disarm()


class TimerfdAlarm:
    """``LoopAlarm`` on a Linux ``timerfd`` the loop watches: to the microsecond."""

    precise = True

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._settime = libc.timerfd_settime
        self._settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Itimerspec),
                                  ctypes.c_void_p]
        fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self.fd = fd
        self._spec = _Itimerspec()
        self._loop, self._callback = loop, callback
        try:
            loop.add_reader(fd, self._fired)
        except BaseException:
            os.close(fd)
            raise

    def arm(self, seconds: float) -> None:
        """Call back after ``seconds`` (once), instead of when armed before."""
        ns = max(1, round(seconds * 1e9))  # 0 would disarm it
        value = self._spec.it_value
        value.tv_sec, value.tv_nsec = divmod(ns, 1_000_000_000)
        self._set()

    def disarm(self) -> None:
        value = self._spec.it_value
        value.tv_sec = value.tv_nsec = 0
        self._set()
        self._drain()  # an expiry not read yet is not one any more

    def close(self) -> None:
        if self.fd >= 0:
            self._loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1

    def _set(self) -> None:
        if self._settime(self.fd, 0, ctypes.byref(self._spec), None) < 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def _drain(self) -> bool:
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            return False
        return True

    def _fired(self) -> None:
        if self._drain():
            self._callback()


def open_alarm(loop: asyncio.AbstractEventLoop,
               callback: Callable[[], None]) -> TimerfdAlarm | LoopAlarm:
    """A ``TimerfdAlarm`` on Linux, else (or if the system refuses one) a ``LoopAlarm``."""
    if sys.platform == "linux":
        try:
            return TimerfdAlarm(loop, callback)
        except (OSError, AttributeError, RuntimeError):
            # no timerfd in this libc or sandbox, or a loop whose ``add_reader`` refuses
            # descriptors (asyncio's proactor loop raises a RuntimeError subclass)
            pass
    return LoopAlarm(loop, callback)
