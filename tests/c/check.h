/*
 * tests/c/check.h — what the C test runners share: counted checks, the
 * temporary directory from argv, and the summary line. A runner defines
 * LAST_ERROR (its layer's last-error function, printed with a failed status
 * check) before including this header.
 */
#ifndef FDL_TEST_CHECK_H
#define FDL_TEST_CHECK_H

#include <stdio.h>

#include "fastdl.h"

static int n_checks, n_failed;
static char tmpdir[512];

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        n_checks++;                                                             \
        if (!(cond)) {                                                          \
            n_failed++;                                                         \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);              \
            printf(__VA_ARGS__);                                                \
            printf("\n");                                                       \
        }                                                                       \
    } while (0)

#define CHECK_ST(expr, want)                                                    \
    do {                                                                        \
        int st_ = (expr);                                                       \
        CHECK(st_ == (want), "got %d (%s), want %d (%s); last error: %s", st_,  \
              fdl_strerror(st_), (want), fdl_strerror(want), LAST_ERROR());     \
    } while (0)

/* files go under argv[1] (default: the current directory) */
static void check_begin(int argc, char **argv)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", argc > 1 ? argv[1] : ".");
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* prints the summary line; the runner's exit status */
static int check_end(void)
{
    printf("%s: %d checks, %d failed (isa %s, %d threads)\n", n_failed ? "FAILED" : "OK",
           n_checks, n_failed, fdl_isa_name(fdl_active_isa()), fdl_get_num_threads());
    return n_failed ? 1 : 0;
}

#endif
