/*
 * A minimal, strict safetensors reader and writer for float32 tensors: the
 * files fastdl.save(model.state_dict(), path) writes and fastdl.load reads.
 *
 * File layout: u64 little-endian header length H, H bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
 *    ..., "__metadata__": {"fastdl": "<json>"}}
 * (padded with spaces to a multiple of 8), then the data; offsets are bytes
 * relative to the end of the header.
 *
 * The reader trusts nothing in the file: the header length is checked
 * against the file size before it is read, every offset pair against the
 * data size and the tensor's element count before any data is read, and
 * the JSON parser is bounded by the header end at every step. Tensor data is
 * read straight into the caller's buffers. The host is assumed to be
 * little-endian, like the format (checked at run time).
 */
#define _FILE_OFFSET_BITS 64
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastdl.h"
#include "train_internal.h"

#define NAME_MAX_LEN 255

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static int valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return 0;
    }
    return n > 0 && n <= NAME_MAX_LEN;
}

/* Element count of a shape, or -1 on a negative dim or overflow. */
static int64_t numel_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] != 0 && n > INT64_MAX / 4 / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

/* ---- writer ------------------------------------------------------------ */

/* appends printf-formatted text; on failure sets oom and drops the rest */
void fdl_strbuf_put(fdl_strbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int k = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if ((size_t)k < room) { b->len += (size_t)k; return; }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap <= b->len + (size_t)k) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, f) == n;
}

int fdl_safetensors_save(const char *path, const fdl_tensor_ref *t, int n)
{
    fdl__clear_error();
    return fdl__safetensors_save_meta(path, t, n, NULL);
}

