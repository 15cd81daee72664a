/*
 * A small, strict JSON reader for the architecture record of model files
 * (csrc/train/model.c). It builds a tree of jval nodes from a bounded
 * buffer: depth is limited (a hostile file cannot exhaust the stack),
 * every read is checked against the end of the buffer, strings are copied
 * NUL-terminated (escapes decoded; \u outside ASCII becomes '?').
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"

#define JSON_MAX_DEPTH 32

typedef struct {
    const char *p, *end;
} jcur;

static void jws(jcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int jlit(jcur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n)) return 0;
    c->p += n;
    return 1;
}

/* One escape sequence after a backslash (*p points past the backslash):
 * its code unit in *v ( \uXXXX gives the 16-bit value), *p moved past it.
 * 0 when the sequence is not valid JSON. */
int fdl__json_escape(const char **p, const char *end, unsigned *v)
{
    if (*p >= end) return 0;
    char e = *(*p)++;
    switch (e) {
    case '"': case '\\': case '/': *v = (unsigned char)e; return 1;
    case 'b': *v = '\b'; return 1;
    case 'f': *v = '\f'; return 1;
    case 'n': *v = '\n'; return 1;
    case 'r': *v = '\r'; return 1;
    case 't': *v = '\t'; return 1;
    case 'u':
        if (end - *p < 4) return 0;
        *v = 0;
        for (int i = 0; i < 4; i++) {
            char h = *(*p)++;
            *v <<= 4;
            if (h >= '0' && h <= '9') *v |= (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f') *v |= (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') *v |= (unsigned)(h - 'A' + 10);
            else return 0;
        }
        return 1;
    default: return 0;
    }
}

static char *jstring(jcur *c)
{
    if (c->p >= c->end || *c->p != '"') return NULL;
    c->p++;
    const char *s = c->p;
    size_t cap = 0;
    while (s < c->end && *s != '"') { if (*s == '\\') s++; s++; cap++; }
    if (s >= c->end) return NULL;
    char *out = malloc(cap + 1), *o = out;
    if (!out) return NULL;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if ((unsigned char)ch < 0x20) { free(out); return NULL; }
        if (ch == '\\') {
            unsigned v;
            if (!fdl__json_escape(&c->p, c->end, &v)) { free(out); return NULL; }
            ch = v < 0x80 && v > 0 ? (char)v : '?';
        }
        *o++ = ch;
    }
    if (c->p >= c->end) { free(out); return NULL; }
    c->p++;
    *o = '\0';
    return out;
}

static int jvalue(jcur *c, jval *v, int depth);

static int jcontainer(jcur *c, jval *v, int depth, int obj)
{
    char close = obj ? '}' : ']';
    c->p++;
    v->type = obj ? J_OBJ : J_ARR;
    jws(c);
    if (c->p < c->end && *c->p == close) { c->p++; return 1; }
    int cap = 0;
    for (;;) {
        if (v->n == cap) {
            int nc = cap ? 2 * cap : 4;
            if (nc > (1 << 20)) return 0;
            jval *it = realloc(v->items, sizeof *it * (size_t)nc);
            if (!it) return 0;
            v->items = it;
            if (obj) {
                char **k = realloc(v->keys, sizeof *k * (size_t)nc);
                if (!k) return 0;
                v->keys = k;
            }
            cap = nc;
        }
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        if (obj) {
            jws(c);
            char *k = jstring(c);
            if (!k) return 0;
            v->keys[v->n] = k;
            jws(c);
            if (c->p >= c->end || *c->p != ':') { v->n++; return 0; }
            c->p++;
        }
        v->n++;
        if (!jvalue(c, &v->items[v->n - 1], depth + 1)) return 0;
        jws(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == close) { c->p++; return 1; }
        return 0;
    }
}

static int jvalue(jcur *c, jval *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > JSON_MAX_DEPTH) return 0;
    jws(c);
    if (c->p >= c->end) return 0;
    char ch = *c->p;
    if (ch == '{' || ch == '[') return jcontainer(c, v, depth, ch == '{');
    if (ch == '"') {
        v->type = J_STR;
        return (v->str = jstring(c)) != NULL;
    }
    if (jlit(c, "null")) { v->type = J_NULL; return 1; }
    if (jlit(c, "true")) { v->type = J_BOOL; v->num = 1; return 1; }
    if (jlit(c, "false")) { v->type = J_BOOL; v->num = 0; return 1; }
    if (jlit(c, "NaN")) { v->type = J_NUM; v->num = NAN; return 1; }
    if (jlit(c, "Infinity")) { v->type = J_NUM; v->num = INFINITY; return 1; }
    if (jlit(c, "-Infinity")) { v->type = J_NUM; v->num = -INFINITY; return 1; }
    char buf[64];
    size_t n = 0;
    while (c->p < c->end && strchr("+-.0123456789eE", *c->p) && n < sizeof buf - 1)
        buf[n++] = *c->p++;
    buf[n] = '\0';
    if (n == 0) return 0;
    char *e;
    v->num = strtod(buf, &e);
    if (*e) return 0;
    v->type = J_NUM;
    return 1;
}

void fdl__json_free(jval *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        fdl__json_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

int fdl__json_parse(const char *s, size_t n, jval *out)
{
    jcur c = {s, s + n};
    if (!jvalue(&c, out, 0)) { fdl__json_free(out); return 0; }
    jws(&c);
    if (c.p != c.end) { fdl__json_free(out); return 0; }
    return 1;
}

const jval *fdl__json_get(const jval *obj, const char *key)
{
    if (!obj || obj->type != J_OBJ) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->items[i];
    return NULL;
}
