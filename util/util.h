/* util — the small helpers every floor shares, and the one error facility.
 *
 * Errors: library code (nets, envs, agents, log) returns 0 or a negative
 * RQL_E* code and writes its message with rql_set_error(); rql_error() reads
 * the last message of the calling thread (one thread-local buffer for the
 * whole program). The top floor, which holds a caller's buffer, formats into
 * it with rql_failf(). Only cli/ and the experiment core print.
 *
 * Helpers: a monotonic clock, the UTC timestamp written into logs, mkdir -p,
 * the folders to search for shipped data, and JSON string and number
 * writers (sweep.json, compare --json).
 *
 * Files: util.h, util.c; param.h, param.c (the parameter tables and their
 * one parser). No dependency on any other folder of rql. README.md lists them.
 */
#ifndef RQL_UTIL_H
#define RQL_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define RQL_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------------ */
enum { RQL_OK = 0, RQL_EINVAL = -1, RQL_ENOMEM = -2, RQL_EIO = -3, RQL_EPARSE = -4, RQL_ENAN = -5 };
/* The message of the last failure on this thread ("" when none yet). */
const char *rql_error(void);
/* Writes the message and returns code, so a failing path reads
 * `return rql_set_error(RQL_EINVAL, "...", ...);`. */
int rql_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rql_vset_error(int code, const char *fmt, va_list ap);

/* Formats the message into err[cap] (when err is not NULL) and returns -1,
 * so that a failing path reads `return rql_failf(err, cap, "...", ...);`. */
__attribute__((format(printf, 3, 4)))
static inline int rql_failf(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && cap) vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- small helpers ----------------------------------------------------------- */
/* Seconds on CLOCK_MONOTONIC (for intervals only). */
static inline double rql_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The current UTC time as ISO 8601 ("2026-12-02T11:37:05Z"). */
void rql_iso_now(char *buf, size_t cap);
/* mkdir -p: 0, or -1 with errno set (ENAMETOOLONG for a path over 4 KiB). */
int rql_mkdirs(const char *path);
/* Folders to search for shipped data (maps, suites), in order: $env_var if
 * set and not empty, ./sub, then sub beside the running binary and in up to
 * three folders above it (build/rel/rql finds the source tree's sub). Fills
 * dirs[0 .. max) and returns the count (at most 6 are ever needed). */
int rql_data_dirs(const char *env_var, const char *sub, char (*dirs)[4096], int max);
/* s as a JSON string, quoted and escaped. */
void rql_json_str(FILE *f, const char *s);
/* x as a JSON number with digits significant digits; NaN and infinities are
 * null (JSON has neither). */
void rql_json_num(FILE *f, double x, int digits);

/* n arrays in one zeroed block, as llm.c lays out its tensors: array i is
 * bytes[i] long and aligned for any type, its address goes to views[i].
 * Returns the block (one free releases every array), NULL when out of memory. */
void *rql_alloc_views(int n, const size_t *bytes, void **views);

/* Index of the row named name among n rows of stride bytes that each begin
 * with their name (a const char *): the registries' lookup. -1 if none. */
int rql_find_named(const void *rows, int n, size_t stride, const char *name);

#endif
