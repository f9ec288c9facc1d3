# A msgspec Struct's fields read from its slots by offset (sandex/core/slots.py is the
# uncompiled meaning of each name): CPython stores every ``__slots__`` field of an instance
# at a fixed offset its type's member descriptor names, and a msgspec Struct's fields are
# such slots. ``offset`` finds that descriptor (or fails: a field that is not a plain object
# slot); ``field`` reads the slot at an offset ``offset`` gave for the object's exact type.
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
    """
    Py_ssize_t offset "sandex_slot_offset"(object type, object name) except -1
    object field "sandex_slot_field"(object obj, Py_ssize_t offset)
