/*
 * augment.c — seeded augmentation of float32 image batches.
 *
 * Legend: N samples, C channels, H x W input, OH x OW crop; NCHW,
 * C-contiguous. Each kernel threads over output rows (sample, channel, row),
 * which are independent, so any thread count writes the same bytes. Rotation
 * and noise are compute-bound and thread like other kernels; flip and crop are
 * copies and follow fdl_copy_threads (data_internal.h). The
 * random kernels draw per-sample parameters with the Philox fills of rng.h
 * at counter = sample index before applying the deterministic kernel.
 */
#include <math.h>
#include <string.h>

#include "data/data_internal.h"

/* Bilinear work is ~8 flops per output element; count it as 4 streaming
 * elements when deciding whether a fork/join pays off. */
#define ROT_WORK 4

/* cos/sin of a multiple of 90 degrees come out as 1e-16 instead of 0; snapping
 * them makes quarter turns exact permutations of the pixels. */
static double snap(double v) {
    if (fabs(v) < 1e-12) return 0.0;
    if (fabs(v - 1.0) < 1e-12) return 1.0;
    if (fabs(v + 1.0) < 1e-12) return -1.0;
    return v;
}

/* floor() is a libm call on baseline x86-64 (no SSE4.1 roundsd); coordinates
 * here are small, so a truncating cast is exact. NaN stays NaN-like (the
 * caller's range test rejects it). */
static inline double ffloor(double v) {
    if (!(fabs(v) < 4.0e18)) return v;
    double t = (double)(int64_t)v;
    return t > v ? t - 1.0 : t;
}

/* out, x (N, C, H, W); angles_deg (N,) */
int fdl_rotate_f32(float *out, const float *x, const float *angles_deg,
                    int64_t N, int64_t C, int64_t H, int64_t W, float fill) {
    if (N < 0 || C < 0 || H < 0 || W < 0) return FDL_ERR_ARG;
    if (N * C * H * W > 0 && (!out || !x || !angles_deg)) return FDL_ERR_NULL;
    const int64_t plane = H * W;
    const double cx = 0.5 * (double)(W - 1), cy = 0.5 * (double)(H - 1);
    int nt = fdl_threads_for(N * C * plane * ROT_WORK);
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t sy_row = 0; sy_row < N * H; sy_row++) {
        const int64_t s = sy_row / H, y = sy_row % H;
        const double th = (double)angles_deg[s] * (3.14159265358979323846 / 180.0);
        const double c = snap(cos(th)), sn = snap(sin(th));
        const float *xs = x + s * C * plane;
        float *os = out + s * C * plane + y * W;
        const double dy = (double)y - cy;
        /* inverse map: the source of output (y, x) is the output point
         * rotated clockwise by th about the centre (y grows downwards) */
        const double bx = cx - dy * sn, by = cy + dy * c;
        for (int64_t xo = 0; xo < W; xo++) {
            const double dx = (double)xo - cx;
            const double srcx = bx + dx * c, srcy = by + dx * sn;
            double fx0 = ffloor(srcx), fy0 = ffloor(srcy);
            double ax = srcx - fx0, ay = srcy - fy0;
            /* within 1e-9 of a pixel centre counts as on it, so rounding
             * cannot leak a fill value into an exact quarter turn */
            if (ax > 1.0 - 1e-9) { fx0 += 1.0; ax = 0.0; } else if (ax < 1e-9) ax = 0.0;
            if (ay > 1.0 - 1e-9) { fy0 += 1.0; ay = 0.0; } else if (ay < 1e-9) ay = 0.0;
            /* written so that a NaN coordinate also takes the fill branch */
            if (!(fx0 >= -1.0 && fx0 < (double)W && fy0 >= -1.0 && fy0 < (double)H)) {
                for (int64_t ch = 0; ch < C; ch++) os[ch * plane + xo] = fill;
                continue;
            }
            const int64_t x0 = (int64_t)fx0, y0 = (int64_t)fy0;
            if (x0 >= 0 && x0 < W - 1 && y0 >= 0 && y0 < H - 1) {
                /* interior: all four taps exist, no per-tap tests */
                const float wx = (float)ax, wy = (float)ay;
                const float *p = xs + y0 * W + x0;
                for (int64_t ch = 0; ch < C; ch++, p += plane) {
                    float top = p[0] + wx * (p[1] - p[0]);
                    float bot = p[W] + wx * (p[W + 1] - p[W]);
                    os[ch * plane + xo] = top + wy * (bot - top);
                }
                continue;
            }
            const float w00 = (float)((1.0 - ax) * (1.0 - ay)), w01 = (float)(ax * (1.0 - ay));
            const float w10 = (float)((1.0 - ax) * ay), w11 = (float)(ax * ay);
            const int in_x0 = x0 >= 0, in_x1 = x0 + 1 < W;
            const int in_y0 = y0 >= 0, in_y1 = y0 + 1 < H;
            for (int64_t ch = 0; ch < C; ch++) {
                const float *p = xs + ch * plane;
                float v00 = (in_y0 && in_x0) ? p[y0 * W + x0] : fill;
                float v01 = (in_y0 && in_x1) ? p[y0 * W + x0 + 1] : fill;
                float v10 = (in_y1 && in_x0) ? p[(y0 + 1) * W + x0] : fill;
                float v11 = (in_y1 && in_x1) ? p[(y0 + 1) * W + x0 + 1] : fill;
                /* skip zero-weight taps so an exact turn copies exactly */
                float v = w00 * v00;
                if (w01 != 0.0f) v += w01 * v01;
                if (w10 != 0.0f) v += w10 * v10;
                if (w11 != 0.0f) v += w11 * v11;
                os[ch * plane + xo] = v;
            }
        }
    }
    return FDL_OK;
}