int fdl__safetensors_save_meta(const char *path, const fdl_tensor_ref *t, int n,
                               const char *model_json)
{
    if (!path || (!t && n > 0)) return FDL_ERR_NULL;
    if (n < 0) return FDL_ERR_ARG;
    if (!host_is_little_endian())
        return fdl__fail(FDL_ERR_ARG, "safetensors: big-endian hosts are not supported");
    for (int i = 0; i < n; i++) {
        if (!t[i].name || !valid_name(t[i].name))
            return fdl__fail(FDL_ERR_ARG, "safetensors: tensor %d has an invalid name", i);
        if (t[i].ndim < 0 || t[i].ndim > 8)
            return fdl__fail(FDL_ERR_ARG, "safetensors: %s: ndim %d", t[i].name, t[i].ndim);
        int64_t ne = numel_of(t[i].ndim, t[i].shape);
        if (ne < 0)
            return fdl__fail(FDL_ERR_ARG, "safetensors: %s: invalid shape", t[i].name);
        if (ne > 0 && !t[i].data) return FDL_ERR_NULL;
        if (!strcmp(t[i].name, "__metadata__"))
            return fdl__fail(FDL_ERR_ARG, "safetensors: reserved name __metadata__");
        for (int j = 0; j < i; j++)
            if (!strcmp(t[i].name, t[j].name))
                return fdl__fail(FDL_ERR_ARG, "safetensors: duplicate name %s", t[i].name);
    }

    fdl_strbuf h = {0};
    int64_t off = 0;
    fdl_strbuf_put(&h, "{");
    for (int i = 0; i < n; i++) {
        int64_t bytes = numel_of(t[i].ndim, t[i].shape) * 4;
        fdl_strbuf_put(&h, "\"%s\":{\"dtype\":\"F32\",\"shape\":[", t[i].name);
        for (int d = 0; d < t[i].ndim; d++)
            fdl_strbuf_put(&h, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
        fdl_strbuf_put(&h, "],\"data_offsets\":[%lld,%lld]},", (long long)off, (long long)(off + bytes));
        off += bytes;
    }
    /* fastdl's structure record: a flat dict of tensor references, which
     * fastdl.load turns back into {name: Tensor}. Names need no escaping
     * (valid_name), but the record is a JSON string inside JSON. */
    fdl_strbuf_put(&h, "\"__metadata__\":{\"fastdl\":\"{\\\"format\\\": 1, \\\"structure\\\": {");
    for (int i = 0; i < n; i++)
        fdl_strbuf_put(&h, "%s\\\"%s\\\": {\\\"__tensor__\\\": \\\"%s\\\"}", i ? ", " : "",
               t[i].name, t[i].name);
    fdl_strbuf_put(&h, "}}\"");
    if (model_json) {
        /* the architecture record, a JSON string inside the JSON header */
        fdl_strbuf_put(&h, ",\"fastdl_model\":\"");
        for (const char *q = model_json; *q; q++) {
            unsigned char ch = (unsigned char)*q;
            if (ch == '"' || ch == '\\') fdl_strbuf_put(&h, "\\%c", ch);
            else if (ch < 0x20) fdl_strbuf_put(&h, "\\u%04x", ch);
            else fdl_strbuf_put(&h, "%c", ch);
        }
        fdl_strbuf_put(&h, "\"");
    }
    fdl_strbuf_put(&h, "}}");
    while (!h.oom && h.len % 8) fdl_strbuf_put(&h, " ");
    if (h.oom) {
        free(h.p);
        return fdl__fail(FDL_ERR_IO, "safetensors: out of memory building the header");
    }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) { free(h.p); return fdl__fail(FDL_ERR_IO, "safetensors: out of memory"); }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(h.p);
        free(tmp);
        return fdl__fail(FDL_ERR_IO, "safetensors: cannot create a file next to %s: %s", path,
                         strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    int ok = f != NULL;
    if (ok) {
        uint64_t hl = (uint64_t)h.len;   /* little-endian host: bytes as stored */
        ok = write_all(f, &hl, 8) && write_all(f, h.p, h.len);
        for (int i = 0; ok && i < n; i++)
            ok = write_all(f, t[i].data, (size_t)numel_of(t[i].ndim, t[i].shape) * 4);
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        ok = (fclose(f) == 0) && ok;
    } else {
        close(fd);
    }
    int e = errno;
    /* rename() replaces the target atomically: readers see the old file or
     * the complete new one, never a partial write. */
    if (ok && rename(tmp, path) != 0) { ok = 0; e = errno; }
    if (!ok) unlink(tmp);
    free(h.p);
    free(tmp);
    if (!ok)
        return fdl__fail(FDL_ERR_IO, "safetensors: writing %s failed: %s", path, strerror(e));
    return FDL_OK;
}

/* ---- reader ------------------------------------------------------------ */

typedef struct {
    const char *p, *end;
} cursor;

static void ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int expect(cursor *c, char ch)
{
    ws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}

static int peek(cursor *c, char ch)
{
    ws(c);
    return c->p < c->end && *c->p == ch;
}

/* A JSON string into out[cap] (NUL-terminated). Escapes are decoded; \u
 * escapes outside ASCII are kept as '?', which only matters for names that
 * valid_name() would reject anyway. Longer strings fail when out != NULL. */
static int parse_string(cursor *c, char *out, size_t cap)
{
    if (!expect(c, '"')) return 0;
    size_t n = 0;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '"') {
            if (out) out[n] = '\0';
            return 1;
        }
        if ((unsigned char)ch < 0x20) return 0;
        if (ch == '\\') {
            unsigned v;
            if (!fdl__json_escape(&c->p, c->end, &v)) return 0;
            ch = v < 0x80 ? (char)v : '?';
        }
        if (out) {
            if (n + 1 >= cap) return 0;
            out[n++] = ch;
        }
    }
    return 0;
}

