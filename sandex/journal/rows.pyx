# cython: language_level=3, boundscheck=False, wraparound=False
"""The journal's rows read in C (a replay's ``read_chunks``): a read-only connection of its
own to the journal file steps the reader's SELECT and hands back a chunk's checksums and
bodies per call, the GIL released once a chunk (``sqlite3`` releases it four times a row).
``lines`` hands back a chunk's bodies already checked and joined by newlines (what the
replay decodes), with zlib-ng's ``crc32`` called from C (``use_crc32``).

Built only where SQLite's header and library are (``setup.py``); ``sandex.journal.store``
reads with ``sqlite3`` otherwise. A row's values are the objects ``sqlite3`` gives for them
(an INTEGER an ``int``, a BLOB ``bytes``, TEXT ``str``, REAL ``float``, NULL ``None``), so
the caller's checks are the same either way.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.ref cimport PyObject, Py_XDECREF
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memchr, memcpy

import os
import sqlite3


cdef extern from "sqlite3.h" nogil:
    ctypedef struct sqlite3_db "sqlite3"
    ctypedef struct sqlite3_stmt
    ctypedef long long sqlite3_int64
    int SQLITE_OK, SQLITE_ROW, SQLITE_DONE
    int SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL
    int SQLITE_OPEN_READONLY, SQLITE_OPEN_NOMUTEX
    int sqlite3_open_v2(const char *filename, sqlite3_db **db, int flags, const char *vfs)
    int sqlite3_close_v2(sqlite3_db *db)
    int sqlite3_busy_timeout(sqlite3_db *db, int ms)
    int sqlite3_prepare_v2(sqlite3_db *db, const char *sql, int nbytes, sqlite3_stmt **stmt,
                           const char **tail)
    int sqlite3_bind_int64(sqlite3_stmt *stmt, int index, sqlite3_int64 value)
    int sqlite3_step(sqlite3_stmt *stmt)
    int sqlite3_finalize(sqlite3_stmt *stmt)
    int sqlite3_column_type(sqlite3_stmt *stmt, int column)
    sqlite3_int64 sqlite3_column_int64(sqlite3_stmt *stmt, int column)
    double sqlite3_column_double(sqlite3_stmt *stmt, int column)
    const void *sqlite3_column_blob(sqlite3_stmt *stmt, int column)
    const unsigned char *sqlite3_column_text(sqlite3_stmt *stmt, int column)
    int sqlite3_column_bytes(sqlite3_stmt *stmt, int column)
    int sqlite3_errcode(sqlite3_db *db)
    int sqlite3_extended_errcode(sqlite3_db *db)
    const char *sqlite3_errmsg(sqlite3_db *db)
    void *sqlite3_open_v2_address "((void *) sqlite3_open_v2)"

cdef extern from "Python.h":
    # the bytes of ``Rows.lines``, filled in place (owned references, managed by hand)
    PyObject *_new_bytes "PyBytes_FromStringAndSize"(const char *data, Py_ssize_t size) \
        except NULL
    int _resize_bytes "_PyBytes_Resize"(PyObject **data, Py_ssize_t size) except -1
    char *_bytes_of "PyBytes_AS_STRING"(PyObject *data) nogil

cdef extern from "<pthread.h>" nogil:
    ctypedef unsigned long pthread_t
    ctypedef struct pthread_mutex_t:
        pass
    ctypedef struct pthread_cond_t:
        pass
    int pthread_create(pthread_t *thread, const void *attr, void *(*run)(void *) noexcept nogil,
                       void *arg)
    int pthread_join(pthread_t thread, void **result)
    int pthread_mutex_init(pthread_mutex_t *mutex, const void *attr)
    int pthread_mutex_destroy(pthread_mutex_t *mutex)
    int pthread_mutex_lock(pthread_mutex_t *mutex)
    int pthread_mutex_unlock(pthread_mutex_t *mutex)
    int pthread_cond_init(pthread_cond_t *cond, const void *attr)
    int pthread_cond_destroy(pthread_cond_t *cond)
    int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
    int pthread_cond_signal(pthread_cond_t *cond)

cdef extern from "<dlfcn.h>" nogil:
    void *dlopen(const char *filename, int flags)
    void *dlsym(void *handle, const char *symbol)
    int dlclose(void *handle)
    int RTLD_LAZY, RTLD_NOLOAD


SQL = (b"SELECT crc, body FROM journal WHERE position > ? AND position <= ? "
       b"ORDER BY position")
cdef bytes _SQL = SQL

# sqlite3's exception for a primary result code (``_pysqlite_seterror``'s table; any other
# code is a ``DatabaseError``)
_ERRORS = {2: sqlite3.InternalError, 12: sqlite3.InternalError, 7: MemoryError,
           18: sqlite3.DataError, 19: sqlite3.IntegrityError, 20: sqlite3.IntegrityError,
           21: sqlite3.InterfaceError, 25: sqlite3.InterfaceError,
           **dict.fromkeys((1, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15, 16, 17),
                           sqlite3.OperationalError)}


def same_library(str module_file):
    """Whether ``sqlite3``'s extension (``module_file``) calls the very SQLite this module
    does. Two copies of SQLite in one process drop each other's POSIX locks on the same file
    (sqlite.org/howtocorrupt.html, 2.2.1), so the reader is used only if they are one."""
    cdef void *handle = dlopen(os.fsencode(module_file), RTLD_LAZY | RTLD_NOLOAD)
    cdef void *theirs
    if handle == NULL:
        return False
    theirs = dlsym(handle, b"sqlite3_open_v2")
    dlclose(handle)
    return theirs != NULL and theirs == sqlite3_open_v2_address


ctypedef uint32_t (*crc32_t)(uint32_t crc, const unsigned char *data,
                             uint32_t size) noexcept nogil
cdef crc32_t _crc32 = NULL  # zlib-ng's ``zng_crc32`` (``use_crc32``), the checksum's own


def use_crc32(str module_file):
    """Check the checksums in C (``Rows.lines``) with the ``zng_crc32`` that zlib-ng's
    extension ``module_file`` exports: the very function ``sandex.journal.checksum`` calls,
    so the same values. Whether it was found, and gives CRC-32's check value."""
    global _crc32
    cdef void *handle = dlopen(os.fsencode(module_file), RTLD_LAZY | RTLD_NOLOAD)
    cdef crc32_t found
    if handle == NULL:
        return False
    found = <crc32_t> dlsym(handle, b"zng_crc32")
    dlclose(handle)  # the module stays loaded: Python never unloads an extension
    if found == NULL or found(0, <const unsigned char *> b"123456789", 9) != 0xCBF43926:
        return False
    _crc32 = found
    return True


