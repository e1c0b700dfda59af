/* config — experiment configs: load a libconfig file, apply command-line
 * overrides, validate every key, and expand the (agent, seed) runs.
 *
 * A config file names the env and its parameters, a list of agents (label,
 * type, hyperparameters), the seeds, the training budget and the cadence of
 * evaluation, logging and checkpoints:
 *
 *   env = { name = "tmaze"; length = 10; };
 *   agents = ( { label = "drqn-lstm"; type = "drqn"; cell = "lstm"; } );
 *   seeds = [0, 1, 2];
 *   train = { episodes = 2000; n_envs = 8; };
 *   eval = { every = 100; episodes = 100; };
 *
 * Env parameters go to env_spec_set and agent hyperparameters to
 * agent_cfg_set by name, so the env and agent modules own their own keys,
 * defaults and ranges; this module owns the harness keys (rql_config_keys).
 * Unknown keys, wrong types and out-of-range values are errors naming the
 * file, line, key and value; a value set with --set names the override.
 *
 * Overrides ("--set KEY=VALUE") address settings by dotted path: env.length,
 * train.episodes, seeds, output, agent.LABEL.KEY (agent.*.KEY for every
 * agent). VALUE is libconfig syntax (10, 1e-3, true, "x", [0,1]); a bare word
 * that is not a number is taken as a string.
 *
 * The resolved config of one run (rql_config_run_text) is libconfig text with
 * every value spelled out: it goes into the run's log and checkpoint, lets
 * `rql eval` rebuild the agent, and lets --resume refuse a changed config.
 *
 * A config may declare a sweep: lists of values for any key that --set
 * takes (except seeds, output and agent labels), crossed with each other,
 * the agents and the seeds (`rql sweep`, experiments/sweep.h):
 *
 *   sweep = ( { key = "env.length"; values = [4, 8, 16]; },
 *             { key = "agent.drqn.cell"; values = ["lstm", "gru"]; name = "core"; } );
 *
 * An entry with `with = "KEY"` pairs its values one to one with the values
 * of an earlier entry of that key instead of crossing them (a budget per
 * world: { key = "train.steps"; values = [...]; with = "env.name"; }): it
 * adds no cells and no part to the cell's folder name.
 *
 * (libconfig names cannot hold dots, hence a list of groups.) Loading checks
 * the section's shape; the cells of the grid are the sweep's business
 * (sweep.h: sweep_cell_load): a cell is the file with the --set overrides
 * and then the cell's values as overrides of their own
 * (rql_config_load_overrides), validated by the same code as any config, so
 * a bad value fails that cell with an error naming the file, the line of the
 * value, the key and the value.
 *
 * Functions return NULL or a negative value on error with the message in
 * err[cap]; nothing here prints.
 */
#ifndef RQL_CONFIG_H
#define RQL_CONFIG_H

#include <stddef.h>
#include "envs/env.h"
#include "agents/agent.h"

#define RQL_LABEL_MAX 64

typedef struct {
    char label[RQL_LABEL_MAX];   /* unique, [A-Za-z0-9_.+-], names the log folder */
    agent_cfg *cfg;
    int line;                    /* line of the agent's group in the file (0 if none) */
} rql_agent_def;

/* What a swept value is, as libconfig read it. */
typedef enum { RQL_SWEEP_INT, RQL_SWEEP_REAL, RQL_SWEEP_BOOL, RQL_SWEEP_STR } rql_sweep_kind;

/* One swept key of the sweep section. */
typedef struct {
    char *key;                   /* override path, as --set takes it: "env.length" */
    char *name;                  /* short name for folders and table columns: "length"
                                    (the last part of the key, or the entry's name) */
    int named;                   /* name given in the file (name = "...") */
    int nvalues;
    char **texts;                /* [nvalues] plain text: 8, 0.5, true, gru */
    char **folders;              /* [nvalues] folder-safe text (bytes outside A-Za-z0-9_.+- as _) */
    rql_sweep_kind *kinds;       /* [nvalues] */
    int *lines;                  /* [nvalues] line of each value in the file */
    void *block;                 /* texts, folders, kinds and lines: one allocation */
    int line;                    /* line of the entry in the file */
    int with;                    /* -1, or the entry whose values these pair with one to one
                                    (with = "KEY"): no cells of its own, no part of the folder */
} rql_sweep_dim;

