/* progress — live display of parallel runs (see progress.h). */
#define _GNU_SOURCE
#include "experiments/progress.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TTY_MAX_LINES 12   /* active runs shown on a terminal; the rest are summarised */

struct progress {
    int n, tty;
    FILE *out;
    double interval, t0, last_print;
    int drawn;             /* lines of the last terminal redraw, to move back over */
    char (*names)[80];
    progress_row *rows;
    void *block;           /* names and rows, one allocation */
};


progress *progress_alloc(int nruns, const char *const *names, FILE *out, int tty, double interval_s) {
    progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    const size_t bytes[] = {(size_t)nruns * sizeof *p->names, (size_t)nruns * sizeof *p->rows};
    void *v[2];
    if (!(p->block = rql_alloc_views(2, bytes, v))) { progress_free(p); return NULL; }
    p->names = v[0];
    p->rows = v[1];
    p->n = nruns;
    p->tty = tty;
    p->out = out;
    p->interval = interval_s;
    p->t0 = p->last_print = rql_now_s();
    for (int i = 0; i < nruns; i++) {
        snprintf(p->names[i], sizeof p->names[i], "%s", names[i]);
        p->rows[i].eval_success = NAN;
    }
    return p;
}

void progress_free(progress *p) {
    if (!p) return;
    free(p->block);
    free(p);
}

static void fmt_time(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void run_line(const progress *p, int i, char *buf, size_t n) {
    const progress_row *r = &p->rows[i];
    char ev[32] = "";
    if (!isnan(r->eval_success)) snprintf(ev, sizeof ev, "  eval %3.0f%%", 100 * r->eval_success);
    snprintf(buf, n, "%-28s %3.0f%%  ep %7ld  steps %9ld  succ %3.0f%%  eps %.3f  %7.0f steps/s%s",
             p->names[i], 100 * r->frac, r->episodes, r->env_steps, 100 * r->success, r->epsilon,
             r->steps_per_s, ev);
}

static void overall(const progress *p, char *buf, size_t n) {
    int done = 0, running = 0, failed = 0, stopped = 0;
    double frac = 0;
    for (int i = 0; i < p->n; i++) {
        const progress_row *r = &p->rows[i];
        done += r->state == PROG_DONE || r->state == PROG_SKIPPED;
        running += r->state == PROG_RUNNING;
        failed += r->state == PROG_FAILED;
        stopped += r->state == PROG_STOPPED;
        frac += r->state == PROG_DONE || r->state == PROG_SKIPPED ? 1 : r->frac;
    }
    frac /= p->n > 0 ? p->n : 1;
    double el = rql_now_s() - p->t0;
    char e[32], eta[32];
    fmt_time(el, e, sizeof e);
    fmt_time(frac > 0.001 ? el * (1 - frac) / frac : NAN, eta, sizeof eta);
    snprintf(buf, n, "runs: %d/%d done, %d running%s%.0d%s%.0d  %3.0f%%  elapsed %s  ETA %s", done, p->n, running,
             failed ? ", failed " : "", failed, stopped ? ", stopped " : "", stopped, 100 * frac, e, eta);
}

/* Called with the lock held. */
static void draw(progress *p, int final) {
    char line[256];
    if (p->tty) {
        if (p->drawn) fprintf(p->out, "\033[%dA", p->drawn);
        int k = 0;
        for (int i = 0; i < p->n && k < TTY_MAX_LINES; i++)
            if (p->rows[i].state == PROG_RUNNING) {
                run_line(p, i, line, sizeof line);
                fprintf(p->out, "\033[K%s\n", line);
                k++;
            }
        overall(p, line, sizeof line);
        fprintf(p->out, "\033[K%s\n\033[J", line);
        p->drawn = final ? 0 : k + 1;
    } else {
        double el = rql_now_s() - p->t0;
        for (int i = 0; i < p->n && !final; i++)
            if (p->rows[i].state == PROG_RUNNING) {
                run_line(p, i, line, sizeof line);
                fprintf(p->out, "[%6.0fs] %s\n", el, line);
            }
        overall(p, line, sizeof line);
        fprintf(p->out, "[%6.0fs] %s\n", el, line);
    }
    fflush(p->out);
}

void progress_update(progress *p, int run, const progress_row *row) {
    if (!p || run < 0 || run >= p->n) return;
    #pragma omp critical(rql_progress)
    {
        progress_state before = p->rows[run].state;
        p->rows[run] = *row;
        double t = rql_now_s();
        int ended = before != row->state && row->state >= PROG_DONE;
        if (ended && !p->tty) {
            const char *what[] = {"pending", "running", "done", "already complete", "stopped", "FAILED"};
            char ev[48] = "";
            if (!isnan(row->eval_success)) snprintf(ev, sizeof ev, ", greedy success %.0f%%", 100 * row->eval_success);
            fprintf(p->out, "[%6.0fs] %s: %s after %ld episodes, %ld steps%s\n", t - p->t0, p->names[run],
                    what[row->state], row->episodes, row->env_steps, ev);
        }
        if (t - p->last_print >= p->interval || (ended && p->tty)) {
            p->last_print = t;
            draw(p, 0);
        }
    }
}

void progress_finish(progress *p) {
    if (!p) return;
    #pragma omp critical(rql_progress)
    draw(p, 1);
}
