/*
 * Reading MNIST IDX files (gzip or plain: zlib's gzread passes plain files
 * through) into float images scaled to [0, 1] and int64 labels. Example
 * code, so it allocates and prints freely.
 *
 * Images: magic 0x00000803, count, rows, cols (big-endian u32), then bytes.
 * Labels: magic 0x00000801, count, then bytes.
 */
#ifndef MNIST_IDX_H
#define MNIST_IDX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

typedef struct {
    int64_t n, dim;     /* samples, pixels per sample */
    float *x;           /* [n, dim], pixel / 255 */
    int64_t *y;         /* [n] */
} mnist_set;

static int idx_read_u32(gzFile f, uint32_t *v)
{
    unsigned char b[4];
    if (gzread(f, b, 4) != 4) return 0;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 1;
}

/* Loads "<dir>/<prefix>-images-idx3-ubyte[.gz]" and the labels; keeps at
 * most `limit` samples when limit > 0. Returns 0 on success. */
static int mnist_load(mnist_set *s, const char *dir, const char *prefix, int64_t limit)
{
    char path[1024];
    uint32_t magic, n, rows, cols, nl;
    gzFile f;
    const char *ext[2] = {".gz", ""};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, ext[i]);
        if ((f = gzopen(path, "rb"))) break;
    }
    if (!f) { fprintf(stderr, "cannot open %s/%s-images-idx3-ubyte[.gz]\n", dir, prefix); return 1; }
    if (!idx_read_u32(f, &magic) || magic != 0x803 || !idx_read_u32(f, &n) ||
        !idx_read_u32(f, &rows) || !idx_read_u32(f, &cols)) {
        fprintf(stderr, "%s: not an IDX image file\n", path);
        gzclose(f);
        return 1;
    }
    s->n = limit > 0 && limit < (int64_t)n ? limit : (int64_t)n;
    s->dim = (int64_t)rows * cols;
    size_t bytes = (size_t)(s->n * s->dim);
    unsigned char *raw = malloc(bytes);
    s->x = malloc(bytes * sizeof(float));
    s->y = malloc((size_t)s->n * sizeof(int64_t));
    if (!raw || !s->x || !s->y || gzread(f, raw, (unsigned)bytes) != (int)bytes) {
        fprintf(stderr, "%s: truncated\n", path);
        gzclose(f);
        free(raw);
        return 1;
    }
    gzclose(f);
    for (size_t i = 0; i < bytes; i++) s->x[i] = (float)raw[i] / 255.0f;

    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, ext[i]);
        if ((f = gzopen(path, "rb"))) break;
    }
    if (!f) { fprintf(stderr, "cannot open %s/%s-labels-idx1-ubyte[.gz]\n", dir, prefix); free(raw); return 1; }
    if (!idx_read_u32(f, &magic) || magic != 0x801 || !idx_read_u32(f, &nl) || nl != n ||
        gzread(f, raw, (unsigned)s->n) != (int)s->n) {
        fprintf(stderr, "%s: not a matching IDX label file\n", path);
        gzclose(f);
        free(raw);
        return 1;
    }
    gzclose(f);
    for (int64_t i = 0; i < s->n; i++) s->y[i] = raw[i];
    free(raw);
    return 0;
}

static void mnist_free(mnist_set *s)
{
    free(s->x);
    free(s->y);
    s->x = NULL;
    s->y = NULL;
}

#endif
