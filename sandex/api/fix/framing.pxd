# The C layout of the framing loop (sandex/api/fix/framing.py): the key's sequence and the
# fan-out's SendingTime (with the session being framed) as extension types, their fields
# public where session.py reads and writes them as attributes; ``Sending``'s steps and the
# caches as C, so ``fan_out`` frames a session without a Python call.

cdef class Outbound:
    cdef public object next_seq
    cdef public object stored
    cdef public double last_active


cdef class Sending:
    cdef public object wall
    cdef public str stamp
    cdef public bytes middle
    cdef public long long middle_sum
    cdef object session
    cdef dict heads
    cdef Outbound out
    cdef long long seq
    cdef long long numbered
    cdef tuple number
    cdef long long tailed
    cdef bytes tail
    cdef Py_ssize_t fixed
    cdef long long around
    cdef bytes first
    cdef list more

    cdef begin(self, object session, Outbound out)
    cdef add(self, str msg_type, bytes data, object total)
    cdef bytes end(self)


cdef list _TRAILERS
cdef list _STARTS
cdef dict _NUMBERS
cdef Py_ssize_t _KEPT
cdef str _L3

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object op)

cdef inline bytes _joined(bytes lead, bytes entry)
cdef inline object _sum(long long a, long long b)
cdef inline tuple _untracked(tuple stored)
cpdef keep(Outbound out, long long seq, tuple stored)
cdef bytes _message(bytes start, bytes head, bytes number, bytes middle, bytes tail, bytes data,
                    bytes trailer)
cpdef bytes frame_all(object session, Outbound out, object messages, Sending sending)
cpdef fan_out(list sessions, list items, Sending sending, dict leads, object active)