cdef object _value(sqlite3_stmt *stmt, int column):
    """A column's value as ``sqlite3`` gives it (the rare row that is not INTEGER, BLOB)."""
    cdef int kind = sqlite3_column_type(stmt, column)
    cdef const char *data
    if kind == SQLITE_INTEGER:
        return sqlite3_column_int64(stmt, column)
    if kind == SQLITE_FLOAT:
        return sqlite3_column_double(stmt, column)
    if kind == SQLITE_BLOB:
        data = <const char *> sqlite3_column_blob(stmt, column)
        return PyBytes_FromStringAndSize(data, sqlite3_column_bytes(stmt, column))
    if kind == SQLITE_TEXT:
        data = <const char *> sqlite3_column_text(stmt, column)
        return data[:sqlite3_column_bytes(stmt, column)].decode("utf-8", "replace")
    return None


# A replay's read ahead (``Rows.lines``): a thread of the reader's own steps, checks and
# copies chunks into a ring of ``_slots`` buffers (32: ~3 MB of a replay's 512-record chunks)
# while the caller decodes and applies the ones before. The thread sleeps when the ring is
# full and is woken only when half of it is free again, and the caller waits only when the
# ring is empty: one wake-up for many chunks (the twelfth pass's thread a chunk waited for a
# core once a chunk). ``read_ahead`` (``SANDEX_READ_AHEAD`` by ``sandex.journal.reader``)
# sets it; 0 turns it off (docs/performance.md, recovery's thirteenth pass: the start-up's
# wall −3 to −7 % on the machine when not saturated, level CPU, none on one core).
cdef Py_ssize_t _slots = 32
cdef int _NOMEM = -1  # ``Ring.code``: a buffer could not grow


