/*
 * test_data.c — the data kernels called from C, as a C user would:
 * status codes of fdl_gather_rows, and a seeded crop replayed from its
 * drawn offsets with the deterministic kernel. Exit status 0 = pass.
 */
#include <stdio.h>
#include <string.h>

#include "fastdl.h"

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);        \
            return 1;                                                      \
        }                                                                  \
    } while (0)

int main(void) {
    float src[5][3], out[3][3];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++) src[i][j] = (float)(10 * i + j);
    int64_t idx[3] = {4, 0, -2};
    CHECK(fdl_gather_rows(out, src, idx, 3, 5, sizeof src[0], sizeof src[0]) == FDL_OK);
    CHECK(out[0][2] == 42.0f && out[1][0] == 0.0f && out[2][1] == 31.0f);

    memset(out, 0xff, sizeof out);
    int64_t bad[3] = {1, 5, 2};
    CHECK(fdl_gather_rows(out, src, bad, 3, 5, sizeof src[0], sizeof src[0]) == FDL_ERR_ARG);
    unsigned char untouched[sizeof out];
    memset(untouched, 0xff, sizeof untouched);
    CHECK(memcmp(out, untouched, sizeof out) == 0);
    CHECK(fdl_gather_rows(NULL, src, idx, 3, 5, sizeof src[0], sizeof src[0]) == FDL_ERR_NULL);

    enum { N = 4, C = 2, H = 6, W = 5, OH = 6, OW = 5, P = 2 };
    static float x[N * C * H * W], a[N * C * OH * OW], b[N * C * OH * OW];
    for (int i = 0; i < N * C * H * W; i++) x[i] = (float)i;
    int64_t off[2 * N];
    CHECK(fdl_random_crop_f32(a, off, x, N, C, H, W, OH, OW, P, P, P, P, -1.0f, 7, 3) == FDL_OK);
    for (int s = 0; s < N; s++)
        CHECK(off[2 * s] >= 0 && off[2 * s] <= 2 * P &&
              off[2 * s + 1] >= 0 && off[2 * s + 1] <= 2 * P);
    fdl_crop_f32(b, x, off, N, C, H, W, OH, OW, P, P, -1.0f);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(fdl_random_crop_f32(a, off, x, N, C, H, W, H + 5, OW, P, P, P, P, 0.0f, 7, 3)
          == FDL_ERR_SHAPE);
    CHECK(fdl_flip_f32(a, x, NULL, N, C, H, W, 1) == FDL_ERR_ARG);
    printf("ok\n");
    return 0;
}
