/* rql sweep — every run of a config's sweep grid (cells x agents x seeds),
 * on this machine or spread over the ranks of an MPI job:
 *
 *   rql sweep CONFIG -o DIR [--dry-run]          one process, -j runs at once
 *   mpirun -n K rql sweep CONFIG -o DIR          K ranks
 *
 * Under mpirun, rank 0 hands out run indices on request (dynamic: a rank that
 * finishes early asks for the next run) and records the results in the sweep
 * summary; it also trains runs itself, answering the other ranks between the
 * vector steps of its own run (run_opts.poll), unless --dedicated-master.
 * Every rank runs one run at a time with the harness's run code (OpenMP
 * threads for the envs of that run) and writes only that run's files, so no
 * parallel HDF5 is needed. Messages are two: a rank's result-and-request
 * (TAG_RESULT) and rank 0's answer, the next run or -1 (TAG_WORK); waiting
 * ranks poll with MPI_Test / MPI_Iprobe and short sleeps rather than spin in
 * a blocking receive, so an idle rank leaves its core to the others.
 *
 * A run's log depends only on its config and seed (run.h), so which rank ran
 * it, how many ranks there were, and how often the sweep was interrupted
 * change nothing in the logs (wall-clock columns aside). Running the same
 * command again skips complete logs and resumes interrupted runs.
 *
 * Exit status: 0 every run complete (now or before), 1 some runs failed
 * (listed in DIR/sweep.txt), 2 bad usage or an invalid config, 128 + N
 * stopped by signal N (rerun the command to resume).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef RQL_MPI
#include <mpi.h>
#endif

#include "cli/cmd.h"
#include "experiments/run.h"
#include "stats/compare.h"
#include "experiments/sweep.h"
#include "util/util.h"

extern void openblas_set_num_threads(int);

#define SUMMARY_EVERY_S 1.0     /* the summary is rewritten at most this often while runs end */

static void usage(FILE *f) {
    rql_usage_of("sweep", f);
    fprintf(f,
            "\n  CONFIG              experiment config with a sweep section ('rql help config';\n"
            "                      docs/sweep.md); a config without one is a sweep of one cell\n"
            "  -o DIR              output folder (default: the config's output key)\n"
            "  --dry-run           print the grid, every run with its log path and state, and the\n"
            "                      invalid cells; run nothing (exit 1 if a cell is invalid)\n"
            "  -j N                runs at once without mpirun (default: OMP_NUM_THREADS or the core\n"
            "                      count); under mpirun every rank runs one run at a time\n"
            "  --seeds LIST        override the seeds: 0,1,2 or 0-4\n"
            "  --agents L1,L2      run only these agents of the config (labels, comma-separated)\n"
            "  --set K=V           override a key of the base config (the sweep's values win)\n"
            "  --force             start every run over (delete its log and checkpoint first)\n"
            "  --dedicated-master  under mpirun, rank 0 only hands out runs (for many ranks)\n"
            "  --quiet             no line per finished run\n"
            "\nRun (cell, agent, seed) logs to DIR/<cell>/<label>/seed<k>.h5, <cell> being\n"
            "name=value,... of the swept keys; DIR/sweep.json and DIR/sweep.txt summarise every run.\n"
            "Running the same command again skips complete runs and resumes interrupted ones.\n"
            "Under MPI:  mpirun -n K --bind-to none rql sweep CONFIG -o DIR  (each rank: one run at a\n"
            "time, OMP_NUM_THREADS threads for its envs; default cores / ranks on the node).\n"
            "Exit status: 0 all runs complete, 1 some failed, 2 bad usage or config, 128+N stopped\n"
            "by signal N.\n");
#ifndef RQL_MPI
    fprintf(f, "\nThis rql was built without MPI: the sweep runs on this machine only. For mpirun,\n"
               "install libopenmpi-dev and openmpi-bin (scripts/install-deps does) and rebuild (make).\n");
#endif
}


#ifdef RQL_MPI
static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}
#endif

