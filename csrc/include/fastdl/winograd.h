/*
 * fastdl/winograd.h — which algorithm the float32 3x3 convolutions use.
 *
 * fdl_conv2d_forward_f32 / fdl_conv2d_backward_f32 run 3x3, stride-1,
 * dilation-1, ungrouped layers with padding <= 2 through Winograd
 * F(4x4, 3x3) when the layer is large enough for it to pay (at least 8
 * input and 8 output channels and 512 output pixels over the batch; the
 * measurements are in nn/winograd.c); every other layer, and all float64
 * calls, use the im2col + GEMM path. Winograd results differ from the direct
 * sum by rounding only (about 1e-6 of the output's scale on unit-scale data,
 * see tests/test_winograd.py), and are the same bits for any thread count.
 *
 * The choice starts from the environment variable FASTDL_CONV_ALGO
 * (auto | im2col | winograd, read once; unset or unknown means auto) and can
 * be changed at run time; `winograd` uses Winograd for every layer it can
 * serve, whatever its size (for tests), `im2col` never.
 */
#ifndef FASTDL_WINOGRAD_H
#define FASTDL_WINOGRAD_H

#include <stdint.h>

#include "fastdl/export.h"
#include "fastdl/conv.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FDL_CONV_ALGO_AUTO = 0,       /* Winograd where measured faster, else im2col */
    FDL_CONV_ALGO_IM2COL = 1,     /* always im2col + GEMM */
    FDL_CONV_ALGO_WINOGRAD = 2    /* Winograd wherever it applies */
} fdl_conv_algo;

/* Set the process-wide choice; FDL_ERR_ARG for a value not above. */
FDL_API int fdl_conv2d_set_algo(int algo);
/* The choice in force (FASTDL_CONV_ALGO until fdl_conv2d_set_algo). */
FDL_API int fdl_conv2d_get_algo(void);
/* The algorithm a float32 call with p runs: "winograd_f4x4_3x3" or
 * "im2col"; "invalid" for bad or NULL parameters. Static strings. */
FDL_API const char *fdl_conv2d_algo_name(const fdl_conv2d_params *p);

#ifdef __cplusplus
}
#endif

#endif
