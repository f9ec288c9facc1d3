# A msgspec Struct's fields read from its slots by offset (sandex/core/slots.py is the
# uncompiled meaning of each name): CPython stores every ``__slots__`` field of an instance
# at a fixed offset its type's member descriptor names, and a msgspec Struct's fields are
# such slots. ``offset`` finds that descriptor (or fails: a field that is not a plain object
# slot); ``field`` reads the slot at an offset ``offset`` gave for the object's exact type.
# ``buildable``, ``new`` and ``put`` build an instance the same way (sandex/core/emit.py):
# ``new`` allocates it from the memory msgspec's own ``Struct_vectorcall`` gets for a
# ``gc=False`` type (``tp_alloc`` is ``PyType_GenericAlloc``: ``PyObject_Malloc``, never
# tracked by the GC), ``put`` writes each field once.
cdef extern from *:
    """
    #include <structmember.h>

    /* The offset of ``name``'s object slot in instances of ``type``; -1 and an error if
       ``name`` is not one. */
    static Py_ssize_t sandex_slot_offset(PyObject *type, PyObject *name) {
        PyObject *descr;
        PyMemberDef *member;
        if (!PyType_Check(type) || !PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "a type and a field name");
            return -1;
        }
        descr = _PyType_Lookup((PyTypeObject *)type, name);
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            PyErr_Format(PyExc_TypeError, "%R is not a slot of %R", name, type);
            return -1;
        }
        member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX && member->type != T_OBJECT) {
            PyErr_Format(PyExc_TypeError, "%R is not an object slot of %R", name, type);
            return -1;
        }
        return member->offset;
    }

    /* The object in the slot at ``offset`` (a new reference), or an AttributeError if the
       slot is empty. */
    static CYTHON_INLINE PyObject *sandex_slot_field(PyObject *obj, Py_ssize_t offset) {
        PyObject *value = *(PyObject **)((char *)obj + offset);
        if (value == NULL) {
            PyErr_SetString(PyExc_AttributeError, "an unset field");
            return NULL;
        }
        Py_INCREF(value);
        return value;
    }

    /* 0 if instances of ``type`` can be built by ``new`` and ``put``: a type that is not
       collected by the GC (msgspec's ``gc=False``), allocated by ``PyType_GenericAlloc``
       and freed by ``PyObject_Free`` (the pair msgspec sets up for such a type), with no
       finalizer, weak references or instance dict; -1 and a TypeError otherwise. */
    static int sandex_slot_buildable(PyObject *type) {
        PyTypeObject *tp = (PyTypeObject *)type;
        if (!PyType_Check(type)
                || PyType_HasFeature(tp, Py_TPFLAGS_HAVE_GC)
                || PyType_HasFeature(tp, Py_TPFLAGS_IS_ABSTRACT)
                || tp->tp_alloc != PyType_GenericAlloc
                || tp->tp_free != PyObject_Free
                || tp->tp_finalize != NULL
                || tp->tp_dictoffset != 0
                || tp->tp_weaklistoffset != 0
                || tp->tp_itemsize != 0) {
            PyErr_Format(PyExc_TypeError, "%R is not a type built from its slots", type);
            return -1;
        }
        return 0;
    }

    /* A new instance of ``type`` (one ``buildable`` accepted) from the allocator
       ``tp_alloc`` would use, its slots not yet written: the caller ``put``s every field
       before anything else sees it (the fields' slots must fill the instance, which
       ``emit`` checks at import), so nothing is zeroed first. */
    /* Freed instances kept for reuse, by size in pointers (``sandex_slot_dealloc`` pushes,
       ``sandex_slot_new`` pops): each a block ``PyObject_Malloc`` gave for that size, its
       first word the next one's address; at most ``SANDEX_SLOT_KEEP`` a size. One set per
       module that includes this (a block freed by one module's dealloc is reused by that
       module's ``new``, else freed when its list is full). */
    #define SANDEX_SLOT_SIZES 32
    #define SANDEX_SLOT_KEEP 64
    static void *sandex_slot_kept[SANDEX_SLOT_SIZES];
    static int sandex_slot_kept_n[SANDEX_SLOT_SIZES];

    static CYTHON_INLINE PyObject *sandex_slot_new(PyObject *type) {
        PyTypeObject *tp = (PyTypeObject *)type;
        size_t words = (size_t)tp->tp_basicsize / sizeof(void *);
        PyObject *obj;
        if (words < SANDEX_SLOT_SIZES && sandex_slot_kept[words] != NULL) {
            obj = (PyObject *)sandex_slot_kept[words];
            sandex_slot_kept[words] = *(void **)obj;
            sandex_slot_kept_n[words]--;
        } else {
            obj = (PyObject *)PyObject_Malloc(tp->tp_basicsize);
            if (obj == NULL) return PyErr_NoMemory();
        }
        return PyObject_Init(obj, tp);  /* a reference to a heap type taken, as tp_alloc */
    }

    /* Every slot from ``slot`` to ``end`` released, the first first (as one loop would),
       four a turn: an event's dozen slots cost ~6 instructions each instead of 8 (the
       loop's step and test once for four; the thirty-first pass). */
    static CYTHON_INLINE void sandex_slot_release(PyObject **slot, PyObject **end) {
        Py_ssize_t n = end - slot;
        for (; n >= 4; n -= 4, slot += 4) {
            Py_XDECREF(slot[0]);
            Py_XDECREF(slot[1]);
            Py_XDECREF(slot[2]);
            Py_XDECREF(slot[3]);
        }
        for (; n > 0; n--, slot++) {
            Py_XDECREF(*slot);
        }
    }

    /* The ``tp_dealloc`` of a type ``buildable`` accepted whose fields' slots fill its
       instances (``emit`` checks both): what msgspec's ``Struct_dealloc_nogc`` does for such
       a type (no finalizer, no weak references: every slot released, ``tp_free``, the
       type's reference given back), with the slots found by address instead of by walking
       the member descriptors of the type and its bases. A subclass never gets it: msgspec
       sets a subclass's own ``tp_dealloc`` when it creates it. */
    static void sandex_slot_dealloc(PyObject *self) {
        PyTypeObject *tp = Py_TYPE(self);
        PyObject **slot = (PyObject **)((char *)self + sizeof(PyObject));
        PyObject **end = (PyObject **)((char *)self + tp->tp_basicsize);
        sandex_slot_release(slot, end);
        tp->tp_free(self);
        Py_DECREF(tp);
    }

    /* ``sandex_slot_dealloc``, the block kept for this module's ``new`` (the same size)
       while fewer than ``SANDEX_SLOT_KEEP`` are, instead of ``tp_free``: for the types the
       module builds with ``new`` (``emit``'s events), so a command's events reuse the last
       command's memory. */
    static void sandex_slot_dealloc_keep(PyObject *self) {
        PyTypeObject *tp = Py_TYPE(self);
        PyObject **slot = (PyObject **)((char *)self + sizeof(PyObject));
        PyObject **end = (PyObject **)((char *)self + tp->tp_basicsize);
        size_t words = (size_t)tp->tp_basicsize / sizeof(void *);
        sandex_slot_release(slot, end);
        if (words < SANDEX_SLOT_SIZES && sandex_slot_kept_n[words] < SANDEX_SLOT_KEEP) {
            *(void **)self = sandex_slot_kept[words];
            sandex_slot_kept[words] = (void *)self;
            sandex_slot_kept_n[words]++;
        } else {
            tp->tp_free(self);
        }
        Py_DECREF(tp);
    }

    /* Free instances of ``type`` with ``sandex_slot_dealloc`` (see there for when). */
    static int sandex_slot_free_fast(PyObject *type) {
        if (sandex_slot_buildable(type) < 0) return -1;
        ((PyTypeObject *)type)->tp_dealloc = sandex_slot_dealloc;
        return 0;
    }

    /* Free instances of ``type`` with ``sandex_slot_dealloc_keep``: their memory reused by
       the calling module's ``new`` (see there). */
    static int sandex_slot_free_keep(PyObject *type) {
        if (sandex_slot_buildable(type) < 0) return -1;
        ((PyTypeObject *)type)->tp_dealloc = sandex_slot_dealloc_keep;
        return 0;
    }

    /* Does the slot at ``offset`` hold ``value`` itself? Its object compared, no reference
       taken (an empty slot holds nothing: false, and ``field`` raises for it after). */
    static CYTHON_INLINE int sandex_slot_is(PyObject *obj, Py_ssize_t offset,
                                            PyObject *value) {
        return *(PyObject **)((char *)obj + offset) == value;
    }

    /* Store ``value`` (a new reference taken) in the unwritten slot at ``offset`` of a new
       instance from ``new``. */
    static CYTHON_INLINE void sandex_slot_put(PyObject *obj, Py_ssize_t offset,
                                              PyObject *value) {
        Py_INCREF(value);
        *(PyObject **)((char *)obj + offset) = value;
    }
    """
    Py_ssize_t offset "sandex_slot_offset"(object type, object name) except -1
    object field "sandex_slot_field"(object obj, Py_ssize_t offset)
    bint holds "sandex_slot_is"(object obj, Py_ssize_t offset, object value) noexcept
    int buildable "sandex_slot_buildable"(object type) except -1
    int free_fast "sandex_slot_free_fast"(object type) except -1
    int free_keep "sandex_slot_free_keep"(object type) except -1
    object new "sandex_slot_new"(object type)
    void put "sandex_slot_put"(object obj, Py_ssize_t offset, object value)
