# A read model's kept references (compiled only; no .py: the uncompiled views probe their
# dicts as before). A replay feeds the views a record at a time, and most of their handlers'
# work that is not their contents is probing a dict by a profile's id (a string hashed once,
# found by identity) for a dict or list the profile's id already led to last time: ~115
# instructions a probe (``PyDict_GetItemWithError``). ``sandex_kept`` holds, in 32 slots
# chosen by a key's cached hash, the key (one or two objects, by identity) and what it led
# to (one or two objects), each slot's references taken; a dict's version tag (CPython 3.11:
# a new one on every change of any of its entries, none given twice, so also a new one for
# another dict) is given with every read and write, and a slot written under another
# version than the table's is not read: the table empties on the first write under a new
# one. So a hit is what the probes would answer while the dict whose version is given is
# unchanged; the view decides which dict's version says its slots are still true (and
# empties the table itself where something else can change them).
cdef extern from *:
    """
    #define SANDEX_KEPT 32
    typedef struct {
        unsigned long long version;
        PyObject *key[SANDEX_KEPT], *key2[SANDEX_KEPT];
        PyObject *value[SANDEX_KEPT], *value2[SANDEX_KEPT];
    } sandex_kept;

    /* The dict's version tag, or 0 where there is none to read (then nothing is kept). */
    static CYTHON_INLINE unsigned long long sandex_kept_version(PyObject *d) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        return (unsigned long long)((PyDictObject *)d)->ma_version_tag;
    #else
        (void)d;
        return 0;
    #endif
    }

    /* ``key``'s slot: its cached hash's low bits, or -1 if it is not an exact str with its
       hash computed (then nothing is kept for it). */
    static CYTHON_INLINE int sandex_kept_slot(PyObject *key) {
        Py_hash_t hash;
        if (!PyUnicode_CheckExact(key)) return -1;
        hash = ((PyASCIIObject *)key)->hash;
        if (hash == -1) return -1;
        return (int)((size_t)hash & (SANDEX_KEPT - 1));
    }

    /* Every slot's references given back; the table empty. */
    static void sandex_kept_clear(sandex_kept *k) {
        int i;
        for (i = 0; i < SANDEX_KEPT; i++) {
            Py_CLEAR(k->key[i]);
            Py_CLEAR(k->key2[i]);
            Py_CLEAR(k->value[i]);
            Py_CLEAR(k->value2[i]);
        }
        k->version = 0;
    }

    /* The first object ``key`` (and ``key2``, None if unused) led to under ``version``, a
       new reference; None if the table holds none. */
    static CYTHON_INLINE PyObject *sandex_kept_get(sandex_kept *k, unsigned long long version,
                                                   PyObject *key, PyObject *key2) {
        int i = sandex_kept_slot(key);
        PyObject *value = Py_None;
        if (i >= 0 && version != 0 && version == k->version && k->key[i] == key
                && k->key2[i] == key2 && k->value[i] != NULL)
            value = k->value[i];
        Py_INCREF(value);
        return value;
    }

    /* The second object of the slot ``sandex_kept_get`` just found for ``key``, a new
       reference (None if none). */
    static CYTHON_INLINE PyObject *sandex_kept_second(sandex_kept *k, PyObject *key) {
        int i = sandex_kept_slot(key);
        PyObject *value = i >= 0 && k->value2[i] != NULL ? k->value2[i] : Py_None;
        Py_INCREF(value);
        return value;
    }

    /* ``key`` (and ``key2``) led to ``value`` (and ``value2``) under ``version``: kept (the
       table emptied first if ``version`` is not its own). */
    static void sandex_kept_put(sandex_kept *k, unsigned long long version, PyObject *key,
                                PyObject *key2, PyObject *value, PyObject *value2) {
        int i = sandex_kept_slot(key);
        if (i < 0 || version == 0) return;
        if (version != k->version) {
            sandex_kept_clear(k);
            k->version = version;
        }
        Py_INCREF(key);
        Py_XSETREF(k->key[i], key);
        Py_INCREF(key2);
        Py_XSETREF(k->key2[i], key2);
        Py_INCREF(value);
        Py_XSETREF(k->value[i], value);
        Py_INCREF(value2);
        Py_XSETREF(k->value2[i], value2);
    }
    """
    ctypedef struct sandex_kept:
        unsigned long long version
    unsigned long long kept_version "sandex_kept_version"(dict d)
    void kept_clear "sandex_kept_clear"(sandex_kept *k)
    object kept_get "sandex_kept_get"(sandex_kept *k, unsigned long long version,
                                      object key, object key2)
    object kept_second "sandex_kept_second"(sandex_kept *k, object key)
    void kept_put "sandex_kept_put"(sandex_kept *k, unsigned long long version, object key,
                                    object key2, object value, object value2)
