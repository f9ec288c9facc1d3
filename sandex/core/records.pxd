# The C layout of the compiled records (sandex/core/records.py): every field public, so the
# uncompiled modules and the adapters read and write them as attributes. An order's fill
# totals and hold, its ``funds_remaining`` and an account's balance and hold are C 128-bit
# integers (``wide``), its ``remaining`` a C 64-bit one: the venue's bounds (``limits``: an
# order's prices, sizes and funds; each currency's supply) keep them below 2**124 and 10**18;
# Python readers get an int converted on read. ``remaining``/``funds_remaining`` may be
# ``None``: stored as -1 in ``_remaining``/``_funds_remaining`` (properties convert).
from sandex.core.wide cimport wide

cdef class Profile
cdef class Tally

cdef class Account:
    cdef public str profile_id
    cdef public str currency
    cdef public wide balance
    cdef public wide hold


cdef class Order:
    # The fields in the order of their use (docs/performance.md, the core's twenty-ninth pass:
    # the engine's cache behaviour): Cython lays them out as declared, so what a cancel of a
    # resting order and a maker's fill read and write is in the first 208 bytes (three or
    # four cache lines, where the declaration order spread it over all six or seven); what
    # only a place writes and the adapters read comes after, the 16-byte ``wide`` fields
    # together (no padding: 352 bytes, 368 before). Nothing else depends on this order
    # (pickles and images name each field; ``made.OrderSlots`` names them too).
    cdef public str id
    cdef public str profile_id
    cdef public object side
    cdef public object price
    cdef public long long _remaining
    cdef public object status
    cdef void *_level  # its level while it rests there, borrowed (``book.level_is``)
    cdef void *_product  # its product, borrowed (``product_is``)
    cdef public Tally _tally
    cdef public Py_ssize_t _live_at
    cdef public Account hold_account
    cdef public object size
    cdef public object client_oid
    cdef public object maker_rate
    cdef public object done_at
    cdef public object done_reason
    cdef public wide hold
    cdef public wide filled_size
    cdef public wide executed_value
    cdef public wide fill_fees
    cdef public wide _funds_remaining
    cdef public long long number
    cdef public str product_id
    cdef public object type
    cdef public object created_at
    cdef public object funds
    cdef public object specified_funds
    cdef public object time_in_force
    cdef public object expire_time
    cdef public object post_only
    cdef public object stp
    cdef public object stop
    cdef public object stop_price
    cdef public object taker_rate
    cdef public object hold_rate
    cdef public Account recv_account
    cdef public object cancel_reason


cdef Order blank_order()  # its object fields NULL: see made.pxd
cpdef Order new_order(str id, long long number, str profile_id, str product_id, object side,
                      object type, object created_at, object price, object size,
                      object remaining, object funds, object specified_funds,
                      object funds_remaining, object time_in_force, object expire_time,
                      object post_only, object stp, object stop, object stop_price,
                      object client_oid, object maker_rate, object taker_rate,
                      object hold_rate, Account hold_account, Account recv_account,
                      wide hold=*, object status=*)


cdef class Profile:
    cdef public str id
    cdef public str user_id
    cdef public str name
    cdef public object maker_rate
    cdef public object taker_rate
    cdef public object created_at
    cdef public object active
    cdef public dict accounts
    cdef public list _orders
    cdef public Py_ssize_t _dead
    cdef public dict by_client_oid
    cdef public dict _tallies


cdef class Tally:
    cdef void *_owner  # its profile, borrowed (``owner``)
    cdef public long long count
    cdef public Account base
    cdef public Account quote


cpdef Profile owner(Tally tally)
cpdef void link(Profile profile, Order order) except *
cpdef void unlink(Profile profile, Order order) except *
cpdef void accept_tally(Order order, Profile profile) except *
cpdef bint keeps_product(Order order) noexcept
cpdef bint product_is(Order order, object product) noexcept
