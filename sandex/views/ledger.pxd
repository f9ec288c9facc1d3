# The C layout of the compiled ledger view (sandex/views/ledger.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index, the product it reads).
cimport cython

cdef str _REPLAY  # REPLAY_PROFILE_ID, tested with equal.pxd's ``equal``

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object op)

from sandex.core.product cimport Product as CProduct
from sandex.views.kept cimport sandex_kept

cdef class LedgerView:
    cdef public dict _entries
    cdef public dict _tails
    cdef public dict _pending
    cdef sandex_kept _kept  # a profile's two tails of a product, by both (kept.pxd)
    cpdef on_match(self, object match, CProduct product)
    cpdef on_trade(self, object match, str maker, str taker, CProduct product)
    @cython.locals(tails=dict, tail=list, tail2=list, version=cython.ulonglong)
    cdef _note(self, tuple trade, str profile_id, str base, str quote, CProduct product)
    cpdef on_entry(self, object entry)
