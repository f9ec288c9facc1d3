"""``fdatasync`` of one file done by the kernel while the caller goes on (Linux io_uring).

One request at a time: ``submit`` puts an ``IORING_OP_FSYNC`` (datasync) on the ring and
``io_uring_enter``s it; the kernel runs it on an io-wq worker of this process (a kernel
thread: it needs no interpreter lock, and it is scheduled like this process's own threads)
and signals an ``eventfd`` when it is done; whoever watches that descriptor (the event loop)
calls ``reap`` for the outcome. The system calls are made through ``ctypes``, the rings are
``mmap``-ed; ``open`` gives ``None`` where that is not possible (another system, a
processor other than x86-64 (whose stores the kernel sees in program order: no barriers
needed here), a kernel or sandbox without io_uring), so that the caller syncs otherwise.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import platform
import struct
import sys

_SETUP, _ENTER, _REGISTER = 425, 426, 427
_OP_FSYNC, _FSYNC_DATASYNC = 3, 1
_ENTER_GETEVENTS = 1
_REGISTER_EVENTFD = 4
_FEAT_SINGLE_MMAP = 1
_OFF_SQ_RING, _OFF_CQ_RING, _OFF_SQES = 0, 0x8000000, 0x10000000
_SQE_SIZE, _CQE_SIZE = 64, 16
_U32 = struct.Struct("<I")
_CQE = struct.Struct("<QiI")  # user data, result, flags
_SQE = struct.Struct("<BBHiQQIIQ")  # opcode, flags, ioprio, fd, off, addr, len, fsync_flags, data


class UringSync:
    """``fdatasync`` of the descriptor ``fd`` as a kernel request; ``ready`` is the
    ``eventfd`` that becomes readable when it is done. Use ``open``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._syscall = ctypes.CDLL(None, use_errno=True).syscall
        self._syscall.restype = ctypes.c_long
        params = ctypes.create_string_buffer(120)
        ring = self._syscall(_SETUP, 2, params)
        if ring < 0:
            raise _error("io_uring_setup")
        self._ring = int(ring)
        self._maps: list[mmap.mmap] = []
        self.ready = -1
        try:
            self._map(bytes(params.raw))
            self.ready = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            if self._syscall(_REGISTER, self._ring, _REGISTER_EVENTFD,
                             ctypes.byref(ctypes.c_int(self.ready)), 1) < 0:
                raise _error("io_uring_register")
        except BaseException:
            self.close()
            raise
        self.pending = False

    def _map(self, params: bytes) -> None:
        sq_entries, cq_entries = struct.unpack_from("<II", params, 0)
        features = struct.unpack_from("<I", params, 20)[0]
        (_, sq_tail, sq_mask, _, _, _, sq_array) = struct.unpack_from("<7I", params, 40)
        (cq_head, cq_tail, cq_mask, _, _, cqes) = struct.unpack_from("<6I", params, 80)
        sq_size = sq_array + sq_entries * 4
        cq_size = cqes + cq_entries * _CQE_SIZE
        access = mmap.PROT_READ | mmap.PROT_WRITE
        if features & _FEAT_SINGLE_MMAP:
            sq = cq = mmap.mmap(self._ring, max(sq_size, cq_size), mmap.MAP_SHARED, access,
                                offset=_OFF_SQ_RING)
            self._maps.append(sq)
        else:
            sq = mmap.mmap(self._ring, sq_size, mmap.MAP_SHARED, access, offset=_OFF_SQ_RING)
            self._maps.append(sq)
            cq = mmap.mmap(self._ring, cq_size, mmap.MAP_SHARED, access, offset=_OFF_CQ_RING)
            self._maps.append(cq)
        sqes = mmap.mmap(self._ring, sq_entries * _SQE_SIZE, mmap.MAP_SHARED, access,
                         offset=_OFF_SQES)
        self._maps.append(sqes)
        self._sq, self._cq, self._sqes = sq, cq, sqes
        self._sq_tail, self._sq_mask, self._sq_array = sq_tail, sq_mask, sq_array
        self._cq_head, self._cq_tail, self._cq_mask, self._cqes = cq_head, cq_tail, cq_mask, cqes
        self._mask = _U32.unpack_from(sq, sq_mask)[0]

    @classmethod
    def open(cls, fd: int) -> UringSync | None:
        """A ``UringSync`` for ``fd``, tried once (a sync submitted and waited for), or
        ``None`` where io_uring cannot sync it."""
        if (not sys.platform.startswith("linux") or platform.machine() != "x86_64"
                or not hasattr(os, "eventfd")):
            return None
        try:
            sync = cls(fd)
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
        tail = _U32.unpack_from(self._sq, self._sq_tail)[0]
        index = tail & self._mask
        _SQE.pack_into(self._sqes, index * _SQE_SIZE, _OP_FSYNC, 0, 0, self.fd, 0, 0, 0,
                       _FSYNC_DATASYNC, 1)
        _U32.pack_into(self._sq, self._sq_array + 4 * index, index)
        _U32.pack_into(self._sq, self._sq_tail, (tail + 1) & 0xFFFFFFFF)  # after the entry
        if self._syscall(_ENTER, self._ring, 1, 0, 0, None, 0) != 1:
            raise _error("io_uring_enter")
        self.pending = True

    def _completed(self) -> bool:
        """Take the completion off the ring if there is one (``OSError`` if it failed)."""
        head = _U32.unpack_from(self._cq, self._cq_head)[0]
        if head == _U32.unpack_from(self._cq, self._cq_tail)[0]:
            return False
        cq_mask = _U32.unpack_from(self._cq, self._cq_mask)[0]
        _, result, _ = _CQE.unpack_from(self._cq, self._cqes + (head & cq_mask) * _CQE_SIZE)
        _U32.pack_into(self._cq, self._cq_head, (head + 1) & 0xFFFFFFFF)
        self.pending = False
        if result < 0:
            raise OSError(-result, os.strerror(-result))
        return True

    def reap(self) -> bool:
        """After ``ready`` became readable: whether the sync asked for is done (``OSError``
        if it failed). ``False``: nothing finished yet (a spurious wake)."""
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.ready)
        return self._completed()

    def wait(self) -> None:
        """Block until the sync asked for is done (``OSError`` if it failed)."""
        while not self._completed():
            if self._syscall(_ENTER, self._ring, 0, 1, _ENTER_GETEVENTS, None, 0) < 0:
                code = ctypes.get_errno()
                if code != errno.EINTR:
                    raise OSError(code, f"io_uring_enter: {os.strerror(code)}")
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.ready)

    def close(self) -> None:
        """Release the ring (a sync still in flight is waited for by the kernel) and the
        eventfd."""
        for mapped in self._maps:
            mapped.close()
        self._maps = []
        if self._ring >= 0:
            os.close(self._ring)
            self._ring = -1
        if self.ready >= 0:
            os.close(self.ready)
            self.ready = -1


def _error(call: str) -> OSError:
    code = ctypes.get_errno() or errno.EIO
    return OSError(code, f"{call}: {os.strerror(code)}")
