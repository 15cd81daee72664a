/*
 * fastdl/optim.h — fused optimizer updates and gradient clipping.
 */
#ifndef FASTDL_OPTIM_H
#define FASTDL_OPTIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
