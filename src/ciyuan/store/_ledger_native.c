/* ciyuan.store._ledger_native: one batch of transfers -> results, chained journal rows,
 * final balances and pending statuses, in one pass of compiled code.
 *
 * The rules are those of the pure engine (ciyuan/ledger/engine.py: apply_batch) and the
 * chain of ciyuan/ledger/journal.py + ciyuan/store/ledger_rows.py, which stay the
 * reference: tests/store/test_ledger_native.py runs both on generated states and batches and
 * requires equal results, rows (byte for byte, hashes included), balances and pendings. This
 * file exists for speed only: the Python engine and chain cost about 6 us a transfer, more
 * than SQLite takes to insert the row.
 *
 * Entry points:
 *   configure(results, statuses)   the Result members in RESULT_NAMES order and the
 *                                  PendingStatus members (pending, posted, voided, expired)
 *   apply_chain(accounts, balances, transfers, pendings, batch, now_ns, seq, prev_hash,
 *               sink=None, every=0)
 *       -> (results, rows, sums, pendings, seq, head_hash)
 *   sink, if given, is called with lists of rows that are final (no open linked chain can
 *   take them back), in order, each row once: whenever `every` such rows have gathered, and
 *   with the rest at the end. A store writes them to the database while later rows are
 *   still being computed; an exception from sink stops the batch and propagates.
 *   copy_binary(rows, layout) -> bytes
 *       the tuples of PostgreSQL's binary COPY format (no header, no trailer) for `rows`,
 *       each a tuple with one value per byte of `layout`: b'q' int8, b'i' int4, b't' text
 *       (UTF-8); None is NULL. What psycopg's Copy.write_row does per row, at a tenth of
 *       its CPU.
 *   sums: account id -> (debits_pending, debits_posted, credits_pending, credits_posted) of
 *   every account an applied transfer touched; pendings: pending id -> (status, expires_at_ns
 *   of a pending created here, else None), the first expiry seen winning (final_pendings).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

/* The mappings passed to apply_chain are only read; the working copy of the pendings is its own. */

enum {
    RC_OK, RC_LINKED_EVENT_FAILED, RC_LINKED_EVENT_CHAIN_OPEN, RC_EXISTS_WITH_DIFFERENT_FIELDS,
    RC_FLAGS_ARE_MUTUALLY_EXCLUSIVE, RC_ACCOUNTS_MUST_BE_DIFFERENT, RC_ACCOUNT_NOT_FOUND,
    RC_CURRENCY_MISMATCH, RC_AMOUNT_MUST_BE_POSITIVE, RC_PENDING_ID_REQUIRED,
    RC_PENDING_ID_MUST_BE_EMPTY, RC_TIMEOUT_RESERVED_FOR_PENDING, RC_PENDING_NOT_FOUND,
    RC_PENDING_NOT_PENDING, RC_PENDING_DIFFERENT_ACCOUNTS, RC_PENDING_ALREADY_POSTED,
    RC_PENDING_ALREADY_VOIDED, RC_PENDING_EXPIRED, RC_EXCEEDS_PENDING_AMOUNT,
    RC_VOID_AMOUNT_MISMATCH, RC_EXCEEDS_CREDITS, RC_EXCEEDS_DEBITS, RC_OVERFLOWS_BALANCE, RC_COUNT
};
static const char *RESULT_NAMES[RC_COUNT] = {
    "OK", "LINKED_EVENT_FAILED", "LINKED_EVENT_CHAIN_OPEN", "EXISTS_WITH_DIFFERENT_FIELDS",
    "FLAGS_ARE_MUTUALLY_EXCLUSIVE", "ACCOUNTS_MUST_BE_DIFFERENT", "ACCOUNT_NOT_FOUND",
    "CURRENCY_MISMATCH", "AMOUNT_MUST_BE_POSITIVE", "PENDING_ID_REQUIRED",
    "PENDING_ID_MUST_BE_EMPTY", "TIMEOUT_RESERVED_FOR_PENDING", "PENDING_NOT_FOUND",
    "PENDING_NOT_PENDING", "PENDING_DIFFERENT_ACCOUNTS", "PENDING_ALREADY_POSTED",
    "PENDING_ALREADY_VOIDED", "PENDING_EXPIRED", "EXCEEDS_PENDING_AMOUNT",
    "VOID_AMOUNT_MISMATCH", "EXCEEDS_CREDITS", "EXCEEDS_DEBITS", "OVERFLOWS_BALANCE"};

enum { S_PENDING, S_POSTED, S_VOIDED, S_EXPIRED, S_COUNT };
enum { F_LINKED = 1, F_PENDING = 2, F_POST = 4, F_VOID = 8 };
#define F_RESOLVES (F_POST | F_VOID)
#define F_PHASES (F_PENDING | F_POST | F_VOID)
#define NS_PER_S 1000000000LL

static PyObject *g_results[RC_COUNT];
static PyObject *g_status[S_COUNT];      /* PendingStatus members */
static PyObject *g_status_str[S_COUNT];  /* their str() values, as stored */
static int g_configured = 0;
static PyObject *s_id, *s_debit, *s_credit, *s_amount, *s_code, *s_flags, *s_pending_id,
    *s_timeout_s, *s_metadata, *s_timestamp_ns, *s_unit, *s_dmnec, *s_cmned, *s_limit,
    *s_dp, *s_dpo, *s_cp, *s_cpo, *s_same_body, *s_kind_transfer;
static EVP_MD *g_sha256 = NULL;

/* -- a growable byte buffer --------------------------------------------------------------- */

typedef struct { char *p; size_t n, cap; } Buf;

