/* util.h — two helpers the experiments/ files share: a monotonic clock and
 * an error message written into the caller's buffer. */
#ifndef RQL_UTIL_H
#define RQL_UTIL_H
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* Seconds on CLOCK_MONOTONIC (for intervals only). */
static inline double rql_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

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

#endif
