"""GEMM from C: a program built against fastdl/include and fastdl/lib checks
fdl_sgemm / _ex / _strided_batched / fdl_dgemm against fdl_sgemm_ref, the
status codes of bad arguments, and two pthreads multiplying at once."""
import os
import shutil
import subprocess
import textwrap

import pytest

import fastdl
from fastdl._C import _core

PROGRAM = textwrap.dedent(r"""
    #include <math.h>
    #include <pthread.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include "fastdl.h"

    static unsigned seed = 1;
    static float frand(void) {
        seed = seed * 1103515245u + 12345u;
        return (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    static void fill(float *x, int64_t n) { for (int64_t i = 0; i < n; i++) x[i] = frand(); }

    /* max |got - want| over m x n, relative to K */
    static int near(const char *what, const float *got, const float *want, int64_t m, int64_t n,
                     int64_t ld, int64_t K) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double d = fabs((double)got[i * ld + j] - want[i * ld + j]);
                if (d > 1e-5 * (K + 4)) {
                    printf("%s: (%ld, %ld) got %.9g want %.9g\n", what, (long)i, (long)j,
                           got[i * ld + j], want[i * ld + j]);
                    return 1;
                }
            }
        return 0;
    }

    enum { M = 67, N = 45, K = 300, LD = 310 };
    static float A[LD * LD], B[LD * LD];

    static void *worker(void *arg) {
        float *c = (float *)arg;
        for (int r = 0; r < 20; r++)
            if (fdl_sgemm(0, 1, M, N, K, 1.0f, A, LD, B, LD, 0.0f, c, N) != FDL_OK) return arg;
        return NULL;
    }

    int main(void) {
        int fails = 0;
        static float C[M * LD], R[M * LD], bias[N];
        fill(A, LD * LD); fill(B, LD * LD); fill(bias, N);
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                fill(C, M * LD);
                for (int i = 0; i < M * LD; i++) R[i] = C[i];
                fails += fdl_sgemm_ex(ta, tb, M, N, K, 0.5f, A, LD, B, LD, 1.5f, C, LD,
                                      bias, FDL_ACT_RELU) != FDL_OK;
                fdl_sgemm_ref(ta, tb, M, N, K, 0.5f, A, LD, B, LD, 1.5f, R, LD, bias, FDL_ACT_RELU);
                fails += near("sgemm_ex", C, R, M, LD, LD, K);
            }
        /* batch of 3 sharing B (strideB = 0) */
        static float CB[3 * M * N], RB[3 * M * N];
        fails += fdl_sgemm_strided_batched(0, 0, M, N, K, 1.0f, A, K, M * K, B, N, 0,
                                           0.0f, CB, N, M * N, 3) != FDL_OK;
        for (int b = 0; b < 3; b++) {
            fdl_sgemm_ref(0, 0, M, N, K, 1.0f, A + b * M * K, K, B, N, 0.0f, RB + b * M * N, N,
                          NULL, FDL_ACT_NONE);
            fails += near("strided_batched", CB + b * M * N, RB + b * M * N, M, N, N, K);
        }
        /* float64 */
        static double DA[M * K], DB[K * N], DC[M * N];
        for (int i = 0; i < M * K; i++) DA[i] = A[i];
        for (int i = 0; i < K * N; i++) DB[i] = B[i];
        fails += fdl_dgemm(0, 0, M, N, K, 1.0, DA, K, DB, N, 0.0, DC, N) != FDL_OK;
        fdl_sgemm_ref(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, R, N, NULL, FDL_ACT_NONE);
        for (int i = 0; i < M * N; i++) C[i] = (float)DC[i];
        fails += near("dgemm", C, R, M, N, N, K);
        /* status codes */
        fails += fdl_sgemm(0, 0, -1, N, K, 1.0f, A, K, B, N, 0.0f, C, N) != FDL_ERR_ARG;
        fails += fdl_sgemm(0, 0, M, N, K, 1.0f, A, K - 1, B, N, 0.0f, C, N) != FDL_ERR_SHAPE;
        fails += fdl_sgemm(0, 1, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N) != FDL_ERR_SHAPE;
        fails += fdl_sgemm(0, 0, M, N, K, 1.0f, NULL, K, B, N, 0.0f, C, N) != FDL_ERR_NULL;
        fails += fdl_sgemm_ex(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N, NULL, (fdl_act)7)
                 != FDL_ERR_ARG;
        fails += fdl_sgemm_strided_batched(0, 0, M, N, K, 1.0f, A, K, 0, B, N, 0, 0.0f, C, N,
                                           0, 2) != FDL_ERR_SHAPE;  /* outputs would overlap */
        fails += fdl_sgemm(0, 0, 0, N, K, 1.0f, NULL, K, NULL, N, 0.0f, NULL, N) != FDL_OK;
        /* two OS threads at once, each with its own output */
        static float C1[M * N], C2[M * N];
        pthread_t t1, t2;
        void *r1, *r2;
        pthread_create(&t1, NULL, worker, C1);
        pthread_create(&t2, NULL, worker, C2);
        pthread_join(t1, &r1);
        pthread_join(t2, &r2);
        fdl_sgemm_ref(0, 1, M, N, K, 1.0f, A, LD, B, LD, 0.0f, R, N, NULL, FDL_ACT_NONE);
        fails += (r1 != NULL) + (r2 != NULL);
        fails += near("thread 1", C1, R, M, N, N, K) + near("thread 2", C2, R, M, N, N, K);
        printf(fails ? "FAIL %d\n" : "OK\n", fails);
        return fails != 0;
    }
""")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")
@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512")
                                 if ("generic", "avx2", "avx512").index(i)
                                 <= ("generic", "avx2", "avx512").index(_core.detected_isa())])
def test_gemm_callable_from_c(tmp_path, isa):
    src = tmp_path / "gemm.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "gemm"
    lib = fastdl.get_lib()
    r = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Werror", str(src), "-I",
                        fastdl.get_include(), "-L", lib, "-lfastdl", "-lm", "-lpthread",
                        "-Wl,-rpath," + lib, "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, FASTDL_ISA=isa, OMP_NUM_THREADS="2")
    r = subprocess.run([str(exe)], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stdout + r.stderr