static int buf_grow(Buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + extra) cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (p == NULL) { PyErr_NoMemory(); return -1; }
    b->p = p; b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const char *s, size_t len) {
    if (buf_grow(b, len)) return -1;
    memcpy(b->p + b->n, s, len);
    b->n += len;
    return 0;
}
#define PUT(b, lit) buf_put((b), (lit), sizeof(lit) - 1)

static int buf_int(Buf *b, long long v) {
    char tmp[24], *end = tmp + sizeof tmp, *o = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { *--o = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *--o = '-';
    return buf_put(b, o, (size_t)(end - o));
}

/* A JSON string as json.encoder.encode_basestring writes it (ensure_ascii=False), UTF-8. */
static int buf_json_str(Buf *b, PyObject *s) {
    static const char hex[] = "0123456789abcdef";
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "expected str, not %.100s", Py_TYPE(s)->tp_name);
        return -1;
    }
    Py_ssize_t len;
    const char *u = PyUnicode_AsUTF8AndSize(s, &len);
    if (u == NULL || buf_grow(b, (size_t)len * 6 + 2)) return -1;
    char *o = b->p + b->n;
    *o++ = '"';
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)u[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        default:
            if (c < 0x20) {
                *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    b->n = (size_t)(o - b->p);
    return 0;
}

/* -- reading values ------------------------------------------------------------------------ */

/* A field of a transfer, account or balance (a new reference). getattr reads a dataclass's
 * inline values directly; asking for its __dict__ would build a dict per transfer. */
static PyObject *field(PyObject *obj, PyObject *name) { return PyObject_GetAttr(obj, name); }

static int field_ll(PyObject *obj, PyObject *name, long long *out) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) return -1;
    *out = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* -- the working state of one batch -------------------------------------------------------- */

typedef struct {
    PyObject *id, *unit;  /* owned */
    int dmnec, cmned;
    long long limit;
    long long s[4];       /* debits_pending, debits_posted, credits_pending, credits_posted */
    int touched;
} Acc;

typedef struct { Py_ssize_t idx; long long s[4]; } SumUndo;
typedef struct { PyObject *id; PyObject *before; } PendUndo;  /* owned; before may be NULL */
typedef struct { PyObject *id; int status; int has_exp; long long exp; } PendLog;  /* owned id */

typedef struct {
    PyObject *accounts, *balances, *stored, *now_obj;  /* borrowed */
    PyObject *acc_index;   /* account id -> index into acc */
    PyObject *batch_tx;    /* id -> Transfer applied in this batch (unstamped) */
    PyObject *pend;        /* pending id -> PendingStatus, working copy */
    PyObject *rows;        /* list of journal rows */
    PyObject *head;        /* owned: hash of the last row */
    long long now_ns, seq;
    Acc *acc; Py_ssize_t nacc, capacc;
    Py_ssize_t *eff; Py_ssize_t neff, capeff;           /* 2 account indexes per effect */
    PendLog *plog; Py_ssize_t nplog, capplog;
    int in_chain;
    SumUndo *sundo; Py_ssize_t nsundo, capsundo;
    PendUndo *pundo; Py_ssize_t npundo, cappundo;
    PyObject *tx_added;    /* ids added to batch_tx while a chain is open */
    PyObject *sink;        /* borrowed, or NULL: called with final rows as they gather */
    Py_ssize_t every, flushed;  /* rows per sink call; rows handed to sink so far */
    Buf canon, meta;
    EVP_MD_CTX *md;
} Work;

#define GROW(w, arr, n, cap, type)                                                    \
    do {                                                                              \
        if ((w)->n == (w)->cap) {                                                     \
            Py_ssize_t c_ = (w)->cap ? (w)->cap * 2 : 16;                             \
            type *p_ = PyMem_Realloc((w)->arr, (size_t)c_ * sizeof(type));            \
            if (p_ == NULL) { PyErr_NoMemory(); return -1; }                          \
            (w)->arr = p_; (w)->cap = c_;                                             \
        }                                                                             \
    } while (0)

static void work_free(Work *w) {
    for (Py_ssize_t i = 0; i < w->nacc; i++) { Py_XDECREF(w->acc[i].id); Py_XDECREF(w->acc[i].unit); }
    for (Py_ssize_t i = 0; i < w->nplog; i++) Py_XDECREF(w->plog[i].id);
    for (Py_ssize_t i = 0; i < w->npundo; i++) { Py_XDECREF(w->pundo[i].id); Py_XDECREF(w->pundo[i].before); }
    PyMem_Free(w->acc); PyMem_Free(w->eff); PyMem_Free(w->plog);
    PyMem_Free(w->sundo); PyMem_Free(w->pundo);
    PyMem_Free(w->canon.p); PyMem_Free(w->meta.p);
    Py_XDECREF(w->acc_index); Py_XDECREF(w->batch_tx); Py_XDECREF(w->pend);
    Py_XDECREF(w->rows); Py_XDECREF(w->head); Py_XDECREF(w->tx_added);
    if (w->md) EVP_MD_CTX_free(w->md);
}

/* Index of an account in the working table, loading it on first use; -1: no such account,
 * -2: error. */
