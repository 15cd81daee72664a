/* Shared by the csrc/train/ sources: the thread-local error text behind
 * fdl_train_last_error(). */
#ifndef FDL_TRAIN_INTERNAL_H
#define FDL_TRAIN_INTERNAL_H

#include "fastdl.h"

/* Formats into the thread-local message and returns `status`, so a failure
 * reads `return fdl__fail(FDL_ERR_FORMAT, "...", ...);`. */
int fdl__fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), visibility("hidden")));
void fdl__clear_error(void) __attribute__((visibility("hidden")));

#define FDL_HIDDEN __attribute__((visibility("hidden")))

/* JSON tree (json.c): objects keep their keys in order. */
typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jval {
    jtype type;
    double num;            /* J_NUM, J_BOOL (0/1) */
    char *str;             /* J_STR */
    int n;                 /* J_ARR, J_OBJ: items */
    struct jval *items;
    char **keys;           /* J_OBJ */
} jval;
/* 1 on success (free with fdl__json_free), 0 on malformed text. */
int fdl__json_parse(const char *s, size_t n, jval *out) FDL_HIDDEN;
void fdl__json_free(jval *v) FDL_HIDDEN;
const jval *fdl__json_get(const jval *obj, const char *key) FDL_HIDDEN;
/* one JSON escape after its backslash, for the header reader in safetensors.c too */
int fdl__json_escape(const char **p, const char *end, unsigned *v) FDL_HIDDEN;

/* safetensors.c: the JSON header of a file (malloc'ed, *n bytes) after the
 * length and size checks; and a save that adds `model_json` to the
 * metadata under "fastdl_model" (NULL: none). */
int fdl__safetensors_header(const char *path, char **header, int64_t *n) FDL_HIDDEN;
int fdl__safetensors_save_meta(const char *path, const fdl_tensor_ref *t, int n,
                               const char *model_json) FDL_HIDDEN;

/* A growing text buffer (the safetensors JSON header, the model architecture):
 * fdl_strbuf_put appends printf-formatted text; on failure it sets oom and
 * drops the rest, so a writer checks once at the end. Free p when done. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} fdl_strbuf;

void fdl_strbuf_put(fdl_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