static int env_int(const char *name) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : -1;
}

/* The size of the job a launcher (mpirun, mpiexec, srun --mpi=...) started
 * this process in; 0 when none did. */
static int launched_size(void) {
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        if (env_int(sizes[i]) > 0) return env_int(sizes[i]);
    if (getenv("PMIX_RANK") || getenv("PMI_RANK")) return 1;
    return 0;
}

#ifndef RQL_MPI
static int launched_rank(void) {
    static const char *const ranks[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof ranks / sizeof *ranks; i++)
        if (env_int(ranks[i]) >= 0) return env_int(ranks[i]);
    return 0;
}
#endif

/* ---- the scheduler: rank 0's view of the sweep ---------------------------------- */

typedef struct {
    sweep_plan *p;
    const char *cmd;          /* "sweep" or "suite", for messages */
    progress *prog;           /* live display of the runs (NULL: none) */
    int force, quiet;
    int next;                 /* runs before it were handed out (or needed no run) */
    int active;               /* other ranks still asking for work */
    int ended;                /* runs with a result from this invocation */
    int todo;                 /* runs this invocation has to do */
    double t0, last_summary, last_poll;
    sweep_info info;
    char started[40];
} sched;

/* The next run to do, or -1 when there is none or the sweep is stopping. */
static int take(sched *s) {
    if (rql_stop_flag) return -1;
    while (s->next < s->p->nruns && s->p->res[s->next].status != SWEEP_PENDING) s->next++;
    return s->next < s->p->nruns ? s->next++ : -1;
}

static void summary(sched *s, int final) {
    double t = rql_now_s();
    if (!final && t - s->last_summary < SUMMARY_EVERY_S) return;
    s->last_summary = t;
    s->info.elapsed_s = t - s->t0;
    char err[1400];
    if (sweep_write_summary(s->p, &s->info, err, sizeof err))
        fprintf(stderr, "rql sweep: %s\n", err);
}

static void record(sched *s, int i, const sweep_result *r) {
    sweep_plan *p = s->p;
    p->res[i] = *r;
    s->ended++;
    if (r->restart_why[0])
        fprintf(stderr, "rql: %s: cannot resume (%s); the run was started over\n", p->runs[i].log_path,
                r->restart_why);
    if (!s->quiet || r->status == SWEEP_FAILED) {
        const rql_run_spec *x = &p->runs[i];
        const char *cd = p->cells[p->run_cell[i]].dir;
        char succ[48] = "";
        if (isfinite(r->final_success)) snprintf(succ, sizeof succ, ", success %.3f", r->final_success);
        fprintf(stderr, "rql %s: [%d/%d] %s%s%s/seed%ld %s in %.2f s on rank %d%s%s%s\n", s->cmd, s->ended, s->todo, cd,
                cd[0] ? "/" : "", p->base->agents[x->agent].label, x->seed, sweep_status_name(r->status), r->wall_s,
                r->rank, succ, r->err[0] ? ": " : "", r->err);
    }
    summary(s, 0);
}

/* Takes runs until there are none left; several threads may run it at once. */
static void take_and_run(sched *s, int rank, const run_opts *o) {
    for (;;) {
        int i;
        #pragma omp critical(sweep_sched)
        {
            i = take(s);
            if (i >= 0) {
                s->p->res[i].status = SWEEP_RUNNING;
                s->p->res[i].rank = rank;
            }
        }
        if (i < 0) return;
        sweep_result r = {.rank = rank};
        run_opts oi = *o;
        oi.prog = s->prog;
        oi.prog_index = i;
        sweep_run_one(s->p, i, s->force, &oi, &r);
        if (s->prog && (r.status == SWEEP_SKIPPED || r.status == SWEEP_FAILED))   /* never reached run_execute */
            progress_update(s->prog, i, &(progress_row){.state = r.status == SWEEP_SKIPPED ? PROG_SKIPPED : PROG_FAILED,
                                                        .frac = 1, .eval_success = NAN});
        #pragma omp critical(sweep_sched)
        record(s, i, &r);
    }
}

