/* sweep — the grid of a sweep, one run of it, and its summary (see sweep.h). */
#define _GNU_SOURCE
#include "experiments/sweep.h"
#include "util/util.h"
#include "log/ckpt.h"
#include "log/rlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static const char *const status_names[] = {"pending", "running", "complete", "resumed", "skipped", "stopped",
                                           "failed"};

const char *sweep_status_name(sweep_status s) {
    return s >= SWEEP_PENDING && s <= SWEEP_FAILED ? status_names[s] : "?";
}

void sweep_plan_free(sweep_plan *p) {
    if (!p) return;
    for (int i = 0; p->cells && i < p->ncells; i++) {
        free(p->cells[i].pick);
        rql_config_free(p->cells[i].cfg);
        free(p->cells[i].err);
    }
    free(p->block);
    rql_config_free(p->base);
    free(p->source);
    free(p->dir);
    free(p);
}

/* Whether label is one of the comma-separated list. */
static int label_listed(const char *list, const char *label) {
    size_t n = strlen(label);
    for (const char *q = list; *q;) {
        size_t k = strcspn(q, ",");
        if (k == n && !strncmp(q, label, n)) return 1;
        q += k;
        if (*q == ',') q++;
    }
    return 0;
}

/* Keeps the agents of c named in the comma-separated list, in c's order. */
static void keep_agents(rql_config *c, const char *list) {
    int k = 0;
    for (int a = 0; a < c->nagents; a++) {
        if (label_listed(list, c->agents[a].label)) c->agents[k++] = c->agents[a];
        else agent_cfg_free(c->agents[a].cfg);
    }
    c->nagents = k;
}

sweep_plan *sweep_plan_load(const char *path, const char *text, const char *source, const char *const *sets,
                            int nsets, const char *dir, char *err, size_t cap) {
    return sweep_plan_load_agents(path, text, source, sets, nsets, dir, NULL, err, cap);
}

