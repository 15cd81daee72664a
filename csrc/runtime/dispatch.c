/*
 * runtime/dispatch.c — the table of per-ISA kernel tables (see dispatch.h).
 * On a CPU other than x86 only the generic tables exist and every entry
 * points at them.
 */
#include "runtime/dispatch.h"
#include "runtime/internal.h"

extern const fdl_rows fdl_rows_generic;
extern const nn_act_rows nn_act_rows_generic;
extern const fdl_optim_kernels fdl_optim_kernels_generic;
extern const fdl_rnn_rows_f32 fdl_rnn_rows_f32_generic;
int64_t fdl_fma_loop_generic(int64_t iters);
extern const nn_wino_kernels nn_wino_kernels_generic;
extern const nn_norm_kernels nn_norm_kernels_generic;
extern const nn_pool_kernels nn_pool_kernels_generic;
extern const nn_conv_kernels nn_conv_kernels_generic;
#if defined(__x86_64__) || defined(__i386__)
extern const fdl_rows fdl_rows_avx2, fdl_rows_avx512;
extern const nn_act_rows nn_act_rows_avx2, nn_act_rows_avx512;
extern const fdl_optim_kernels fdl_optim_kernels_avx2, fdl_optim_kernels_avx512;
extern const fdl_rnn_rows_f32 fdl_rnn_rows_f32_avx2, fdl_rnn_rows_f32_avx512;
int64_t fdl_fma_loop_avx2(int64_t iters);
int64_t fdl_fma_loop_avx512(int64_t iters);
extern const nn_wino_kernels nn_wino_kernels_avx2, nn_wino_kernels_avx512;
extern const nn_norm_kernels nn_norm_kernels_avx2, nn_norm_kernels_avx512;
extern const nn_pool_kernels nn_pool_kernels_avx2, nn_pool_kernels_avx512;
extern const nn_conv_kernels nn_conv_kernels_avx2, nn_conv_kernels_avx512;
#define ISA_TABLES(isa)                                                                  \
    {&fdl_rows_##isa, &nn_act_rows_##isa, &fdl_optim_kernels_##isa,                      \
     &fdl_rnn_rows_f32_##isa, fdl_fma_loop_##isa, &nn_wino_kernels_##isa,                  \
     &fdl_gemm_kernels_##isa, &nn_norm_kernels_##isa, &nn_pool_kernels_##isa,             \
     &nn_conv_kernels_##isa}
#else
#define ISA_TABLES(isa) ISA_TABLES_GENERIC
#endif
#define ISA_TABLES_GENERIC                                                               \
    {&fdl_rows_generic, &nn_act_rows_generic, &fdl_optim_kernels_generic,                \
     &fdl_rnn_rows_f32_generic, fdl_fma_loop_generic, &nn_wino_kernels_generic,            \
     &fdl_gemm_kernels_generic, &nn_norm_kernels_generic, &nn_pool_kernels_generic,       \
     &nn_conv_kernels_generic}

static const fdl_isa_kernels_t g_kernels[3] = {
    [FDL_ISA_GENERIC] = ISA_TABLES_GENERIC,
    [FDL_ISA_AVX2] = ISA_TABLES(avx2),
    [FDL_ISA_AVX512] = ISA_TABLES(avx512),
};

const fdl_isa_kernels_t *fdl_isa_kernels(void) { return &g_kernels[fdl_active_isa()]; }
