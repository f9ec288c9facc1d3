# Two ints compared from their digits (compiled only; no .py: uncompiled code compares the
# objects). A command's time in microseconds and a price are exact ints of at most two
# 30-bit digits: reading those beats Python's rich compare. Shared by the replay's run
# (``sandex/node/applying.pxd``) and the market view's candles (``sandex/views/market.pxd``).

cdef extern from *:
    """
    /* ``a`` against ``b`` when both are exact ints of at most two 30-bit digits: -1, 0 or
       1 as ``a`` is below, equal to or above ``b``, from their digits; 2 otherwise (the
       caller compares the objects). */
    static CYTHON_INLINE int sandex_digits_cmp(PyObject *a, PyObject *b) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
        Py_ssize_t n, m;
        long long x, y;
        if (!PyLong_CheckExact(a) || !PyLong_CheckExact(b)) return 2;
        n = Py_SIZE(a); m = Py_SIZE(b);
        if (n < -2 || n > 2 || m < -2 || m > 2) return 2;
        x = n == 0 ? 0 : (long long)((PyLongObject *)a)->ob_digit[0];
        if (n == 2 || n == -2) x |= (long long)((PyLongObject *)a)->ob_digit[1] << 30;
        if (n < 0) x = -x;
        y = m == 0 ? 0 : (long long)((PyLongObject *)b)->ob_digit[0];
        if (m == 2 || m == -2) y |= (long long)((PyLongObject *)b)->ob_digit[1] << 30;
        if (m < 0) y = -y;
        return (x > y) - (x < y);
    #else
        (void)a; (void)b;
        return 2;
    #endif
    }
    """
    int digits_cmp "sandex_digits_cmp"(object a, object b)