sweep_plan *sweep_plan_load_agents(const char *path, const char *text, const char *source, const char *const *sets,
                                   int nsets, const char *dir, const char *agents, char *err, size_t cap) {
    sweep_plan *p = calloc(1, sizeof *p);
    if (!p) return rql_failf(err, cap, "out of memory"), NULL;
    const char *src = path ? path : source ? source : "<string>";
    p->base = path ? rql_config_load(path, sets, nsets, err, cap) : rql_config_parse(text, src, sets, nsets, err, cap);
    if (!p->base) goto bad;
    if (agents) {
        for (const char *q = agents; *q;) {          /* every listed label must be an agent of the config */
            size_t n = strcspn(q, ",");
            char label[RQL_LABEL_MAX];
            snprintf(label, sizeof label, "%.*s", (int)(n < sizeof label ? n : sizeof label - 1), q);
            if (rql_config_find_agent(p->base, label) < 0) {
                char have[1024] = "";
                for (int a = 0, k = 0; a < p->base->nagents; a++)
                    k += snprintf(have + k, sizeof have - (size_t)(k < (int)sizeof have ? k : (int)sizeof have),
                                  "%s%s", a ? ", " : "", p->base->agents[a].label);
                rql_failf(err, cap, "%s: no agent labelled '%s' (the agents: %s)", src, label, have);
                goto bad;
            }
            q += n;
            if (*q == ',') q++;
        }
        keep_agents(p->base, agents);
    }
    const rql_config *b = p->base;
    p->source = strdup(src);
    p->dir = strdup(dir ? dir : b->output);
    if (!p->source || !p->dir) { rql_failf(err, cap, "out of memory"); goto bad; }
    long ncells = rql_sweep_ncells(b);     /* <= 1e6, config.c checks */
    long per = (long)b->nagents * b->nseeds;
    if (ncells * per > 10000000L) {
        rql_failf(err, cap, "%s: %ld cells x %ld runs each: more than ten million runs", src, ncells, per);
        goto bad;
    }
    p->ncells = (int)ncells;
    p->nruns = (int)(ncells * per);
    const size_t bytes[] = {(size_t)p->ncells * sizeof *p->cells, (size_t)p->nruns * sizeof *p->runs,
                            (size_t)p->nruns * sizeof *p->run_cell, (size_t)p->nruns * sizeof *p->res};
    void *v[4];
    if (!(p->block = rql_alloc_views(4, bytes, v))) { rql_failf(err, cap, "out of memory"); goto bad; }
    p->cells = v[0], p->runs = v[1], p->run_cell = v[2], p->res = v[3];
    char first_err[1024] = "";
    for (int ci = 0; ci < p->ncells; ci++) {
        sweep_cell *cell = &p->cells[ci];
        cell->pick = calloc(b->nsweep ? (size_t)b->nsweep : 1, sizeof *cell->pick);
        if (!cell->pick) { rql_failf(err, cap, "out of memory"); goto bad; }
        for (int d = b->nsweep - 1, rest = ci; d >= 0; d--) {   /* the first key varies slowest */
            if (b->sweep[d].with >= 0) continue;
            cell->pick[d] = rest % b->sweep[d].nvalues;
            rest /= b->sweep[d].nvalues;
        }
        for (int d = 0; d < b->nsweep; d++)                       /* paired keys follow their partner */
            if (b->sweep[d].with >= 0) cell->pick[d] = cell->pick[b->sweep[d].with];
        if (sweep_cell_dir(b, cell->pick, cell->dir, sizeof cell->dir)) {
            rql_failf(err, cap, "%s: sweep: the folder name of a cell is longer than %zu bytes; give the keys shorter "
                            "names with name = \"...\"", src, sizeof cell->dir - 1);
            goto bad;
        }
        char cerr[1024];
        cell->cfg = sweep_cell_load(path, text, src, sets, nsets, b, cell->pick, cerr, sizeof cerr);
        if (cell->cfg && agents) keep_agents(cell->cfg, agents);
        if (!cell->cfg) {
            if (!(cell->err = strdup(cerr))) { rql_failf(err, cap, "out of memory"); goto bad; }
            if (!p->ninvalid++) snprintf(first_err, sizeof first_err, "%s", cerr);
        }
    }
    if (p->ninvalid == p->ncells && p->ncells > 1) {
        rql_failf(err, cap, "every cell of the sweep is invalid; the first: %s", first_err);
        goto bad;
    }
    if (p->ninvalid == p->ncells) {
        rql_failf(err, cap, "%s", first_err);
        goto bad;
    }
    for (int r = 0; r < p->nruns; r++) {
        int ci = (int)(r / per), a = (int)((r / b->nseeds) % b->nagents);
        long seed = b->seeds[r % b->nseeds];
        const sweep_cell *cell = &p->cells[ci];
        rql_run_spec *s = &p->runs[r];
        s->agent = a;
        s->seed = seed;
        p->run_cell[r] = ci;
        const char *label = b->agents[a].label;
        const char *sep = cell->dir[0] ? "/" : "";
        int x = snprintf(s->log_path, sizeof s->log_path, "%s/%s%s%s/seed%ld.h5", p->dir, cell->dir, sep, label, seed);
        int y = snprintf(s->ckpt_path, sizeof s->ckpt_path, "%s/%s%s%s/seed%ld.ckpt", p->dir, cell->dir, sep, label,
                         seed);
        if (x < 0 || y < 0 || (size_t)x >= sizeof s->log_path || (size_t)y >= sizeof s->ckpt_path) {
            rql_failf(err, cap, "output folder name too long: %s", p->dir);
            goto bad;
        }
        sweep_result *res = &p->res[r];
        res->rank = -1;
        res->final_success = res->final_return = NAN;
        if (!cell->cfg) {
            res->status = SWEEP_FAILED;
            snprintf(res->err, sizeof res->err, "%s", cell->err);
        }
    }
    return p;
bad:
    sweep_plan_free(p);
    return NULL;
}

/* sweep_run_state, and why for "unreadable" (a log or checkpoint that
 * cannot be read: its name and the reason). */