static Py_ssize_t acc_lookup(Work *w, PyObject *id) {
    PyObject *ix = PyDict_GetItemWithError(w->acc_index, id);
    if (ix != NULL) return PyLong_AsSsize_t(ix);
    if (PyErr_Occurred()) return -2;
    PyObject *a = PyDict_GetItemWithError(w->accounts, id);
    if (a == NULL) return PyErr_Occurred() ? -2 : -1;
    if (w->nacc == w->capacc) {
        Py_ssize_t cap = w->capacc ? w->capacc * 2 : 16;
        Acc *p = PyMem_Realloc(w->acc, (size_t)cap * sizeof(Acc));
        if (p == NULL) { PyErr_NoMemory(); return -2; }
        w->acc = p; w->capacc = cap;
    }
    Acc *e = &w->acc[w->nacc];
    memset(e, 0, sizeof *e);
    PyObject *v;
    if ((e->unit = PyObject_GetAttr(a, s_unit)) == NULL) return -2;
    Py_INCREF(id); e->id = id;
    w->nacc++;  /* owned references are released by work_free from here on */
    if ((v = PyObject_GetAttr(a, s_dmnec)) == NULL) return -2;
    e->dmnec = PyObject_IsTrue(v); Py_DECREF(v);
    if ((v = PyObject_GetAttr(a, s_cmned)) == NULL) return -2;
    e->cmned = PyObject_IsTrue(v); Py_DECREF(v);
    if (e->dmnec < 0 || e->cmned < 0 || field_ll(a, s_limit, &e->limit)) return -2;
    PyObject *b = PyDict_GetItemWithError(w->balances, id);
    if (b == NULL && PyErr_Occurred()) return -2;
    if (b != NULL) {
        PyObject *names[4] = {s_dp, s_dpo, s_cp, s_cpo};
        for (int k = 0; k < 4; k++)
            if (field_ll(b, names[k], &e->s[k])) return -2;
    }
    PyObject *n = PyLong_FromSsize_t(w->nacc - 1);
    if (n == NULL) return -2;
    int rc = PyDict_SetItem(w->acc_index, id, n);
    Py_DECREF(n);
    return rc ? -2 : w->nacc - 1;
}

static int set_sums(Work *w, Py_ssize_t idx, const long long s[4]) {
    if (w->in_chain) {
        GROW(w, sundo, nsundo, capsundo, SumUndo);
        w->sundo[w->nsundo].idx = idx;
        memcpy(w->sundo[w->nsundo].s, w->acc[idx].s, sizeof w->acc[idx].s);
        w->nsundo++;
    }
    memcpy(w->acc[idx].s, s, sizeof w->acc[idx].s);
    return 0;
}

static int set_pending(Work *w, PyObject *id, int status, int has_exp, long long exp) {
    if (w->in_chain) {
        GROW(w, pundo, npundo, cappundo, PendUndo);
        PyObject *before = PyDict_GetItemWithError(w->pend, id);
        if (before == NULL && PyErr_Occurred()) return -1;
        Py_INCREF(id); Py_XINCREF(before);
        w->pundo[w->npundo].id = id; w->pundo[w->npundo].before = before;
        w->npundo++;
    }
    if (PyDict_SetItem(w->pend, id, g_status[status])) return -1;
    GROW(w, plog, nplog, capplog, PendLog);
    Py_INCREF(id);
    w->plog[w->nplog] = (PendLog){id, status, has_exp, exp};
    w->nplog++;
    return 0;
}

/* -- the chain ------------------------------------------------------------------------------ */

static PyObject *hex_digest(Work *w, const char *prev, Py_ssize_t prev_len) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_DigestInit_ex(w->md, g_sha256, NULL) || !EVP_DigestUpdate(w->md, prev, (size_t)prev_len)
        || !EVP_DigestUpdate(w->md, w->canon.p, w->canon.n)
        || !EVP_DigestFinal_ex(w->md, md, &md_len)) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-256 failed");
        return NULL;
    }
    PyObject *out = PyUnicode_New((Py_ssize_t)md_len * 2, 127);
    if (out == NULL) return NULL;
    Py_UCS1 *o = PyUnicode_1BYTE_DATA(out);
    for (unsigned int i = 0; i < md_len; i++) { o[2 * i] = hex[md[i] >> 4]; o[2 * i + 1] = hex[md[i] & 15]; }
    return out;
}

