# String equality for the read models' and ``sandex.node.applying``'s tests of a profile id
# against the replay profile's (no .py: ``equal.py`` is the uncompiled meaning). Cython 3.3
# compiles ``str == str`` on CPython 3.11 to ``PyUnicode_Compare`` (an ordering compare, ~45
# instructions a test, and ``PyErr_Occurred`` when it answers "less"); ``equal`` answers from
# identity, then from the lengths and kinds (a 32-character id against the 6 of "replay"),
# and compares the text only when they are the same.
cdef extern from *:
    """
    #include <string.h>

    static CYTHON_INLINE int sandex_equal_text(PyObject *a, PyObject *b) {
        Py_ssize_t length;
        if (a == b) return 1;
        if (a == Py_None || b == Py_None) return 0;
        if (!PyUnicode_IS_READY(a) || !PyUnicode_IS_READY(b))
            return PyUnicode_Compare(a, b) == 0;  /* a legacy string: never a decoded one */
        length = PyUnicode_GET_LENGTH(a);
        if (length != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
            return 0;
        return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b),
                      (size_t)length * PyUnicode_KIND(a)) == 0;
    }
    """
    bint equal "sandex_equal_text"(str a, str b)