static const char *run_state_why(const sweep_plan *p, int i, char *why, size_t cap) {
    const sweep_cell *cell = &p->cells[p->run_cell[i]];
    why[0] = 0;
    if (!cell->cfg) return "invalid cell";
    const rql_run_spec *r = &p->runs[i];
    struct stat st;
    int has_log = stat(r->log_path, &st) == 0, has_ckpt = stat(r->ckpt_path, &st) == 0;
    if (has_log) {
        rlog_file *f = rlog_file_open(r->log_path);
        if (!f) {
            snprintf(why, cap, "%s", rql_error());
            return "unreadable";
        }
        rlog_file_close(f);
    }
    if (has_ckpt && ckpt_verify(r->ckpt_path, why, cap) < 0) return "unreadable";
    why[0] = 0;
    char *text = rql_config_run_text(cell->cfg, r->agent, r->seed);
    char err[1200];
    int k = text ? run_log_complete(r->log_path, text, err, sizeof err) : 0;
    if (k < 0 && !strstr(err, "another config")) {      /* a finished log that does not read back */
        free(text);
        snprintf(why, cap, "%s", err);
        return "unreadable";
    }
    if (k > 0 || k < 0 || has_ckpt || !has_log) {
        free(text);
        return k > 0 ? "complete" : k < 0 ? "other-config" : has_ckpt ? "resumable" : "new";
    }
    /* a log without checkpoint: started over only when it is this run's */
    int ok = text ? run_log_replaceable(r->log_path, text, r->seed, err, sizeof err) : 0;
    free(text);
    return ok == 1 ? "restart" : "other-config";
}

const char *sweep_run_state(const sweep_plan *p, int i) {
    char why[1200];
    return run_state_why(p, i, why, sizeof why);
}


sweep_status sweep_run_one(const sweep_plan *p, int i, int force, const run_opts *o, sweep_result *out) {
    double t0 = rql_now_s();
    int rank = out->rank;
    memset(out, 0, sizeof *out);
    out->rank = rank;
    out->final_success = out->final_return = NAN;
    const sweep_cell *cell = &p->cells[p->run_cell[i]];
    const rql_run_spec *r = &p->runs[i];
    if (!cell->cfg) {
        out->status = SWEEP_FAILED;
        snprintf(out->err, sizeof out->err, "%s", cell->err);
        return out->status;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", r->log_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    if (slash && rql_mkdirs(dir)) {
        out->status = SWEEP_FAILED;
        snprintf(out->err, sizeof out->err, "cannot create %.900s: %s", dir, strerror(errno));
        return out->status;
    }
    if (force) {
        int lk = run_lock(r->log_path, out->err, sizeof out->err);   /* not under another writer */
        if (lk < 0) {
            out->status = SWEEP_FAILED;
            return out->status;
        }
        unlink(r->log_path);
        unlink(r->ckpt_path);
        run_unlock(r->log_path, lk);
    }
    char *text = rql_config_run_text(cell->cfg, r->agent, r->seed);
    if (!text) {
        out->status = SWEEP_FAILED;
        snprintf(out->err, sizeof out->err, "out of memory");
        return out->status;
    }
    int k = run_log_complete(r->log_path, text, out->err, sizeof out->err);
    free(text);
    if (k != 0) {
        out->status = k > 0 ? SWEEP_SKIPPED : SWEEP_FAILED;
        if (k > 0) {
            /* the numbers of a skipped run come from its log */
            rlog_info in;
            if (rlog_read_info(r->log_path, &in) == 0) {
                out->episodes = (long)in.rows.curves;
                out->final_success = in.final_success;
                out->final_return = in.final_return;
                rlog_info_free(&in);
            }
        }
        out->wall_s = rql_now_s() - t0;
        return out->status;
    }
    run_opts mine = *o;
    mine.resume = 1;
    run_result rr;
    int st = run_execute(cell->cfg, r, &mine, &rr);
    out->wall_s = rql_now_s() - t0;
    out->episodes = rr.episodes;
    out->final_success = rr.final_success;
    out->final_return = rr.final_return;
    if (rr.restarted) snprintf(out->restart_why, sizeof out->restart_why, "%s", rr.restart_why);
    switch (st) {
    case RUN_FINISHED: out->status = rr.resumed ? SWEEP_RESUMED : SWEEP_COMPLETE; break;
    case RUN_SKIPPED: out->status = SWEEP_SKIPPED; break;
    case RUN_STOPPED: out->status = SWEEP_STOPPED; break;
    default:
        out->status = SWEEP_FAILED;
        snprintf(out->err, sizeof out->err, "%s", rr.err);
    }
    return out->status;
}

