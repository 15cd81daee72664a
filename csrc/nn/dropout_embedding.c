/*
 * dropout_embedding.c — dropout (counter-based masks) and embedding lookup.
 *
 * Legend: N elements (dropout) or indices (embedding), V embeddings of D
 * features.
 */
#include "nn/common.h"

#include "nn/types_begin.h"
#include "nn/misc_impl.h"
#include "nn/types_end.h"
#define NN_F64
#include "nn/types_begin.h"
#include "nn/misc_impl.h"
#include "nn/types_end.h"