/* The journal row of one applied transfer, appended to w->rows; the head moves on. */
static int append_row(Work *w, PyObject *t, PyObject *id, PyObject *debit,
                      PyObject *credit, PyObject *amount_obj, long long amount, long long flags,
                      PyObject *pending_id, PyObject *timeout_obj, long long timeout_s) {
    PyObject *code = NULL, *metadata = NULL, *meta_str = NULL, *digest = NULL, *row = NULL;
    PyObject *seq_obj = NULL, *flags_obj = NULL;
    int rc = -1;
    if ((code = field(t, s_code)) == NULL || (metadata = field(t, s_metadata)) == NULL)
        goto done;
    if (!PyTuple_Check(metadata)) {
        PyErr_SetString(PyExc_TypeError, "Transfer.metadata must be a tuple of pairs");
        goto done;
    }
    Buf *c = &w->canon, *m = &w->meta;
    long long seq = w->seq + 1;
    c->n = 0; m->n = 0;
    if (PUT(c, "{\"amount\":") || buf_int(c, amount) || PUT(c, ",\"code\":")
        || buf_json_str(c, code) || PUT(c, ",\"credit_account_id\":") || buf_json_str(c, credit)
        || PUT(c, ",\"debit_account_id\":") || buf_json_str(c, debit) || PUT(c, ",\"flags\":")
        || buf_int(c, flags) || PUT(c, ",\"id\":") || buf_json_str(c, id)
        || PUT(c, ",\"kind\":\"transfer\",\"metadata\":[") || PUT(m, "["))
        goto done;
    Py_ssize_t npairs = PyTuple_GET_SIZE(metadata);
    for (Py_ssize_t i = 0; i < npairs; i++) {
        PyObject *pair = PyTuple_GET_ITEM(metadata, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "Transfer.metadata must be a tuple of pairs");
            goto done;
        }
        if ((i && (PUT(c, ",") || PUT(m, ", "))) || PUT(c, "[") || PUT(m, "[")
            || buf_json_str(c, PyTuple_GET_ITEM(pair, 0)) || PUT(c, ",")
            || buf_json_str(c, PyTuple_GET_ITEM(pair, 1)) || PUT(c, "]")
            || buf_json_str(m, PyTuple_GET_ITEM(pair, 0)) || PUT(m, ", ")
            || buf_json_str(m, PyTuple_GET_ITEM(pair, 1)) || PUT(m, "]"))
            goto done;
    }
    if (PUT(c, "],\"pending_id\":") || buf_json_str(c, pending_id) || PUT(c, ",\"seq\":")
        || buf_int(c, seq) || PUT(c, ",\"timeout_s\":") || buf_int(c, timeout_s)
        || PUT(c, ",\"timestamp_ns\":") || buf_int(c, w->now_ns) || PUT(c, "}") || PUT(m, "]"))
        goto done;
    digest = hex_digest(w, (const char *)PyUnicode_1BYTE_DATA(w->head), PyUnicode_GET_LENGTH(w->head));
    if (digest == NULL) goto done;
    meta_str = npairs ? PyUnicode_DecodeUTF8(m->p, (Py_ssize_t)m->n, "strict")
                      : PyUnicode_FromString("[]");
    if (meta_str == NULL || (seq_obj = PyLong_FromLongLong(seq)) == NULL
        || (flags_obj = PyLong_FromLongLong(flags)) == NULL)
        goto done;
    row = PyTuple_New(14);
    if (row == NULL) goto done;
    PyObject *items[14] = {seq_obj, s_kind_transfer, id, debit, credit, amount_obj, code,
                           flags_obj, pending_id, timeout_obj, meta_str, w->now_obj, w->head,
                           digest};
    for (int k = 0; k < 14; k++) { Py_INCREF(items[k]); PyTuple_SET_ITEM(row, k, items[k]); }
    /* a row holds only str and int: nothing for the garbage collector to look into */
    PyObject_GC_UnTrack(row);
    if (PyList_Append(w->rows, row)) goto done;
    Py_SETREF(w->head, digest);
    digest = NULL;
    w->seq = seq;
    rc = 0;
done:
    Py_XDECREF(code); Py_XDECREF(metadata); Py_XDECREF(meta_str); Py_XDECREF(digest);
    Py_XDECREF(row); Py_XDECREF(seq_obj); Py_XDECREF(flags_obj);
    return rc;
}

/* -- the engine ------------------------------------------------------------------------------ */

static int overflows(__int128 a, __int128 b, __int128 c, __int128 d) {
    return a > INT64_MAX || b > INT64_MAX || c > INT64_MAX || d > INT64_MAX;
}

/* A pending transfer found for a post or void: its fields, owned. */
typedef struct {
    PyObject *obj, *id, *debit, *credit;
    long long flags, amount, timeout_s, timestamp_ns;
} Pend;

static void pend_clear(Pend *p) {
    Py_XDECREF(p->obj); Py_XDECREF(p->id);
    Py_XDECREF(p->debit); Py_XDECREF(p->credit);
}