/* threads runs at once; one thread runs outside any parallel region, so the
 * OpenMP loop over its envs gets the threads (no nesting). */
static void run_local(sched *s, int threads, int rank, void (*poll)(void *), void *poll_arg) {
    run_opts o = {.stop = &rql_stop_flag, .resume = 1, .poll = poll, .poll_arg = poll_arg};
    if (threads <= 1) {
        take_and_run(s, rank, &o);
        return;
    }
    #pragma omp parallel num_threads(threads)
    take_and_run(s, rank, &o);
}

/* ---- MPI: rank 0 hands out runs, every rank runs them ------------------------- */
#ifdef RQL_MPI
enum { TAG_RESULT = 1, TAG_WORK = 2 };

/* A rank's report on its last run, which is also its request for the next. */
typedef struct {
    int32_t run;              /* the run reported on; -1: first request */
    int32_t status;           /* sweep_status */
    int32_t leaving;          /* 1: stopped by a signal, wants no more work */
    int32_t pad;
    int64_t episodes;
    double wall_s, final_success, final_return;
    char err[1024];
    char restart_why[1024];
} msg_t;

/* Rank 0: answers every request waiting; returns how many it answered. */
static int serve(sched *s) {
    int served = 0;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (!flag) return served;
        msg_t m;
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        served++;
        if (m.run >= 0 && m.run < s->p->nruns && m.status == SWEEP_PENDING) {
            s->p->res[m.run].status = SWEEP_PENDING;      /* handed out as the rank was stopped: not run */
            s->p->res[m.run].rank = -1;
        } else if (m.run >= 0 && m.run < s->p->nruns) {
            sweep_result r = {.status = (sweep_status)m.status, .rank = st.MPI_SOURCE, .wall_s = m.wall_s,
                              .episodes = (long)m.episodes, .final_success = m.final_success,
                              .final_return = m.final_return};
            m.err[sizeof m.err - 1] = 0;
            m.restart_why[sizeof m.restart_why - 1] = 0;
            snprintf(r.err, sizeof r.err, "%s", m.err);
            snprintf(r.restart_why, sizeof r.restart_why, "%s", m.restart_why);
            record(s, m.run, &r);
        }
        if (m.leaving) {
            s->active--;
            continue;
        }
        int32_t next = take(s);
        if (next >= 0) {
            s->p->res[next].status = SWEEP_RUNNING;
            s->p->res[next].rank = st.MPI_SOURCE;
        } else s->active--;
        MPI_Send(&next, 1, MPI_INT32_T, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
    }
}

/* run_opts.poll of rank 0's own runs: answer the others every 2 ms at most. */
static void serve_poll(void *arg) {
    sched *s = arg;
    double t = rql_now_s();
    if (t - s->last_poll < 2e-3) return;
    s->last_poll = t;
    serve(s);
}

static void run_master(sched *s, int dedicated) {
    if (!dedicated) run_local(s, 1, 0, serve_poll, s);
    /* Own work done (or stopping): answer until every rank has left. The
     * sleep grows while nothing arrives, so the master idles instead of
     * spinning on a core that a worker could use. */
    double z = 1e-4;
    while (s->active > 0) {
        if (serve(s)) z = 1e-4;
        else {
            nap(z);
            z = fmin(2 * z, 2e-2);
        }
    }
}

