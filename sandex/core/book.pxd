# The C layout of the compiled book (sandex/core/book.py).
from sandex.core.records cimport Order
from sandex.core.wide cimport wide

cdef Py_ssize_t _HEAP_SLACK, _DEAD_SLOTS_MAX
cdef object OPEN, BUY, _append  # C globals: read without the module dict's lookup


cdef class Level:
    cdef public object price
    cdef public object orders
    cdef public wide size  # at most its count times 10**18: below 2**124
    cdef public Py_ssize_t count


cdef class Book:
    cdef public dict bids
    cdef public dict asks
    cdef public list _bid_heap
    cdef public list _ask_heap
    cdef public Level _best_bid
    cdef public Level _best_ask

    cpdef object best_bid(self)
    cpdef object best_ask(self)
    cpdef void add(self, Order order) except *
    cpdef Level open_level(self, object side, object price)
    cpdef void remove(self, Order order, wide size) except *
    cpdef void drop_level(self, object side, object price) except *


cdef Level _new_level(object price)
cdef void _push(list heap, object key) except *
cdef void rests_at(Order order, Level level) noexcept
cpdef void leaves(Order order) noexcept
cpdef bint level_is(Order order, Level level) noexcept
cpdef bint keeps_level(Order order) noexcept
