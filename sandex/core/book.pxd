# The C layout of the compiled book (sandex/core/book.py).
from sandex.core.records cimport Order
from sandex.core.wide cimport wide

cdef Py_ssize_t _HEAP_SLACK, _DEAD_SLOTS_MAX
cdef object OPEN, BUY  # C globals: read without the module dict's lookup


cdef class Level:
    cdef public object price
    cdef public object orders
    cdef public wide size  # at most its count times 10**18: below 2**124
    cdef public Py_ssize_t count


# A side's index of its levels by price (compiled): open addressing, linear probing from a
# Fibonacci hash of the price, backward-shift deletion; ``vals[i] == NULL`` is an empty slot.
# Each slot names a level of the side's dict (no reference: the dict holds it), by the
# same price (docs/performance.md, the sixteenth pass).
cdef struct Index:
    long long *keys
    void **vals
    Py_ssize_t mask
    Py_ssize_t used
    int shift


cdef class Book:
    cdef readonly dict bids
    cdef readonly dict asks
    cdef Index _bix
    cdef Index _aix
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
    cpdef Level find(self, bint buy, long long price)
    cpdef void forget(self, bint buy, Level level) except *


cdef unsigned long long _GOLDEN
cdef int index_init(Index *ix, int bits) except -1
cdef void *index_get(Index *ix, long long key) noexcept
cdef int index_put(Index *ix, long long key, void *val) except -1
cdef void index_drop(Index *ix, long long key) noexcept
cdef bint _agrees(dict levels, Index *ix) except -1


cdef Level _new_level(object price)
cdef void _sift_up(list heap, Py_ssize_t pos, object key) except *
cdef void _push(list heap, object key) except *
cpdef void _pop(list heap) except *
cdef void rests_at(Order order, Level level) noexcept
cpdef void leaves(Order order) noexcept
cpdef bint level_is(Order order, Level level) noexcept
cpdef bint keeps_level(Order order) noexcept