void sweep_count(const sweep_plan *p, int *counts) {
    memset(counts, 0, (SWEEP_FAILED + 1) * sizeof *counts);
    for (int i = 0; i < p->nruns; i++) counts[p->res[i].status]++;
}

/* ---- the summary ------------------------------------------------------------ */

/* A swept value as JSON: numbers and booleans bare, strings quoted. */
static void json_value(FILE *f, const rql_sweep_dim *d, int v) {
    if (d->kinds[v] == RQL_SWEEP_STR) rql_json_str(f, d->texts[v]);
    else fputs(d->texts[v], f);
}

/* The log path relative to the sweep folder. */
static const char *rel(const sweep_plan *p, const char *path) {
    size_t n = strlen(p->dir);
    return !strncmp(path, p->dir, n) && path[n] == '/' ? path + n + 1 : path;
}

static void write_json(const sweep_plan *p, const sweep_info *info, FILE *f) {
    const rql_config *b = p->base;
    int counts[SWEEP_FAILED + 1];
    sweep_count(p, counts);
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"format_version\": %d,\n  \"config\": ", SWEEP_FORMAT,
            SWEEP_FORMAT_VERSION);
    rql_json_str(f, p->source);
    fputs(",\n  \"dir\": ", f);
    rql_json_str(f, p->dir);
    fprintf(f, ",\n  \"state\": \"%s\",\n  \"started\": ", info->state);
    rql_json_str(f, info->started ? info->started : "");
    fputs(",\n  \"elapsed_s\": ", f);
    rql_json_num(f, info->elapsed_s, 17);
    fprintf(f, ",\n  \"ranks\": %d,\n  \"threads\": %d,\n  \"mpi\": %s,\n", info->ranks, info->threads,
            info->mpi ? "true" : "false");
    fputs("  \"keys\": [", f);
    for (int d = 0; d < b->nsweep; d++) {
        fprintf(f, "%s\n    {\"key\": ", d ? "," : "");
        rql_json_str(f, b->sweep[d].key);
        fputs(", \"name\": ", f);
        rql_json_str(f, b->sweep[d].name);
        fputs(", \"with\": ", f);
        if (b->sweep[d].with >= 0) rql_json_str(f, b->sweep[b->sweep[d].with].key);
        else fputs("null", f);
        fputs(", \"values\": [", f);
        for (int v = 0; v < b->sweep[d].nvalues; v++) {
            if (v) fputs(", ", f);
            json_value(f, &b->sweep[d], v);
        }
        fputs("]}", f);
    }
    fprintf(f, "%s],\n  \"agents\": [", b->nsweep ? "\n  " : "");
    for (int a = 0; a < b->nagents; a++) {
        if (a) fputs(", ", f);
        rql_json_str(f, b->agents[a].label);
    }
    fputs("],\n  \"seeds\": [", f);
    for (int s = 0; s < b->nseeds; s++) fprintf(f, "%s%ld", s ? ", " : "", b->seeds[s]);
    fprintf(f, "],\n  \"cells\": %d,\n  \"runs_total\": %d,\n  \"counts\": {", p->ncells, p->nruns);
    for (int s = 0; s <= SWEEP_FAILED; s++) fprintf(f, "%s\"%s\": %d", s ? ", " : "", status_names[s], counts[s]);
    fputs("},\n  \"runs\": [", f);
    for (int i = 0; i < p->nruns; i++) {
        const rql_run_spec *r = &p->runs[i];
        const sweep_cell *cell = &p->cells[p->run_cell[i]];
        const sweep_result *x = &p->res[i];
        fprintf(f, "%s\n    {\"run\": %d, \"cell\": %d, \"cell_dir\": ", i ? "," : "", i, p->run_cell[i]);
        rql_json_str(f, cell->dir);
        fputs(", \"values\": {", f);
        for (int d = 0; d < b->nsweep; d++) {
            if (d) fputs(", ", f);
            rql_json_str(f, b->sweep[d].key);
            fputs(": ", f);
            json_value(f, &b->sweep[d], cell->pick[d]);
        }
        fputs("}, \"label\": ", f);
        rql_json_str(f, b->agents[r->agent].label);
        fprintf(f, ", \"seed\": %ld, \"log\": ", r->seed);
        rql_json_str(f, rel(p, r->log_path));
        fprintf(f, ", \"status\": \"%s\", \"rank\": %d, \"wall_s\": ", status_names[x->status], x->rank);
        rql_json_num(f, x->status == SWEEP_PENDING ? NAN : x->wall_s, 17);
        fprintf(f, ", \"episodes\": %ld, \"final_success\": ", x->episodes);
        rql_json_num(f, x->final_success, 17);
        fputs(", \"final_return\": ", f);
        rql_json_num(f, x->final_return, 17);
        fputs(", \"error\": ", f);
        if (x->err[0]) rql_json_str(f, x->err);
        else fputs("null", f);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
}

