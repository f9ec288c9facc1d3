# A level's queue (a ``collections.deque``) appended to and popped from its left by the C
# functions of ``deque.append`` and ``deque.popleft`` (uncompiled,
# ``fifo.py`` gives the methods themselves). Called by name or through the method, each
# call pays Cython's generic call and the method descriptor's checks (~80 instructions of
# ~110, docs/performance.md, the seventeenth pass); here it is one C call through the
# function the descriptor wraps. Each module that cimports this keeps its own pointers:
# ``bind`` (at its import) checks that the descriptors are the deque's METH_O and
# METH_NOARGS methods; before it, or for a queue that is not exactly a deque, ``push`` and
# ``pop`` call the methods by name, as before, and ``new`` calls the type.
cdef extern from *:
    """
    static PyTypeObject *sandex_fifo_type = NULL;
    static PyCFunction sandex_fifo_append = NULL;
    static PyCFunction sandex_fifo_popleft = NULL;
    static PyObject *sandex_fifo_noargs = NULL;

    static PyCFunction sandex_fifo_meth(PyObject *descr, PyObject *type, int flags) {
        PyMethodDef *def;
        if (!Py_IS_TYPE(descr, &PyMethodDescr_Type)
                || ((PyDescrObject *)descr)->d_type != (PyTypeObject *)type) {
            PyErr_SetString(PyExc_TypeError, "not a method of the type");
            return NULL;
        }
        def = ((PyMethodDescrObject *)descr)->d_method;
        if ((def->ml_flags & ~METH_COEXIST) != flags) {
            PyErr_SetString(PyExc_TypeError, "not a method of the expected kind");
            return NULL;
        }
        return def->ml_meth;
    }

    static int sandex_fifo_bind(PyObject *type, PyObject *append, PyObject *popleft) {
        PyCFunction a, p;
        if (!PyType_Check(type)) {
            PyErr_SetString(PyExc_TypeError, "a type");
            return -1;
        }
        if (!(a = sandex_fifo_meth(append, type, METH_O))) return -1;
        if (!(p = sandex_fifo_meth(popleft, type, METH_NOARGS))) return -1;
        if (!sandex_fifo_noargs && !(sandex_fifo_noargs = PyTuple_New(0))) return -1;
        sandex_fifo_append = a;
        sandex_fifo_popleft = p;
        sandex_fifo_type = (PyTypeObject *)type;
        return 0;
    }

    static CYTHON_INLINE int sandex_fifo_push(PyObject *q, PyObject *item) {
        PyObject *r;
        if (__builtin_expect(Py_TYPE(q) == sandex_fifo_type, 1))
            r = sandex_fifo_append(q, item);
        else
            r = PyObject_CallMethod(q, "append", "O", item);
        if (__builtin_expect(r == NULL, 0)) return -1;
        Py_DECREF(r);
        return 0;
    }

    /* A new empty deque: its type's tp_new alone (deque_init would only read a bound and
       an iterable, and there are none), not a call of the type. */
    static CYTHON_INLINE PyObject *sandex_fifo_new(PyObject *fallback) {
        if (__builtin_expect(sandex_fifo_type != NULL, 1))
            return sandex_fifo_type->tp_new(sandex_fifo_type, sandex_fifo_noargs, NULL);
        return PyObject_CallNoArgs(fallback);
    }

    static CYTHON_INLINE PyObject *sandex_fifo_pop(PyObject *q) {
        if (__builtin_expect(Py_TYPE(q) == sandex_fifo_type, 1))
            return sandex_fifo_popleft(q, NULL);
        return PyObject_CallMethod(q, "popleft", NULL);
    }
    """
    int bind "sandex_fifo_bind"(object type, object append, object popleft) except -1
    int push "sandex_fifo_push"(object q, object item) except -1
    object pop "sandex_fifo_pop"(object q)
    object new "sandex_fifo_new"(object fallback)
