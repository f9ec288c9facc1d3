# The C layout of the compiled fills view (sandex/views/fills.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index).
cimport cython

cdef class FillsView:
    cdef public dict by_order
    cdef public dict more
    cdef public dict by_product
    @cython.locals(by_order=dict, more=dict, by_product=dict)
    cpdef on_match(self, object m)
