# The C layout of the compiled market view (sandex/views/market.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index), and the trade handler
# counts a trade in its minute's candle by a C call.
cdef class MarketView:
    cdef public dict products
    cpdef on_match(self, object m)
    cpdef on_trade(self, str product_id, object trade_id, object time, object price,
                   object size, object side)

cpdef add_trade(dict minutes, object time, object price, object size)
