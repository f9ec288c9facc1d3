# The hot callers' reads of another module's records, inline (sandex/core/peek.py is the
# uncompiled twin; tests/core/test_peek.py pins the two to the same results). A ``cpdef``
# method or function of another compiled module is called through a pointer imported at
# module init (~10-25 instructions a call beside its body: the arguments, the callee's saved
# registers, the caller's spills around it), and GCC can neither inline nor profile-guide
# across it; these take the common case in the caller's own code and call for the rest
# (docs/performance.md, the core's twenty-sixth and twenty-seventh passes).
from sandex.core.book cimport Book, Level, index_get
from sandex.core.records cimport Profile, Tally, owner


# ``book.best_bid()``: the side's cached best level while it holds an order, else the call
# (which walks the heap past emptied levels and caches the new best).
cdef inline object best_bid_of(Book book):
    cdef Level level = book._best_bid
    if level is not None and level.count:
        return level.price
    return book.best_bid()


# ``book.best_ask()``, the same way.
cdef inline object best_ask_of(Book book):
    cdef Level level = book._best_ask
    if level is not None and level.count:
        return level.price
    return book.best_ask()


# ``records.owner(tally)``: the tally's profile while it lives, else the call (which raises).
cdef inline Profile owner_of(Tally tally):
    if tally._owner != NULL:
        return <Profile>tally._owner
    return owner(tally)


# ``book.find(buy, price)`` (compiled): the level its side's index names at ``price``, or
# ``None``; one call (the index's probe) where ``find`` was two.
cdef inline Level level_at(Book book, bint buy, long long price):
    cdef void *found
    if buy:
        found = index_get(&book._bix, price)
    else:
        found = index_get(&book._aix, price)
    if found == NULL:
        return None
    return <Level>found