void sweep_print_table(const sweep_plan *p, const sweep_info *info, FILE *f) {
    const rql_config *b = p->base;
    int counts[SWEEP_FAILED + 1];
    sweep_count(p, counts);
    fprintf(f, "rql sweep %s -> %s: %d runs (%d cells x %d agents x %d seeds), %s after %.1f s on %d rank%s\n",
            p->source, p->dir, p->nruns, p->ncells, b->nagents, b->nseeds, info->state, info->elapsed_s, info->ranks,
            info->ranks == 1 ? "" : "s");
    for (int s = 0, k = 0; s <= SWEEP_FAILED; s++)
        if (counts[s]) fprintf(f, "%s%d %s", k++ ? ", " : "  ", counts[s], status_names[s]);
    fputs("\n\n", f);
    int cw = 4, lw = 5;
    for (int c = 0; c < p->ncells; c++)
        if ((int)strlen(p->cells[c].dir) > cw) cw = (int)strlen(p->cells[c].dir);
    for (int a = 0; a < b->nagents; a++)
        if ((int)strlen(b->agents[a].label) > lw) lw = (int)strlen(b->agents[a].label);
    fprintf(f, "%-5s %-*s %-*s %-6s %-9s %-5s %8s %8s  %s\n", "run", cw, "cell", lw, "agent", "seed", "status",
            "rank", "wall_s", "success", "error");
    for (int i = 0; i < p->nruns; i++) {
        const sweep_result *x = &p->res[i];
        char wall[32] = "-", succ[32] = "-", rank[16] = "-";
        if (x->status != SWEEP_PENDING && x->status != SWEEP_RUNNING && x->rank >= 0)
            snprintf(wall, sizeof wall, "%.2f", x->wall_s);
        if (isfinite(x->final_success)) snprintf(succ, sizeof succ, "%.3f", x->final_success);
        if (x->rank >= 0) snprintf(rank, sizeof rank, "%d", x->rank);
        fprintf(f, "%-5d %-*s %-*s %-6ld %-9s %-5s %8s %8s  %s\n", i, cw, p->cells[p->run_cell[i]].dir[0] ?
                p->cells[p->run_cell[i]].dir : "-", lw, b->agents[p->runs[i].agent].label, p->runs[i].seed,
                status_names[x->status], rank, wall, succ, x->err);
    }
}

/* Writes path via path.tmp: fsync'd and renamed, so a reader (or a kill)
 * sees the old file or the new one, never a torn one. */
