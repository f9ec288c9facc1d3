# C-callable signatures of the compiled order checks (sandex/core/validation.py).
from sandex.core.holds cimport plain_notional
from sandex.core.product cimport Product

cdef dict _CLOSED

cpdef object check_order(Product product, object cmd)
cpdef bint is_plain_limit(Product product, object cmd) except -1
cpdef bint is_plain_market(Product product, object kind, object size, object funds, object stop,
                           object stop_price) except -1
cdef object _check_time_in_force(object cmd)
cpdef object _check_price(Product product, object price, str field)
cdef object _check_stop(Product product, object cmd)
cdef object _check_amounts(Product product, object cmd, bint market)
