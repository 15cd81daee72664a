/*
 * fastdl/nn.h — neural-network kernels: convolution, pooling, activations,
 * losses, normalization, dropout, embedding. Forward/backward pairs.
 */
#ifndef FASTDL_NN_H
#define FASTDL_NN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
