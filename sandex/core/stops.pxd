# The C layout of the compiled stop book (sandex/core/stops.py).
cdef class StopBook:
    cdef public list _loss
    cdef public list _entry
    cdef public Py_ssize_t live