/* out, x (N, C, H, W); flags (N,) or NULL */
int fdl_flip_f32(float *out, const float *x, const uint8_t *flags,
                 int64_t N, int64_t C, int64_t H, int64_t W, int dim) {
    if (dim != 2 && dim != 3) return FDL_ERR_ARG;
    const int64_t rows = N * C * H, per_sample = C * H;
    int nt = fdl_copy_threads(rows * W * (int64_t)sizeof(float));
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t s = r / per_sample;
        float *o = out + r * W;
        if (flags && !flags[s]) {
            memcpy(o, x + r * W, (size_t)W * sizeof(float));
        } else if (dim == 3) {
            const float *src = x + r * W;
            for (int64_t j = 0; j < W; j++) o[j] = src[W - 1 - j];
        } else {
            const int64_t y = r % H;
            memcpy(o, x + (r - y + (H - 1 - y)) * W, (size_t)W * sizeof(float));
        }
    }
    return FDL_OK;
}

/* out (N, C, OH, OW), x (N, C, H, W), offsets (N, 2) */
int fdl_crop_f32(float *out, const float *x, const int64_t *offsets,
                  int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                  int64_t pad_top, int64_t pad_left, float fill) {
    if (N < 0 || C < 0 || H < 0 || W < 0 || OH < 0 || OW < 0) return FDL_ERR_ARG;
    if (N * C * OH * OW > 0 && (!out || !x || !offsets)) return FDL_ERR_NULL;
    const int64_t rows = N * C * OH;
    int nt = fdl_copy_threads(rows * OW * (int64_t)sizeof(float));
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t i = r % OH, sc = r / OH, s = sc / C;
        const int64_t top = offsets[2 * s], left = offsets[2 * s + 1];
        const int64_t yi = top + i - pad_top;
        float *o = out + r * OW;
        if (yi < 0 || yi >= H) {
            for (int64_t j = 0; j < OW; j++) o[j] = fill;
            continue;
        }
        const float *src = x + (sc * H + yi) * W;
        /* columns j with 0 <= left + j - pad_left < W come from the image */
        int64_t jlo = FDL_MAX(pad_left - left, 0);
        int64_t jhi = FDL_MIN(W + pad_left - left, OW);
        if (jhi < jlo) jhi = jlo;
        for (int64_t j = 0; j < jlo; j++) o[j] = fill;
        if (jhi > jlo)
            memcpy(o + jlo, src + (left + jlo - pad_left), (size_t)(jhi - jlo) * sizeof(float));
        for (int64_t j = jhi; j < OW; j++) o[j] = fill;
    }
    return FDL_OK;
}

