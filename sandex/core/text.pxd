# String equality for the compiled core's hot comparisons of ids (no .py: the modules compare
# with ``==`` uncompiled). Cython 3.3 compiles ``str == str`` on CPython 3.11 to
# ``PyUnicode_Compare`` (an ordering compare, ~90 instructions for two 32-character ids);
# ``same`` answers from identity, then from the two cached hashes when both are computed (a
# dict key's always is), and compares the text only when neither decides: two compact ASCII
# strings (every id the venue makes or decodes) by their lengths and one ``memcmp`` of their
# characters, which follow the header (~15 instructions and the ``memcmp``'s ~16 for two
# 32-character ids), any other pair by ``PyUnicode_Compare`` as before. (CPython 3.11's
# ``_PyUnicode_EQ`` is ~43 besides the ``memcmp``; the general kind and data macros ~30.)
# ``same_id`` is ``same`` with its second operand any object (a command's field as decoded):
# an exact ``str`` as ``same``, anything else by ``==`` (``PyObject_RichCompareBool``), as
# Cython's ``!=`` of a ``str`` and an object does; -1 on an error.
cdef extern from *:
    """
    static CYTHON_INLINE int sandex_same_text(PyObject *a, PyObject *b) {
        Py_hash_t ha, hb;
        if (a == b) return 1;
        if (a == Py_None || b == Py_None) return 0;
        ha = ((PyASCIIObject *)a)->hash;
        hb = ((PyASCIIObject *)b)->hash;
        if (ha != -1 && hb != -1 && ha != hb) return 0;
        if (PyUnicode_IS_COMPACT_ASCII(a) && PyUnicode_IS_COMPACT_ASCII(b)) {
            Py_ssize_t n = ((PyASCIIObject *)a)->length;
            return n == ((PyASCIIObject *)b)->length
                && memcmp((PyASCIIObject *)a + 1, (PyASCIIObject *)b + 1, (size_t)n) == 0;
        }
        return PyUnicode_Compare(a, b) == 0;
    }
    static CYTHON_INLINE int sandex_same_id(PyObject *a, PyObject *b) {
        if (PyUnicode_CheckExact(b)) return sandex_same_text(a, b);
        return PyObject_RichCompareBool(a, b, Py_EQ);
    }
    """
    bint same "sandex_same_text"(str a, str b)
    bint same_id "sandex_same_id"(str a, object b) except -1
