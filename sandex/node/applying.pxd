# A replay's inner call compiled as a C function (sandex/node/applying.py): ``apply`` and
# ``apply_run`` feed the read models through it without a Python call, and call the orders
# view's handlers and (when it is exactly an ``Engine``) the engine's ``apply`` as C functions.

from sandex.core.engine cimport Engine
from sandex.core.sink cimport Sink
from sandex.views.orders cimport OrdersView
from sandex.views.fills cimport FillsView
from sandex.views.ledger cimport LedgerView
from sandex.views.market cimport MarketView
cimport cython
from sandex.core.digits cimport digits_cmp as time_cmp

cdef extern from *:
    """
    /* Empty the run's list of a command's events keeping its item array (``del l[:]``
       makes a slice, gives the array back, and the next command's append takes one again):
       its size set to 0 first, then its items released, the last first, as CPython's own
       clear does. Only for a list no destructor of its items appends to (the events'
       are plain structs); past 4,096 slots, the array is given back as before. */
    static CYTHON_INLINE int sandex_list_empty(PyObject *l) {
        PyListObject *a = (PyListObject *)l;
        Py_ssize_t i = Py_SIZE(a);
        PyObject **item = a->ob_item;
        if (a->allocated > 4096) return PyList_SetSlice(l, 0, i, NULL);
        Py_SET_SIZE(a, 0);
        while (--i >= 0) Py_XDECREF(item[i]);
        return 0;
    }
    """
    int list_empty "sandex_list_empty"(list l) except -1

cdef (Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t,
      Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t) _MATCHED
cdef Py_ssize_t _RECEIVED_ORDER_ID, _RECEIVED_PROFILE_ID
cdef Py_ssize_t _DONE_REASON, _DONE_ORDER_ID, _DONE_PROFILE_ID
cdef Py_ssize_t _PLACE_TIME, _CANCEL_TIME
cdef object _KEPT_PRODUCT_ID, _KEPT_PRODUCT  # the last trade's product (``_feed``)
cdef unsigned long long _KEPT_PRODUCTS  # and the engine's ``products``' version then
cdef str _REPLAY  # REPLAY_PROFILE_ID, tested with sandex/views/equal.pxd's ``equal``

@cython.locals(products=dict)
cdef _feed(object node, object engine, OrdersView orders, list events,
           MarketView market=*, LedgerView ledger=*, FillsView fills=*)
cdef Py_ssize_t _noted(OrdersView orders, list notes, Py_ssize_t seen) except -1
cdef Py_ssize_t _NOTES_KEPT

# the types ``_feed`` and ``apply_run`` test events and commands against, and
# ``DoneReason.CANCELED`` (C globals: a pointer compare each, no module dict lookup)
cdef object _K_RECEIVED, _K_DONE, _K_OPENED, _K_MATCHED, _K_LEDGER_ENTRY, _K_ACTIVATED
cdef object _K_PLACE, _K_CANCEL, _K_REJECTED, _K_DUPLICATE, _K_CANCELED
