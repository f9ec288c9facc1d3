# C-callable signatures of the compiled lifecycle moves (sandex/core/lifecycle.py).
from sandex.core.records cimport Order, Profile, Tally, unlink
from sandex.core.product cimport Product
from sandex.core.state cimport State
from sandex.core.wide cimport wide

# the moves' constants as C globals (read without the module dict's versioned lookup)
cdef object PENDING, OPEN, ACTIVE, DONE, LIMIT, MARKET, CANCELED

cpdef void rest(State state, Order order, Product product, object t) except *
cpdef void cancel(State state, Order order, Product product, object reason, object t) except *
cpdef void close(State state, Order order, Product product, object reason,
                 object cancel_reason, object t, bint private=*) except *
cpdef void retire(State state, Order order, Profile profile, wide hold, object reason,
                  object cancel_reason, object t) except *