/* The result of one transfer (an RC_ code), or -1 on error. Mirrors engine._apply_one. */
static int apply_one(Work *w, PyObject *t, long long flags) {
    PyObject *id = NULL, *debit = NULL, *credit = NULL, *amount_obj = NULL;
    PyObject *pending_id = NULL, *timeout_obj = NULL;
    Pend p = {0};
    int r = -1;
    long long amount, timeout_s;
    if ((id = field(t, s_id)) == NULL) goto done;
    PyObject *existing = PyDict_GetItemWithError(w->batch_tx, id);
    if (existing == NULL && !PyErr_Occurred()) existing = PyDict_GetItemWithError(w->stored, id);
    if (existing != NULL) {
        PyObject *same = PyObject_CallMethodOneArg(existing, s_same_body, t);
        if (same == NULL) goto done;
        int truth = PyObject_IsTrue(same);
        Py_DECREF(same);
        r = truth < 0 ? -1 : truth ? RC_OK : RC_EXISTS_WITH_DIFFERENT_FIELDS;
        goto done;
    }
    if (PyErr_Occurred()) goto done;
    if ((debit = field(t, s_debit)) == NULL || (credit = field(t, s_credit)) == NULL
        || (amount_obj = field(t, s_amount)) == NULL
        || (pending_id = field(t, s_pending_id)) == NULL
        || (timeout_obj = field(t, s_timeout_s)) == NULL)
        goto done;
    amount = PyLong_AsLongLong(amount_obj);
    timeout_s = PyLong_AsLongLong(timeout_obj);
    if (PyErr_Occurred()) goto done;
    if (!PyUnicode_Check(pending_id)) { PyErr_SetString(PyExc_TypeError, "pending_id must be str"); goto done; }
    long long phases = flags & F_PHASES, resolves = phases & F_RESOLVES;
    int has_pending_id = PyUnicode_GET_LENGTH(pending_id) > 0;
    int same = PyObject_RichCompareBool(debit, credit, Py_EQ);
    if (same < 0) goto done;
    if (phases & (phases - 1)) { r = RC_FLAGS_ARE_MUTUALLY_EXCLUSIVE; goto done; }
    if (same) { r = RC_ACCOUNTS_MUST_BE_DIFFERENT; goto done; }
    if (amount <= 0) { r = RC_AMOUNT_MUST_BE_POSITIVE; goto done; }
    if (resolves && !has_pending_id) { r = RC_PENDING_ID_REQUIRED; goto done; }
    if (!resolves && has_pending_id) { r = RC_PENDING_ID_MUST_BE_EMPTY; goto done; }
    if (timeout_s != 0 && phases != F_PENDING) { r = RC_TIMEOUT_RESERVED_FOR_PENDING; goto done; }
    Py_ssize_t di = acc_lookup(w, debit);
    if (di == -2) goto done;
    Py_ssize_t ci = acc_lookup(w, credit);
    if (ci == -2) goto done;
    if (di < 0 || ci < 0) { r = RC_ACCOUNT_NOT_FOUND; goto done; }
    int units_differ = PyObject_RichCompareBool(w->acc[di].unit, w->acc[ci].unit, Py_NE);
    if (units_differ < 0) goto done;
    if (units_differ) { r = RC_CURRENCY_MISMATCH; goto done; }
    const long long *ds = w->acc[di].s, *cs = w->acc[ci].s;
    __int128 nd[4] = {ds[0], ds[1], ds[2], ds[3]}, nc[4] = {cs[0], cs[1], cs[2], cs[3]};
    int pend_status = -1, has_exp = 0;
    long long exp = 0;
    PyObject *pend_id = NULL;  /* borrowed: id or p.id */
    if (resolves) {
        /* engine._resolve_check */
        int from_batch = 1;
        PyObject *obj = PyDict_GetItemWithError(w->batch_tx, pending_id);
        if (obj == NULL && !PyErr_Occurred()) { from_batch = 0; obj = PyDict_GetItemWithError(w->stored, pending_id); }
        if (obj == NULL) { if (!PyErr_Occurred()) r = RC_PENDING_NOT_FOUND; goto done; }
        Py_INCREF(obj); p.obj = obj;
        if (field_ll(obj, s_flags, &p.flags) || field_ll(obj, s_amount, &p.amount)
            || field_ll(obj, s_timeout_s, &p.timeout_s)
            || (p.id = field(obj, s_id)) == NULL || (p.debit = field(obj, s_debit)) == NULL
            || (p.credit = field(obj, s_credit)) == NULL)
            goto done;
        if (from_batch) p.timestamp_ns = w->now_ns;
        else if (field_ll(obj, s_timestamp_ns, &p.timestamp_ns)) goto done;
        if (!(p.flags & F_PENDING)) { r = RC_PENDING_NOT_PENDING; goto done; }
        int eq1 = PyObject_RichCompareBool(p.debit, debit, Py_EQ);
        int eq2 = eq1 > 0 ? PyObject_RichCompareBool(p.credit, credit, Py_EQ) : eq1;
        if (eq2 < 0) goto done;
        if (!eq2) { r = RC_PENDING_DIFFERENT_ACCOUNTS; goto done; }
        PyObject *status = PyDict_GetItemWithError(w->pend, p.id);
        if (status == NULL) { if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, p.id); goto done; }
        int st = -1;
        for (int k = 0; k < S_COUNT && st < 0; k++) {
            int eq = PyObject_RichCompareBool(status, g_status[k], Py_EQ);
            if (eq < 0) goto done;
            if (eq) st = k;
        }
        if (st == S_PENDING && p.timeout_s != 0
            && (__int128)w->now_ns >= (__int128)p.timestamp_ns + (__int128)p.timeout_s * NS_PER_S)
            st = S_EXPIRED;
        if (st == S_POSTED) { r = RC_PENDING_ALREADY_POSTED; goto done; }
        if (st == S_VOIDED) { r = RC_PENDING_ALREADY_VOIDED; goto done; }
        if (st == S_EXPIRED) { r = RC_PENDING_EXPIRED; goto done; }
        if ((flags & F_POST) && amount > p.amount) { r = RC_EXCEEDS_PENDING_AMOUNT; goto done; }
        if ((flags & F_VOID) && amount != p.amount) { r = RC_VOID_AMOUNT_MISMATCH; goto done; }
        /* engine._moved, resolving */
        long long posted = (flags & F_POST) ? amount : 0;
        nd[0] -= p.amount; nd[1] += posted;
        nc[2] -= p.amount; nc[3] += posted;
        pend_status = posted ? S_POSTED : S_VOIDED;
        pend_id = pending_id;
    } else {
        /* engine._limits */
        Acc *da = &w->acc[di], *ca = &w->acc[ci];
        if (da->dmnec && nd[0] + nd[1] + amount > nd[3] + da->limit) { r = RC_EXCEEDS_CREDITS; goto done; }
        if (ca->cmned && nc[2] + nc[3] + amount > nc[1] + ca->limit) { r = RC_EXCEEDS_DEBITS; goto done; }
        if (flags & F_PENDING) {
            nd[0] += amount; nc[2] += amount;
            pend_status = S_PENDING;
            pend_id = id;
            if (timeout_s != 0) { has_exp = 1; exp = w->now_ns + timeout_s * NS_PER_S; }
        } else {
            nd[1] += amount; nc[3] += amount;
        }
    }
    if (overflows(nd[0], nd[1], nd[2], nd[3]) || overflows(nc[0], nc[1], nc[2], nc[3])) {
        r = RC_OVERFLOWS_BALANCE;
        goto done;
    }
    if (nd[0] < 0 || nc[2] < 0) {
        PyErr_SetString(PyExc_AssertionError, "a pending balance would go negative");
        goto done;
    }
    /* commit (engine._Work.commit) and chain the row */
    long long dsum[4] = {(long long)nd[0], (long long)nd[1], (long long)nd[2], (long long)nd[3]};
    long long csum[4] = {(long long)nc[0], (long long)nc[1], (long long)nc[2], (long long)nc[3]};
    if (set_sums(w, di, dsum) || set_sums(w, ci, csum)) goto done;
    if (pend_status >= 0 && set_pending(w, pend_id, pend_status, has_exp, exp)) goto done;
    if (PyDict_SetItem(w->batch_tx, id, t)) goto done;
    if (w->in_chain && PyList_Append(w->tx_added, id)) goto done;
    if (w->capeff < w->neff + 2) {
        Py_ssize_t *e = PyMem_Realloc(w->eff, (size_t)(w->capeff * 2 + 2) * sizeof(Py_ssize_t));
        if (e == NULL) { PyErr_NoMemory(); goto done; }
        w->eff = e; w->capeff = w->capeff * 2 + 2;
    }
    w->eff[w->neff++] = di; w->eff[w->neff++] = ci;
    if (append_row(w, t, id, debit, credit, amount_obj, amount, flags, pending_id,
                   timeout_obj, timeout_s))
        goto done;
    r = RC_OK;
