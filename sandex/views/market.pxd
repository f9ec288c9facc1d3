# The C layout of the compiled market view (sandex/views/market.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index, a product's market), and the
# trade handler counts a trade in its minute's candle by a C call, the minute in C integers and
# the candle's fields read and written by their slots (``store`` below, ``slots.pxd``'s
# ``field``: a ``Candle`` is a mutable, ``gc=False`` msgspec Struct, whose attribute writes
# store the value in its slot and release the old one, as ``store`` does).
cimport cython

cdef extern from *:
    """
    /* Replace the object in the slot at ``offset`` of ``obj`` with ``value`` (a reference
       taken), releasing the one it held. */
    static CYTHON_INLINE void sandex_views_store(PyObject *obj, Py_ssize_t offset,
                                                 PyObject *value) {
        PyObject **slot = (PyObject **)((char *)obj + offset);
        PyObject *old = *slot;
        Py_INCREF(value);
        *slot = value;
        Py_XDECREF(old);
    }
    """
    void store "sandex_views_store"(object obj, Py_ssize_t offset, object value)

cdef long long _MINUTE_US
cdef Py_ssize_t _LOW, _HIGH, _CLOSE, _VOLUME
# a ``Trade``'s fields' slot offsets in their order, and whether trades are built from them
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _TRADE
cdef bint _BY_SLOTS
cdef object _TRADE_TYPE  # Trade

cdef class ProductMarket:
    cdef public list trades
    cdef public dict minutes

cdef class MarketView:
    cdef public dict products
    cpdef on_match(self, object m)
    @cython.locals(market=ProductMarket, trades=list, kept=Py_ssize_t)
    cpdef on_trade(self, str product_id, object trade_id, object time, object price,
                   object size, object side)

@cython.locals(at=cython.longlong, minute=cython.longlong)
cpdef add_trade(dict minutes, object time, object price, object size)
