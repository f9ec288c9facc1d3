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
    #define SANDEX_CHAIN 3  /* how many places of a probe's chain are fetched */
    /* A prefetch the compiler keeps: GCC 12 dropped ``__builtin_prefetch`` of a pointer
       read from the dict once ``sandex_chain`` was inlined with its step constant (its
       dead-code pass: no prefetch of the keys at all), so on x86-64 it is the instruction
       itself. */
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
    /* One step of the prefetch of ``id``'s probe of ``dk`` (dictobject.c's
       ``unicodekeys_lookup_unicode``: the index slots ``hash & mask``, then ``i * 5 +
       perturb + 1``, ``perturb`` shifted by 5, up to the first empty one; each occupied
       slot's entry, whose key's hash it compares, and the text and value of the entry it
       finds): ``step`` 0 fetches the chain's first SANDEX_CHAIN slots (their places depend
       on the hash alone); 1 reads them (fetched) and fetches the entries they name; 2 reads
       those (fetched) and fetches their keys; 3 (``value``) reads the keys (fetched) and
       fetches the found entry's text and value. Every read is bounded by the dict's
       current keys: a resize in between only makes a prefetch useless. */
    static CYTHON_INLINE void sandex_chain(sandex_dkeys *dk, PyObject *id, int step) {
        Py_hash_t hash = ((PyASCIIObject *)id)->hash;
        size_t mask = ((size_t)1 << dk->dk_log2_size) - 1;
        size_t perturb = (size_t)hash, i = (size_t)hash & mask;
        int log2 = dk->dk_log2_size, width = dk->dk_log2_index_bytes - log2, n;
        sandex_dentry *entries = (sandex_dentry *)(
            dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes));
        Py_ssize_t ix, used = dk->dk_nentries;
        for (n = 0; n < SANDEX_CHAIN; n++) {
            char *slot = dk->dk_indices + (i << width);
            if (step == 0) SANDEX_FETCH(slot);
            else {
                if (log2 < 8) ix = *(int8_t *)slot;
                else if (log2 < 16) ix = *(int16_t *)slot;
                else if (log2 < 32) ix = *(int32_t *)slot;
                else ix = (Py_ssize_t)*(int64_t *)slot;
                if (ix == -1 || ix >= used) return;  /* empty: the probe ends here */
                if (ix >= 0) {
                    sandex_dentry *entry = entries + ix;
                    PyObject *key;
                    if (step == 1) SANDEX_FETCH(entry);
                    else if ((key = entry->me_key) != NULL) {
                        if (step == 2) SANDEX_FETCH(key);
                        else if (key == id || ((PyASCIIObject *)key)->hash == hash) {
                            SANDEX_FETCH((char *)key + 64);
                            SANDEX_FETCH(entry->me_value);
                            return;
                        }
                    }
                }
            }
            perturb >>= 5;
            i = mask & (i * 5 + perturb + 1);
        }
    }
    #endif

    #if SANDEX_AHEAD
    /* The profile's dict of the orders view (``by_profile``'s) for a command ahead, found
       at its step 0 and kept here by its place in the run (a ring of 8) for its later steps;
       used only while ``by_profile`` is the same dict in the same state (its version: then
       it still holds the kept dict, which is alive). */
    typedef struct { PyObject *command, *by_profile, *orders; uint64_t version; } sandex_ring;
    static sandex_ring sandex_rings[8];
    #endif

    /* Before a run applies ``commands[i]``: step 0 of the probe of ``dict`` by the id of
       ``commands[i + 4]``, step 1 by that of ``commands[i + 3]``, ... (``sandex_chain``);
       ``apart`` commands between steps; the same in the orders view's dict of the
       command's profile (``by_profile``'s, where there is one: None, none). */
    static CYTHON_INLINE void sandex_ahead(PyObject *dict, PyObject *commands, Py_ssize_t i,
            Py_ssize_t apart, PyObject *place, Py_ssize_t place_at, PyObject *cancel,
            Py_ssize_t cancel_at, PyObject *by_profile, Py_ssize_t place_profile_at,
            Py_ssize_t cancel_profile_at) {
    #if SANDEX_AHEAD
        PyObject *id, *command, *profile, *orders;
        sandex_dkeys *dk = sandex_ahead_keys(dict), *pk;
        sandex_ring *ring;
        Py_ssize_t at;
        int step;
        if (dk == NULL) return;
        /* its dict of str keys only: a lookup there runs no Python code */
        if (by_profile == Py_None || sandex_ahead_keys(by_profile) == NULL) by_profile = NULL;
        for (step = 0; step < 4; step++) {
            at = i + (4 - step) * apart;
            id = sandex_ahead_id(commands, at, place, place_at, cancel, cancel_at);
            if (id == NULL) continue;
            sandex_chain(dk, id, step);
            if (by_profile == NULL) continue;
            command = PyList_GET_ITEM(commands, at);
            ring = &sandex_rings[at & 7];
            if (step == 0) {
                profile = *(PyObject **)((char *)command + (
                    Py_TYPE(command) == (PyTypeObject *)place ? place_profile_at
                                                              : cancel_profile_at));
                orders = NULL;
                if (profile != NULL && PyUnicode_CheckExact(profile)
                        && ((PyASCIIObject *)profile)->hash != -1)
                    orders = _PyDict_GetItem_KnownHash(
                        by_profile, profile, ((PyASCIIObject *)profile)->hash);
                if (orders != NULL && !PyDict_CheckExact(orders)) orders = NULL;
                ring->command = command;
                ring->by_profile = by_profile;
                ring->orders = orders;
                ring->version = ((PyDictObject *)by_profile)->ma_version_tag;
            } else if (ring->command != command || ring->by_profile != by_profile
                       || ring->version != ((PyDictObject *)by_profile)->ma_version_tag)
                continue;
            if (ring->orders != NULL && (pk = sandex_ahead_keys(ring->orders)) != NULL)
                sandex_chain(pk, id, step);
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