static int write_atomic(const sweep_plan *p, const sweep_info *info, const char *path, int json, char *err,
                        size_t cap) {
    char tmp[1200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return rql_failf(err, cap, "%s: name too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return rql_failf(err, cap, "cannot write %s: %s", tmp, strerror(errno));
    if (json) write_json(p, info, f);
    else sweep_print_table(p, info, f);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return rql_failf(err, cap, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int sweep_write_summary(const sweep_plan *p, const sweep_info *info, char *err, size_t cap) {
    char path[1100];
    if (rql_mkdirs(p->dir)) return rql_failf(err, cap, "cannot create %s: %s", p->dir, strerror(errno));
    snprintf(path, sizeof path, "%s/sweep.json", p->dir);
    if (write_atomic(p, info, path, 1, err, cap)) return -1;
    snprintf(path, sizeof path, "%s/sweep.txt", p->dir);
    return write_atomic(p, info, path, 0, err, cap);
}

int sweep_print_plan(const sweep_plan *p, FILE *f) {
    const rql_config *b = p->base;
    fprintf(f, "rql sweep %s: ", p->source);
    if (!b->nsweep) fprintf(f, "no sweep section (one cell)");
    for (int d = 0; d < b->nsweep; d++) {
        fprintf(f, "%s%s [", !d ? "" : b->sweep[d].with >= 0 ? "; " : " x ", b->sweep[d].key);
        for (int v = 0; v < b->sweep[d].nvalues; v++) {
            char lit[600];
            rql_sweep_literal(&b->sweep[d], v, lit, sizeof lit);
            fprintf(f, "%s%s", v ? ", " : "", lit);
        }
        fprintf(f, "]");
        if (b->sweep[d].with >= 0) fprintf(f, " with %s", b->sweep[b->sweep[d].with].key);
    }
    fprintf(f, "\n  %d cells x %d agents x %d seeds = %d runs -> %s/\n\n", p->ncells, b->nagents, b->nseeds, p->nruns,
            p->dir);
    int cw = 4, lw = 5;
    for (int c = 0; c < p->ncells; c++)
        if ((int)strlen(p->cells[c].dir) > cw) cw = (int)strlen(p->cells[c].dir);
    for (int a = 0; a < b->nagents; a++)
        if ((int)strlen(b->agents[a].label) > lw) lw = (int)strlen(b->agents[a].label);
    fprintf(f, "%-5s %-*s %-*s %-6s %-12s %s\n", "run", cw, "cell", lw, "agent", "seed", "state", "log");
    enum { NSTATES = 7 };
    int state_counts[NSTATES] = {0};
    static const char *const states[NSTATES] = {"new", "complete", "resumable", "restart", "other-config",
                                                "unreadable", "invalid cell"};
    char **whys = calloc((size_t)p->nruns + 1, sizeof *whys);
    for (int i = 0; i < p->nruns; i++) {
        char why[1200];
        const char *st = run_state_why(p, i, why, sizeof why);
        if (whys && why[0]) whys[i] = strdup(why);
        for (int k = 0; k < NSTATES; k++) state_counts[k] += !strcmp(st, states[k]);
        const char *cd = p->cells[p->run_cell[i]].dir;
        fprintf(f, "%-5d %-*s %-*s %-6ld %-12s %s\n", i, cw, cd[0] ? cd : "-", lw, b->agents[p->runs[i].agent].label,
                p->runs[i].seed, st, p->runs[i].log_path);
    }
    fprintf(f, "\n");
    for (int k = 0, n = 0; k < NSTATES; k++)
        if (state_counts[k]) fprintf(f, "%s%d %s", n++ ? ", " : "", state_counts[k], states[k]);
    fprintf(f, "\n");
    int bad = 0;
    for (int i = 0; whys && i < p->nruns; i++)
        if (whys[i]) {
            if (!bad++) fprintf(f, "\nunreadable files (their runs will fail until removed, or --force):\n");
            fprintf(f, "  run %d: %s\n", i, whys[i]);
            free(whys[i]);
        }
    free(whys);
    if (p->ninvalid) {
        fprintf(f, "\n%d invalid cell%s (their runs will be reported failed, the others run):\n", p->ninvalid,
                p->ninvalid == 1 ? "" : "s");
        for (int c = 0; c < p->ncells; c++)
            if (!p->cells[c].cfg) fprintf(f, "  %s: %s\n", p->cells[c].dir, p->cells[c].err);
    }
    return bad;
}
