# The C layout of the compiled market view (sandex/views/market.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index).
cdef class MarketView:
    cdef public dict products
    cpdef on_match(self, object m)