done:
    pend_clear(&p);
    Py_XDECREF(id); Py_XDECREF(debit); Py_XDECREF(credit);
    Py_XDECREF(amount_obj); Py_XDECREF(pending_id); Py_XDECREF(timeout_obj);
    return r;
}

/* Undo what an open chain did (engine._Work.restore). */
typedef struct { Py_ssize_t rows, neff, nplog; long long seq; PyObject *head; } Snap;

static int restore(Work *w, Snap *snap) {
    for (Py_ssize_t i = w->nsundo - 1; i >= 0; i--)
        memcpy(w->acc[w->sundo[i].idx].s, w->sundo[i].s, sizeof w->sundo[i].s);
    for (Py_ssize_t i = w->npundo - 1; i >= 0; i--) {
        PendUndo *u = &w->pundo[i];
        int rc = u->before ? PyDict_SetItem(w->pend, u->id, u->before) : PyDict_DelItem(w->pend, u->id);
        if (rc) return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(w->tx_added);
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyDict_DelItem(w->batch_tx, PyList_GET_ITEM(w->tx_added, i))) return -1;
    if (PyList_SetSlice(w->rows, snap->rows, PyList_GET_SIZE(w->rows), NULL)) return -1;
    for (Py_ssize_t i = snap->nplog; i < w->nplog; i++) Py_CLEAR(w->plog[i].id);
    w->nplog = snap->nplog;
    w->neff = snap->neff;
    w->seq = snap->seq;
    Py_INCREF(snap->head);
    Py_SETREF(w->head, snap->head);
    return 0;
}

static void end_chain(Work *w, Snap *snap) {
    w->nsundo = 0;
    for (Py_ssize_t i = 0; i < w->npundo; i++) { Py_CLEAR(w->pundo[i].id); Py_CLEAR(w->pundo[i].before); }
    w->npundo = 0;
    PyList_SetSlice(w->tx_added, 0, PyList_GET_SIZE(w->tx_added), NULL);
    Py_CLEAR(snap->head);
    w->in_chain = 0;
}

static PyObject *outputs(Work *w, PyObject *results) {
    PyObject *sums = PyDict_New(), *pendings = PyDict_New(), *out = NULL;
    if (sums == NULL || pendings == NULL) goto done;
    for (Py_ssize_t i = 0; i < w->neff; i++) w->acc[w->eff[i]].touched = 1;
    for (Py_ssize_t i = 0; i < w->nacc; i++) {
        Acc *a = &w->acc[i];
        if (!a->touched) continue;
        PyObject *v = Py_BuildValue("(LLLL)", a->s[0], a->s[1], a->s[2], a->s[3]);
        if (v == NULL || PyDict_SetItem(sums, a->id, v)) { Py_XDECREF(v); goto done; }
        Py_DECREF(v);
    }
    for (Py_ssize_t i = 0; i < w->nplog; i++) {
        PendLog *l = &w->plog[i];
        PyObject *exp, *old = PyDict_GetItemWithError(pendings, l->id);
        if (old == NULL && PyErr_Occurred()) goto done;
        if (old != NULL) exp = PyTuple_GET_ITEM(old, 1), Py_INCREF(exp);
        else if (l->has_exp) { if ((exp = PyLong_FromLongLong(l->exp)) == NULL) goto done; }
        else exp = Py_NewRef(Py_None);
        PyObject *v = PyTuple_Pack(2, g_status_str[l->status], exp);
        Py_DECREF(exp);
        if (v == NULL || PyDict_SetItem(pendings, l->id, v)) { Py_XDECREF(v); goto done; }
        Py_DECREF(v);
    }
    out = Py_BuildValue("(OOOOLO)", results, w->rows, sums, pendings, w->seq, w->head);
done:
    Py_XDECREF(sums); Py_XDECREF(pendings);
    return out;
}

/* Hand the rows not yet given to the sink to it, if there are at least `least` of them. */
static int flush(Work *w, Py_ssize_t least) {
    Py_ssize_t n = PyList_GET_SIZE(w->rows);
    if (w->sink == NULL || n - w->flushed < least || n == w->flushed) return 0;
    PyObject *chunk = PyList_GetSlice(w->rows, w->flushed, n);
    if (chunk == NULL) return -1;
    w->flushed = n;
    PyObject *r = PyObject_CallOneArg(w->sink, chunk);
    Py_DECREF(chunk);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}

