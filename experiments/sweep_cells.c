/* sweep_cells — the cells of a sweep's grid: a cell's folder name, its
 * values as libconfig literals, and its config (see sweep.h). A cell is the
 * config file with the --set overrides and then one override per swept key,
 * loaded by config.c's one path for overrides, so a bad value fails with the
 * file, the line of the value, the key and the value named. */
#define _GNU_SOURCE
#include "experiments/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rql_sweep_literal(const rql_sweep_dim *d, int v, char *buf, size_t n) {
    const char *t = d->texts[v];
    if (d->kinds[v] == RQL_SWEEP_STR) {
        size_t k = 0;
        if (n < 3) { if (n) buf[0] = 0; return; }
        buf[k++] = '"';
        for (; *t && k + 3 < n; t++) {
            if (*t == '"' || *t == '\\') buf[k++] = '\\';
            buf[k++] = *t;
        }
        buf[k++] = '"';
        buf[k] = 0;
    } else if (d->kinds[v] == RQL_SWEEP_REAL && !strpbrk(t, ".eEin")) {
        snprintf(buf, n, "%s.0", t);       /* 1.0 stays real when read back */
    } else {
        snprintf(buf, n, "%s", t);
    }
}

int sweep_cell_dir(const rql_config *b, const int *pick, char *out, size_t n) {
    size_t k = 0;
    out[0] = 0;
    for (int d = 0; d < b->nsweep; d++) {
        if (b->sweep[d].with >= 0) continue;              /* follows its partner: no part of the name */
        int w = snprintf(out + k, n - k, "%s%s=%s", k ? "," : "", b->sweep[d].name, b->sweep[d].folders[pick[d]]);
        if (w < 0 || (size_t)w >= n - k) return -1;
        k += (size_t)w;
    }
    return 0;
}

rql_config *sweep_cell_load(const char *path, const char *text, const char *source, const char *const *sets,
                            int nsets, const rql_config *base, const int *pick, char *err, size_t cap) {
    const char *src = path ? path : source ? source : "<string>";
    int nd = base->nsweep, nov = nsets + nd;
    rql_override *ov = calloc((size_t)nov + 1, sizeof *ov);
    char **own = calloc(2 * (size_t)nd + 1, sizeof *own);   /* the cell's sets and origins */
    char *cell = NULL;
    size_t clen = 0;
    FILE *tf = open_memstream(&cell, &clen);
    rql_config *cfg = NULL;
    int rc = ov && own && tf ? 0 : -1;
    if (rc) snprintf(err, cap, "out of memory");
    for (int i = 0; !rc && i < nsets; i++) ov[i].set = sets[i];
    for (int d = 0; !rc && d < nd; d++) {
        const rql_sweep_dim *sd = &base->sweep[d];
        if (pick[d] < 0 || pick[d] >= sd->nvalues) {
            snprintf(err, cap, "%s: sweep %s: no value %d", src, sd->key, pick[d]);
            rc = -1;
            break;
        }
        char lit[600];
        rql_sweep_literal(sd, pick[d], lit, sizeof lit);
        if (asprintf(&own[2 * d], "%s=%s", sd->key, lit) < 0 ||
            asprintf(&own[2 * d + 1], "%s:%d: sweep %s=%s", src, sd->lines[pick[d]], sd->key, lit) < 0) {
            own[2 * d] = own[2 * d + 1] = NULL;
            snprintf(err, cap, "out of memory");
            rc = -1;
            break;
        }
        ov[nsets + d] = (rql_override){own[2 * d], own[2 * d + 1]};
        fprintf(tf, "%s = %s\n", sd->key, lit);
    }
    if (tf && fclose(tf) && !rc) {
        snprintf(err, cap, "out of memory");
        rc = -1;
    }
    if (!rc) cfg = rql_config_load_overrides(path, text, source, ov, nov, err, cap);
    if (cfg) {
        cfg->cell = cell;
        cell = NULL;
    }
    free(cell);
    for (int i = 0; own && i < 2 * nd; i++) free(own[i]);
    free(own);
    free(ov);
    return cfg;
}
