"""``fdatasync`` of one file done by the kernel while the caller goes on (Linux AIO).

One request at a time: ``submit`` asks the kernel for an ``fdatasync`` (``io_submit`` of an
``IOCB_CMD_FDSYNC``, Linux 4.18 and later: the sync runs on a kernel worker), and the kernel
adds one to an ``eventfd`` when it is done; whoever watches that descriptor (the event loop)
calls ``reap`` for the outcome. No thread of this process waits, and none needs the
interpreter lock to report the end. The system calls are made through ``ctypes``; ``open``
gives ``None`` where they are missing or refused (another system, another architecture, a
sandbox that blocks them, a file system without it), so that the caller syncs otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import sys

# io_setup, io_destroy, io_getevents, io_submit by architecture
_CALLS = {"x86_64": (206, 207, 208, 209), "aarch64": (0, 1, 4, 2)}
_FDSYNC = 3  # IOCB_CMD_FDSYNC
_RESFD = 1  # IOCB_FLAG_RESFD: signal the eventfd on completion


class _Iocb(ctypes.Structure):
    """``struct iocb`` (little-endian 64-bit layout)."""

    _fields_ = [("data", ctypes.c_uint64), ("key", ctypes.c_uint32),
                ("rw_flags", ctypes.c_int32), ("opcode", ctypes.c_uint16),
                ("reqprio", ctypes.c_int16), ("fildes", ctypes.c_uint32),
                ("buf", ctypes.c_uint64), ("nbytes", ctypes.c_uint64),
                ("offset", ctypes.c_int64), ("reserved2", ctypes.c_uint64),
                ("flags", ctypes.c_uint32), ("resfd", ctypes.c_uint32)]


class _Event(ctypes.Structure):
    """``struct io_event``."""

    _fields_ = [("data", ctypes.c_uint64), ("obj", ctypes.c_uint64),
                ("res", ctypes.c_int64), ("res2", ctypes.c_int64)]


class _Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


class AioSync:
    """``fdatasync`` of the descriptor ``fd`` as a kernel request; ``ready`` is the
    ``eventfd`` that becomes readable when it is done. Use ``open``."""

    def __init__(self, fd: int, calls: tuple[int, int, int, int]) -> None:
        self._setup, self._destroy, self._getevents, self._submit = calls
        self._syscall = ctypes.CDLL(None, use_errno=True).syscall
        self._syscall.restype = ctypes.c_long
        self._context = ctypes.c_ulong(0)
        if self._syscall(self._setup, 1, ctypes.byref(self._context)) < 0:
            raise _error("io_setup")
        try:
            self.ready = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        except OSError:
            self._syscall(self._destroy, self._context)
            raise
        self._request = _Iocb(opcode=_FDSYNC, fildes=fd, flags=_RESFD, resfd=self.ready)
        self._requests = (ctypes.POINTER(_Iocb) * 1)(ctypes.pointer(self._request))
        self._event = _Event()
        self._now = _Timespec(0, 0)
        self.pending = False

    @classmethod
    def open(cls, fd: int) -> AioSync | None:
        """An ``AioSync`` for ``fd``, tried once (a sync submitted and waited for), or
        ``None`` where Linux AIO cannot sync it."""
        calls = _CALLS.get(platform.machine())
        if not sys.platform.startswith("linux") or calls is None or not hasattr(os, "eventfd"):
            return None
        try:
            sync = cls(fd, calls)
        except OSError:
            return None
        try:
            sync.submit()
            sync.wait()
        except OSError:
            sync.close()
            return None
        return sync

    def submit(self) -> None:
        """Ask for the sync (one at a time); ``ready`` becomes readable when it is done."""
        if self._syscall(self._submit, self._context, 1, self._requests) != 1:
            raise _error("io_submit")
        self.pending = True

    def reap(self) -> bool:
        """After ``ready`` became readable: whether the sync asked for is done (``OSError``
        if it failed). ``False``: nothing finished yet (a spurious wake)."""
        try:
            os.eventfd_read(self.ready)
        except BlockingIOError:
            return False
        found = self._syscall(self._getevents, self._context, 0, 1, ctypes.byref(self._event),
                              ctypes.byref(self._now))
        if found < 0:
            raise _error("io_getevents")
        if found == 0:
            return False
        self.pending = False
        if self._event.res < 0:
            code = -self._event.res
            raise OSError(code, os.strerror(code))
        return True

    def wait(self) -> None:
        """Block until the sync asked for is done (``OSError`` if it failed)."""
        found = self._syscall(self._getevents, self._context, 1, 1, ctypes.byref(self._event),
                              None)
        if found != 1:
            raise _error("io_getevents")
        self.pending = False
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.ready)
        if self._event.res < 0:
            code = -self._event.res
            raise OSError(code, os.strerror(code))

    def close(self) -> None:
        """Release the kernel context (waits for a sync still in flight) and the eventfd."""
        if self._context.value:
            self._syscall(self._destroy, self._context)
            self._context = ctypes.c_ulong(0)
            os.close(self.ready)


def _error(call: str) -> OSError:
    code = ctypes.get_errno() or errno.EIO
    return OSError(code, f"{call}: {os.strerror(code)}")
