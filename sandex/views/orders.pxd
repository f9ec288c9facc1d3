# The C layout of the compiled orders view (sandex/views/orders.py): ``sandex.node.applying``
# calls its handlers as C functions (``on_received``, ``on_cancel``: with the fields it read
# from the event's slots).
cimport cython
from sandex.views.kept cimport sandex_kept
from sandex.core.records cimport Order

cdef str _REPLAY  # REPLAY_PROFILE_ID, tested with equal.pxd's ``equal``
cdef object _DONE  # Status.DONE

cdef class OrdersView:
    cdef public object _engine
    cdef public dict _on_record
    cdef public dict by_profile
    cdef sandex_kept _kept  # each profile's dict where ``by_profile`` led last (kept.pxd)
    cdef public bint _deferred  # a replay's orders put at its end (``defer``, ``settle``)

    @cython.locals(by_profile=dict, version=cython.ulonglong, orders=dict)
    cdef dict _profile(self, str profile_id, bint make)

    cpdef on_order(self, object event)
    cpdef on_received(self, str order_id, str profile_id)
    @cython.locals(orders=dict, by_profile=dict)
    cdef inline int _keep(self, str profile_id, str order_id, object order) except -1
    cpdef on_canceled(self, object event)
    @cython.locals(profile=dict)
    cpdef on_cancel(self, str order_id, str profile_id)
    @cython.locals(profile_id=str)
    cdef int on_noted(self, Order order) except -1
    @cython.locals(profile=dict, profile_id=str)
    cdef int on_noted_cancel(self, Order order) except -1
    cpdef bint defer(self) except -1
    cpdef settle(self, bint end=*)
    @cython.locals(by_profile=dict, orders=dict, last=dict, last_id=str, order=Order,
                   profile_id=str)
    cdef _put_on_record(self, dict on_record)
