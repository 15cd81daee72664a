/*
 * fastdl/metrics.h — see the family's C files in csrc/metrics/ (stub to fill).
 */
#ifndef FASTDL_METRICS_H
#define FASTDL_METRICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