def read_ahead(Py_ssize_t slots):
    """How many chunks ``Rows.lines`` reads ahead on a thread of its own (32 by default; 0:
    none, each call reads its chunk itself); the readers' next ``lines`` calls use it.
    Returns the previous count."""
    global _slots
    previous = _slots
    _slots = 0 if slots < 2 else slots
    return previous


# A scanner of a chunk's lines run by the reading thread once it has filled a slot
# (``use_scanner``: ``sandex.node.fastlines``' ``sx_scan_chunk``, which finds each line's
# fields and parses its integers so that the replay's thread only makes the objects). This
# module knows nothing of the records it writes but that each begins with its size in bytes
# (a ``uint32_t``): a chunk split by a call asking for fewer rows is split by them.
ctypedef int (*scan_t)(const char *data, size_t size, Py_ssize_t count, char **table,
                       size_t *capacity, size_t *used) noexcept nogil
cdef scan_t _scan = NULL
cdef const char *_SCANNER = b"sandex.node.fastlines.sx_scan_chunk"


def use_scanner(capsule):
    """Scan each chunk read ahead with the scanner in ``capsule`` (a ``PyCapsule`` named
    ``sandex.node.fastlines.sx_scan_chunk``; ``None``: none) on the reading thread; its
    records of the chunk a ``lines`` call answered are ``Rows.scanned()``. Readers started
    after the call use it. Returns whether one was set before."""
    global _scan
    previous = _scan != NULL
    _scan = NULL if capsule is None else <scan_t> PyCapsule_GetPointer(capsule, _SCANNER)
    return previous


cdef struct Slot:
    char *data  # a chunk's bodies joined by newlines
    size_t capacity, used
    Py_ssize_t count  # its rows
    Py_ssize_t taken  # of them already handed out (a call asking for fewer than ``count``)
    size_t start  # where the rows not yet handed out begin
    char *table  # the scanner's records of its lines (``use_scanner``)
    size_t table_capacity, table_used
    size_t table_start  # where the records of the rows not yet handed out begin
    bint scanned  # ``table`` holds its lines' records


cdef struct Ring:
    sqlite3_stmt *stmt
    scan_t scan  # ``_scan`` when the thread started
    Slot *slots
    Py_ssize_t size  # rows a chunk
    Py_ssize_t length, head, tail, filled  # slots; the caller's next, the thread's; filled
    pthread_mutex_t lock
    pthread_cond_t space  # the thread waits for half the ring free
    pthread_cond_t ready  # the caller waits for a chunk
    bint reader_waits, caller_waits
    bint stop  # the caller's: stop now
    bint ended  # the thread's: the last chunk is filled (``code``, ``pending`` say why)
    bint pending  # it ended on a row left for ``chunk``
    int code  # SQLITE_DONE, SQLITE_ROW (stopped, or pending), an error, or _NOMEM
    Py_ssize_t reader_slept, caller_slept  # how often each waited (``Rows.waits``)


cdef int _fill_slot(Ring *ring, Slot *slot) noexcept nogil:
    """Step up to ``ring.size`` good rows into ``slot``: the last SQLite code, and
    ``ring.pending`` set at a row left for ``chunk``. No Python object: runs without the GIL."""
    cdef const unsigned char *data
    cdef crc32_t crc32 = _crc32
    cdef sqlite3_stmt *stmt = ring.stmt
    cdef size_t length, capacity
    cdef void *grown
    cdef int code = SQLITE_ROW
    slot.used = 0
    slot.count = slot.taken = 0
    slot.start = 0
    while slot.count < ring.size:
        code = sqlite3_step(stmt)
        if code != SQLITE_ROW:
            return code
        if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER
                or sqlite3_column_type(stmt, 1) != SQLITE_BLOB):
            ring.pending = True
            return code
        data = <const unsigned char *> sqlite3_column_blob(stmt, 1)
        length = <size_t> sqlite3_column_bytes(stmt, 1)
        if length and (memchr(data, 10, length) != NULL or <sqlite3_int64>
                       crc32(0, data, <uint32_t> length) != sqlite3_column_int64(stmt, 0)):
            ring.pending = True
            return code
        if not length and sqlite3_column_int64(stmt, 0) != 0:
            ring.pending = True  # CRC-32 of no bytes is 0
            return code
        if slot.used + length + 1 > slot.capacity:
            capacity = 2 * (slot.used + length + 1)
            grown = realloc(slot.data, capacity)
            if grown == NULL:
                return _NOMEM
            slot.data = <char *> grown
            slot.capacity = capacity
        if slot.count:
            slot.data[slot.used] = 10
            slot.used += 1
        if length:
            memcpy(slot.data + slot.used, data, length)
            slot.used += length
        slot.count += 1
    return code


