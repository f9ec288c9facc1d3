# An ``Order`` made with its fields directly (compiled only; docs/performance.md, the core's
# twenty-fourth pass). ``Order``'s own ``tp_new`` writes ``None`` into each of its 27 object
# fields (an incref each), and a caller that then assigns a field drops that ``None`` again
# (a decref each). ``records.blank_order`` takes a block the way that ``tp_new`` does (from
# its free list, zero-filled, else from the type's allocator) and leaves every object field
# NULL; the caller must then write EVERY object field once through ``OrderSlots`` (``put``:
# a new reference, nothing dropped) before anything else can see the order: the dealloc
# (``Py_CLEAR``) would accept NULL, but the properties, the twin test's state hash and every
# reader expect an object. No collector sees it (``Order`` is ``no_gc``). ``Order``'s C
# fields start at zero, as ``tp_new`` leaves them.
cdef extern from *:
    """
    #if !CYTHON_USE_FREELISTS || CYTHON_USE_TYPE_SPECS || CYTHON_COMPILING_IN_LIMITED_API
    #error "sandex_order_blank: Order's free list as Cython 3's static-type tp_new keeps it"
    #endif
    /* Expanded only in records.c, where Order's free list and allocator are declared: the
       allocation half of Order's generated tp_new (without its None writes). */
    #define sandex_order_blank(t) __extension__ ({ \\
        PyObject *sandex_o_; \\
        if (likely(__pyx_mstate_global->__pyx_freecount_6sandex_4core_7records_Order > 0)) { \\
            sandex_o_ = (PyObject *)__pyx_mstate_global->__pyx_freelist_6sandex_4core_7records_Order[ \\
                --__pyx_mstate_global->__pyx_freecount_6sandex_4core_7records_Order]; \\
            memset(sandex_o_, 0, sizeof(struct __pyx_obj_6sandex_4core_7records_Order)); \\
            (void) PyObject_INIT(sandex_o_, (PyTypeObject *)(t)); \\
        } else { \\
            sandex_o_ = __Pyx_AllocateExtensionType((PyTypeObject *)(t), 1); \\
        } \\
        sandex_o_; })
    """
    object order_blank "sandex_order_blank"(object t)  # an Order: cast, not tested

    # ``Order``'s object fields as raw pointers (the same struct: its C name), for ``put``
    ctypedef struct OrderSlots "struct __pyx_obj_6sandex_4core_7records_Order":
        void *id
        void *profile_id
        void *product_id
        void *side
        void *type
        void *created_at
        void *price
        void *size
        void *funds
        void *specified_funds
        void *time_in_force
        void *expire_time
        void *post_only
        void *stp
        void *stop
        void *stop_price
        void *client_oid
        void *maker_rate
        void *taker_rate
        void *hold_rate
        void *hold_account
        void *recv_account
        void *status
        void *done_at
        void *done_reason
        void *cancel_reason
        void *_tally


from cpython.ref cimport Py_INCREF


cdef inline void *put(object value) noexcept:
    """``value`` as a raw pointer holding a new reference (for an unwritten field)."""
    Py_INCREF(value)
    return <void *>value
