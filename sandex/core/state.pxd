# The C layout of the compiled state (sandex/core/state.py): every field public, and an
# instance dict (tests wrap an engine's methods on the instance).

from sandex.core.sink cimport Sink

cdef class State:
    cdef dict __dict__
    cdef public dict products
    cdef public dict profiles
    cdef public dict _live
    cdef public list _archive
    cdef public object orders
    cdef public dict currencies
    cdef public dict fee_accounts
    cdef public dict supply
    cdef public object clock
    cdef public object client_oid_dedup
    cdef public list _expiries
    cdef public long long _order_number
    cdef public long long _entry_id
    cdef public list _events
    cdef public object replay
    cdef public dict conversions
    cdef public dict reports
    cdef public dict pending_transfers
    cdef public Sink _sink
