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

# A replay's run prefetches the engine's order index (``Engine._live``) and the orders
# view's dict of the command's profile for the commands ahead of the one it applies
# (docs/performance.md, recovery's twenty-fourth pass): a place's new id and a cancel's id
# each probe those dicts (~280,000 orders in the engine's after the 1 M journal, ~35,000 in
# a profile's; their index and entries far larger than the caches) at places its hash
# names; the reader's thread has hashed the id already (the string keeps it). A prefetch
# changes no state: this only reads CPython 3.11's dict layout (its ``PyDictKeysObject``,
# mirrored here), for a combined dict of str keys (``dk_kind`` 1), and does nothing
# elsewhere (another Python, a dict of other keys, a command's id not hashed yet).
cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && defined(__GNUC__) \
        && !defined(Py_LIMITED_API) && !defined(PYPY_VERSION)
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
    typedef struct { PyObject *me_key; PyObject *me_value; } sandex_dentry;
    #else
    #define SANDEX_AHEAD 0
    #endif

    /* The str id at ``at`` (a slot offset) of the command ``commands[i]`` if it is of
       ``place`` (then at ``place_at``) or ``cancel`` (``cancel_at``) and its hash is
       known; else NULL. Borrowed. */
    static CYTHON_INLINE PyObject *sandex_ahead_id(PyObject *commands, Py_ssize_t i,
            PyObject *place, Py_ssize_t place_at, PyObject *cancel, Py_ssize_t cancel_at) {
        PyObject *command, *id;
        PyTypeObject *kind;
        if (i >= PyList_GET_SIZE(commands)) return NULL;
        command = PyList_GET_ITEM(commands, i);
        kind = Py_TYPE(command);
        if (kind == (PyTypeObject *)place) id = *(PyObject **)((char *)command + place_at);
        else if (kind == (PyTypeObject *)cancel)
            id = *(PyObject **)((char *)command + cancel_at);
        else return NULL;
        if (id == NULL || !PyUnicode_CheckExact(id) || ((PyASCIIObject *)id)->hash == -1)
            return NULL;
        return id;
    }

    #if SANDEX_AHEAD
    /* A prefetch the compiler keeps: GCC 12 dropped ``__builtin_prefetch`` of a pointer
       read from a dict in an earlier version of this code (its dead-code pass), so on
       x86-64 it is the instruction itself. */
    #if defined(__x86_64__)
    #define SANDEX_FETCH(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
    #else
    #define SANDEX_FETCH(p) __builtin_prefetch((p), 0, 3)
    #endif
    /* The keys of ``dict`` if it is combined and of str keys, else NULL. */
    static CYTHON_INLINE sandex_dkeys *sandex_ahead_keys(PyObject *dict) {
        PyDictObject *d = (PyDictObject *)dict;
        sandex_dkeys *dk = (sandex_dkeys *)d->ma_keys;
        if (d->ma_values != NULL || dk->dk_kind != 1) return NULL;
        return dk;
    }
    /* What a command ahead's first probe of a dict reads, kept from one step to the next:
       the dict's keys and their size then, the index slot (``hash & mask``) and the entry
       it names. A later step reads there only if the dict has those keys still, of that
       size (so the slot and the entry are inside the keys it has now). */
    typedef struct {
        sandex_dkeys *keys;
        char *slot;
        Py_ssize_t ix;
        uint8_t log2;
    } sandex_probe;
    /* A command ahead (a ring of 8 by its place in the run): its id, the engine's probe,
       and the orders view's dict of its profile (borrowed: used only while ``by_profile``
       is in the same state, its version, so still holds it) and the probe of it. */
    typedef struct {
        PyObject *command, *id, *by_profile, *orders;
        uint64_t version;
        int cancel;
        sandex_probe probe[2];
    } sandex_ring;
    static sandex_ring sandex_rings[8];

    /* Step 0: the index slot of ``id``'s first probe of ``dict`` fetched. */
    static CYTHON_INLINE void sandex_probe_slot(sandex_probe *p, PyObject *dict,
                                                PyObject *id) {
        sandex_dkeys *dk = sandex_ahead_keys(dict);
        size_t i;
        p->keys = dk;
        if (dk == NULL) return;
        p->log2 = dk->dk_log2_size;
        i = (size_t)((PyASCIIObject *)id)->hash & (((size_t)1 << p->log2) - 1);
        p->slot = dk->dk_indices + (i << (dk->dk_log2_index_bytes - p->log2));
        SANDEX_FETCH(p->slot);
    }
    /* Whether ``dict`` has the keys ``p`` was made for still, of the same size. */
    static CYTHON_INLINE int sandex_probe_same(sandex_probe *p, PyObject *dict) {
        sandex_dkeys *dk = (sandex_dkeys *)((PyDictObject *)dict)->ma_keys;
        return p->keys != NULL && dk == p->keys && dk->dk_log2_size == p->log2;
    }
    /* Step 1: the slot read (fetched), the entry it names fetched. */
    static CYTHON_INLINE void sandex_probe_entry(sandex_probe *p, PyObject *dict) {
        sandex_dkeys *dk = p->keys;
        Py_ssize_t ix;
        p->ix = -1;
        if (!sandex_probe_same(p, dict)) return;
        if (p->log2 < 8) ix = *(int8_t *)p->slot;
        else if (p->log2 < 16) ix = *(int16_t *)p->slot;
        else if (p->log2 < 32) ix = *(int32_t *)p->slot;
        else ix = (Py_ssize_t)*(int64_t *)p->slot;
        if (ix < 0 || ix >= dk->dk_nentries) return;
        p->ix = ix;
        SANDEX_FETCH((sandex_dentry *)(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes))
                     + ix);
    }
    /* Step 2: the entry read (fetched), its key fetched (the probe compares its hash) and,
       for a cancel, its value (the order). */
    static CYTHON_INLINE void sandex_probe_key(sandex_probe *p, PyObject *dict, int cancel) {
        sandex_dkeys *dk = p->keys;
        sandex_dentry *entry;
        if (p->ix < 0 || !sandex_probe_same(p, dict) || p->ix >= dk->dk_nentries) return;
        entry = (sandex_dentry *)(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes))
                + p->ix;
        if (entry->me_key == NULL) return;
        SANDEX_FETCH(entry->me_key);
        if (cancel) SANDEX_FETCH(entry->me_value);
    }
    /* The orders view's dict of ``profile`` (borrowed) if ``by_profile``'s first probe of
       it finds that very string (the decode makes a profile's id one object), else NULL. */
    static CYTHON_INLINE PyObject *sandex_profile_orders(PyObject *by_profile,
                                                        PyObject *profile) {
        sandex_probe p;
        sandex_dkeys *dk;
        sandex_dentry *entry;
        Py_ssize_t ix;
        if (profile == NULL || !PyUnicode_CheckExact(profile)
                || ((PyASCIIObject *)profile)->hash == -1) return NULL;
        dk = sandex_ahead_keys(by_profile);
        if (dk == NULL) return NULL;
        p.log2 = dk->dk_log2_size;
        ix = (size_t)((PyASCIIObject *)profile)->hash & (((size_t)1 << p.log2) - 1);
        p.slot = dk->dk_indices + (ix << (dk->dk_log2_index_bytes - p.log2));
        if (p.log2 < 8) ix = *(int8_t *)p.slot;
        else if (p.log2 < 16) ix = *(int16_t *)p.slot;
        else if (p.log2 < 32) ix = *(int32_t *)p.slot;
        else ix = (Py_ssize_t)*(int64_t *)p.slot;
        if (ix < 0 || ix >= dk->dk_nentries) return NULL;
        entry = (sandex_dentry *)(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes))
                + ix;
        if (entry->me_key != profile || entry->me_value == NULL
                || !PyDict_CheckExact(entry->me_value)) return NULL;
        return entry->me_value;
    }
    #endif

    /* Before a run applies ``commands[i]``: step 0 of the probes by the id of
       ``commands[i + 3]`` (of the engine's ``dict`` and of the orders view's dict of its
       profile, ``by_profile``'s; None: none), step 1 of ``commands[i + 2]``'s, step 2 of
       ``commands[i + 1]``'s; ``apart`` commands between steps. */
    static CYTHON_INLINE void sandex_ahead(PyObject *dict, PyObject *commands, Py_ssize_t i,
            Py_ssize_t apart, PyObject *place, Py_ssize_t place_at, PyObject *cancel,
            Py_ssize_t cancel_at, PyObject *by_profile, Py_ssize_t place_profile_at,
            Py_ssize_t cancel_profile_at) {
    #if SANDEX_AHEAD
        PyObject *id, *command;
        sandex_ring *ring;
        Py_ssize_t at = i + 3 * apart;
        int orders;
        if (by_profile == Py_None) by_profile = NULL;
        id = sandex_ahead_id(commands, at, place, place_at, cancel, cancel_at);
        if (id != NULL) {
            command = PyList_GET_ITEM(commands, at);
            ring = &sandex_rings[at & 7];
            ring->command = command;
            ring->id = id;
            ring->cancel = Py_TYPE(command) == (PyTypeObject *)cancel;
            sandex_probe_slot(&ring->probe[0], dict, id);
            ring->orders = NULL;
            ring->by_profile = by_profile;
            if (by_profile != NULL) {
                ring->version = ((PyDictObject *)by_profile)->ma_version_tag;
                ring->orders = sandex_profile_orders(by_profile, *(PyObject **)(
                    (char *)command + (ring->cancel ? cancel_profile_at : place_profile_at)));
                if (ring->orders != NULL) sandex_probe_slot(&ring->probe[1], ring->orders, id);
            }
        }
        at = i + 2 * apart;
        if (at < PyList_GET_SIZE(commands)) {
            ring = &sandex_rings[at & 7];
            if (ring->command == PyList_GET_ITEM(commands, at)) {
                sandex_probe_entry(&ring->probe[0], dict);
                orders = ring->orders != NULL && ring->by_profile == by_profile
                    && ((PyDictObject *)by_profile)->ma_version_tag == ring->version;
                if (orders) sandex_probe_entry(&ring->probe[1], ring->orders);
            }
        }
        at = i + apart;
        if (at < PyList_GET_SIZE(commands)) {
            ring = &sandex_rings[at & 7];
            if (ring->command == PyList_GET_ITEM(commands, at)) {
                sandex_probe_key(&ring->probe[0], dict, ring->cancel);
                orders = ring->orders != NULL && ring->by_profile == by_profile
                    && ((PyDictObject *)by_profile)->ma_version_tag == ring->version;
                if (orders) sandex_probe_key(&ring->probe[1], ring->orders, ring->cancel);
            }
        }
    #endif
    }
    """
    void ahead "sandex_ahead"(dict d, list commands, Py_ssize_t i, Py_ssize_t apart,
                              object place, Py_ssize_t place_at, object cancel,
                              Py_ssize_t cancel_at, object by_profile,
                              Py_ssize_t place_profile_at, Py_ssize_t cancel_profile_at)
cdef Py_ssize_t _PLACE_PROFILE, _CANCEL_PROFILE
cdef Py_ssize_t _PLACE_ID, _CANCEL_ID  # a place's and a cancel's ``order_id`` slot
cdef Py_ssize_t _AHEAD  # how many commands apart its steps are (0: no prefetch)
