# C-callable builders of the hot events (sandex/core/emit.py): each field's slot offset, in
# the fields' order, found at import; the builders write them directly.
from sandex.core.slots cimport buildable, free_keep, new, offset, put
from sandex.core.state cimport State

cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _RECEIVED
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t) _OPENED
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t) _DONE
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _MATCHED
cdef object _Received, _Opened, _Done, _Matched
cdef bint _BUILD
cdef object _CANCELED
cdef State _SCRATCH

cpdef object new_received(object time, object product_id, object sequence, object order_id,
                          object profile_id, object side, object order_type, object price,
                          object size, object funds, object client_oid)
cpdef object new_opened(object time, object product_id, object sequence, object order_id,
                        object profile_id, object side, object price, object remaining_size)
cpdef object new_done(object time, object product_id, object sequence, object order_id,
                      object profile_id, object side, object reason, object price,
                      object remaining_size, object cancel_reason)
cpdef object new_matched(object time, object product_id, object sequence, object trade_id,
                         object maker_order_id, object taker_order_id, object maker_profile_id,
                         object taker_profile_id, object side, object price, object size,
                         object maker_fee, object taker_fee, object maker_fee_rate,
                         object taker_fee_rate, object entry_id, object seller_base_balance,
                         object seller_quote_balance, object buyer_quote_balance,
                         object buyer_base_balance)

# the engine's emission points of the three hot kinds: the event appended, or (given a
# replay's sink) what the read models read of it noted there
cpdef int emit_received(State state, object time, object product_id,
                         object sequence, object order_id, object profile_id, object side,
                         object order_type, object price, object size, object funds,
                         object client_oid, object order) except -1
cpdef int emit_opened(State state, object time, object product_id,
                       object sequence, object order_id, object profile_id, object side,
                       object price, object remaining_size) except -1
cpdef int emit_done(State state, object time, object product_id, object sequence,
                     object order_id, object profile_id, object side, object reason,
                     object price, object remaining_size, object cancel_reason,
                     object order) except -1
