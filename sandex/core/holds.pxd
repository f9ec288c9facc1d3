# C-callable signatures of the compiled hold arithmetic (sandex/core/holds.py).
from sandex.core.wide cimport wide

cdef wide _RATE_BOUND, _UNIT_BOUND

cpdef object buy_hold(object notional, object rate)
cpdef object hold_rate(object maker_rate, object taker_rate)
cpdef object limit_buy_hold(object size, object price, object rate)
cpdef object plain_notional(object price, object size, object increment,
                            object base_increment, object min_funds)
cpdef object net_funds(object specified_funds, object taker_rate)
cpdef object size_for_funds(object funds, object price, object base_increment)
