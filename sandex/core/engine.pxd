# C-callable methods of the compiled engine (sandex/core/engine.py).
from sandex.core.book cimport Book, Level
from sandex.core.holds cimport buy_hold, hold_rate, limit_buy_hold, net_funds, plain_notional
from sandex.core.lifecycle cimport cancel, close, rest
from sandex.core.matching cimport take
from sandex.core.records cimport Account, Order, Profile, Tally, accept_tally, link, new_order, unlink
from sandex.core.product cimport Product
from sandex.core.state cimport State
from sandex.core.validation cimport check_order, is_plain_market


cdef Py_ssize_t _DEAD_SLOTS_MAX
# the hot path's constants as C globals (read without the module dict's versioned lookup)
cdef object BUY, LIMIT, MARKET, PENDING, OPEN, ACTIVE, DONE, CANCELED, FOK, IOC, POST_ONLY
cdef object DISABLED, ONLINE, GTC, _PLACE_ORDER, _CANCEL_ORDER, _SIZE_TO_AMOUNT
cdef long long _OPEN_MAX, _FEE_RATE_BOUND
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t) _PLACE
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _CANCEL

from sandex.core.wide cimport wide


cdef wide _c_notional(long long p64, long long s64, long long i64, long long b64,
                      wide m) noexcept
cpdef wide notional_of(object price, object size, object increment, object base_increment,
                       object min_funds) except? -2
cpdef wide notional_in(Product product, object price, object size) except? -2


cdef class Engine(State):
    cdef list _spare  # an earlier command's events list, for reuse (``apply``, ``kept.pxd``)
    cpdef list apply(self, object command)
    cpdef void _place(self, object cmd) except *
    cdef void _refuse(self, str order_id, object error) except *
    cpdef void _place_market(self, Product product, Profile profile, object t, str order_id,
                             object side, object price, object size, object funds, object stp,
                             object client_oid) except *
    cpdef void _place_checked(self, object cmd, Product product, Profile profile) except *
    cpdef Order _new_order(self, object cmd, Product product, Profile profile)
    cpdef void _accept(self, Order order, Product product, Profile profile, object t) except *
    cpdef void _start(self, Order order, Product product, object t, bint stops=*,
                      bint announce=*) except *
    cpdef void _trigger_stops(self, Product product, object t) except *
    cpdef void _cancel_order(self, object cmd) except *
    cpdef void _cancel_resting(self, Order order, Product product, object t) except *
