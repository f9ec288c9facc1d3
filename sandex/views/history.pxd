# The C side of sandex/views/history.py: CPython's untracking call, from Python.h.

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object op)

cpdef list history(list items)
