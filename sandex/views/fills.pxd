# The C layout of the compiled fills view (sandex/views/fills.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index).
cimport cython
from sandex.views.kept cimport sandex_kept

cdef str _REPLAY  # REPLAY_PROFILE_ID, tested with equal.pxd's ``equal``
# a ``Fill``'s fields' slot offsets in their order, and whether fills are built from them
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t) _FILL
cdef bint _BY_SLOTS
cdef object _FILL_TYPE, _BUY, _SELL  # Fill, Side.BUY, Side.SELL

cdef object _new_fill(object trade_id, str product_id, str order_id, str profile_id,
                      str liquidity, object price, object size, object fee, object side,
                      object created_at)

cdef class FillsView:
    cdef public dict by_order
    cdef public dict more
    cdef public dict by_product
    cdef public dict _lists
    cdef sandex_kept _kept  # a profile's list of a product, by both ids (kept.pxd)
    cpdef on_match(self, object m)
    cpdef on_trade(self, object trade_id, str product_id, str maker_order_id,
                   str taker_order_id, str maker_profile_id, str taker_profile_id, object side,
                   object price, object size, object maker_fee, object taker_fee, object time)
    @cython.locals(more=dict, lists=dict, fills=list, version=cython.ulonglong)
    cdef _put(self, object fill, str order_id, str profile_id, str product_id)