/* A non-negative integer that fits in int64. */
static int parse_uint(cursor *c, int64_t *v)
{
    ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return 0;
    int64_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int d = *c->p++ - '0';
        if (x > (INT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* Any JSON value, skipped; depth-limited so a hostile header cannot
 * exhaust the stack. */
static int skip_value(cursor *c, int depth)
{
    if (depth > 64) return 0;
    ws(c);
    if (c->p >= c->end) return 0;
    char ch = *c->p;
    if (ch == '"') return parse_string(c, NULL, 0);
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->p++;
        if (expect(c, close)) return 1;
        do {
            if (ch == '{' && !(parse_string(c, NULL, 0) && expect(c, ':'))) return 0;
            if (!skip_value(c, depth + 1)) return 0;
        } while (expect(c, ','));
        return expect(c, close);
    }
    /* number, true, false, null */
    const char *s = c->p;
    while (c->p < c->end && strchr("+-.0123456789eEtruefalsn", *c->p)) c->p++;
    return c->p > s;
}

typedef struct {
    int found;
    int64_t ndim, shape[8], begin, end;
} entry;

static int parse_entry(cursor *c, entry *e, char *dtype, size_t dcap)
{
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    char key[32];
    if (!expect(c, '{')) return 0;
    if (expect(c, '}')) return 0;
    do {
        if (!parse_string(c, key, sizeof key) || !expect(c, ':')) return 0;
        if (!strcmp(key, "dtype")) {
            if (have_dtype++ || !parse_string(c, dtype, dcap)) return 0;
        } else if (!strcmp(key, "shape")) {
            if (have_shape++ || !expect(c, '[')) return 0;
            e->ndim = 0;
            if (!expect(c, ']')) {
                do {
                    if (e->ndim >= 8 || !parse_uint(c, &e->shape[e->ndim])) return 0;
                    e->ndim++;
                } while (expect(c, ','));
                if (!expect(c, ']')) return 0;
            }
        } else if (!strcmp(key, "data_offsets")) {
            if (have_offsets++ || !expect(c, '[') || !parse_uint(c, &e->begin) ||
                !expect(c, ',') || !parse_uint(c, &e->end) || !expect(c, ']'))
                return 0;
        } else {
            return 0;
        }
    } while (expect(c, ','));
    return expect(c, '}') && have_dtype && have_shape && have_offsets;
}

static int read_header(FILE *f, const char *path, char **out, int64_t *hlen, int64_t *data_size)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return fdl__fail(FDL_ERR_IO, "safetensors: cannot stat %s: %s", path, strerror(errno));
    int64_t fsize = (int64_t)sb.st_size;
    unsigned char lenb[8];
    if (fsize < 8 || fread(lenb, 1, 8, f) != 8)
        return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s is truncated: %lld bytes, not even a "
                         "header length", path, (long long)fsize);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | lenb[i];
    if (hl < 2 || hl > FDL_ST_MAX_HEADER || (int64_t)hl > fsize - 8)
        return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s is truncated or corrupt: header "
                         "length %llu, file size %lld", path, (unsigned long long)hl,
                         (long long)fsize);
    char *h = malloc((size_t)hl);
    if (!h) return fdl__fail(FDL_ERR_IO, "safetensors: out of memory for the header");
    if (fread(h, 1, (size_t)hl, f) != (size_t)hl) {
        free(h);
        return fdl__fail(FDL_ERR_IO, "safetensors: cannot read the header of %s", path);
    }
    *out = h;
    *hlen = (int64_t)hl;
    *data_size = fsize - 8 - (int64_t)hl;
    return FDL_OK;
}

/* Parses the header, matching each tensor entry to t[]; fills e[]. */
static int parse_header(const char *path, const char *h, int64_t hlen,
                        const fdl_tensor_ref *t, int n, entry *e)
{
    cursor c = {h, h + hlen};
    char name[NAME_MAX_LEN + 1], dtype[16];
    if (!expect(&c, '{'))
        return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: header is not a JSON object", path);
    if (!expect(&c, '}')) {
        do {
            if (!parse_string(&c, name, sizeof name) || !expect(&c, ':'))
                return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: corrupt header near byte %lld",
                                 path, (long long)(c.p - h + 8));
            if (!strcmp(name, "__metadata__")) {
                if (!peek(&c, '{') || !skip_value(&c, 0))
                    return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: corrupt __metadata__",
                                     path);
                continue;
            }
            int k = -1;
            for (int i = 0; i < n; i++)
                if (!strcmp(t[i].name, name)) { k = i; break; }
            if (k < 0)
                return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: unexpected tensor \"%s\"",
                                 path, name);
            if (e[k].found)
                return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: tensor \"%s\" appears twice",
                                 path, name);
            if (!parse_entry(&c, &e[k], dtype, sizeof dtype))
                return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: corrupt entry for \"%s\"",
                                 path, name);
            if (strcmp(dtype, "F32"))
                return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: \"%s\" has dtype %s, "
                                 "expected F32", path, name, dtype);
            e[k].found = 1;
        } while (expect(&c, ','));
        if (!expect(&c, '}'))
            return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: corrupt header near byte %lld",
                             path, (long long)(c.p - h + 8));
    }
    ws(&c);
    if (c.p != c.end)
        return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: trailing bytes after the header",
                         path);
    return FDL_OK;
}

