# A replay's commonest records decoded in C (sandex/node/applying.py, ``decode_lines``): a
# parser of the one JSON shape msgspec's encoder writes for a command whose fields are all
# ints, strs, enums of strs, bools, or one of these or None, with no constraints (the table
# is built at import from ``msgspec.inspect``, ``applying._fast_kind``), building the command
# from its slots as ``sandex.core.emit`` builds events (``slots.pxd``'s ``new`` and ``put``).
#
# The shape: ``{"command":"<tag>"`` first, then ``,"<field>":<value>`` in the struct's field
# order (any of them left out), then ``}`` and the line's end; no whitespace; a string of
# printable ASCII without ``\`` (so no escapes, and valid UTF-8); an int of 1 to 18 digits,
# optionally negative, without a leading zero; ``null`` only for a field that allows None;
# ``true``/``false``. Anything else, an unknown or repeated field, a required field left
# out, an enum value that is not a member's: ``sx_parse`` answers NULL with no error set
# and the caller decodes the line with msgspec, which then decodes it or says why not. So a
# line this parser accepts is one msgspec decodes to an equal command, and every other line
# is msgspec's.
from cpython.ref cimport PyObject

cdef extern from *:
    """
    #include <stdint.h>
    #ifdef __SSE2__
    #include <emmintrin.h>
    #endif
    #define SX_KINDS 4
    #define SX_FIELDS 24
    #define SX_MEMBERS 8
    /* A compact ASCII string's text (``PyUnicode_DATA`` without its tests of the kind):
       every string these tables keep or rewrite is one (``PyUnicode_New(n, 127)``, or
       checked so by ``sx_text_again``) */
    #define SX_ASCII(o) ((char *)((PyASCIIObject *)(o) + 1))
    enum { SX_INT = 1, SX_STR = 2, SX_ENUM = 3, SX_BOOL = 4 };

    typedef struct {
        const char *name;          /* the key, as written */
        uint64_t words[2];         /* its first 16 bytes, zero-padded (``sx_key``) */
        Py_ssize_t length;
        int kind;                  /* SX_INT, SX_STR, SX_ENUM, SX_BOOL */
        int nullable;              /* ``null`` decodes to None */
        Py_ssize_t offset;         /* its slot in the instance */
        PyObject *fallback;        /* its default (NULL: required) */
        int members;               /* an enum's members and their values */
        const char *values[SX_MEMBERS];
        Py_ssize_t lengths[SX_MEMBERS];
        PyObject *objects[SX_MEMBERS];
        PyObject *last;            /* a string's last value built (``sx_build``), or NULL */
        int texts;                 /* a string's text looked up in ``sx_texts`` (``sx_text``) */
        int tries, hits;           /* lookups and finds in this trial of ``sx_texts`` */
        int idle;                  /* strings built since the trial found too few */
    } sx_field;

    typedef struct {
        PyObject *type;
        const char *tag;
        Py_ssize_t tag_length;
        int fields;
        uint32_t required;         /* a bit a field with no default */
        int hashed;                /* the field hashed by the scan (``sx_head``), or -1 */
        Py_ssize_t offsets[SX_FIELDS];   /* each field's ``offset`` and ``fallback`` again, */
        PyObject *fallbacks[SX_FIELDS];  /* packed: a spent command's defaults checked by
                                            them (``sx_build``), not by ``field``'s stride */
        sx_field field[SX_FIELDS];
    } sx_kind;

    static sx_kind sx_kinds[SX_KINDS];

    /* The strings built last, by their text (``sx_text``): a field of a few values (a
       profile's id: eight in the bench's journal, in any order) gets one object a value, so
       the strings of every command naming that profile are one object (made, hashed and
       freed once; the engine's and the views' dict probes by it find it by identity). A
       field whose texts are rarely found again (an order's id) stops looking them up after
       a trial of ``SX_TRIAL`` strings, and tries again ``SX_IDLE`` strings later. Any field
       and kind share the table (a place's and a cancel's profile ids are one object). */
    #define SX_TEXT_BITS 8
    #define SX_TRIAL 4096
    #define SX_IDLE 65536
    static PyObject *sx_texts[1 << SX_TEXT_BITS];
    static int sx_count = 0;
    static PyObject *sx_keep = NULL;  /* the bytes and objects the tables point into */

    static int sx_hold(PyObject *obj) {
        if (sx_keep == NULL && (sx_keep = PyList_New(0)) == NULL) return -1;
        return PyList_Append(sx_keep, obj);
    }

    /* A kind for ``type`` (built from its slots: the caller checked) whose tag is ``tag``
       (bytes): its index, or -1 (no room: an error set). */
    static int sx_add_kind(PyObject *type, PyObject *tag) {
        sx_kind *k;
        if (sx_count == SX_KINDS || !PyBytes_Check(tag)) {
            PyErr_SetString(PyExc_ValueError, "no room for another kind");
            return -1;
        }
        if (sx_hold(type) < 0 || sx_hold(tag) < 0) return -1;
        k = &sx_kinds[sx_count];
        k->type = type;
        k->tag = PyBytes_AS_STRING(tag);
        k->tag_length = PyBytes_GET_SIZE(tag);
        k->fields = 0;
        k->required = 0;
        k->hashed = -1;
        return sx_count++;
    }

    /* The next field of kind ``index`` (in the struct's order): its key ``name`` (bytes),
       ``kind``, whether None is allowed, its slot's ``offset``, its default (``required``:
       none), and for an enum its members' values (bytes) and members (two tuples). */
    static int sx_add_field(int index, PyObject *name, int kind, int nullable,
                            Py_ssize_t offset, int required, PyObject *fallback,
                            PyObject *values, PyObject *members) {
        sx_kind *k = &sx_kinds[index];
        sx_field *f;
        Py_ssize_t i, n;
        if (k->fields == SX_FIELDS || !PyBytes_Check(name)) {
            PyErr_SetString(PyExc_ValueError, "no room for another field");
            return -1;
        }
        f = &k->field[k->fields];
        if (sx_hold(name) < 0 || sx_hold(fallback) < 0 || sx_hold(values) < 0
                || sx_hold(members) < 0) return -1;
        f->name = PyBytes_AS_STRING(name);
        f->length = PyBytes_GET_SIZE(name);
        f->words[0] = f->words[1] = 0;
        memcpy(f->words, f->name, f->length < 16 ? f->length : 16);
        if (required) k->required |= (uint32_t)1 << k->fields;
        f->kind = kind;
        f->nullable = nullable;
        f->offset = offset;
        f->fallback = required ? NULL : fallback;
        k->offsets[k->fields] = offset;
        k->fallbacks[k->fields] = f->fallback;
        f->members = 0;
        f->last = NULL;
        f->texts = kind == SX_STR;
        f->tries = f->hits = f->idle = 0;
        /* a command's order id: a new text each command (the texts table never finds it),
           which the engine's dicts hash on the replay's thread: the scan hashes it */
        if (kind == SX_STR && f->length == 8 && memcmp(f->name, "order_id", 8) == 0)
            k->hashed = k->fields;
        if (kind == SX_ENUM) {
            n = PyTuple_GET_SIZE(values);
            if (n > SX_MEMBERS || PyTuple_GET_SIZE(members) != n) {
                PyErr_SetString(PyExc_ValueError, "too many members");
                return -1;
            }
            for (i = 0; i < n; i++) {
                PyObject *value = PyTuple_GET_ITEM(values, i);
                if (!PyBytes_Check(value)) {
                    PyErr_SetString(PyExc_TypeError, "an enum's values as bytes");
                    return -1;
                }
                f->values[i] = PyBytes_AS_STRING(value);
                f->lengths[i] = PyBytes_GET_SIZE(value);
                f->objects[i] = PyTuple_GET_ITEM(members, i);
            }
            f->members = (int)n;
        }
        k->fields++;
        return 0;
    }

    /* The end of a string's body from ``p`` (after its opening quote), or NULL if it holds
       anything but printable ASCII other than ``\\``, or does not end before ``end``.
       Sixteen bytes at a time where SSE2 is (every x86-64), never reading past ``end``. */
    static CYTHON_INLINE const char *sx_string(const char *p, const char *end) {
    #ifdef __SSE2__
        const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\\\');
        const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            /* signed: a byte >= 0x80 is below 0x20 too */
            __m128i odd = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                    _mm_cmpeq_epi8(v, slash)),
                                       _mm_or_si128(_mm_cmplt_epi8(v, space),
                                                    _mm_cmpeq_epi8(v, del)));
            int mask = _mm_movemask_epi8(odd);
            if (mask) {
                p += __builtin_ctz(mask);
                return *p == '"' ? p : NULL;
            }
            p += 16;
        }
    #endif
        for (; p < end; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"') return p;
            if (c < 0x20 || c > 0x7e || c == '\\\\') return NULL;
        }
        return NULL;
    }

    /* Whether the key ``[p, p + length)`` (``length`` its field's: the caller checked) is
       field ``f``'s: two 8-byte compares for a key of up to 16 bytes when 16 bytes can be
       read before ``end``, else ``memcmp``. */
    static CYTHON_INLINE int sx_key(const sx_field *f, const char *p, Py_ssize_t length,
                                    const char *end) {
        uint64_t a, b;
        if (length <= 16 && end - p >= 16) {
            memcpy(&a, p, 8);
            memcpy(&b, p + 8, 8);
            if (length < 8) {
                a &= ((uint64_t)1 << (8 * length)) - 1;
                b = 0;
            } else if (length < 16) {
                b &= length == 8 ? 0 : ((uint64_t)1 << (8 * (length - 8))) - 1;
            }
            return a == f->words[0] && b == f->words[1];
        }
        return memcmp(f->name, p, length) == 0;
    }

    /* The value of the 8 ASCII bytes at ``p`` as decimal digits, or -1 if one is not a
       digit (little-endian: the first byte the most significant digit). */
    static CYTHON_INLINE int64_t sx_digits8(const char *p) {
        uint64_t v;
        memcpy(&v, p, 8);
        if (((v & 0xF0F0F0F0F0F0F0F0ULL)
             | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4))
                != 0x3333333333333333ULL)
            return -1;
        v -= 0x3030303030303030ULL;
        v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
        v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
        v = (v * 10000 + (v >> 32)) & 0x00000000FFFFFFFFULL;
        return (int64_t)v;
    }

    /* A line's scan (``sx_scan``), what the command is built from (``sx_build``): the
       record ``sx_scan_chunk`` writes a line at a time on the journal reader's thread
       (``sandex.journal.rows``, ``use_scanner``), read by ``sx_lines_scanned`` on the
       replay's. ``size`` first: the reader splits a chunk's records by it alone. */
    typedef struct {
        uint32_t size;      /* this record's bytes: the head and, for a kind, its values */
        int32_t kind;       /* the kind's index, or -1: msgspec decodes the line */
        uint64_t length;    /* the line's bytes, its newline left out */
        uint32_t present;   /* a bit a field written on the line */
        uint32_t nulls;     /* of them, written ``null`` */
        int64_t hash;       /* the kind's hashed field's string's hash (``sx_kind``'s
                               ``hashed``: ``_Py_HashBytes`` of its text, what ``hash`` of
                               the string is), or -1: none (absent, ``null``, no such field) */
    } sx_head;              /* then one int64 a field written (``present``), in the kind's
                               order: an int's value, a bool 0 or 1, an enum's member
                               index, a string's start in the line << 32 | its length, 0
                               for ``null`` */
    static CYTHON_INLINE uint32_t sx_bits(uint32_t x) {  /* the bits set (no popcnt) */
        x = x - ((x >> 1) & 0x55555555u);
        x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
        x = (x + (x >> 4)) & 0x0F0F0F0Fu;
        return (x * 0x01010101u) >> 24;
    }
    #define SX_RECORD(present) ((uint32_t)(sizeof(sx_head) + sx_bits(present) * sizeof(int64_t)))

    /* The line ``[p, end)`` scanned into ``head`` and ``values`` (room for SX_FIELDS): the
       kind's index, or -1 if the line is not of the shape above (msgspec's then). No
       Python object: runs without the GIL. */
    static int sx_scan(const char *p, const char *end, sx_head *head, int64_t *values) {
        static const char head_text[] = "{\\"command\\":\\"";
        const char *line = p;
        const sx_kind *k = NULL;
        const sx_field *f;
        const char *s, *stop;
        int i, at = 0, m, index = -1, written = 0;
        uint32_t present = 0, nulls = 0;
        head->present = head->nulls = 0;
        head->hash = -1;
        if (end - p < (Py_ssize_t)sizeof(head_text)
                || memcmp(p, head_text, sizeof(head_text) - 1) != 0)
            return -1;
        p += sizeof(head_text) - 1;
        if ((s = sx_string(p, end)) == NULL) return -1;
        for (i = 0; i < sx_count; i++) {
            if (sx_kinds[i].tag_length == s - p && memcmp(sx_kinds[i].tag, p, s - p) == 0) {
                k = &sx_kinds[i];
                index = i;
                break;
            }
        }
        if (k == NULL) return -1;
        p = s + 1;
        while (p < end && *p == ',') {
            int64_t value;
            if (++p >= end || *p != '"') return -1;
            if ((s = sx_string(++p, end)) == NULL) return -1;
            while (at < k->fields && !(k->field[at].length == s - p
                                       && sx_key(&k->field[at], p, s - p, end))) at++;
            if (at == k->fields) return -1;  /* unknown, out of order or repeated */
            f = &k->field[at];
            p = s + 1;
            if (p >= end || *p != ':' || ++p >= end) return -1;
            if (*p == 'n') {
                if (!f->nullable || end - p < 4 || memcmp(p, "null", 4) != 0) return -1;
                p += 4;
                nulls |= (uint32_t)1 << at;
                value = 0;
            } else if (f->kind == SX_INT) {
                unsigned long long n = 0;
                int negative = 0, digits;
                if (*p == '-') {
                    negative = 1;
                    p++;
                }
                s = p;
                stop = end - p > 19 ? p + 19 : end;  /* a 19th digit: too many */
                while (stop - p >= 8) {  /* eight digits at a time */
                    int64_t eight = sx_digits8(p);
                    if (eight < 0) break;
                    n = n * 100000000ULL + (unsigned long long)eight;
                    p += 8;
                }
                while (p < stop && (unsigned char)(*p - '0') < 10) n = n * 10 + (*p++ - '0');
                digits = (int)(p - s);
                if (digits == 0 || digits > 18 || (*s == '0' && digits > 1)) return -1;
                if (p < end && *p != ',' && *p != '}') return -1;  /* a fraction, exponent */
                value = negative ? -(long long)n : (long long)n;
            } else if (*p != '"') {
                if (f->kind != SX_BOOL) return -1;
                if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
                    p += 4;
                    value = 1;
                } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
                    p += 5;
                    value = 0;
                } else return -1;
            } else {
                if ((s = sx_string(++p, end)) == NULL) return -1;
                if (f->kind == SX_STR) {
                    value = (int64_t)(((uint64_t)(p - line) << 32) | (uint64_t)(s - p));
                    /* no Python object: the hash secret is the process's, set at start */
                    if (at == k->hashed) head->hash = (int64_t)_Py_HashBytes(p, s - p);
                } else if (f->kind == SX_ENUM) {
                    for (m = 0; m < f->members; m++) {
                        if (f->lengths[m] == s - p && memcmp(f->values[m], p, s - p) == 0)
                            break;
                    }
                    if (m == f->members) return -1;
                    value = m;
                } else return -1;
                p = s + 1;
            }
            present |= (uint32_t)1 << at++;
            *values++ = value;
            written++;
        }
        if (p >= end || *p != '}' || p + 1 != end) return -1;
        if ((present & k->required) != k->required) return -1;  /* a required field left out */
        if ((uint64_t)(end - line) > 0xFFFFFFFFu) return -1;  /* a string's start: 32 bits */
        head->size = (uint32_t)(sizeof(sx_head) + written * sizeof(int64_t));
        head->present = present;
        head->nulls = nulls;
        return index;
    }

    /* Whether the ``n`` bytes at ``a`` and at ``b`` are the same, inline (a string's text
       against a kept string's: ``memcmp`` was a library call each, ~4 a record): 16 bytes
       at a time where SSE2 is, the last block overlapping, then 8 or 4 bytes the same way;
       never reading outside either's ``n`` bytes. */
    static CYTHON_INLINE int sx_same(const char *a, const char *b, Py_ssize_t n) {
        uint64_t x, y;
        uint32_t u, v;
        Py_ssize_t i;
    #ifdef __SSE2__
        if (n >= 16) {
            for (i = 0; i + 16 < n; i += 16)
                if (_mm_movemask_epi8(_mm_cmpeq_epi8(
                        _mm_loadu_si128((const __m128i *)(a + i)),
                        _mm_loadu_si128((const __m128i *)(b + i)))) != 0xFFFF)
                    return 0;
            return _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(a + n - 16)),
                _mm_loadu_si128((const __m128i *)(b + n - 16)))) == 0xFFFF;
        }
    #endif
        if (n >= 8) {
            for (i = 0; i + 8 < n; i += 8) {
                memcpy(&x, a + i, 8);
                memcpy(&y, b + i, 8);
                if (x != y) return 0;
            }
            memcpy(&x, a + n - 8, 8);
            memcpy(&y, b + n - 8, 8);
            return x == y;
        }
        if (n >= 4) {
            memcpy(&u, a, 4);
            memcpy(&v, b, 4);
            if (u != v) return 0;
            memcpy(&u, a + n - 4, 4);
            memcpy(&v, b + n - 4, 4);
            return u == v;
        }
        for (i = 0; i < n; i++)
            if (a[i] != b[i]) return 0;
        return 1;
    }

    /* The string of the ``length`` ASCII bytes at ``text`` (field ``f``'s value), a new
       reference: its last value again if the same text, else (while ``f`` looks texts up)
       the one ``sx_texts`` holds of this text, else a new one; NULL if memory ran out. */
    static CYTHON_INLINE PyObject *sx_text(sx_field *f, const char *text, Py_ssize_t length) {
        PyObject *value = f->last, **slot = NULL;
        uint64_t w = 0;
        int found;
        if (value != NULL && PyUnicode_GET_LENGTH(value) == length
                && sx_same(SX_ASCII(value), text, length)) {
            Py_INCREF(value);
            return value;
        }
        if (f->texts) {
            /* its slot: the last 8 bytes (ids differ most at their end) and the length */
            if (length >= 8) memcpy(&w, text + length - 8, 8);
            else memcpy(&w, text, length);
            w ^= (uint64_t)length << 56;
            slot = &sx_texts[(w * 0x9E3779B97F4A7C15ULL) >> (64 - SX_TEXT_BITS)];
            value = *slot;
            found = value != NULL && PyUnicode_GET_LENGTH(value) == length
                    && sx_same(SX_ASCII(value), text, length);
            f->hits += found;
            if (++f->tries == SX_TRIAL) {  /* the trial's end: found at least half the time? */
                f->texts = 2 * f->hits >= f->tries;
                f->tries = f->hits = 0;
            }
            if (found) {
                Py_INCREF(value);
                Py_INCREF(value);
                Py_XSETREF(f->last, value);
                return value;
            }
        } else if (++f->idle == SX_IDLE) {
            f->idle = 0;
            f->texts = 1;
        }
        value = PyUnicode_New(length, 127);
        if (value == NULL) return NULL;
        memcpy(SX_ASCII(value), text, length);
        Py_INCREF(value);
        Py_XSETREF(f->last, value);
        if (slot != NULL) {
            Py_INCREF(value);
            Py_XSETREF(*slot, value);
        }
        return value;
    }

    /* Every string field looking its texts up again, a fresh trial each (for tests: the
       trials' state is the process's). */
    static void sx_texts_again(void) {
        int i, j;
        for (i = 0; i < sx_count; i++)
            for (j = 0; j < sx_kinds[i].fields; j++) {
                sx_field *f = &sx_kinds[i].field[j];
                f->texts = f->kind == SX_STR;
                f->tries = f->hits = f->idle = 0;
            }
    }

    /* ``old`` (a spent command's value, which only that command holds) made the int ``v``
       in place, where ``PyLong_FromLongLong`` would allocate one (and the command's refill
       free ``old``): 1 if done, 0 if not (not an exact int held once, a value a small int
       would be (those are CPython's shared objects), more digits than ``old`` has, or not
       CPython 3.11's layout). Nothing else can see ``old``: no one else holds it. */
    static CYTHON_INLINE int sx_int_again(PyObject *old, int64_t v) {
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(PYPY_VERSION)
        uint64_t u;
        Py_ssize_t have, n = 0;
        digit d[(64 + PyLong_SHIFT - 1) / PyLong_SHIFT];
        if (Py_REFCNT(old) != 1 || !PyLong_CheckExact(old) || (v >= -5 && v <= 256))
            return 0;
        have = Py_SIZE(old) < 0 ? -Py_SIZE(old) : Py_SIZE(old);
        u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        while (u != 0) {
            d[n++] = (digit)(u & PyLong_MASK);
            u >>= PyLong_SHIFT;
        }
        if (n > have) return 0;
        memcpy(((PyLongObject *)old)->ob_digit, d, (size_t)n * sizeof(digit));
        Py_SET_SIZE(old, v < 0 ? -n : n);
        return 1;
    #else
        (void)old; (void)v;
        return 0;
    #endif
    }

    /* ``old`` (a spent command's value, which only that command holds) made the ASCII text
       ``[text, text + length)`` in place, where ``sx_text`` would build a string (and the
       refill free ``old``): 1 if done, 0 if not (not an exact, compact ASCII string of that
       length held once and not interned). Its hash is forgotten (computed again when
       asked). */
    static CYTHON_INLINE int sx_text_again(PyObject *old, const char *text, Py_ssize_t length) {
        if (Py_REFCNT(old) != 1 || !PyUnicode_CheckExact(old) || !PyUnicode_IS_COMPACT_ASCII(old)
                || PyUnicode_GET_LENGTH(old) != length || PyUnicode_CHECK_INTERNED(old))
            return 0;
    #if PY_VERSION_HEX < 0x030C0000
        if (((PyASCIIObject *)old)->wstr != NULL) return 0;  /* a wide copy made of it */
    #endif
        memcpy(SX_ASCII(old), text, (size_t)length);
        ((PyASCIIObject *)old)->hash = -1;
        return 1;
    }

    /* The command of kind ``index`` scanned (``sx_scan``) from ``line``, a new reference;
       NULL with an error set if memory ran out, NULL with none if ``values`` point past the
       line or name no enum member (not ``sx_scan``'s: ``sx_lines_scanned``'s check). */
    #if defined(__GNUC__)
    __attribute__((always_inline))  /* into its replay's caller: no call a record */
    #endif
    static CYTHON_INLINE PyObject *sx_build(int index, const char *line, const sx_head *head,
                              const int64_t *values, PyObject *reuse) {
        sx_kind *k = &sx_kinds[index];
        sx_field *f;
        int64_t v;
        PyObject *slot[SX_FIELDS];
        PyObject *obj, *value;
        int i;
        /* the fields left out (SX_FIELDS < 32), then the fields written, each by its bits
           alone (no test of every field in turn) */
        const uint32_t left = (((uint32_t)1 << k->fields) - 1) & ~head->present;
        uint32_t absent = left, todo = head->present;
        i = 0;
        if ((head->present & k->required) != k->required)
            return NULL;  /* a required field left out (not ``sx_scan``'s record) */
        if (reuse != NULL) {
            /* a spent command's: its default put where its slot holds another value; a
               default already there (the common case: commands of a kind mostly leave out
               the same fields) left as it is */
            while (absent != 0) {
                int j = __builtin_ctz(absent);
                PyObject **at = (PyObject **)((char *)reuse + k->offsets[j]);
                PyObject *old = *at;
                absent &= absent - 1;
                if (old != k->fallbacks[j]) {
                    Py_INCREF(k->fallbacks[j]);
                    *at = k->fallbacks[j];
                    Py_XDECREF(old);
                }
            }
        } else {
            while (absent != 0) {
                int j = __builtin_ctz(absent);
                absent &= absent - 1;
                slot[j] = k->fallbacks[j];
                Py_INCREF(slot[j]);
            }
        }
        for (; todo != 0; todo &= todo - 1) {
            i = __builtin_ctz(todo);  /* in order: ``values`` holds them so */
            f = &k->field[i];
            v = *values++;
            if (head->nulls & ((uint32_t)1 << i)) {
                value = Py_None;
                Py_INCREF(value);
            } else if (f->kind == SX_INT) {
                /* the spent command's int of this field, if only it holds it: rewritten */
                value = reuse == NULL ? NULL : *(PyObject **)((char *)reuse + f->offset);
                if (value != NULL && sx_int_again(value, v)) {
                    Py_INCREF(value);
                } else {
                    value = PyLong_FromLongLong((long long)v);
                    if (value == NULL) goto error;
                }
            } else if (f->kind == SX_STR) {
                /* the field's last string again (a product's id) if it is the same text,
                   or the one of this text built before (a profile's id): equal, and one
                   object fewer made, hashed and freed */
                Py_ssize_t length = (Py_ssize_t)((uint64_t)v & 0xFFFFFFFFu);
                const char *text = line + ((uint64_t)v >> 32);
                if (((uint64_t)v >> 32) + (uint64_t)length > head->length) goto bad;
                /* a text the table does not give (an order's id: new each command) in the
                   spent command's string of this field, if only it holds it */
                value = reuse == NULL || f->texts
                    ? NULL : *(PyObject **)((char *)reuse + f->offset);
                if (value != NULL && (f->last == NULL || PyUnicode_GET_LENGTH(f->last) != length
                                      || !sx_same(SX_ASCII(f->last),
                                                  text, length))
                        && sx_text_again(value, text, length)) {
                    Py_INCREF(value);
                    if (++f->idle == SX_IDLE) {  /* as ``sx_text`` counts a text not looked up */
                        f->idle = 0;
                        f->texts = 1;
                    }
                } else {
                    value = sx_text(f, text, length);
                    if (value == NULL) goto error;
                }
                /* its hash from the scan (the reader's thread), where it is not computed yet
                   (a string made or rewritten here): what ``hash`` would compute of it (an
                   ASCII string's hash is ``_Py_HashBytes`` of its bytes) */
                if (i == k->hashed && head->hash != -1 && PyUnicode_IS_COMPACT_ASCII(value)
                        && ((PyASCIIObject *)value)->hash == -1)
                    ((PyASCIIObject *)value)->hash = (Py_hash_t)head->hash;
            } else if (f->kind == SX_ENUM) {
                if ((uint64_t)v >= (uint64_t)f->members) goto bad;
                value = f->objects[v];
                Py_INCREF(value);
            } else {
                value = v ? Py_True : Py_False;
                Py_INCREF(value);
            }
            if (reuse != NULL) {  /* a spent command of this kind (``sx_take``): refilled in
                                     place, field by field, its old value given back */
                PyObject **at = (PyObject **)((char *)reuse + f->offset);
                PyObject *old = *at;
                *at = value;
                Py_XDECREF(old);
            } else {
                slot[i] = value;
            }
        }
        if (reuse != NULL) return reuse;
        i = k->fields;  /* every slot filled (``error`` gives them back) */
        obj = (PyObject *)PyObject_Malloc(((PyTypeObject *)k->type)->tp_basicsize);
        if (obj == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        PyObject_Init(obj, (PyTypeObject *)k->type);
        for (i = 0; i < k->fields; i++)  /* each reference moves into its slot */
            *(PyObject **)((char *)obj + k->field[i].offset) = slot[i];
        return obj;
    bad:
    error:
        if (reuse != NULL) return NULL;  /* its fields its own (the caller frees it) */
        /* the slots filled: every default, and the fields written before field ``i`` */
        for (todo = left | (head->present & (((uint32_t)1 << i) - 1)); todo != 0;
                todo &= todo - 1)
            Py_DECREF(slot[__builtin_ctz(todo)]);
        return NULL;
    }

    /* The command on the line ``[p, end)``, a new reference; NULL with no error set if the
       line is not of the shape above (msgspec's then), NULL with an error set if memory ran
       out. */
    static PyObject *sx_parse(const char *p, const char *end) {
        sx_head head;
        int64_t values[SX_FIELDS];
        int index = sx_scan(p, end, &head, values);
        if (index < 0) return NULL;
        head.length = (uint64_t)(end - p);  /* ``sx_build``'s bound (``sx_scan`` sets none:
                                               left unset, a stack word's garbage) */
        return sx_build(index, p, &head, values, NULL);
    }

    /* A command of ``type`` in ``spare`` (a list: the last chunk's commands, applied) at or
       after ``*at`` that only ``spare`` holds, taken out (its place there None) and handed
       over with that reference, ``*at`` past it; NULL if none is left. ``sx_build`` refills
       it: no allocation, no ``PyObject_Init``, no dealloc when ``spare`` is freed. */
    static CYTHON_INLINE PyObject *sx_take(PyObject *spare, Py_ssize_t *at, PyObject *type) {
        Py_ssize_t n = PyList_GET_SIZE(spare);
        PyObject **items = ((PyListObject *)spare)->ob_item;
        PyObject *o;
        while (*at < n) {
            o = items[(*at)++];
            if (o != NULL && (PyObject *)Py_TYPE(o) == type && Py_REFCNT(o) == 1) {
                Py_INCREF(Py_None);
                items[*at - 1] = Py_None;
                return o;
            }
        }
        return NULL;
    }

    /* The records (``sx_head`` and values) of the ``count`` lines of ``[data, data + size)``
       (a chunk's bodies joined by newlines) appended to ``*table`` (``*used`` of
       ``*capacity`` bytes, grown by realloc): 0, or -1 if memory ran out. The journal
       reader's thread calls it (``use_scanner``), without the GIL: it reads only the C
       tables, which are made at import and never change after. */
    static int sx_scan_chunk(const char *data, size_t size, Py_ssize_t count, char **table,
                             size_t *capacity, size_t *used) {
        const char *p = data, *end = data + size, *stop;
        size_t room;
        Py_ssize_t n;
        sx_head *head;
        int index;
        for (n = 0; n < count; n++) {
            room = sizeof(sx_head) + SX_FIELDS * sizeof(int64_t);
            if (*used + room > *capacity) {
                size_t grown = 2 * (*used + room);
                char *bigger = (char *)realloc(*table, grown);
                if (bigger == NULL) return -1;
                *table = bigger;
                *capacity = grown;
            }
            stop = (const char *)memchr(p, '\\n', end - p);
            if (stop == NULL) stop = end;
            head = (sx_head *)(*table + *used);
            index = sx_scan(p, stop, head, (int64_t *)(head + 1));
            head->kind = index;
            head->length = (uint64_t)(stop - p);
            if (index < 0) head->size = (uint32_t)sizeof(sx_head);
            *used += head->size;
            p = stop == end ? end : stop + 1;
        }
        return 0;
    }

    /* The records ``sx_scan_chunk`` writes for ``lines`` (bytes; its lines: none if empty),
       as bytes (what the reader's thread hands a replay; the tests' ``applying.scan_lines``). */
    static PyObject *sx_scan_lines(PyObject *lines) {
        char *table = NULL;
        size_t capacity = 0, used = 0;
        Py_ssize_t count = 0, i, size;
        const char *data;
        PyObject *out;
        if (!PyBytes_Check(lines)) {
            PyErr_SetString(PyExc_TypeError, "lines as bytes");
            return NULL;
        }
        data = PyBytes_AS_STRING(lines);
        size = PyBytes_GET_SIZE(lines);
        if (size) count = 1;
        for (i = 0; i < size; i++) count += data[i] == '\\n';
        if (sx_scan_chunk(data, (size_t)size, count, &table, &capacity, &used) < 0) {
            free(table);
            return PyErr_NoMemory();
        }
        out = PyBytes_FromStringAndSize(table, (Py_ssize_t)used);
        free(table);
        return out;
    }

    /* ``sx_scan_chunk`` for the journal reader: a capsule of its address. */
    static PyObject *sx_scanner(void) {
        return PyCapsule_New((void *)sx_scan_chunk, "sandex.node.fastlines.sx_scan_chunk",
                             NULL);
    }

    /* The command ``decode`` (msgspec's) makes of the ``length`` bytes at ``p``, a line
       the C paths do not build; NULL with its error. */
    static PyObject *sx_decoded(const char *p, Py_ssize_t length, PyObject *decode) {
        PyObject *command, *line = PyBytes_FromStringAndSize(p, length);
        if (line == NULL) return NULL;
        command = PyObject_CallOneArg(decode, line);
        Py_DECREF(line);
        return command;
    }

    /* ``command`` (a new reference, or NULL with its error) appended to ``out`` and given
       up: 0, or -1 with the error. */
    static int sx_append(PyObject *out, PyObject *command) {
        int failed;
        if (command == NULL) return -1;
        failed = PyList_Append(out, command);
        Py_DECREF(command);
        return failed;
    }

    /* The commands of ``lines`` (bytes: records joined by newlines), a new list: each line
       by ``sx_parse``, or else by ``decode`` (msgspec's, called with the line as bytes),
       whose error, if it raises, this raises. */
    static PyObject *sx_lines(PyObject *lines, PyObject *decode) {
        const char *p, *end, *stop;
        PyObject *out, *command;
        if (!PyBytes_Check(lines)) {
            PyErr_SetString(PyExc_TypeError, "lines as bytes");
            return NULL;
        }
        out = PyList_New(0);
        if (out == NULL || PyBytes_GET_SIZE(lines) == 0) return out;
        p = PyBytes_AS_STRING(lines);
        end = p + PyBytes_GET_SIZE(lines);
        for (;;) {
            stop = memchr(p, '\\n', end - p);
            if (stop == NULL) stop = end;
            command = sx_parse(p, stop);
            if (command == NULL) {
                if (PyErr_Occurred()) goto error;
                command = sx_decoded(p, stop - p, decode);
            }
            if (sx_append(out, command) < 0) goto error;
            if (stop == end) return out;
            p = stop + 1;
        }
    error:
        Py_DECREF(out);
        return NULL;
    }

    /* ``sx_lines``, from the records ``sx_scan_chunk`` wrote for ``lines`` on the reader's
       thread (``table``, bytes): the commands built from them, the lines it refused by
       ``decode``. A table that does not describe ``lines`` line for line (it cannot be,
       from the reader; checked all the same, so far as a table can be without the lines:
       its records' sizes, kinds, line lengths, strings within their line, enum members)
       is ignored: ``sx_lines`` then. */
    static PyObject *sx_lines_scanned(PyObject *lines, PyObject *table, PyObject *decode,
                                      PyObject *spare) {
        const char *p, *end, *at, *stop, *head_at;
        const sx_head *head;
        PyObject *out, *command, *reuse;
        Py_ssize_t taken[SX_KINDS] = {0};  /* each kind's place in ``spare`` (``sx_take``) */
        Py_ssize_t count = 0, made = 0;  /* the table's records; the commands put so far */
        if (!PyList_CheckExact(spare)) spare = NULL;  /* None: every command new */
        if (!PyBytes_Check(lines) || !PyBytes_Check(table) || PyBytes_GET_SIZE(lines) == 0)
            return sx_lines(lines, decode);
        p = PyBytes_AS_STRING(lines);
        end = p + PyBytes_GET_SIZE(lines);
        at = PyBytes_AS_STRING(table);
        stop = at + PyBytes_GET_SIZE(table);
        /* the table's records counted first (a step a record): the list made at its size,
           each command put in its place, not appended (no growth by reallocations) */
        for (head_at = at; (size_t)(stop - head_at) >= sizeof(sx_head)
                && ((const sx_head *)head_at)->size >= sizeof(sx_head)
                && ((const sx_head *)head_at)->size <= (size_t)(stop - head_at); count++)
            head_at += ((const sx_head *)head_at)->size;
        out = PyList_New(count);
        if (out == NULL) return NULL;
        for (;;) {
            head = (const sx_head *)at;
            if ((size_t)(stop - at) < sizeof(sx_head) || head->size < sizeof(sx_head)
                    || (size_t)(stop - at) < head->size || (uint64_t)(end - p) < head->length
                    || head->kind >= sx_count || (head->kind >= 0 && (head->size
                        != SX_RECORD(head->present) || head->present >> sx_kinds[head->kind].fields))
                    || (p + head->length < end && p[head->length] != '\\n')
                    || (head->kind < 0 && head->size != sizeof(sx_head)))
                goto mismatch;
            if (head->kind >= 0) {
                reuse = spare == NULL ? NULL
                    : sx_take(spare, &taken[head->kind], sx_kinds[head->kind].type);
                command = sx_build(head->kind, p, head, (const int64_t *)(head + 1), reuse);
                if (command == NULL) {
                    Py_XDECREF(reuse);
                    if (PyErr_Occurred()) goto error;
                    goto mismatch;
                }
            } else {
                command = sx_decoded(p, (Py_ssize_t)head->length, decode);
                if (command == NULL) goto error;
            }
            if (made == count) {  /* more lines than records (not the reader's table) */
                Py_DECREF(command);
                goto mismatch;
            }
            PyList_SET_ITEM(out, made++, command);
            at += head->size;
            if (p + head->length == end) {
                if (at != stop || made != count) goto mismatch;
                return out;
            }
            p += head->length + 1;
            if (at == stop) goto mismatch;
        }
    mismatch:
        Py_DECREF(out);
        return sx_lines(lines, decode);
    error:
        Py_DECREF(out);
        return NULL;
    }
    """
    int SX_INT, SX_STR, SX_ENUM, SX_BOOL
    int sx_add_kind(object type, object tag) except -1
    int sx_add_field(int index, object name, int kind, int nullable, Py_ssize_t offset,
                     int required, object fallback, object values, object members) except -1
    PyObject *sx_parse(const char *p, const char *end)
    object sx_lines(object lines, object decode)
    object sx_lines_scanned(object lines, object table, object decode, object spare)
    object sx_scanner()
    object sx_scan_lines(object lines)
    void sx_texts_again()
