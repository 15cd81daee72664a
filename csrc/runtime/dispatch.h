/*
 * runtime/dispatch.h — the one place where the active ISA picks its kernels.
 *
 * Every family compiled once per ISA (core rows, activation rows, optimizer
 * loops, RNN cell rows, max-pool planes, convolution phase planes, the FMA
 * probe, the Winograd tile transforms, the GEMM's micro-kernels) registers
 * its per-ISA table here; kernels ask fdl_isa_kernels() for the active ISA's
 * set. The GEMM entry (gemm/ukernels/gemm_<isa>.c) carries tiles and
 * fallback block sizes with its micro-kernels; gemm/blocking.c sizes the
 * blocks from the CPU's caches.
 */
#ifndef FDL_DISPATCH_H
#define FDL_DISPATCH_H

#include <stdint.h>

#include "core/rows_table.h"
#include "gemm/gemm_internal.h"
#include "nn/act_table.h"
#include "nn/conv_table.h"
#include "nn/norm_table.h"
#include "nn/pool_table.h"
#include "nn/rnn_isa.h"
#include "nn/winograd.h"
#include "optim/optim_table.h"

typedef struct {
    const fdl_rows *rows;              /* elementwise and reduction rows (core/rows.h) */
    const nn_act_rows *act;            /* activation and softmax rows (nn/act_rows.h) */
    const fdl_optim_kernels *optim;    /* optimizer loops (optim/optim_loops.h) */
    const fdl_rnn_rows_f32 *rnn_f32;   /* float32 RNN cell rows (nn/rnn_rows.h) */
    int64_t (*fma_loop)(int64_t iters);   /* FMA peak probe (gemm/peak*.c) */
    const nn_wino_kernels *wino;       /* Winograd tile transforms (nn/winograd_kernels.h) */
    const fdl_gemm_kernels *gemm;      /* GEMM micro-kernels, tiles, small-M kernels */
    const nn_norm_kernels *norm;       /* batch_norm / layer_norm bodies (nn/norm_impl.h) */
    const nn_pool_kernels *pool;       /* max / adaptive-avg pool planes (nn/pool_rows.h) */
    const nn_conv_kernels *conv;       /* convolution phase-plane loops (nn/conv_rows.h) */
} fdl_isa_kernels_t;

/* The kernel tables of fdl_active_isa(). */
const fdl_isa_kernels_t *fdl_isa_kernels(void);

#endif