static void wait_gently(MPI_Request *rq) {
    double z = 5e-5;
    for (;;) {
        int done = 0;
        MPI_Test(rq, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nap(z);
        z = fmin(2 * z, 1e-2);
    }
}

static void run_worker(const sweep_plan *p, int rank, int force) {
    run_opts o = {.stop = &rql_stop_flag, .resume = 1};
    msg_t m;
    memset(&m, 0, sizeof m);
    m.run = -1;
    for (;;) {
        m.leaving = rql_stop_flag != 0;
        MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        if (m.leaving) return;
        int32_t next = -1;
        MPI_Request rq;
        MPI_Irecv(&next, 1, MPI_INT32_T, 0, TAG_WORK, MPI_COMM_WORLD, &rq);
        wait_gently(&rq);
        if (next < 0 || next >= p->nruns) return;
        if (rql_stop_flag) {                 /* stopped while waiting: give the run back untouched */
            memset(&m, 0, sizeof m);
            m.run = next;
            m.status = SWEEP_PENDING;
            m.leaving = 1;
            MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
            return;
        }
        sweep_result r = {.rank = rank};
        sweep_run_one(p, next, force, &o, &r);
        memset(&m, 0, sizeof m);
        m.run = next;
        m.status = (int32_t)r.status;
        m.episodes = r.episodes;
        m.wall_s = r.wall_s;
        m.final_success = r.final_success;
        m.final_return = r.final_return;
        snprintf(m.err, sizeof m.err, "%s", r.err);
        snprintf(m.restart_why, sizeof m.restart_why, "%s", r.restart_why);
    }
}
#endif

/* ---- the command ------------------------------------------------------------- */

/* rql sweep's own options. */
typedef struct {
    int dry, dedicated;
    const char *agents;
} sweep_args;

static int sweep_arg(void *ctx, int argc, char **argv, int *i) {
    sweep_args *x = ctx;
    const char *a = argv[*i];
    if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) x->dry = 1;
    else if (!strcmp(a, "--dedicated-master")) x->dedicated = 1;
    else if (!strcmp(a, "--agents") && *i + 1 < argc) x->agents = argv[++*i];
    else return 0;
    return 1;
}

int cmd_sweep(int argc, char **argv) {
    sweep_args own = {0};
    rql_run_args ra;
    if (rql_run_args_init(&ra, argc)) return 1;
    int prc = rql_run_args_parse("sweep", &ra, argc, argv, sweep_arg, &own, usage);
    if (prc >= 0) return prc;
    if (!ra.cfg_path) { usage(stderr); rql_run_args_free(&ra); return 2; }
    rql_sweep_job job = {.cmd = "sweep", .cfg_path = ra.cfg_path, .out = ra.out, .sets = ra.sets, .nsets = ra.nsets,
                         .threads = ra.threads, .force = ra.force, .quiet = ra.quiet, .dry = own.dry,
                         .dedicated = own.dedicated, .agents = own.agents};
    int rc = rql_sweep_exec(&job, argc, argv);
    rql_run_args_free(&ra);
    return rc;
}

/* The body of rql sweep, shared with rql suite (cmd.h). */
int rql_sweep_exec(const rql_sweep_job *job, int argc, char **argv) {
    char err[2048];
    const char *cmd = job->cmd;
    const char *cfg_path = job->cfg_path, *out = job->out;
    const char *const *sets = job->sets;
    int threads = job->threads, force = job->force, quiet = job->quiet, nsets = job->nsets;
    int dry = job->dry, dedicated = job->dedicated;

    int world = 1, rank = 0, mpi = 0, local_ranks = 1;
    int launched = launched_size();
#ifdef RQL_MPI
    if (launched > 0) {
        int provided;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &world);
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &local_ranks);
        MPI_Comm_free(&node);
        mpi = 1;
    }
#else
    if (launched > 1) {
        if (launched_rank() == 0)
            fprintf(stderr, "rql %s: this rql was built without MPI, so the %d processes mpirun started cannot "
                            "share a sweep.\nInstall libopenmpi-dev and openmpi-bin (scripts/install-deps) and "
                            "rebuild (make), or run 'rql sweep %s' without mpirun.\n", cmd, launched, cfg_path);
        return 2;
    }
#endif
    int rc = 0;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (world > 1 && threads > 0) {
        if (rank == 0)
            fprintf(stderr, "rql %s: -j applies without mpirun; under mpirun each rank runs one run at a time "
                            "(start more ranks)\n", cmd);
        rc = 2;
        goto finalize;
    }
    /* Under MPI, rank 0 reads the config and sends its text to the others:
     * one read of the (shared) file system instead of one per rank. */
    char *text = NULL;
