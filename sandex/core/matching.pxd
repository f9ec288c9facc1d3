# C-callable signatures of the compiled matching (sandex/core/matching.py).
from sandex.core.book cimport Book, Level
from sandex.core.holds cimport limit_buy_hold, size_for_funds
from sandex.core.lifecycle cimport cancel, close, rest, retire
from sandex.core.records cimport Account, Order, Profile, Tally, unlink
from sandex.core.product cimport Product
from sandex.core.state cimport State
from sandex.core.wide cimport wide

cdef long long _RATE_BOUND, _UNIT_BOUND
# the matching's constants as C globals (read without the module dict's versioned lookup)
cdef object BUY, SELL, OPEN, DONE, ACTIVE, LIMIT, MARKET, FILLED, CANCELED, STP_CANCEL
cdef object CN, DC, CB, INSUFFICIENT_FUNDS, INSUFFICIENT_LIQUIDITY, TIME_IN_FORCE

cpdef void take(State state, Order order, Product product, object t) except *
cdef object _take_level(State state, Order order, Product product, Level level, object t,
                        Account fees)
cdef void _close_filled(State state, Order maker, Product product, object t) except *
cdef long long _fill_size(Order order, Order maker, object price, object increment) except? -1
cdef object _fill_size_int(Order order, object size, object price, object increment)
cdef void _finish_taker(State state, Order order, Product product, object stop_reason,
                        object t) except *
cdef void _trade(State state, Order maker, Order taker, Level level, long long size,
                 Product product, object t, Account fees) except *
cdef bint _fits_wide(Order maker, Order taker, Order buyer, Level level,
                     long long size) except -1
cdef void _settle_wide(State state, Order maker, Order taker, Order buyer, Order seller,
                       Level level, long long size, Product product, object t,
                       long long trade_id, long long sequence, Account fees) except *
cdef void _settle(State state, Order maker, Order taker, Order buyer, Order seller,
                  Level level, object size, Product product, object t, long long trade_id,
                  long long sequence, Account fees) except *
cdef object _self_trade(State state, Order taker, Order maker, Product product, Level level,
                        object t)
cdef object _self_trade_funds(State state, Order taker, Order maker, Product product,
                              Level level, object t)
cpdef void shrink(State state, Order order, object new_size, Product product, object t,
                  str reason=*) except *
