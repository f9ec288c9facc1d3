# 128-bit C integers for the compiled core's amounts (sandex/core/wide.py is the uncompiled
# meaning of each name). An amount (1e-16), price or size with at most 120 bits converts to
# ``wide`` exactly from its digits; the callers check the bounds that keep every product and
# sum they form below 2**127 (``small``), so the C arithmetic can neither overflow nor differ
# from Python's.
cdef extern from *:
    """
    #include <limits.h>
    typedef __int128 sandex_wide;
    #define SANDEX_RATE_SCALE ((sandex_wide)1000000)
    #define SANDEX_SIZE_TO_AMOUNT ((sandex_wide)100000000)
    #define SANDEX_NOTIONAL_BOUND (((sandex_wide)1) << 106)

    /* An exact int of at most 120 bits (four 30-bit digits): converts from its digits. */
    static CYTHON_INLINE int sandex_small(PyObject *x) {
        if (!PyLong_CheckExact(x)) return 0;
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        Py_ssize_t n = Py_SIZE(x);
        return (n < 0 ? -n : n) * PyLong_SHIFT <= 120;
    #else
        return _PyLong_NumBits(x) <= 120;
    #endif
    }

    /* Is ``x`` an exact int of magnitude below ``bound`` (at most 2**62)? From its digits,
       no conversion call; an int of more than two digits is never below it. */
    static CYTHON_INLINE int sandex_below(PyObject *x, long long bound) {
        long long v;
        if (!PyLong_CheckExact(x)) return 0;
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        {
            Py_ssize_t n = Py_SIZE(x);
            const digit *d = ((PyLongObject *)x)->ob_digit;
            if (n < -2 || n > 2) return 0;
            v = n == 0 ? 0 : (long long)d[0];
            if (n == 2 || n == -2) v |= (long long)d[1] << PyLong_SHIFT;
            if (n < 0) v = -v;
        }
    #else
        {
            int overflow;
            v = PyLong_AsLongLongAndOverflow(x, &overflow);
            if (overflow) return 0;
        }
    #endif
        return -bound < v && v < bound;
    }

    /* ``x`` as a C ``long long`` when it is an exact int of magnitude below 2**53 (at most
       two 30-bit digits), from its digits with no conversion call; else ``LLONG_MIN``
       (``NO_UNIT``). The fast place's prices, sizes and increments. */
    static CYTHON_INLINE __attribute__((always_inline)) long long sandex_unit(PyObject *x) {
        long long v;
        if (!PyLong_CheckExact(x)) return LLONG_MIN;
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        {
            Py_ssize_t n = Py_SIZE(x);
            const digit *d = ((PyLongObject *)x)->ob_digit;
            if (n < -2 || n > 2) return LLONG_MIN;
            v = n == 0 ? 0 : (long long)d[0];
            if (n == 2 || n == -2) v |= (long long)d[1] << PyLong_SHIFT;
            if (n < 0) v = -v;
        }
    #else
        {
            int overflow;
            v = PyLong_AsLongLongAndOverflow(x, &overflow);
            if (overflow) return LLONG_MIN;
        }
    #endif
        return (-(1LL << 53) < v && v < (1LL << 53)) ? v : LLONG_MIN;
    }

    /* ``v`` as a Python int: one allocation, its digits written directly. Beyond 64 bits
       (an account's balance in 1e-16 units) the digit count comes from the bit length
       (``__builtin_clzll`` of the high word) and, below 2**124, the digits from two 64-bit
       words (the low 60 bits, then the rest shifted down once), not a loop of 128-bit
       shifts; from 2**124, that loop. */
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
    /* A new int of ``n`` digits (1 to 5), its digits the caller's to write: what
       ``_PyLong_New`` does (the object's memory from ``PyObject_Malloc``, which its dealloc
       frees; ``PyLong_Type`` is static, so no type reference), without its bound test and
       call. */
    static CYTHON_INLINE PyLongObject *sandex_long_alloc(Py_ssize_t n, int negative) {
        PyLongObject *r = (PyLongObject *)PyObject_Malloc(
            offsetof(PyLongObject, ob_digit) + (size_t)n * sizeof(digit));
        if (r == NULL) return (PyLongObject *)PyErr_NoMemory();
        Py_SET_TYPE(r, &PyLong_Type);
        Py_SET_SIZE(r, negative ? -n : n);
        _Py_NewReference((PyObject *)r);
        return r;
    }
    #endif

    static CYTHON_INLINE PyObject *sandex_wide_to_int(sandex_wide v) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
        if (v >= LLONG_MIN && v <= LLONG_MAX) {
            /* -5 to 256: the interpreter's shared small ints, as ``PyLong_FromLongLong``
               answers; else one to three digits written here */
            unsigned long long m;
            PyLongObject *r;
            if (v >= -5 && v <= 256) return PyLong_FromLong((long)v);
            m = v < 0 ? 0ULL - (unsigned long long)(long long)v : (unsigned long long)v;
            if (m <= PyLong_MASK) {
                r = sandex_long_alloc(1, v < 0);
                if (r == NULL) return NULL;
                r->ob_digit[0] = (digit)m;
            } else if (m >> (2 * PyLong_SHIFT) == 0) {
                r = sandex_long_alloc(2, v < 0);
                if (r == NULL) return NULL;
                r->ob_digit[0] = (digit)(m & PyLong_MASK);
                r->ob_digit[1] = (digit)(m >> PyLong_SHIFT);
            } else {
                r = sandex_long_alloc(3, v < 0);
                if (r == NULL) return NULL;
                r->ob_digit[0] = (digit)(m & PyLong_MASK);
                r->ob_digit[1] = (digit)((m >> PyLong_SHIFT) & PyLong_MASK);
                r->ob_digit[2] = (digit)(m >> (2 * PyLong_SHIFT));
            }
            return (PyObject *)r;
        }
    #else
        if (v >= LLONG_MIN && v <= LLONG_MAX) return PyLong_FromLongLong((long long)v);
    #endif
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
        unsigned __int128 a = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
        unsigned long long hi = (unsigned long long)(a >> 64);
        /* its bit length: 64 when the high word is 0 (|v| from 2**63 to 2**64 - 1) */
        Py_ssize_t n = hi ? (128 - __builtin_clzll(hi) + PyLong_SHIFT - 1) / PyLong_SHIFT : 3;
        Py_ssize_t i;
        PyLongObject *result = sandex_long_alloc(n, 0);
        if (result == NULL) return NULL;
        if ((a >> 124) == 0) {  /* n is 3 to 5; the rest above the low 60 bits in one word */
            unsigned long long lo = (unsigned long long)a;
            unsigned long long up = (unsigned long long)(a >> 60);
            digit *d = result->ob_digit;
            d[0] = (digit)(lo & PyLong_MASK);
            d[1] = (digit)((lo >> PyLong_SHIFT) & PyLong_MASK);
            for (i = 2; i < n; i++) {
                d[i] = (digit)(up & PyLong_MASK);
                up >>= PyLong_SHIFT;
            }
            if (v < 0) Py_SET_SIZE(result, -n);
            return (PyObject *)result;
        }
        for (i = 0; i < n; i++) {
            result->ob_digit[i] = (digit)(a & PyLong_MASK);
            a >>= PyLong_SHIFT;
        }
        if (v < 0) Py_SET_SIZE(result, -n);
        return (PyObject *)result;
    #else
        int one = 1;
        return _PyLong_FromByteArray((unsigned char *)&v, sizeof(v), *(unsigned char *)&one, 1);
    #endif
    }

    /* ``x // SANDEX_RATE_SCALE`` (floor), exact for every ``x``: a non-negative ``x`` by long
       division in 64-bit steps by the constant, which the compiler makes multiplications
       (one when ``x`` is below 2**64, three at most), where ``/`` of an ``__int128`` is a
       call of libgcc's 128-bit division (``__divmodti4``); a negative ``x`` (a negative fee
       rate) by that division, floored as Python floors. */
    static CYTHON_INLINE sandex_wide sandex_div_scale(sandex_wide x) {
        /* the scale: below 2**32, so each step's dividend below fits 64 bits (a test checks) */
        const unsigned long long d = (unsigned long long)SANDEX_RATE_SCALE;
        if (x >= 0) {
            unsigned long long hi = (unsigned long long)((unsigned __int128)x >> 64);
            unsigned long long lo = (unsigned long long)x;
            unsigned long long qh, q1, q0, r, n;
            if (hi == 0) return (sandex_wide)(lo / d);
            qh = hi / d; r = hi % d;            /* r < d < 2**20 */
            n = (r << 32) | (lo >> 32);         /* below d * 2**32 */
            q1 = n / d; r = n % d;              /* q1 < 2**32 */
            n = (r << 32) | (lo & 0xFFFFFFFFULL);
            q0 = n / d;                         /* q0 < 2**32 */
            return (sandex_wide)(((unsigned __int128)qh << 64) | ((q1 << 32) | q0));
        } else {
            sandex_wide q = x / SANDEX_RATE_SCALE;
            return q * SANDEX_RATE_SCALE != x ? q - 1 : q;
        }
    }

    /* ``v`` as a Python int for an event's field (a sequence, a trade or entry id, a size):
       ``to_int(v)``, except that a value of one positive digit above the shared small ints
       (257 to 2**30 - 1) is written into an int this module made before, when nothing but
       its ring of kept ints holds that int any more (the event that carried it freed), in
       place of a new one: no allocation, and none freed when the event is. An int held by
       anything else (an event a caller keeps, a record) is never touched: its slot in the
       ring takes a new int then. Every int in the ring has exactly one digit, so one written
       digit is its whole value (its size and sign stay 1). The ring is this module's (a
       static of its own in each module that calls this), 128 ints. */
    #define SANDEX_KEPT_INTS 128
    static CYTHON_INLINE PyObject *sandex_event_int(long long v) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION) && PyLong_SHIFT == 30
        static PyObject *kept[SANDEX_KEPT_INTS];
        static unsigned int at;
        if (v > 256 && v <= (long long)PyLong_MASK) {
            PyObject **slot = &kept[at++ & (SANDEX_KEPT_INTS - 1)];
            PyObject *o = *slot;
            if (o != NULL && Py_REFCNT(o) == 1) {
                ((PyLongObject *)o)->ob_digit[0] = (digit)v;
            } else {
                PyLongObject *r = sandex_long_alloc(1, 0);
                if (r == NULL) return NULL;
                r->ob_digit[0] = (digit)v;
                *slot = (PyObject *)r;
                Py_XDECREF(o);  /* held elsewhere (or NULL): only the ring's reference */
                o = (PyObject *)r;
            }
            Py_INCREF(o);
            return o;
        }
    #endif
        return sandex_wide_to_int((sandex_wide)v);
    }
    """
    ctypedef long long wide "sandex_wide"
    const wide RATE_SCALE "SANDEX_RATE_SCALE"
    const wide SIZE_TO_AMOUNT "SANDEX_SIZE_TO_AMOUNT"
    # below it, an amount times a fee rate below 2**20 stays below 2**126 (a C literal
    # cannot spell it: GCC has no 128-bit constants)
    const wide NOTIONAL_BOUND "SANDEX_NOTIONAL_BOUND"
    bint small "sandex_small"(object x)
    bint below "sandex_below"(object x, long long bound)
    const long long NO_UNIT "LLONG_MIN"
    long long unit "sandex_unit"(object x)  # NO_UNIT unless an exact int below 2**53
    object to_int "sandex_wide_to_int"(wide v)
    object event_int "sandex_event_int"(long long v)  # to_int, from a ring of kept ints
    wide div_scale "sandex_div_scale"(wide x)  # x // RATE_SCALE, floored
