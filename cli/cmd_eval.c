/* rql eval — greedy evaluation of a run from its checkpoint.
 *
 * The log's root attribute "config" holds the resolved config of the run,
 * so the env and agent are rebuilt exactly as trained; the agent is loaded
 * from the checkpoint beside the log (RUN.ckpt) or the one named with
 * --checkpoint. With --record the evaluated episodes are appended to the
 * log's /steps table, under the run's lock (a run being trained is refused). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/ckpt.h"
#include "cli/cmd.h"
#include "experiments/config.h"
#include "log/rlog.h"
#include "experiments/run.h"

#define CLI_EVAL_STREAM 0x636c69ULL    /* "cli": apart from the in-training evaluations */

static void usage(FILE *f) {
    rql_usage_of("eval", f);
    fprintf(f, "\n  RUN.h5            a run log written by rql train\n"
               "  --episodes N      episodes to evaluate (default: the config's eval.episodes)\n"
               "  --record          append the evaluated episodes step by step to the log's /steps\n"
               "  --checkpoint P    load the agent from P (default: RUN.ckpt beside the log)\n"
               "  --seed S          seed of the evaluation envs (default: from the run seed)\n");
}

int cmd_eval(int argc, char **argv) {
    const char *path = NULL, *ckpt_path = NULL;
    long episodes = 0, seed_opt = -1;
    int record = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        char *end;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--episodes") && more) {
            episodes = strtol(argv[++i], &end, 10);
            if (*end || episodes < 1 || episodes > 1000000) {
                fprintf(stderr, "rql eval: --episodes %s: expected 1 to 1000000\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--seed") && more) {
            seed_opt = strtol(argv[++i], &end, 10);
            if (*end || seed_opt < 0) {
                fprintf(stderr, "rql eval: --seed %s: expected a non-negative integer\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--checkpoint") && more) ckpt_path = argv[++i];
        else if (!strcmp(a, "--record")) record = 1;
        else if (rql_one_path("eval", a, &path, usage)) return 2;
    }
    if (!path) { usage(stderr); return 2; }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    char err[2048], ckbuf[1100];
    /* --record writes into the run's log: never while rql train or rql sweep
     * holds the run (the run lock of experiments/run.h), nor while another
     * rql eval --record appends to it */
    int lock = record ? run_lock(path, err, sizeof err) : -1;
    if (record && lock < 0) {
        fprintf(stderr, "rql eval: %s\n", err);
        return 1;
    }
    rlog_info info;
    if (rlog_read_info(path, &info) < 0) {
        fprintf(stderr, "rql eval: %s\n", rql_error());
        if (lock >= 0) run_unlock(path, lock);
        return 2;
    }
    int rc = 2;
    rql_config *c = NULL;
    agent *ag = NULL;
    agent_actor *ac = NULL;
    env *e = NULL;
    hid_t f = -1, g = -1;
    char src[1100];
    snprintf(src, sizeof src, "%s:/config", path);
    c = rql_config_parse(info.config, src, NULL, 0, err, sizeof err);
    if (!c) { fprintf(stderr, "rql eval: %s\n", err); goto out; }
    int ai = rql_config_find_agent(c, info.label);
    if (ai < 0) {
        fprintf(stderr, "rql eval: %s: the config attribute has no agent labelled '%s'\n", path, info.label);
        goto out;
    }
    if (!ckpt_path) {
        size_t n = strlen(path);
        snprintf(ckbuf, sizeof ckbuf, "%.*s.ckpt", (int)(n > 3 && !strcmp(path + n - 3, ".h5") ? n - 3 : n), path);
        ckpt_path = ckbuf;
    }
    f = ckpt_open(ckpt_path, err, sizeof err);
    if (f < 0) { fprintf(stderr, "rql eval: %s\n", err); goto out; }
    H5E_BEGIN_TRY { g = H5Gopen2(f, "agent", H5P_DEFAULT); } H5E_END_TRY;
    if (g < 0) { fprintf(stderr, "rql eval: %s: no /agent group\n", ckpt_path); goto out; }
    e = env_make(c->env);
    if (!e) { fprintf(stderr, "rql eval: %s: cannot build env: %s\n", src, rql_error()); goto out; }
    /* The training actor's shape is part of what ckpt_put_agent wrote. */
    ag = agent_alloc(c->agents[ai].cfg, env_obs_size(e), env_num_actions(e), c->n_envs, 0);
    ac = ag ? agent_actor_alloc(ag, c->n_envs) : NULL;
    if (!ag || !ac) { fprintf(stderr, "rql eval: cannot build agent %s: %s\n", info.label, rql_error()); goto out; }
    if (ckpt_get_agent(g, ag, ac) < 0) {
        fprintf(stderr, "rql eval: %s: %s\n", ckpt_path, rql_error());
        goto out;
    }
    int64_t done = 0, ep = 0;
    hid_t run;
    H5E_BEGIN_TRY { run = H5Gopen2(f, "run", H5P_DEFAULT); } H5E_END_TRY;
    if (run >= 0) {
        ckpt_get_i64(run, "done", &done);
        ckpt_get_i64(run, "episodes", &ep);
        H5Gclose(run);
    }
    if (!episodes) episodes = c->eval_episodes;
    uint64_t seed = seed_opt >= 0 ? (uint64_t)seed_opt : env_seed(env_seed((uint64_t)info.seed, CLI_EVAL_STREAM), 0);

    rlog *log = NULL;
    int64_t base = 0;
    if (record) {
        log = rlog_open_append(path);
        if (!log) { fprintf(stderr, "rql eval: %s\n", rql_error()); rc = 1; goto out; }
        base = rlog_next_step_episode(log);
    }
    double sr = NAN, rm = NAN;
    int erc = run_evaluate(ag, c->env, (int)episodes, seed, &sr, &rm, log, base, record ? (int)episodes : 0,
                           err, sizeof err);
    if (log && rlog_close(log) < 0 && !erc) {
        snprintf(err, sizeof err, "%s", rql_error());
        erc = -1;
    }
    if (erc) { fprintf(stderr, "rql eval: %s\n", err); rc = 1; goto out; }
    printf("%s  agent %s seed %ld  checkpoint at episode %lld%s\n", path, info.label, info.seed, (long long)ep,
           done ? " (final)" : " (run not finished)");
    printf("greedy success %.1f%% (%ld episodes), mean return %.4f\n", 100 * sr, episodes, rm);
    if (record) printf("recorded %ld episodes into %s /steps (episode ids %lld..%lld)\n", episodes, path,
                       (long long)base, (long long)(base + episodes - 1));
    rc = 0;
out:
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    agent_actor_free(ac);
    agent_free(ag);
    env_free(e);
    rql_config_free(c);
    rlog_info_free(&info);
    if (lock >= 0) run_unlock(path, lock);
    return rc;
}
