# The C layout of the compiled orders view (sandex/views/orders.py): ``sandex.node.applying``
# calls its two handlers as C functions.
cimport cython

from sandex.core.records cimport Order

cdef class OrdersView:
    cdef public object _engine
    cdef public dict _live
    cdef public dict _archive
    cdef public dict by_profile

    @cython.locals(order=Order, orders=dict, by_profile=dict, profile_id=str)
    cpdef on_order(self, object event)
    @cython.locals(profile=dict)
    cpdef on_canceled(self, object event)