typedef struct {
    char *source;                /* file name (or "<string>") for messages */
    env_spec *env;
    int nagents;
    rql_agent_def *agents;
    int nseeds;
    long *seeds;
    char *output;                /* output folder */
    /* training budget: a run stops at whichever limit it reaches first (0 = none) */
    long train_steps;            /* env steps, summed over the vector */
    long train_episodes;         /* completed training episodes */
    int n_envs;                  /* envs in the training vector */
    /* greedy evaluation */
    long eval_every;             /* training episodes between evaluations (0: final only) */
    int eval_episodes;           /* episodes per evaluation */
    int eval_record;             /* episodes of a recorded evaluation written to /steps */
    int eval_record_every;       /* record every k-th evaluation (0: the final one only) */
    /* logging */
    long log_train_every;        /* updates between /train rows (0: none) */
    long log_weights_every;      /* training episodes between weight snapshots (0: final only) */
    double log_flush_s;          /* seconds between log flushes */
    /* checkpoints */
    long ckpt_every;             /* training episodes between checkpoints (0: end and signals only) */
    /* sweep */
    int nsweep;                  /* swept keys (0: no sweep section, or an empty one) */
    rql_sweep_dim *sweep;
    char *cell;                  /* a cell of a sweep (sweep_cell_load): its values, one
                                    "KEY = VALUE" line each (VALUE a libconfig literal); NULL otherwise */
} rql_config;

/* Cells of the sweep: the product of the unpaired entries' value counts. */
long rql_sweep_ncells(const rql_config *c);
/* Entries that span the grid (not paired with another by with = "KEY"). */
int rql_sweep_ncross(const rql_config *c);

/* One harness key, for validation, `rql help config` and docs/config.md. */
typedef enum { RQL_KEY_INT, RQL_KEY_REAL, RQL_KEY_STR, RQL_KEY_INTLIST } rql_key_type;
typedef struct {
    const char *path;            /* "train.episodes" */
    rql_key_type type;
    const char *def;             /* default, as text */
    double lo, hi;               /* inclusive range (INT, REAL, list elements) */
    const char *help;
} rql_key_desc;

int rql_config_nkeys(void);
const rql_key_desc *rql_config_key(int i);

/* Load a file (or text) and apply nsets overrides "KEY=VALUE" in order. */
rql_config *rql_config_load(const char *path, const char *const *sets, int nsets,
                            char *err, size_t cap);
rql_config *rql_config_parse(const char *text, const char *source,
                             const char *const *sets, int nsets, char *err, size_t cap);
void rql_config_free(rql_config *c);

/* An override as --set takes it ("KEY=VALUE", VALUE in libconfig syntax)
 * and where it came from, as its error messages name it: "--set KEY=VALUE"
 * when origin is NULL, else origin (kept alive by the caller until the load
 * returns), e.g. "FILE:LINE: sweep KEY=VALUE" for a sweep cell's value. */
typedef struct {
    const char *set;
    const char *origin;
} rql_override;

/* path (or, when path is NULL, text named source) with the overrides ov[nov]
 * applied in order. */
rql_config *rql_config_load_overrides(const char *path, const char *text, const char *source,
                                      const rql_override *ov, int nov, char *err, size_t cap);

/* "0,1,2", "0-4", "[0,1]" or "1,5-7" -> an override "seeds=[...]", malloc'd
 * (NULL with the reason in err). Seeds are integers in [0, 2^53-1], the
 * range of the seeds key; a larger one ("4294967297" is fine,
 * "9007199254740992" is not), a sign, or more than 100000 seeds is an error,
 * never a seed wrapped to another. */
char *rql_config_seeds_text(const char *list, char *err, size_t cap_err);
/* The same into out[cap]; -1 when it does not fit. */
int rql_config_seeds_override(const char *list, char *out, size_t cap, char *err, size_t cap_err);

/* Resolved libconfig text of run (agent a, seed): env, that agent alone,
 * seeds = [seed], and every harness key except output. malloc'd. */
char *rql_config_run_text(const rql_config *c, int a, long seed);

/* Index of the agent labelled label, or -1. */
int rql_config_find_agent(const rql_config *c, const char *label);

/* The runs of a config, agent-major: run r is agent r / nseeds, seed
 * r % nseeds, logged to DIR/<label>/seed<seed>.h5 with its checkpoint at
 * DIR/<label>/seed<seed>.ckpt. */
typedef struct {
    int agent;
    long seed;
    char log_path[1024];
    char ckpt_path[1024];
} rql_run_spec;

int rql_config_expand(const rql_config *c, const char *dir, rql_run_spec **runs, int *nruns,
                      char *err, size_t cap);

#endif
