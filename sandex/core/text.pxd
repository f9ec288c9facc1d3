# String equality for the compiled core's hot comparisons of ids (no .py: the modules compare
# with ``==`` uncompiled). Cython 3.3 compiles ``str == str`` on CPython 3.11 to
# ``PyUnicode_Compare`` (an ordering compare, ~90 instructions for two 32-character ids);
# ``same`` answers from identity, then from the two cached hashes when both are computed (a
# dict key's always is), and compares the text only when neither decides.
cdef extern from *:
    """
    static CYTHON_INLINE int sandex_same_text(PyObject *a, PyObject *b) {
        Py_hash_t ha, hb;
        if (a == b) return 1;
        if (a == Py_None || b == Py_None) return 0;
        ha = ((PyASCIIObject *)a)->hash;
        hb = ((PyASCIIObject *)b)->hash;
        if (ha != -1 && hb != -1 && ha != hb) return 0;
        return PyUnicode_Compare(a, b) == 0;
    }
    """
    bint same "sandex_same_text"(str a, str b)
