/*
 * data_internal.h — helpers shared by csrc/data/; not part of the public API.
 */
#ifndef FDL_DATA_INTERNAL_H
#define FDL_DATA_INTERNAL_H

#include "runtime/internal.h"

/* Threads for a copy kernel (gather, crop, flip) moving `bytes`. A training
 * batch is a few hundred KiB copied in tens of microseconds: a second thread
 * saves a few of them, but on an oversubscribed machine OpenMP's spin-waiting
 * turns every fork/join into a scheduler time slice (measured here, load 8 on
 * 2 cores: a shuffled 60000x784 epoch fell from 1.1M to 5k samples/s with 2
 * threads). So copies stay serial below 4 MiB; whole-dataset copies still
 * use every thread. */
#define FDL_COPY_PAR_MIN_BYTES ((int64_t)1 << 22)

static inline int fdl_copy_threads(int64_t bytes) {
    return bytes < FDL_COPY_PAR_MIN_BYTES ? 1 : fdl_threads_for(bytes / 4);
}

#endif
