# The C layout of the compiled market view (sandex/views/market.py): ``sandex.node.applying``
# calls its handlers as C functions (typed: the dicts they index, a product's market), and the
# trade handler counts a trade in its minute's candle by a C call, the minute in C integers and
# the candle's fields read and written by their slots (``store`` below, ``slots.pxd``'s
# ``field``: a ``Candle`` is a mutable, ``gc=False`` msgspec Struct, whose attribute writes
# store the value in its slot and release the old one, as ``store`` does).
cimport cython
from sandex.core.digits cimport digits_cmp as compare

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

cdef extern from *:
    """
    /* The dict's version tag (CPython 3.11: a new one on every change of any entry, none
       ever given twice), or 0 where there is none to read (then nothing is cached on it). */
    static CYTHON_INLINE unsigned long long sandex_views_version(PyObject *d) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        return (unsigned long long)((PyDictObject *)d)->ma_version_tag;
    #else
        (void)d;
        return 0;
    #endif
    }
    """
    unsigned long long version "sandex_views_version"(dict d)

cdef extern from *:
    """
    /* The int in the slot at ``offset`` of ``obj`` made itself plus ``size`` in place (a
       candle's volume: ``store`` of a new sum allocates it and frees the old), where only
       the slot holds it (no one else can see it change), both are exact non-negative ints
       of at most two 30-bit digits and the sum needs no more digits than the int has
       (CPython 3.11's layout): 1 if done, 0 if not (the caller stores a new sum). */
    static CYTHON_INLINE int sandex_views_add(PyObject *obj, Py_ssize_t offset,
                                              PyObject *size) {
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
        PyObject *old = *(PyObject **)((char *)obj + offset);
        Py_ssize_t n, m;
        unsigned long long x, y;
        if (Py_REFCNT(old) != 1 || !PyLong_CheckExact(old) || !PyLong_CheckExact(size))
            return 0;
        n = Py_SIZE(old); m = Py_SIZE(size);
        if (n < 1 || n > 2 || m < 0 || m > 2) return 0;
        x = ((PyLongObject *)old)->ob_digit[0];
        if (n == 2) x |= (unsigned long long)((PyLongObject *)old)->ob_digit[1] << 30;
        y = m == 0 ? 0 : ((PyLongObject *)size)->ob_digit[0];
        if (m == 2) y |= (unsigned long long)((PyLongObject *)size)->ob_digit[1] << 30;
        x += y;  /* below 2**61 */
        if ((x >> 30) >= ((unsigned long long)1 << 30) || (n == 1 && (x >> 30) != 0))
            return 0;  /* needs more digits than ``old`` has */
        ((PyLongObject *)old)->ob_digit[0] = (digit)(x & PyLong_MASK);
        if (n == 2) {
            ((PyLongObject *)old)->ob_digit[1] = (digit)(x >> 30);
            if ((x >> 30) == 0) Py_SET_SIZE(old, 1);  /* cannot happen (sums grow) */
        }
        return 1;
    #else
        (void)obj; (void)offset; (void)size;
        return 0;
    #endif
    }
    """
    int add_in_place "sandex_views_add"(object obj, Py_ssize_t offset, object size)

cdef long long _MINUTE_US
cdef Py_ssize_t _LOW, _HIGH, _CLOSE, _VOLUME
# a ``Trade``'s fields' slot offsets in their order, and whether trades are built from them
cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _TRADE
cdef bint _BY_SLOTS
cdef object _TRADE_TYPE  # Trade

cdef class ProductMarket:
    cdef public list trades
    cdef public dict minutes
    # the candle of the minute of the last trade counted (``on_trade``), and ``minutes``'
    # version then: the same minute and version (nothing in ``minutes`` changed since) find
    # it without a probe; version 0: none
    cdef long long _minute
    cdef object _candle
    cdef unsigned long long _version

cdef class MarketView:
    cdef public dict products
    # the last trade's product id and its market, and ``products``' version then
    # (``on_trade``: the same id, ``products`` unchanged, finds it without a probe; 0: none)
    cdef object _kept_id
    cdef ProductMarket _kept
    cdef unsigned long long _kept_version
    cpdef on_match(self, object m)
    @cython.locals(market=ProductMarket, trades=list, kept=Py_ssize_t, at=cython.longlong,
                   minute=cython.longlong, products=dict)
    cpdef on_trade(self, str product_id, object trade_id, object time, object price,
                   object size, object side)

@cython.locals(at=cython.longlong, minute=cython.longlong)
cpdef add_trade(dict minutes, object time, object price, object size)
@cython.locals(rank=int)
cdef void _count(object candle, object price, object size)
