/*
 * fastdl/export.h — FDL_API marks the functions libfastdl exports.
 *
 * The library is built with -fvisibility=hidden: only declarations carrying
 * FDL_API are visible to programs linking it, so internal helpers shared
 * between its files never clash with a host program's symbols.
 */
#ifndef FASTDL_EXPORT_H
#define FASTDL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define FDL_API __attribute__((visibility("default")))
#else
#define FDL_API
#endif

#endif
