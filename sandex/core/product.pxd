# The C layout of the compiled product (sandex/core/product.py).
from sandex.core.book cimport Book
from sandex.core.stops cimport StopBook


cdef class Product:
    cdef public str id
    cdef public str base_currency
    cdef public str quote_currency
    cdef public object base_increment
    cdef public object quote_increment
    cdef public object min_market_funds
    cdef public object status
    cdef public Book book
    cdef public StopBook stops
    cdef public long long sequence
    cdef public long long trade_id
    cdef public object last_price
    cdef public object print_low
    cdef public object print_high
    cdef public list halted