#ifdef RQL_MPI
    if (world > 1) {
        long len = -1;
        if (rank == 0) {
            FILE *f = fopen(cfg_path, "rb");
            if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
                (text = malloc((size_t)len + 1)) && fread(text, 1, (size_t)len, f) == (size_t)len)
                text[len] = 0;
            else {
                fprintf(stderr, "rql %s: %s: cannot read: %s\n", cmd, cfg_path, strerror(errno));
                len = -1;
            }
            if (f) fclose(f);
        }
        MPI_Bcast(&len, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        if (len < 0) {
            free(text);
            rc = 2;
            goto finalize;
        }
        if (rank != 0 && !(text = malloc((size_t)len + 1))) MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Bcast(text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
        text[len] = 0;
    }
#endif
    sweep_plan *p = sweep_plan_load_agents(text ? NULL : cfg_path, text, cfg_path, sets, nsets, out, job->agents, err,
                                           sizeof err);
    free(text);
    if (!p) {
        if (rank == 0) fprintf(stderr, "rql %s: %s\n", cmd, err);
        rc = 2;
        goto finalize;
    }
    if (dry) {
        int bad = rank == 0 ? sweep_print_plan(p, stdout) : 0;
        rc = p->ninvalid || bad ? 1 : 0;
        goto done;
    }
#ifndef RQL_MPI
    if (!quiet)
        fprintf(stderr, "rql %s: built without MPI, running on this machine only (for mpirun: install "
                        "libopenmpi-dev openmpi-bin and rebuild)\n", cmd);
#endif
    /* Threads of a rank: its envs' OpenMP (default: the node's cores shared
     * by its ranks); without mpirun, -j runs at once (default: the cores). */
    if (world > 1 && !getenv("OMP_NUM_THREADS")) {
        int t = omp_get_num_procs() / (local_ranks > 0 ? local_ranks : 1);
        omp_set_num_threads(t > 0 ? t : 1);
    }
    if (world == 1 && threads <= 0) threads = omp_get_max_threads();
    if (world == 1 && threads > p->nruns) threads = p->nruns;
    if (world > 1) threads = 1;
    openblas_set_num_threads(1);          /* updates are single-threaded per run (DESIGN.md) */
    int nested = omp_get_max_active_levels();
    if (threads > 1) omp_set_max_active_levels(1);

    rql_catch_stop_signals();

    sched s = {.p = p, .cmd = cmd, .force = force, .quiet = quiet, .active = world - 1, .t0 = rql_now_s()};
    rql_iso_now(s.started, sizeof s.started);
    s.info = (sweep_info){.state = "running", .ranks = world, .threads = threads, .mpi = mpi, .started = s.started};
    for (int i = 0; i < p->nruns; i++) s.todo += p->res[i].status == SWEEP_PENDING;
    if (rank == 0) {
        if (world == 1)
            fprintf(stderr, "rql %s: %d runs (%d cells x %d agents x %d seeds) -> %s/, %d at once\n", cmd, p->nruns,
                    p->ncells, p->base->nagents, p->base->nseeds, p->dir, threads);
        else
            fprintf(stderr, "rql %s: %d runs (%d cells x %d agents x %d seeds) -> %s/ on %d ranks, rank 0 %s\n", cmd,
                    p->nruns, p->ncells, p->base->nagents, p->base->nseeds, p->dir, world,
                    dedicated ? "handing out runs" : "handing out runs and running some");
        if (p->ninvalid)
            fprintf(stderr, "rql %s: %d invalid cell%s, %d runs failed from the start (see %s/sweep.txt)\n", cmd,
                    p->ninvalid, p->ninvalid == 1 ? "" : "s", p->nruns - s.todo, p->dir);
        summary(&s, 1);
    }

    char **names = NULL;
    if (world == 1 && job->progress && !quiet) {    /* a row per run: "cell/label/seedK" */
        names = calloc((size_t)p->nruns, sizeof *names);
        for (int i = 0; names && i < p->nruns; i++)
            if ((names[i] = malloc(320)))
                snprintf(names[i], 320, "%.200s/%.64s/seed%ld", p->cells[p->run_cell[i]].dir,
                         p->base->agents[p->runs[i].agent].label, p->runs[i].seed);
        s.prog = names ? progress_alloc(p->nruns, (const char *const *)names, stderr, isatty(2), 10.0) : NULL;
    }
    if (world == 1) run_local(&s, threads, 0, NULL, NULL);
#ifdef RQL_MPI
    else if (rank == 0) run_master(&s, dedicated);
    else run_worker(p, rank, force);
#endif
    if (s.prog) progress_finish(s.prog);
    progress_free(s.prog);
    for (int i = 0; names && i < p->nruns; i++) free(names[i]);
    free(names);
    omp_set_max_active_levels(nested);
    rql_release_stop_signals();

    if (rank == 0) {
        int counts[SWEEP_FAILED + 1];
        sweep_count(p, counts);
        int stopped = counts[SWEEP_STOPPED] + counts[SWEEP_PENDING] + counts[SWEEP_RUNNING];
        s.info.state = rql_stop_flag || stopped ? "stopped" : "finished";
        summary(&s, 1);
        if (job->report) {
            if (!stopped && job->report(p, job->report_arg)) rc = 1;
        } else {
        /* the comparison, grouped by cell, of every run that has a complete log */
        const char **paths = calloc((size_t)p->nruns, sizeof *paths);
        int np = 0;
        for (int i = 0; paths && i < p->nruns; i++) {
            sweep_status st = p->res[i].status;
            if (st == SWEEP_COMPLETE || st == SWEEP_RESUMED || st == SWEEP_SKIPPED) paths[np++] = p->runs[i].log_path;
        }
        if (np > 0 && !stopped) {
            printf("\n");
            if (stats_compare_print(paths, np, STATS_FMT_TABLE, stdout, err, sizeof err) < 0)
                fprintf(stderr, "rql %s: comparison: %s\n", cmd, err);
            fflush(stdout);
        }
        free(paths);
        }
        fprintf(stderr, "\nrql %s: %d complete, %d resumed, %d skipped (already complete), %d failed, %d stopped, "
                        "%d not started, in %.1f s; summary in %s/sweep.txt and sweep.json\n", cmd,
                counts[SWEEP_COMPLETE], counts[SWEEP_RESUMED], counts[SWEEP_SKIPPED], counts[SWEEP_FAILED],
                counts[SWEEP_STOPPED], counts[SWEEP_PENDING] + counts[SWEEP_RUNNING], rql_now_s() - s.t0, p->dir);
        if (counts[SWEEP_FAILED]) {
            fprintf(stderr, "rql %s: failed runs:\n", cmd);
            for (int i = 0, k = 0; i < p->nruns && k < 10; i++)
                if (p->res[i].status == SWEEP_FAILED) {
                    fprintf(stderr, "  %s: %s\n", p->runs[i].log_path, p->res[i].err);
                    k++;
                }
            if (counts[SWEEP_FAILED] > 10) fprintf(stderr, "  ... (%d more in sweep.txt)\n", counts[SWEEP_FAILED] - 10);
        }
        if (rql_stop_flag || stopped) {
            fprintf(stderr, "rql %s: stopped%s; run the same command again to resume\n", cmd,
                    rql_stop_flag == SIGTERM ? " by SIGTERM" : rql_stop_flag == SIGINT ? " by SIGINT" : "");
            rc = rql_stop_flag ? 128 + (int)rql_stop_flag : 1;
        } else if (counts[SWEEP_FAILED]) rc = 1;
    } else if (rql_stop_flag) rc = 128 + (int)rql_stop_flag;
done:
    sweep_plan_free(p);
finalize:
#ifdef RQL_MPI
    if (mpi) MPI_Finalize();
#endif
    return rc;
}