static int check_entries(const char *path, const fdl_tensor_ref *t, int n, const entry *e,
                         int64_t data_size)
{
    for (int i = 0; i < n; i++) {
        if (!e[i].found)
            return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: missing tensor \"%s\"", path,
                             t[i].name);
        int same = e[i].ndim == t[i].ndim;
        for (int d = 0; same && d < t[i].ndim; d++) same = e[i].shape[d] == t[i].shape[d];
        if (!same) {
            char got[160] = "", want[160] = "";
            size_t gl = 0, wl = 0;
            for (int d = 0; d < e[i].ndim; d++)
                gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%lld", d ? "," : "",
                                       (long long)e[i].shape[d]);
            for (int d = 0; d < t[i].ndim; d++)
                wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s%lld", d ? "," : "",
                                       (long long)t[i].shape[d]);
            return fdl__fail(FDL_ERR_SHAPE, "safetensors: %s: \"%s\" has shape [%s] in the "
                             "file, expected [%s]", path, t[i].name, got, want);
        }
        int64_t bytes = numel_of(t[i].ndim, t[i].shape) * 4;
        if (e[i].begin > e[i].end || e[i].end > data_size || e[i].end - e[i].begin != bytes)
            return fdl__fail(FDL_ERR_FORMAT, "safetensors: %s: \"%s\" has data offsets "
                             "[%lld, %lld] for %lld bytes in a data section of %lld bytes "
                             "(truncated or corrupt)", path, t[i].name,
                             (long long)e[i].begin, (long long)e[i].end, (long long)bytes,
                             (long long)data_size);
    }
    return FDL_OK;
}

int fdl_safetensors_load(const char *path, const fdl_tensor_ref *t, int n)
{
    fdl__clear_error();
    if (!path || (!t && n > 0)) return FDL_ERR_NULL;
    if (n < 0 || n > 1 << 20) return FDL_ERR_ARG;
    if (!host_is_little_endian())
        return fdl__fail(FDL_ERR_ARG, "safetensors: big-endian hosts are not supported");
    for (int i = 0; i < n; i++) {
        if (!t[i].name) return FDL_ERR_NULL;
        if (t[i].ndim < 0 || t[i].ndim > 8 || numel_of(t[i].ndim, t[i].shape) < 0)
            return fdl__fail(FDL_ERR_ARG, "safetensors: %s: invalid shape", t[i].name);
        if (numel_of(t[i].ndim, t[i].shape) > 0 && !t[i].data) return FDL_ERR_NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return fdl__fail(FDL_ERR_IO, "safetensors: cannot open %s: %s", path, strerror(errno));

    char *h = NULL;
    int64_t hlen = 0, data_size = 0;
    entry *e = NULL;
    int st = read_header(f, path, &h, &hlen, &data_size);
    if (st == FDL_OK) {
        e = calloc((size_t)(n > 0 ? n : 1), sizeof *e);
        if (!e) st = fdl__fail(FDL_ERR_IO, "safetensors: out of memory");
    }
    if (st == FDL_OK) st = parse_header(path, h, hlen, t, n, e);
    if (st == FDL_OK) st = check_entries(path, t, n, e, data_size);
    for (int i = 0; st == FDL_OK && i < n; i++) {
        size_t bytes = (size_t)(e[i].end - e[i].begin);
        if (bytes == 0) continue;
        if (fseeko(f, (off_t)(8 + hlen + e[i].begin), SEEK_SET) != 0 ||
            fread(t[i].data, 1, bytes, f) != bytes)
            st = fdl__fail(FDL_ERR_IO, "safetensors: %s: cannot read \"%s\"", path, t[i].name);
    }
    free(e);
    free(h);
    fclose(f);
    return st;
}

int fdl__safetensors_header(const char *path, char **header, int64_t *n)
{
    *header = NULL;
    *n = 0;
    if (!host_is_little_endian())
        return fdl__fail(FDL_ERR_ARG, "safetensors: big-endian hosts are not supported");
    FILE *f = fopen(path, "rb");
    if (!f) return fdl__fail(FDL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int64_t data_size;
    int st = read_header(f, path, header, n, &data_size);
    fclose(f);
    return st;
}