int fdl_random_rotation_f32(float *out, float *angles_out, const float *x,
                             int64_t N, int64_t C, int64_t H, int64_t W,
                             float min_deg, float max_deg, float fill,
                             uint64_t seed, uint64_t stream) {
    if (N < 0 || C < 0 || H < 0 || W < 0) return FDL_ERR_ARG;
    if (N * C * H * W > 0 && (!out || !x || !angles_out)) return FDL_ERR_NULL;
    if (max_deg > min_deg)
        fdl_rng_uniform_f32(angles_out, N, seed, stream, 0, min_deg, max_deg);
    else
        for (int64_t s = 0; s < N; s++) angles_out[s] = min_deg;
    fdl_rotate_f32(out, x, angles_out, N, C, H, W, fill);
    return FDL_OK;
}

int fdl_random_flip_f32(float *out, uint8_t *flags_out, const float *x,
                        int64_t N, int64_t C, int64_t H, int64_t W, int dim, float p,
                        uint64_t seed, uint64_t stream) {
    if (dim != 2 && dim != 3) return FDL_ERR_ARG;
    fdl_rng_bernoulli(flags_out, N, seed, stream, 0, p);
    return fdl_flip_f32(out, x, flags_out, N, C, H, W, dim);
}

int fdl_random_crop_f32(float *out, int64_t *offsets_out, const float *x,
                        int64_t N, int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        int64_t pad_top, int64_t pad_bottom, int64_t pad_left,
                        int64_t pad_right, float fill, uint64_t seed, uint64_t stream) {
    const int64_t rh = H + pad_top + pad_bottom - OH + 1;
    const int64_t rw = W + pad_left + pad_right - OW + 1;
    if (rh < 1 || rw < 1 || OH < 0 || OW < 0) return FDL_ERR_SHAPE;
    if (N <= 0) return FDL_OK;
    /* one draw per sample over all rh * rw windows, so (top, left) of sample s
     * depends only on (seed, stream, s); expanded in place from the back */
    fdl_rng_randint(offsets_out, N, seed, stream, 0, 0, rh * rw);
    for (int64_t s = N - 1; s >= 0; s--) {
        int64_t v = offsets_out[s];
        offsets_out[2 * s] = v / rw;
        offsets_out[2 * s + 1] = v % rw;
    }
    fdl_crop_f32(out, x, offsets_out, N, C, H, W, OH, OW, pad_top, pad_left, fill);
    return FDL_OK;
}

/* Noise is generated per chunk into a stack buffer, so out may alias x and
 * no scratch is needed from the caller. */
#define NOISE_CHUNK 512

/* out, x (n,) */
int fdl_gaussian_noise_f32(float *out, const float *x, int64_t n, float std,
                            uint64_t seed, uint64_t stream) {
    if (n < 0) return FDL_ERR_ARG;
    if (n > 0 && (!out || !x)) return FDL_ERR_NULL;
    const int64_t chunks = FDL_CDIV(n, NOISE_CHUNK);
    int nt = fdl_threads_for(n * 8);
    #pragma omp parallel for schedule(static) num_threads(nt) if(nt > 1)
    for (int64_t k = 0; k < chunks; k++) {
        float z[NOISE_CHUNK];
        const int64_t lo = k * NOISE_CHUNK, len = FDL_MIN(NOISE_CHUNK, n - lo);
        /* counter = element index; Box-Muller pairs never straddle chunks
         * since NOISE_CHUNK is even */
        fdl_rng_normal_f32(z, len, seed, stream, (uint64_t)lo, 0.0f, std);
        for (int64_t i = 0; i < len; i++) out[lo + i] = x[lo + i] + z[i];
    }
    return FDL_OK;
}
