# ``Engine.apply``'s events list kept from one command to the next (compiled only;
# docs/performance.md, the core's thirtieth pass). ``apply`` made a new list a command
# (``PyList_New``, a GC allocation), grew it on its first append (``PyMem_Realloc`` of its
# item array) and freed both when the next command replaced it. When nothing but the engine
# holds the last command's list any more (the caller dropped it: a reference count of 1,
# ``State._events``'s own), it is emptied and reused, its item array kept: the same list a
# caller would get (an exact, empty list), no allocation. A list the caller kept is never
# touched (its events stay): a new one is made then, as before. Uncompiled, ``[]`` always.
from cpython.object cimport PyObject

cdef extern from *:
    """
    /* At most this many slots kept (a command that emitted more leaves its list to be
       freed: its array is given back as before). */
    #define SANDEX_KEPT_SLOTS 256

    /* Empty ``l`` (borrowed: a cast of its holder's field, so a count of 1 is the holder's
       alone) for the next command's events and answer 1, when nothing but its holder refers
       to it and it is an exact list of at most SANDEX_KEPT_SLOTS slots; else 0, ``l``
       untouched. Its items are released the last first (as ``list_dealloc`` does) while
       the list is detached from its array (as ``list_clear`` does), so a release that
       reached this list would find it empty; the array is put back only if nothing did
       (the list still without one and still held by its holder alone), else freed (0). */
    static int sandex_kept_list(PyObject *l) {
        PyListObject *a = (PyListObject *)l;
        PyObject **item;
        Py_ssize_t allocated, i;
        if (l == NULL || Py_REFCNT(l) != 1 || !PyList_CheckExact(l)
                || a->allocated > SANDEX_KEPT_SLOTS) {
            return 0;
        }
        item = a->ob_item;
        allocated = a->allocated;
        i = Py_SIZE(a);
        a->ob_item = NULL;
        a->allocated = 0;
        Py_SET_SIZE(a, 0);
        Py_INCREF(l);
        while (--i >= 0) {
            Py_XDECREF(item[i]);
        }
        if (a->ob_item == NULL && Py_REFCNT(l) == 2) {
            a->ob_item = item;
            a->allocated = allocated;
            Py_DECREF(l);
            return 1;
        }
        PyMem_Free(item);
        Py_DECREF(l);
        return 0;
    }
    """
    bint kept_list "sandex_kept_list"(PyObject *l) noexcept
