# The replay's notes in place of the hot events (sandex/core/sink.py): a list the engine's
# emission points (emit.pxd) append to from C.

cdef class Sink:
    cdef public list notes
