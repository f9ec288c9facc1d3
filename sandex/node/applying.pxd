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

# A replay's run prefetches the engine's order index (``Engine._live``) for the next two
# commands (docs/performance.md, recovery's twenty-fourth pass): the index slot a place's
# or a cancel's order id will probe first (two commands ahead), then the entry that slot
# names (one ahead). Reads CPython 3.11's dict layout (its ``PyDictKeysObject``, mirrored
# here) of a combined dict of str keys (``dk_kind`` 1) only; a prefetch changes no state.
cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && defined(__GNUC__) \
        && defined(__x86_64__) && !defined(Py_LIMITED_API) && !defined(PYPY_VERSION)
    #define SANDEX_AHEAD 1
    typedef struct {  /* CPython 3.11's ``struct _dictkeysobject`` (pycore_dict.h) */
        Py_ssize_t dk_refcnt;
        uint8_t dk_log2_size;
        uint8_t dk_log2_index_bytes;
        uint8_t dk_kind;
        uint32_t dk_version;
        Py_ssize_t dk_usable;
        Py_ssize_t dk_nentries;
        char dk_indices[];
    } sandex_dkeys;
    /* the instruction itself: GCC 12 dropped ``__builtin_prefetch`` of a pointer read
       from the dict (its dead-code pass; docs/performance.md, the twenty-fourth pass) */
    #define SANDEX_FETCH(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))

    /* The index slot of ``dk`` the order id of ``commands[i]`` probes first (a place or
       a cancel whose id is a str the reader's thread hashed), or NULL. */
    static CYTHON_INLINE char *sandex_ahead_slot(sandex_dkeys *dk, PyObject *commands,
            Py_ssize_t i, PyObject *place, Py_ssize_t place_at, PyObject *cancel,
            Py_ssize_t cancel_at) {
        PyObject *command, *id;
        PyTypeObject *kind;
        Py_hash_t hash;
        if (i >= PyList_GET_SIZE(commands)) return NULL;
        command = PyList_GET_ITEM(commands, i);
        kind = Py_TYPE(command);
        if (kind == (PyTypeObject *)place) id = *(PyObject **)((char *)command + place_at);
        else if (kind == (PyTypeObject *)cancel)
            id = *(PyObject **)((char *)command + cancel_at);
        else return NULL;
        if (id == NULL || !PyUnicode_CheckExact(id)) return NULL;
        hash = ((PyASCIIObject *)id)->hash;
        if (hash == -1) return NULL;
        return dk->dk_indices + (((size_t)hash & (((size_t)1 << dk->dk_log2_size) - 1))
                                 << (dk->dk_log2_index_bytes - dk->dk_log2_size));
    }
    #else
    #define SANDEX_AHEAD 0
    #endif

    /* Before a run applies ``commands[i]``: the slot of ``dict`` that ``commands[i + 2]``'s
       id probes fetched, and the entry ``commands[i + 1]``'s names (its slot read: fetched
       a command ago; bounded by the dict's keys as they are now, so a resize in between
       only makes the prefetch useless). */
    static CYTHON_INLINE void sandex_ahead(PyObject *dict, PyObject *commands, Py_ssize_t i,
            PyObject *place, Py_ssize_t place_at, PyObject *cancel, Py_ssize_t cancel_at) {
    #if SANDEX_AHEAD
        PyDictObject *d = (PyDictObject *)dict;
        sandex_dkeys *dk = (sandex_dkeys *)d->ma_keys;
        char *slot;
        Py_ssize_t ix;
        int log2;
        if (d->ma_values != NULL || dk->dk_kind != 1) return;
        slot = sandex_ahead_slot(dk, commands, i + 2, place, place_at, cancel, cancel_at);
        if (slot != NULL) SANDEX_FETCH(slot);
        slot = sandex_ahead_slot(dk, commands, i + 1, place, place_at, cancel, cancel_at);
        if (slot == NULL) return;
        log2 = dk->dk_log2_size;
        if (log2 < 8) ix = *(int8_t *)slot;
        else if (log2 < 16) ix = *(int16_t *)slot;
        else if (log2 < 32) ix = *(int32_t *)slot;
        else ix = (Py_ssize_t)*(int64_t *)slot;
        if (ix >= 0 && ix < dk->dk_nentries)  /* an entry: 16 bytes (a key, a value) */
            SANDEX_FETCH(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes) + 16 * ix);
    #endif
    }
    """
    void ahead "sandex_ahead"(dict d, list commands, Py_ssize_t i, object place,
                              Py_ssize_t place_at, object cancel, Py_ssize_t cancel_at)
cdef Py_ssize_t _PLACE_ID, _CANCEL_ID  # a place's and a cancel's ``order_id`` slot
