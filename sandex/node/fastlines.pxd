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
    #ifdef __SSE2__
    #include <emmintrin.h>
    #endif
    #define SX_KINDS 4
    #define SX_FIELDS 24
    #define SX_MEMBERS 8
    enum { SX_INT = 1, SX_STR = 2, SX_ENUM = 3, SX_BOOL = 4 };

    typedef struct {
        const char *name;          /* the key, as written */
        Py_ssize_t length;
        int kind;                  /* SX_INT, SX_STR, SX_ENUM, SX_BOOL */
        int nullable;              /* ``null`` decodes to None */
        Py_ssize_t offset;         /* its slot in the instance */
        PyObject *fallback;        /* its default (NULL: required) */
        int members;               /* an enum's members and their values */
        const char *values[SX_MEMBERS];
        Py_ssize_t lengths[SX_MEMBERS];
        PyObject *objects[SX_MEMBERS];
    } sx_field;

    typedef struct {
        PyObject *type;
        const char *tag;
        Py_ssize_t tag_length;
        int fields;
        sx_field field[SX_FIELDS];
    } sx_kind;

    static sx_kind sx_kinds[SX_KINDS];
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
        f->kind = kind;
        f->nullable = nullable;
        f->offset = offset;
        f->fallback = required ? NULL : fallback;
        f->members = 0;
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

    /* The command on the line ``[p, end)``, a new reference; NULL with no error set if the
       line is not of the shape above (msgspec's then), NULL with an error set if memory ran
       out. */
    static PyObject *sx_parse(const char *p, const char *end) {
        static const char head[] = "{\\"command\\":\\"";
        PyObject *values[SX_FIELDS];
        PyObject *obj;
        const sx_kind *k = NULL;
        const sx_field *f;
        const char *s, *stop;
        int i, at = 0, m;
        if (end - p < (Py_ssize_t)sizeof(head) || memcmp(p, head, sizeof(head) - 1) != 0)
            return NULL;
        p += sizeof(head) - 1;
        if ((s = sx_string(p, end)) == NULL) return NULL;
        for (i = 0; i < sx_count; i++) {
            if (sx_kinds[i].tag_length == s - p && memcmp(sx_kinds[i].tag, p, s - p) == 0) {
                k = &sx_kinds[i];
                break;
            }
        }
        if (k == NULL) return NULL;
        p = s + 1;
        for (i = 0; i < k->fields; i++) values[i] = NULL;
        while (p < end && *p == ',') {
            PyObject *value = NULL;
            if (++p >= end || *p != '"') goto fail;
            if ((s = sx_string(++p, end)) == NULL) goto fail;
            while (at < k->fields && !(k->field[at].length == s - p
                                       && memcmp(k->field[at].name, p, s - p) == 0)) at++;
            if (at == k->fields) goto fail;  /* unknown, out of order or repeated */
            f = &k->field[at];
            p = s + 1;
            if (p >= end || *p != ':' || ++p >= end) goto fail;
            if (*p == 'n') {
                if (!f->nullable || end - p < 4 || memcmp(p, "null", 4) != 0) goto fail;
                p += 4;
                value = Py_None;
                Py_INCREF(value);
            } else if (f->kind == SX_INT) {
                unsigned long long n = 0;
                int negative = 0, digits;
                if (*p == '-') {
                    negative = 1;
                    p++;
                }
                s = p;
                stop = end - p > 19 ? p + 19 : end;  /* a 19th digit: too many */
                while (p < stop && (unsigned char)(*p - '0') < 10) n = n * 10 + (*p++ - '0');
                digits = (int)(p - s);
                if (digits == 0 || digits > 18 || (*s == '0' && digits > 1)) goto fail;
                if (p < end && *p != ',' && *p != '}') goto fail;  /* a fraction, exponent */
                value = PyLong_FromLongLong(negative ? -(long long)n : (long long)n);
                if (value == NULL) goto error;
            } else if (*p != '"') {
                if (f->kind != SX_BOOL) goto fail;
                if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
                    p += 4;
                    value = Py_True;
                } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
                    p += 5;
                    value = Py_False;
                } else goto fail;
                Py_INCREF(value);
            } else {
                if ((s = sx_string(++p, end)) == NULL) goto fail;
                if (f->kind == SX_STR) {
                    value = PyUnicode_New(s - p, 127);
                    if (value == NULL) goto error;
                    memcpy(PyUnicode_DATA(value), p, s - p);
                } else if (f->kind == SX_ENUM) {
                    for (m = 0; m < f->members; m++) {
                        if (f->lengths[m] == s - p && memcmp(f->values[m], p, s - p) == 0) {
                            value = f->objects[m];
                            Py_INCREF(value);
                            break;
                        }
                    }
                    if (value == NULL) goto fail;
                } else goto fail;
                p = s + 1;
            }
            values[at++] = value;
        }
        if (p >= end || *p != '}' || p + 1 != end) goto fail;
        for (i = 0; i < k->fields; i++) {
            if (values[i] == NULL) {
                if (k->field[i].fallback == NULL) goto fail;  /* a required field left out */
                values[i] = k->field[i].fallback;
                Py_INCREF(values[i]);
            }
        }
        obj = (PyObject *)PyObject_Malloc(((PyTypeObject *)k->type)->tp_basicsize);
        if (obj == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        PyObject_Init(obj, (PyTypeObject *)k->type);
        for (i = 0; i < k->fields; i++)  /* each reference moves into its slot */
            *(PyObject **)((char *)obj + k->field[i].offset) = values[i];
        return obj;
    fail:
        for (i = 0; i < k->fields; i++) Py_XDECREF(values[i]);
        return NULL;
    error:
        for (i = 0; i < k->fields; i++) Py_XDECREF(values[i]);
        return NULL;
    }

    /* The commands of ``lines`` (bytes: records joined by newlines), a new list: each line
       by ``sx_parse``, or else by ``decode`` (msgspec's, called with the line as bytes),
       whose error, if it raises, this raises. */
    static PyObject *sx_lines(PyObject *lines, PyObject *decode) {
        const char *p, *end, *stop;
        PyObject *out, *command, *line;
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
                line = PyBytes_FromStringAndSize(p, stop - p);
                if (line == NULL) goto error;
                command = PyObject_CallOneArg(decode, line);
                Py_DECREF(line);
                if (command == NULL) goto error;
            }
            if (PyList_Append(out, command) < 0) {
                Py_DECREF(command);
                goto error;
            }
            Py_DECREF(command);
            if (stop == end) return out;
            p = stop + 1;
        }
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