cdef void *_read_ahead(void *arg) noexcept nogil:
    """The reading thread: fills the ring's slots in turn until the end, a row left for
    ``chunk``, an error, or the caller's ``stop``."""
    cdef Ring *ring = <Ring *> arg
    cdef Slot *slot
    cdef int code
    cdef Py_ssize_t half = ring.length // 2
    while True:
        pthread_mutex_lock(&ring.lock)
        if ring.filled == ring.length:  # full: sleep until half of it is free
            while ring.filled > half and not ring.stop:
                ring.reader_slept += 1
                ring.reader_waits = True
                pthread_cond_wait(&ring.space, &ring.lock)
            ring.reader_waits = False
        if ring.stop:
            pthread_mutex_unlock(&ring.lock)
            return NULL
        pthread_mutex_unlock(&ring.lock)
        slot = &ring.slots[ring.tail]
        code = _fill_slot(ring, slot)
        slot.scanned = False
        if ring.scan != NULL and slot.count:
            slot.table_used = slot.table_start = 0
            slot.scanned = ring.scan(slot.data, slot.used, slot.count, &slot.table,
                                     &slot.table_capacity, &slot.table_used) == 0
        pthread_mutex_lock(&ring.lock)
        ring.tail = (ring.tail + 1) % ring.length
        ring.filled += 1
        if code != SQLITE_ROW or ring.pending:
            ring.ended = True
            ring.code = code
        if ring.caller_waits:
            pthread_cond_signal(&ring.ready)
        if ring.ended:
            pthread_mutex_unlock(&ring.lock)
            return NULL
        pthread_mutex_unlock(&ring.lock)


