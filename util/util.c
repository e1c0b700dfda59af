/* util.c — the error facility and the small helpers (see util.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/util.h"

static __thread char errbuf[2048];

const char *rql_error(void) { return errbuf; }

int rql_vset_error(int code, const char *fmt, va_list ap) {
    /* formatted aside first: a message may wrap the previous one
     * (rql_set_error(c, "loading x: %s", rql_error())) */
    char tmp[sizeof errbuf];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    memcpy(errbuf, tmp, strlen(tmp) + 1);
    return code;
}

int rql_set_error(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rql_vset_error(code, fmt, ap);
    va_end(ap);
    return code;
}

void rql_iso_now(char *buf, size_t cap) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int rql_mkdirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

void rql_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", f);
        else if (ch == '\t') fputs("\\t", f);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void rql_json_num(FILE *f, double x, int digits) {
    if (isfinite(x)) fprintf(f, "%.*g", digits, x);
    else fputs("null", f);
}

int rql_data_dirs(const char *env_var, const char *sub, char (*dirs)[4096], int max) {
    int nd = 0;
    const char *env_dir = getenv(env_var);
    if (nd < max && env_dir && *env_dir) snprintf(dirs[nd++], sizeof dirs[0], "%.4000s", env_dir);
    if (nd < max) snprintf(dirs[nd++], sizeof dirs[0], "%.4000s", sub);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 4 && nd < max; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = 0;
            snprintf(dirs[nd++], sizeof dirs[0], "%.3000s/%.1000s", exe, sub);
        }
    }
    return nd;
}

void *rql_alloc_views(int n, const size_t *bytes, void **views) {
    const size_t align = _Alignof(max_align_t);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += (bytes[i] + align - 1) / align * align;
    char *block = calloc(1, total ? total : 1);
    for (size_t i = 0, off = 0; block && i < (size_t)n; i++) {
        views[i] = block + off;
        off += (bytes[i] + align - 1) / align * align;
    }
    return block;
}

int rql_find_named(const void *rows, int n, size_t stride, const char *name) {
    for (int i = 0; name && i < n; i++) {
        const char *row_name = *(const char *const *)((const char *)rows + (size_t)i * stride);
        if (row_name && !strcmp(row_name, name)) return i;
    }
    return -1;
}