static PyObject *apply_chain(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"accounts", "balances", "transfers", "pendings", "batch", "now_ns",
                             "seq", "prev_hash", "sink", "every", NULL};
    PyObject *accounts, *balances, *stored, *pendings, *batch, *now_obj, *prev, *sink = Py_None;
    long long seq;
    Py_ssize_t every = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!O!OOLU|On:apply_chain", kwlist,
                                     &PyDict_Type, &accounts, &PyDict_Type, &balances,
                                     &PyDict_Type, &stored, &PyDict_Type, &pendings, &batch,
                                     &now_obj, &seq, &prev, &sink, &every))
        return NULL;
    if (sink != Py_None && !PyCallable_Check(sink)) {
        PyErr_SetString(PyExc_TypeError, "sink must be callable or None");
        return NULL;
    }
    if (!g_configured) {
        PyErr_SetString(PyExc_RuntimeError, "call configure() first");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(prev)) {
        PyErr_SetString(PyExc_UnicodeEncodeError, "prev_hash must be ASCII");
        return NULL;
    }
    Work w = {0};
    PyObject *results = NULL, *seqfast = NULL, *out = NULL;
    Snap snap = {0};
    w.accounts = accounts; w.balances = balances; w.stored = stored; w.now_obj = now_obj;
    w.sink = sink == Py_None ? NULL : sink;
    w.every = every > 0 ? every : 1;
    w.now_ns = PyLong_AsLongLong(now_obj);
    if (w.now_ns == -1 && PyErr_Occurred()) goto done;
    if (w.now_ns < 0 || w.now_ns >= (1LL << 62)) {
        PyErr_SetString(PyExc_ValueError, "now_ns must be in 0 .. 2**62");
        goto done;
    }
    w.seq = seq;
    Py_INCREF(prev); w.head = prev;
    if ((w.acc_index = PyDict_New()) == NULL || (w.batch_tx = PyDict_New()) == NULL
        || (w.pend = PyDict_Copy(pendings)) == NULL || (w.rows = PyList_New(0)) == NULL
        || (w.tx_added = PyList_New(0)) == NULL || (w.md = EVP_MD_CTX_new()) == NULL)
        goto done;
    if ((seqfast = PySequence_Fast(batch, "the batch must be a sequence")) == NULL) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seqfast);
    PyObject **items = PySequence_Fast_ITEMS(seqfast);
    if ((results = PyList_New(n)) == NULL) goto done;
    Py_ssize_t chain_start = -1;
    int chain_failed = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        long long flags;
        if (field_ll(items[i], s_flags, &flags)) goto done;
        int linked = (flags & F_LINKED) != 0;
        if (chain_start < 0 && linked) {
            chain_start = i; chain_failed = 0;
            snap = (Snap){PyList_GET_SIZE(w.rows), w.neff, w.nplog, w.seq, Py_NewRef(w.head)};
            w.in_chain = 1;
        }
        int r;
        if (chain_failed) r = RC_LINKED_EVENT_FAILED;
        else if (linked && i == n - 1) r = RC_LINKED_EVENT_CHAIN_OPEN;
        else if ((r = apply_one(&w, items[i], flags)) < 0) goto done;
        PyList_SET_ITEM(results, i, Py_NewRef(g_results[r]));
        if (chain_start >= 0) {
            chain_failed = chain_failed || r != RC_OK;
            if (!linked || i == n - 1) {
                if (chain_failed) {
                    if (restore(&w, &snap)) goto done;
                    for (Py_ssize_t k = chain_start; k <= i; k++)
                        if (PyList_GET_ITEM(results, k) == g_results[RC_OK])
                            PyList_SetItem(results, k, Py_NewRef(g_results[RC_LINKED_EVENT_FAILED]));
                }
                end_chain(&w, &snap);
                chain_start = -1; chain_failed = 0;
            }
        }
        if (chain_start < 0 && flush(&w, w.every)) goto done;
    }
    if (flush(&w, 1)) goto done;
    out = outputs(&w, results);
done:
    if (w.in_chain) end_chain(&w, &snap);
    Py_XDECREF(results); Py_XDECREF(seqfast);
    work_free(&w);
    return out;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *results, *statuses;
    if (!PyArg_ParseTuple(args, "O!O!:configure", &PyTuple_Type, &results, &PyTuple_Type, &statuses))
        return NULL;
    if (PyTuple_GET_SIZE(results) != RC_COUNT || PyTuple_GET_SIZE(statuses) != S_COUNT) {
        PyErr_SetString(PyExc_ValueError, "configure(results in RESULT_NAMES order, "
                        "(pending, posted, voided, expired))");
        return NULL;
    }
    for (int k = 0; k < RC_COUNT; k++) Py_XSETREF(g_results[k], Py_NewRef(PyTuple_GET_ITEM(results, k)));
    for (int k = 0; k < S_COUNT; k++) {
        PyObject *text = PyObject_Str(PyTuple_GET_ITEM(statuses, k));
        if (text == NULL) return NULL;
        Py_XSETREF(g_status[k], Py_NewRef(PyTuple_GET_ITEM(statuses, k)));
        Py_XSETREF(g_status_str[k], text);
    }
    g_configured = 1;
    Py_RETURN_NONE;
}

/* -- binary COPY ----------------------------------------------------------------------------- */

typedef struct { char *p; Py_ssize_t n, cap; } Bytes;

static int bytes_reserve(Bytes *b, Py_ssize_t more) {
    if (b->n + more <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more) {
        if (cap > PY_SSIZE_T_MAX / 2) { PyErr_NoMemory(); return -1; }
        cap *= 2;
    }
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) { PyErr_NoMemory(); return -1; }
    b->p = p; b->cap = cap;
    return 0;
}