cdef class Rows:
    """The journal's rows after ``after`` to ``end``, in position order, a chunk a call."""

    cdef sqlite3_db *db
    cdef sqlite3_stmt *stmt
    cdef char *buffer  # a chunk's bodies, copied while the GIL is released
    cdef size_t capacity
    cdef int64_t *crcs
    cdef Py_ssize_t *ends
    cdef Py_ssize_t rows  # capacity of ``crcs`` and ``ends``
    cdef Py_ssize_t line_capacity  # the bytes ``lines`` starts a chunk with
    cdef bint done
    cdef bint pending  # the statement is on a row ``lines`` left for ``chunk``
    cdef Ring *ring  # the read ahead's (``lines``), made at its first start
    cdef bint ahead  # its thread (``thread``) has the statement: started, not joined
    cdef pthread_t thread
    cdef object table  # the scanner's records of the chunk ``lines`` answered, or None

    def __cinit__(self, path, sqlite3_int64 after, sqlite3_int64 end):
        cdef int code
        self.line_capacity = 65536
        code = sqlite3_open_v2(os.fsencode(path), &self.db,
                               SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)
        if code == SQLITE_OK:
            sqlite3_busy_timeout(self.db, 5000)  # sqlite3.connect's default timeout
            code = sqlite3_prepare_v2(self.db, _SQL, -1, &self.stmt, NULL)
        if code == SQLITE_OK:
            code = sqlite3_bind_int64(self.stmt, 1, after)
        if code == SQLITE_OK:
            code = sqlite3_bind_int64(self.stmt, 2, end)
        if code != SQLITE_OK:
            self._fail()

    cdef int _fail(self) except -1:
        error = self._error()
        self.close()
        raise error

    cdef object _error(self):
        cdef int code = sqlite3_errcode(self.db) if self.db != NULL else 7
        message = (sqlite3_errmsg(self.db).decode("utf-8", "replace") if self.db != NULL
                   else "out of memory")
        error = _ERRORS.get(code & 0xFF, sqlite3.DatabaseError)(message)
        if isinstance(error, sqlite3.Error):
            error.sqlite_errorcode = (sqlite3_extended_errcode(self.db) if self.db != NULL
                                      else code)
        return error

    cdef int _room(self, Py_ssize_t rows, size_t nbytes) noexcept nogil:
        """Room for ``rows`` rows and ``nbytes`` of bodies: 0, or -1 out of memory."""
        cdef void *grown
        if rows > self.rows:
            grown = realloc(self.crcs, rows * sizeof(int64_t))
            if grown == NULL:
                return -1
            self.crcs = <int64_t *> grown
            grown = realloc(self.ends, rows * sizeof(Py_ssize_t))
            if grown == NULL:
                return -1
            self.ends = <Py_ssize_t *> grown
            self.rows = rows
        if nbytes > self.capacity:
            grown = realloc(self.buffer, nbytes)
            if grown == NULL:
                return -1
            self.buffer = <char *> grown
            self.capacity = nbytes
        return 0

    def chunk(self, Py_ssize_t size):
        """Up to ``size`` rows: their checksums and their bodies (empty lists at the end).
        Never called while ``lines`` reads ahead: ``lines`` stops its thread before it
        answers ``(0, b"")`` at a row left for ``chunk``."""
        if self.ahead:
            raise RuntimeError("chunk() while lines() reads ahead")
        self.table = None
        cdef list crcs = [], bodies = []
        cdef Py_ssize_t count = 0, taken, i
        cdef size_t used, length
        cdef int code = SQLITE_ROW, kind
        cdef bint odd, full, stepped = self.pending  # on a row ``lines`` left
        cdef const void *data
        cdef sqlite3_stmt *stmt = self.stmt
        if self.done or size <= 0:
            return crcs, bodies
        self.pending = False
        if self._room(size, 65536) < 0:
            raise MemoryError()
        while count < size:
            # The common rows (an INTEGER checksum, a BLOB body) are copied out with the
            # GIL released; a row of any other kind ends the run and is read with it.
            taken = 0
            used = 0
            odd = full = False
            with nogil:
                while count + taken < size:
                    if stepped:
                        stepped = False
                    else:
                        code = sqlite3_step(stmt)
                        if code != SQLITE_ROW:
                            break
                    if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER
                            or sqlite3_column_type(stmt, 1) != SQLITE_BLOB):
                        odd = True
                        break
                    data = sqlite3_column_blob(stmt, 1)
                    length = <size_t> sqlite3_column_bytes(stmt, 1)
                    if used + length > self.capacity and self._room(
                            size, 2 * (used + length)) < 0:
                        full = True
                        break
                    memcpy(self.buffer + used, data, length)
                    used += length
                    self.crcs[taken] = sqlite3_column_int64(stmt, 0)
                    self.ends[taken] = <Py_ssize_t> used
                    taken += 1
            if full:
                raise MemoryError()
            used = 0
            for i in range(taken):
                crcs.append(self.crcs[i])
                bodies.append(PyBytes_FromStringAndSize(self.buffer + used,
                                                        self.ends[i] - <Py_ssize_t> used))
                used = <size_t> self.ends[i]
            count += taken
            if odd:
                crcs.append(_value(stmt, 0))
                bodies.append(_value(stmt, 1))
                count += 1
            elif code != SQLITE_ROW:
                break
        if code != SQLITE_ROW and code != SQLITE_DONE:
            self._fail()
        if code == SQLITE_DONE:
            self.close()  # ends the read transaction now, not when the reader is dropped
        return crcs, bodies

    def lines(self, Py_ssize_t size):
        """Up to ``size`` rows' bodies joined by newlines, and how many: the rows whose
        checksum is an INTEGER equal to the CRC-32 of their BLOB body (checked here, the GIL
        released) and whose body holds no newline, so that the lines are the bodies. Any
        other row (corrupt, of another kind, or not built with ``use_crc32``) ends the run
        and is left for ``chunk``, whose rows the caller checks: ``(0, b"")`` then, as at
        the end.

        With ``read_ahead`` on (the default), the first call starts a thread of the reader's
        own that steps, checks and copies the next chunks (of this call's ``size``) into a
        ring of buffers while the caller decodes and applies the ones before; each call
        takes the next chunk from the ring. The rows, checks, errors and chunks are the same
        as when each call reads its own: a chunk holding a bad row or ending on an error is
        answered as it would be, the thread stopped first."""
        cdef PyObject *out = NULL
        cdef Py_ssize_t count = 0, capacity = self.line_capacity
        cdef size_t used = 0, length = 0
        cdef const unsigned char *data
        cdef int code = SQLITE_ROW
        cdef bint full = False, stepped = False
        cdef sqlite3_stmt *stmt = self.stmt
        cdef crc32_t crc32 = _crc32
        if self.ahead:
            return self._take(size)
        self.table = None
        if self.done or self.pending or size <= 0 or crc32 == NULL:
            return 0, b""
        if _slots and self._begin(size):
            return self._take(size)
        out = _new_bytes(NULL, capacity)
        try:
            while True:
                with nogil:
                    while count < size:
                        if stepped:  # on the row that did not fit
                            stepped = False
                        else:
                            code = sqlite3_step(stmt)
                            if code != SQLITE_ROW:
                                break
                        if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER
                                or sqlite3_column_type(stmt, 1) != SQLITE_BLOB):
                            self.pending = True
                            break
                        data = <const unsigned char *> sqlite3_column_blob(stmt, 1)
                        length = <size_t> sqlite3_column_bytes(stmt, 1)
                        if length and (memchr(data, 10, length) != NULL or <sqlite3_int64>
                                       crc32(0, data, <uint32_t> length)
                                       != sqlite3_column_int64(stmt, 0)):
                            self.pending = True
                            break
                        if not length and sqlite3_column_int64(stmt, 0) != 0:
                            self.pending = True  # CRC-32 of no bytes is 0
                            break
                        if used + length + 1 > <size_t> capacity:
                            full = True
                            break
                        if count:
                            _bytes_of(out)[used] = 10
                            used += 1
                        if length:
                            memcpy(_bytes_of(out) + used, data, length)
                            used += length
                        count += 1
                if not full:
                    break
                full, stepped = False, True
                capacity = <Py_ssize_t> (2 * (used + length + 1))
                _resize_bytes(&out, capacity)
            if code != SQLITE_ROW and code != SQLITE_DONE:
                self._fail()
            if code == SQLITE_DONE:
                self.close()  # ends the read transaction now, not when the reader is dropped
            if capacity > self.line_capacity:
                self.line_capacity = capacity
            _resize_bytes(&out, <Py_ssize_t> used)
            joined = <object> out
        finally:
            Py_XDECREF(out)
        return count, joined

    cdef bint _begin(self, Py_ssize_t size) except -1:
        """Start the thread reading ahead chunks of ``size`` rows: whether it started."""
        cdef Ring *ring = self.ring
        if ring == NULL:
            ring = <Ring *> calloc(1, sizeof(Ring))
            if ring == NULL:
                raise MemoryError()
            ring.slots = <Slot *> calloc(_slots, sizeof(Slot))
            if ring.slots == NULL:
                free(ring)
                raise MemoryError()
            ring.length = _slots
            ring.reader_slept = ring.caller_slept = 0
            pthread_mutex_init(&ring.lock, NULL)
            pthread_cond_init(&ring.space, NULL)
            pthread_cond_init(&ring.ready, NULL)
            self.ring = ring
        ring.stmt = self.stmt
        ring.scan = _scan
        ring.size = size
        ring.head = ring.tail = ring.filled = 0
        ring.reader_waits = ring.caller_waits = ring.stop = False
        ring.ended = ring.pending = False
        ring.code = SQLITE_ROW
        if pthread_create(&self.thread, NULL, _read_ahead, <void *> ring) != 0:
            return False  # no thread: this call reads its chunk itself
        self.ahead = True
        return True

    cdef object _take(self, Py_ssize_t size):
        """``lines``' answer from the ring: up to ``size`` rows of the next chunk (waiting,
        the GIL released, while the ring is empty); at the chunk the thread ended on, the
        thread joined and the end, the row left for ``chunk`` or the error taken as
        ``lines`` takes them."""
        cdef Ring *ring = self.ring
        cdef Slot *slot
        cdef bint ended, last
        cdef Py_ssize_t take, i, half = ring.length // 2
        cdef size_t end, table_end
        cdef const char *at
        cdef int code
        with nogil:
            pthread_mutex_lock(&ring.lock)
            while ring.filled == 0 and not ring.ended:
                ring.caller_slept += 1
                ring.caller_waits = True
                pthread_cond_wait(&ring.ready, &ring.lock)
            ring.caller_waits = False
            ended = ring.ended and ring.filled == 1  # the slot at ``head`` is the last
            pthread_mutex_unlock(&ring.lock)
        slot = &ring.slots[ring.head]
        take = slot.count - slot.taken
        if take > size:
            take = size
            at = slot.data + slot.start
            for i in range(take):
                at = <const char *> memchr(at, 10, slot.used - <size_t> (at - slot.data)) + 1
            end = <size_t> (at - slot.data) - 1
        else:
            end = slot.used
        last = slot.taken + take == slot.count
        if last and ended:  # the thread has stopped: answer as ``lines`` would
            self._join()
            code = ring.code
            self.pending = ring.pending
            if code == _NOMEM:
                raise MemoryError()
            if code != SQLITE_ROW and code != SQLITE_DONE:
                self._fail()
        joined = PyBytes_FromStringAndSize(slot.data + slot.start,
                                           <Py_ssize_t> (end - slot.start)) if take else b""
        self.table = None
        if slot.scanned and take:  # the records of the rows taken: by their sizes
            if last:
                table_end = slot.table_used
            else:
                table_end = slot.table_start
                for i in range(take):
                    table_end += (<const uint32_t *> (slot.table + table_end))[0]
            self.table = PyBytes_FromStringAndSize(
                slot.table + slot.table_start, <Py_ssize_t> (table_end - slot.table_start))
            slot.table_start = table_end
        slot.taken += take
        slot.start = end + 1
        if last:
            pthread_mutex_lock(&ring.lock)
            ring.head = (ring.head + 1) % ring.length
            ring.filled -= 1
            if ring.reader_waits and ring.filled <= half:
                pthread_cond_signal(&ring.space)
            pthread_mutex_unlock(&ring.lock)
            if ended and ring.code == SQLITE_DONE:
                self.close()  # ends the read transaction now, not when the reader is dropped
        return take, joined

    def scanned(self):
        """The scanner's records (``use_scanner``) of the lines the last ``lines`` call
        answered, as bytes; ``None`` if it did not read them ahead or no scanner is set."""
        return self.table

    def waits(self):
        """How often the thread reading ahead slept on a full ring, and the caller waited on
        an empty one, since the reader opened (``(0, 0)`` if it never read ahead)."""
        if self.ring == NULL:
            return 0, 0
        return self.ring.reader_slept, self.ring.caller_slept

    cdef int _join(self) except -1:
        """Stop the thread reading ahead, if one is, and wait for it (the GIL released)."""
        cdef Ring *ring = self.ring
        if self.ahead:
            with nogil:
                pthread_mutex_lock(&ring.lock)
                ring.stop = True
                pthread_cond_signal(&ring.space)
                pthread_mutex_unlock(&ring.lock)
                pthread_join(self.thread, NULL)
            self.ahead = False
        return 0

    def close(self):
        """Finalize the statement and close the connection (idempotent), after the thread
        reading ahead, if one is, has stopped."""
        self._join()
        if self.stmt != NULL:
            sqlite3_finalize(self.stmt)
            self.stmt = NULL
        if self.db != NULL:
            sqlite3_close_v2(self.db)
            self.db = NULL
        self.done = True

    def __dealloc__(self):
        cdef Py_ssize_t i
        self.close()
        if self.ring != NULL:
            for i in range(self.ring.length):
                free(self.ring.slots[i].data)
                free(self.ring.slots[i].table)
            free(self.ring.slots)
            pthread_mutex_destroy(&self.ring.lock)
            pthread_cond_destroy(&self.ring.space)
            pthread_cond_destroy(&self.ring.ready)
            free(self.ring)
        free(self.buffer)
        free(self.crcs)
        free(self.ends)
