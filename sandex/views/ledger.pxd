# The C layout of the compiled ledger view (sandex/views/ledger.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index).
cimport cython

cdef class LedgerView:
    cdef public dict _entries
    cdef public dict _tails
    @cython.locals(tails=dict)
    cpdef on_match(self, object match, object product)
    cpdef on_entry(self, object entry)