static void put_be(Bytes *b, uint64_t v, int width) {
    for (int k = width - 1; k >= 0; k--) b->p[b->n++] = (char)((v >> (8 * k)) & 0xff);
}

static PyObject *copy_binary(PyObject *self, PyObject *args) {
    PyObject *rows;
    const char *layout;
    Py_ssize_t ncols;
    if (!PyArg_ParseTuple(args, "O!y#", &PyList_Type, &rows, &layout, &ncols)) return NULL;
    if (ncols <= 0 || ncols > 1600) {
        PyErr_SetString(PyExc_ValueError, "layout must name 1 to 1600 columns");
        return NULL;
    }
    for (Py_ssize_t c = 0; c < ncols; c++)
        if (layout[c] != 'q' && layout[c] != 'i' && layout[c] != 't') {
            PyErr_Format(PyExc_ValueError, "layout byte %zd is %c, not q, i or t", c, layout[c]);
            return NULL;
        }
    Bytes b = {NULL, 0, 0};
    Py_ssize_t nrows = PyList_GET_SIZE(rows);
    for (Py_ssize_t r = 0; r < nrows; r++) {
        PyObject *row = PyList_GET_ITEM(rows, r);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != ncols) {
            PyErr_Format(PyExc_ValueError, "row %zd is not a tuple of %zd values", r, ncols);
            goto fail;
        }
        if (bytes_reserve(&b, 2)) goto fail;
        put_be(&b, (uint64_t)ncols, 2);
        for (Py_ssize_t c = 0; c < ncols; c++) {
            PyObject *v = PyTuple_GET_ITEM(row, c);
            if (v == Py_None) {
                if (bytes_reserve(&b, 4)) goto fail;
                put_be(&b, 0xffffffffu, 4);
                continue;
            }
            if (layout[c] == 't') {
                Py_ssize_t len;
                const char *u = PyUnicode_Check(v) ? PyUnicode_AsUTF8AndSize(v, &len) : NULL;
                if (u == NULL) {
                    if (!PyErr_Occurred())
                        PyErr_Format(PyExc_TypeError, "row %zd column %zd: text must be str", r, c);
                    goto fail;
                }
                if (len > INT32_MAX) { PyErr_SetString(PyExc_OverflowError, "text too long"); goto fail; }
                if (bytes_reserve(&b, 4 + len)) goto fail;
                put_be(&b, (uint64_t)(uint32_t)len, 4);
                memcpy(b.p + b.n, u, (size_t)len);
                b.n += len;
                continue;
            }
            if (!PyLong_Check(v)) {
                PyErr_Format(PyExc_TypeError, "row %zd column %zd: an integer column needs an int", r, c);
                goto fail;
            }
            int overflow;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (x == -1 && PyErr_Occurred()) goto fail;
            int width = layout[c] == 'q' ? 8 : 4;
            if (overflow || (width == 4 && (x < INT32_MIN || x > INT32_MAX))) {
                PyErr_Format(PyExc_OverflowError, "row %zd column %zd: out of range for int%d", r, c, width);
                goto fail;
            }
            if (bytes_reserve(&b, 4 + width)) goto fail;
            put_be(&b, (uint64_t)width, 4);
            put_be(&b, (uint64_t)x, width);
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(b.p ? b.p : "", b.n);
    PyMem_Free(b.p);
    return out;
fail:
    PyMem_Free(b.p);
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Set the Result and PendingStatus members."},
    {"apply_chain", (PyCFunction)(void (*)(void))apply_chain, METH_VARARGS | METH_KEYWORDS,
     "apply_chain(accounts, balances, transfers, pendings, batch, now_ns, seq, prev_hash, "
     "sink=None, every=0) -> (results, rows, sums, pendings, seq, head_hash)"},
    {"copy_binary", copy_binary, METH_VARARGS,
     "copy_binary(rows, layout) -> the rows in PostgreSQL's binary COPY tuple format"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ledger_native",
                                    "Compiled batch engine and hash chain of the ledger stores.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__ledger_native(void) {
#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL
    INTERN(s_id, "id"); INTERN(s_debit, "debit_account_id"); INTERN(s_credit, "credit_account_id");
    INTERN(s_amount, "amount"); INTERN(s_code, "code"); INTERN(s_flags, "flags");
    INTERN(s_pending_id, "pending_id"); INTERN(s_timeout_s, "timeout_s");
    INTERN(s_metadata, "metadata"); INTERN(s_timestamp_ns, "timestamp_ns"); INTERN(s_unit, "unit");
    INTERN(s_dmnec, "debits_must_not_exceed_credits"); INTERN(s_cmned, "credits_must_not_exceed_debits");
    INTERN(s_limit, "credit_limit"); INTERN(s_dp, "debits_pending"); INTERN(s_dpo, "debits_posted");
    INTERN(s_cp, "credits_pending"); INTERN(s_cpo, "credits_posted"); INTERN(s_same_body, "same_body");
    INTERN(s_kind_transfer, "transfer");
#undef INTERN
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    g_sha256 = (EVP_MD *)EVP_sha256();
#endif
    if (g_sha256 == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    PyObject *names = PyTuple_New(RC_COUNT);
    if (names == NULL) { Py_DECREF(m); return NULL; }
    for (int k = 0; k < RC_COUNT; k++) {
        PyObject *s = PyUnicode_FromString(RESULT_NAMES[k]);
        if (s == NULL) { Py_DECREF(names); Py_DECREF(m); return NULL; }
        PyTuple_SET_ITEM(names, k, s);
    }
    if (PyModule_AddObject(m, "RESULT_NAMES", names)) { Py_DECREF(names); Py_DECREF(m); return NULL; }
    return m;
}
