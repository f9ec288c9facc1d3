# The C layout of the compiled product (sandex/core/product.py).
from sandex.core.book cimport Book
from sandex.core.stops cimport StopBook
from sandex.core.wide cimport wide


cdef class Product:
    cdef public str id
    cdef public str base_currency
    cdef public str quote_currency
    cdef readonly object base_increment
    cdef readonly object quote_increment
    cdef readonly object min_market_funds
    cdef public object status
    cdef public Book book
    cdef public StopBook stops
    cdef public long long sequence
    cdef public long long trade_id
    cdef public object last_price
    cdef public object print_low
    cdef public object print_high
    cdef public list halted
    # the rules above as C values, made once with the product (they are read-only): whether
    # both increments are exact ints in (0, 2**53) and the minimum funds an exact int of at
    # most 120 bits (``plain_rules``), and then the three (``engine.notional_in``'s reads)
    cdef bint plain_rules
    cdef long long quote_units
    cdef long long base_units
    cdef wide min_funds
