/*
 * fastdl/data.h — see the family's C files in csrc/data/ (stub to fill).
 */
#ifndef FASTDL_DATA_H
#define FASTDL_DATA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
