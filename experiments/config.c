/* config — libconfig files to a validated rql_config (see config.h). */
#define _GNU_SOURCE
#include "experiments/config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the harness keys ------------------------------------------------------ */
typedef enum { F_LONG, F_INT, F_DOUBLE, F_STR, F_SEEDS } field_kind;
typedef struct {
    rql_key_desc d;
    field_kind f;
    size_t off;
} key_row;

/* A row per key: its path, default, range and help, and the rql_config
 * member it sets; the key's type follows from the member's (long and int
 * members are integer keys). */
#define KEY(path, ktype, ftype, member, def, lo, hi, help) \
    {{path, ktype, def, lo, hi, help}, ftype, offsetof(rql_config, member)}
#define LONG_KEY(path, member, def, lo, hi, help) KEY(path, RQL_KEY_INT, F_LONG, member, def, lo, hi, help)
#define INT_KEY(path, member, def, lo, hi, help) KEY(path, RQL_KEY_INT, F_INT, member, def, lo, hi, help)
static const key_row keys[] = {
    KEY("output", RQL_KEY_STR, F_STR, output, "runs/out", 0, 0,
        "output folder; each run logs to OUTPUT/<label>/seed<k>.h5 (rql train -o overrides it)"),
    KEY("seeds", RQL_KEY_INTLIST, F_SEEDS, seeds, "[0]", 0, 9007199254740991.0,
        "run seeds; every agent runs once per seed"),
    LONG_KEY("train.steps", train_steps, "0", 0, 1e13,
             "training budget in env steps summed over the vector (0: no step limit)"),
    LONG_KEY("train.episodes", train_episodes, "1000", 0, 1e12,
             "training budget in completed episodes (0: no episode limit); a run stops at the first limit reached"),
    INT_KEY("train.n_envs", n_envs, "8", 1, 4096,
            "envs stepped together in the training vector (one agent act per vector step)"),
    LONG_KEY("eval.every", eval_every, "100", 0, 1e12,
             "training episodes between greedy evaluations (0: only the final one)"),
    INT_KEY("eval.episodes", eval_episodes, "100", 1, 100000,
            "episodes per greedy evaluation (one env each, seeded from the run seed and evaluation index)"),
    INT_KEY("eval.record", eval_record, "2", 0, 100000,
            "episodes of a recorded evaluation written step by step to /steps (obs, actions, Q, hidden)"),
    INT_KEY("eval.record_every", eval_record_every, "0", 0, 1e9,
            "record every k-th evaluation (0: only the final evaluation)"),
    LONG_KEY("log.train_every", log_train_every, "10", 0, 1e12,
             "gradient updates between rows of /train (loss, q_mean, grad_norm; 0: none)"),
    LONG_KEY("log.weights_every", log_weights_every, "0", 0, 1e12,
             "training episodes between weight snapshots in /weights (0: the final weights only)"),
    KEY("log.flush_s", RQL_KEY_REAL, F_DOUBLE, log_flush_s, "2.0", 0, 86400,
        "seconds between log flushes: a killed run loses at most this much (0: flush every vector step)"),
    LONG_KEY("checkpoint.every", ckpt_every, "500", 0, 1e12,
             "training episodes between checkpoints (0: only at the end and on SIGINT/SIGTERM)"),
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

int rql_config_nkeys(void) { return NKEYS; }
const rql_key_desc *rql_config_key(int i) { return i >= 0 && i < NKEYS ? &keys[i].d : NULL; }

static const char *const sections[] = {"env", "agents", "train", "eval", "log", "checkpoint"};
#define NSECTIONS ((int)(sizeof sections / sizeof sections[0]))

/* ---- errors ---------------------------------------------------------------- */
typedef struct {
    const char *source;
    char *err;
    size_t cap;
} ctx;

/* Where a setting came from: "file:line", or the override that set it (an
 * element of an overridden list carries the hook on its parent). The hook
 * is the override's origin as messages show it: "--set KEY=VALUE", or
 * "FILE:LINE: sweep KEY=VALUE" for a value of a sweep cell. */
static void where(const ctx *c, const config_setting_t *s, char *buf, size_t n) {
    for (const config_setting_t *p = s; p; p = config_setting_parent(p))
        if (config_setting_get_hook(p)) {
            snprintf(buf, n, "%s", (const char *)config_setting_get_hook(p));
            return;
        }
    if (s && config_setting_source_line(s))
        snprintf(buf, n, "%s:%u", c->source, config_setting_source_line(s));
    else
        snprintf(buf, n, "%s", c->source);
}

__attribute__((format(printf, 3, 4)))
static int fail(const ctx *c, const config_setting_t *s, const char *fmt, ...) {
    char loc[1200];
    where(c, s, loc, sizeof loc);
    int k = snprintf(c->err, c->cap, "%s: ", loc);
    if (k < 0 || (size_t)k >= c->cap) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + k, c->cap - k, fmt, ap);
    va_end(ap);
    return -1;
}

/* A scalar's value as text: numbers with full precision, bools as 1 / 0. */
static int scalar_text(const config_setting_t *s, char *buf, size_t n) {
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64:
        snprintf(buf, n, "%lld", config_setting_get_int64(s)); return 0;
    case CONFIG_TYPE_FLOAT:
        param_fmt_real(config_setting_get_float(s), buf, n);
        return 0;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, n, "%d", config_setting_get_bool(s)); return 0;
    case CONFIG_TYPE_STRING:
        snprintf(buf, n, "%s", config_setting_get_string(s)); return 0;
    default:
        snprintf(buf, n, "%s", config_setting_is_group(s) ? "{...}" : "[...]"); return -1;
    }
}

static const char *type_name(int t) {
    switch (t) {
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a real number";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_ARRAY: return "an array";
    default: return "a list";
    }
}

/* ---- overrides ------------------------------------------------------------- */
static int copy_setting(config_setting_t *dst, const config_setting_t *src) {
    switch (config_setting_type(src)) {
    case CONFIG_TYPE_INT: return config_setting_set_int(dst, config_setting_get_int(src)) ? 0 : -1;
    case CONFIG_TYPE_INT64: return config_setting_set_int64(dst, config_setting_get_int64(src)) ? 0 : -1;
    case CONFIG_TYPE_FLOAT: return config_setting_set_float(dst, config_setting_get_float(src)) ? 0 : -1;
    case CONFIG_TYPE_BOOL: return config_setting_set_bool(dst, config_setting_get_bool(src)) ? 0 : -1;
    case CONFIG_TYPE_STRING: return config_setting_set_string(dst, config_setting_get_string(src)) ? 0 : -1;
    default:
        for (int i = 0; i < config_setting_length(src); i++) {
            const config_setting_t *e = config_setting_get_elem(src, i);
            config_setting_t *d = config_setting_add(dst, config_setting_name(e), config_setting_type(e));
            if (!d || copy_setting(d, e)) return -1;
        }
        return 0;
    }
}

static int valid_name(const char *s) {
    if (!isalpha((unsigned char)s[0])) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '*') return 0;
    return 1;
}

static int set_member(const ctx *c, config_setting_t *parent, const char *name,
                      const config_setting_t *val, const char *origin) {
    if (!valid_name(name)) return fail(c, NULL, "%s: '%s' is not a valid key name", origin, name);
    config_setting_remove(parent, name);
    config_setting_t *d = config_setting_add(parent, name, config_setting_type(val));
    if (!d || copy_setting(d, val)) return fail(c, NULL, "%s: cannot store the value", origin);
    config_setting_set_hook(d, (void *)origin);
    return 0;
}

/* Stores val at the dotted path key (agent.LABEL.KEY, agent.*.KEY, or
 * section.key, groups created as needed). origin is kept alive by the
 * caller until validation is done: the hook points at it, so errors can
 * name the override. */
static int apply_value(const ctx *c, config_t *cf, const char *key_in, const config_setting_t *val,
                       const char *origin) {
    char key[512];
    if (snprintf(key, sizeof key, "%s", key_in) >= (int)sizeof key) {
        snprintf(c->err, c->cap, "%s: key too long", origin);
        return -1;
    }
    char *tok[16];
    int nt = 0;
    char *save = NULL;
    for (char *p = strtok_r(key, ".", &save); p && nt < 16; p = strtok_r(NULL, ".", &save)) tok[nt++] = p;
    int rc = 0;
    config_setting_t *root = config_root_setting(cf);
    if (nt == 0) {
        snprintf(c->err, c->cap, "%s: empty key", origin);
        rc = -1;
    } else if (!strcmp(tok[0], "agent") || (!strcmp(tok[0], "agents") && nt > 1)) {
        if (nt != 3) {
            snprintf(c->err, c->cap, "%s: agent keys are agent.LABEL.KEY (or agent.*.KEY)", origin);
            rc = -1;
        } else {
            config_setting_t *list = config_setting_get_member(root, "agents");
            int n = list && config_setting_is_aggregate(list) ? config_setting_length(list) : 0, hit = 0;
            char labels[512] = "";
            for (int i = 0; i < n && !rc; i++) {
                config_setting_t *g = config_setting_get_elem(list, i);
                const char *label = NULL;
                if (!config_setting_is_group(g) || !config_setting_lookup_string(g, "label", &label)) continue;
                if (strlen(labels) + strlen(label) + 3 < sizeof labels)
                    strcat(strcat(labels, labels[0] ? ", " : ""), label);
                if (strcmp(tok[1], "*") && strcmp(tok[1], label)) continue;
                hit = 1;
                rc = set_member(c, g, tok[2], val, origin);
            }
            if (!rc && !hit) {
                snprintf(c->err, c->cap, "%s: no agent labelled '%s' (labels: %s)", origin, tok[1],
                         labels[0] ? labels : "none");
                rc = -1;
            }
        }
    } else {
        config_setting_t *g = root;
        for (int i = 0; i < nt - 1 && !rc; i++) {
            config_setting_t *m = config_setting_get_member(g, tok[i]);
            if (!m) {
                if (!valid_name(tok[i])) {
                    rc = fail(c, NULL, "%s: '%s' is not a valid key name", origin, tok[i]);
                    break;
                }
                m = config_setting_add(g, tok[i], CONFIG_TYPE_GROUP);
            }
            if (!config_setting_is_group(m)) {
                snprintf(c->err, c->cap, "%s: '%s' is not a group", origin, tok[i]);
                rc = -1;
            }
            g = m;
        }
        if (!rc) rc = set_member(c, g, tok[nt - 1], val, origin);
    }
    return rc;
}

/* "--set KEY=VALUE": VALUE is parsed as libconfig; a bare word is a string
 * (cell=gru). origin ("--set KEY=VALUE") outlives validation. */
static int apply_set(const ctx *c, config_t *cf, const char *set, const char *origin) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) {
        snprintf(c->err, c->cap, "%s: expected KEY=VALUE (e.g. env.length=20)", origin);
        return -1;
    }
    char key[512];
    size_t kl = (size_t)(eq - set);
    if (kl >= sizeof key) { snprintf(c->err, c->cap, "%s: key too long", origin); return -1; }
    memcpy(key, set, kl);
    key[kl] = 0;
    const char *value = eq + 1;

    config_t tmp;
    config_init(&tmp);
    config_set_auto_convert(&tmp, CONFIG_TRUE);
    size_t tl = strlen(value) + 16;
    char *text = malloc(tl);
    if (!text) { config_destroy(&tmp); snprintf(c->err, c->cap, "out of memory"); return -1; }
    /* libconfig 1.5 silently wraps integer literals beyond 32 bits unless
     * they carry the L suffix: add it for a plain integer that needs it. */
    char *iend;
    errno = 0;
    long long iv = strtoll(value, &iend, 10);
    int wide = *value && !*iend && !errno && (iv > 2147483647LL || iv < -2147483648LL);
    snprintf(text, tl, "v = %s%s;", value, wide ? "L" : "");
    int ok = config_read_string(&tmp, text) == CONFIG_TRUE;
    free(text);
    /* "1;\nb=2" parses as two settings: one --set is one value, never a
     * second setting dropped without a word */
    if (ok && config_setting_length(config_root_setting(&tmp)) != 1) {
        const config_setting_t *x = config_setting_get_elem(config_root_setting(&tmp), 1);
        snprintf(c->err, c->cap, "%s: the value holds more than one setting (a second one, '%s', after a ';' "
                 "or line break): give each its own --set", origin, x && config_setting_name(x) ?
                 config_setting_name(x) : "?");
        config_destroy(&tmp);
        return -1;
    }
    if (!ok) {
        if (!*value || strchr("[({\"", value[0]) || strpbrk(value, ";=")) {
            snprintf(c->err, c->cap, "%s: cannot parse value '%s': %s", origin, value,
                     config_error_text(&tmp) ? config_error_text(&tmp) : "syntax error");
            config_destroy(&tmp);
            return -1;
        }
        config_destroy(&tmp);
        config_init(&tmp);
        config_setting_set_string(config_setting_add(config_root_setting(&tmp), "v", CONFIG_TYPE_STRING), value);
    }
    int rc = apply_value(c, cf, key, config_lookup(&tmp, "v"), origin);
    config_destroy(&tmp);
    return rc;
}

/* ---- validation ------------------------------------------------------------ */
/* A scalar setting as the typed value libconfig read: the env and agent
 * modules check it against their parameter tables (util/param.h) with no
 * detour through text. */
static param_value setting_value(const config_setting_t *s) {
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64:
        return (param_value){.type = PARAM_INT, .i = config_setting_get_int64(s)};
    case CONFIG_TYPE_FLOAT: return (param_value){.type = PARAM_REAL, .x = config_setting_get_float(s)};
    case CONFIG_TYPE_BOOL: return (param_value){.type = PARAM_BOOL, .i = config_setting_get_bool(s)};
    default: return (param_value){.type = PARAM_STR, .s = config_setting_get_string(s)};
    }
}

static int build_env(const ctx *c, rql_config *cfg, const config_setting_t *g) {
    const char *world = "tmaze";
    const config_setting_t *ns = g ? config_setting_get_member(g, "name") : NULL;
    if (g && !config_setting_is_group(g))
        return fail(c, g, "env: expected a group { name = \"tmaze\"; ... }, got %s",
                    type_name(config_setting_type(g)));
    if (ns) {
        if (config_setting_type(ns) != CONFIG_TYPE_STRING)
            return fail(c, ns, "env.name: expected a string, got %s", type_name(config_setting_type(ns)));
        world = config_setting_get_string(ns);
    }
    cfg->env = env_spec_alloc(world);
    if (!cfg->env) {
        char known[512] = "";
        for (int i = 0; i < env_count(); i++) {
            const env_info *e = env_info_at(i);
            if (e && !e->is_wrapper && strlen(known) + strlen(e->name) + 3 < sizeof known)
                strcat(strcat(known, known[0] ? ", " : ""), e->name);
        }
        return fail(c, ns ? ns : g, "env.name = \"%s\": unknown env (known: %s)", world, known);
    }
    for (int i = 0; g && i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, i);
        const char *key = config_setting_name(s);
        if (!strcmp(key, "name")) continue;
        char val[512];               /* for the message only: the value itself goes as is */
        if (!config_setting_is_scalar(s))
            return fail(c, s, "env.%s: expected a number, boolean or string, got %s", key,
                        type_name(config_setting_type(s)));
        scalar_text(s, val, sizeof val);
        param_value v = setting_value(s);
        if (env_spec_set_value(cfg->env, key, &v) < 0)
            return fail(c, s, "env.%s = %s: %s", key, val, rql_error());
    }
    return 0;
}

static int label_ok(const char *s) {
    if (!*s || strlen(s) >= RQL_LABEL_MAX || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.+-", *s)) return 0;
    return 1;
}

static int build_agents(const ctx *c, rql_config *cfg, const config_setting_t *list) {
    if (!list)
        return fail(c, NULL, "agents: missing; a config needs agents = ( { label = \"...\"; type = \"dqn\"; } );");
    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return fail(c, list, "agents: expected a list ( { label = ...; type = ...; }, ... ), got %s",
                    type_name(config_setting_type(list)));
    int n = config_setting_length(list);
    if (n == 0) return fail(c, list, "agents: the list is empty");
    cfg->agents = calloc((size_t)n, sizeof *cfg->agents);
    if (!cfg->agents) return fail(c, list, "out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        if (!config_setting_is_group(g))
            return fail(c, g, "agents[%d]: expected a group { label = ...; type = ...; }, got %s", i,
                        type_name(config_setting_type(g)));
        const config_setting_t *ls = config_setting_get_member(g, "label");
        const config_setting_t *ts = config_setting_get_member(g, "type");
        if (!ts) return fail(c, g, "agents[%d]: missing key 'type' (one of qtable, dqn, drqn)", i);
        if (config_setting_type(ts) != CONFIG_TYPE_STRING)
            return fail(c, ts, "agents[%d].type: expected a string, got %s", i, type_name(config_setting_type(ts)));
        const char *type = config_setting_get_string(ts);
        const char *label = type;
        if (ls) {
            if (config_setting_type(ls) != CONFIG_TYPE_STRING)
                return fail(c, ls, "agents[%d].label: expected a string, got %s", i, type_name(config_setting_type(ls)));
            label = config_setting_get_string(ls);
        }
        if (!label_ok(label))
            return fail(c, ls ? ls : g, "agents[%d].label = \"%s\": a label is 1-%d characters of A-Z a-z 0-9 _ . + -",
                        i, label, RQL_LABEL_MAX - 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(cfg->agents[j].label, label))
                return fail(c, ls ? ls : g, "agents[%d].label = \"%s\": already used by agents[%d] (line %d)", i,
                            label, j, cfg->agents[j].line);
        rql_agent_def *a = &cfg->agents[i];
        snprintf(a->label, sizeof a->label, "%s", label);
        a->line = (int)config_setting_source_line(g);
        a->cfg = agent_cfg_alloc(type);
        cfg->nagents = i + 1;
        if (!a->cfg) {
            char known[256] = "";
            for (int t = 0; t < agent_type_count(); t++) {
                const agent_info *ai = agent_info_at(t);
                if (ai && strlen(known) + strlen(ai->name) + 3 < sizeof known)
                    strcat(strcat(known, known[0] ? ", " : ""), ai->name);
            }
            return fail(c, ts, "agent.%s.type = \"%s\": unknown agent type (known: %s)", label, type, known);
        }
        for (int k = 0; k < config_setting_length(g); k++) {
            const config_setting_t *s = config_setting_get_elem(g, k);
            const char *key = config_setting_name(s);
            if (!strcmp(key, "label") || !strcmp(key, "type")) continue;
            char val[512];
            if (!config_setting_is_scalar(s))
                return fail(c, s, "agent.%s.%s: expected a number, boolean or string, got %s", label, key,
                            type_name(config_setting_type(s)));
            scalar_text(s, val, sizeof val);
            param_value v = setting_value(s);
            if (agent_cfg_set_value(a->cfg, key, &v) < 0)
                return fail(c, s, "agent.%s.%s = %s: %s", label, key, val, rql_error());
        }
    }
    return 0;
}

/* ---- the sweep section ------------------------------------------------------ */

/* Folder-safe text: every byte outside [A-Za-z0-9_.+-] becomes '_'. */
static void folder_text(const char *in, char *out, size_t n) {
    size_t k = 0;
    for (; *in && k + 1 < n; in++, k++)
        out[k] = isalnum((unsigned char)*in) || strchr("_.+-", *in) ? *in : '_';
    out[k] = 0;
    if (!strcmp(out, ".") || !strcmp(out, "..")) out[0] = '_';
}

static void sweep_dim_free(rql_sweep_dim *d) {
    for (int i = 0; d->block && i < d->nvalues; i++) {
        free(d->texts[i]);
        free(d->folders[i]);
    }
    free(d->block);
    free(d->key);
    free(d->name);
}

/* The keys a sweep may not change: they decide which runs a cell has. */
static int sweep_key_check(const ctx *c, const config_setting_t *s, const char *key) {
    char buf[256];
    if (strlen(key) >= sizeof buf) return fail(c, s, "sweep key '%.40s...': too long", key);
    strcpy(buf, key);
    char *tok[8];
    int nt = 0;
    char *save = NULL;
    for (char *p = strtok_r(buf, ".", &save); p && nt < 8; p = strtok_r(NULL, ".", &save)) tok[nt++] = p;
    static const char *const secs[] = {"env", "train", "eval", "log", "checkpoint", "agent", "agents"};
    int ok = 0;
    for (int i = 0; nt > 0 && i < 7; i++) ok |= !strcmp(tok[0], secs[i]);
    if (nt >= 1 && (!strcmp(tok[0], "seeds") || !strcmp(tok[0], "output")))
        return fail(c, s, "sweep key '%s': cannot be swept (every cell runs every seed into its own folder); "
                          "set seeds and output as usual", key);
    if (!ok || nt < 2 || key[strlen(key) - 1] == '.' || strstr(key, ".."))
        return fail(c, s, "sweep key '%s': expected SECTION.KEY (env.length, train.episodes, ...) or "
                          "agent.LABEL.KEY / agent.*.KEY", key);
    int agent = !strcmp(tok[0], "agent") || !strcmp(tok[0], "agents");
    if (agent && nt != 3) return fail(c, s, "sweep key '%s': agent keys are agent.LABEL.KEY (or agent.*.KEY)", key);
    if (!agent && nt != 2) return fail(c, s, "sweep key '%s': expected SECTION.KEY, e.g. env.length", key);
    if (agent && (!strcmp(tok[2], "label")))
        return fail(c, s, "sweep key '%s': an agent's label names its folder and cannot be swept", key);
    for (int i = agent ? 2 : 1; i < nt; i++)
        if (!valid_name(tok[i])) return fail(c, s, "sweep key '%s': '%s' is not a valid key name", key, tok[i]);
    return 0;
}

/* with = "KEY" of entry i (nv values, key already set): the index of the
 * earlier, unpaired entry of that key with as many values; -1 (failed) if
 * there is none. */
static int sweep_partner(const ctx *c, const rql_config *cfg, int i, const config_setting_t *ws,
                         const config_setting_t *vs, int nv) {
    const char *key = cfg->sweep[i].key;
    const char *wk = config_setting_type(ws) == CONFIG_TYPE_STRING ? config_setting_get_string(ws) : NULL;
    if (!wk) return fail(c, ws, "sweep %s: with: expected the key of an earlier entry, e.g. with = \"env.name\"", key);
    int j = 0;
    while (j < i && strcmp(cfg->sweep[j].key, wk)) j++;
    if (j == i) return fail(c, ws, "sweep %s: with = \"%s\": no earlier entry of the sweep has that key", key, wk);
    const rql_sweep_dim *w = &cfg->sweep[j];
    if (w->with >= 0)
        return fail(c, ws, "sweep %s: with = \"%s\": that entry is itself paired with %s; pair with %s", key, wk,
                    cfg->sweep[w->with].key, cfg->sweep[w->with].key);
    if (w->nvalues != nv)
        return fail(c, vs, "sweep %s: %d values, but %s (with) has %d: a paired entry has one value for each of its "
                           "partner's", key, nv, wk, w->nvalues);
    return j;
}

/* sweep = ( { key = "env.length"; values = [4, 8, 16]; name = "N"; }, ... );
 * libconfig names cannot hold dots, hence a list of groups rather than
 * "env.length" = [...]. */
static int build_sweep(const ctx *c, rql_config *cfg, const config_setting_t *list) {
    if (!config_setting_is_list(list) && !config_setting_is_array(list))
        return fail(c, list, "sweep: expected a list ( { key = \"env.length\"; values = [4, 8]; }, ... ), got %s",
                    type_name(config_setting_type(list)));
    int n = config_setting_length(list);
    cfg->sweep = calloc(n ? (size_t)n : 1, sizeof *cfg->sweep);
    if (!cfg->sweep) return fail(c, list, "out of memory");
    double cells = 1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        if (!config_setting_is_group(g))
            return fail(c, g, "sweep[%d]: expected a group { key = \"...\"; values = [...]; }, got %s", i,
                        type_name(config_setting_type(g)));
        rql_sweep_dim *d = &cfg->sweep[i];
        cfg->nsweep = i + 1;
        d->line = (int)config_setting_source_line(g);
        d->with = -1;
        const config_setting_t *ks = NULL, *vs = NULL, *ns = NULL, *ws = NULL;
        for (int m = 0; m < config_setting_length(g); m++) {
            const config_setting_t *e = config_setting_get_elem(g, m);
            const char *mn = config_setting_name(e);
            if (!strcmp(mn, "key")) ks = e;
            else if (!strcmp(mn, "values")) vs = e;
            else if (!strcmp(mn, "name")) ns = e;
            else if (!strcmp(mn, "with")) ws = e;
            else return fail(c, e, "sweep[%d]: unknown key '%s' (keys of a sweep entry: key, values, name, with)", i,
                             mn);
        }
        if (!ks || config_setting_type(ks) != CONFIG_TYPE_STRING)
            return fail(c, ks ? ks : g, "sweep[%d]: needs key = \"SECTION.KEY\" (a string, e.g. \"env.length\")", i);
        const char *key = config_setting_get_string(ks);
        if (sweep_key_check(c, ks, key)) return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(cfg->sweep[j].key, key))
                return fail(c, ks, "sweep[%d]: key '%s' already swept by sweep[%d] (line %d)", i, key, j,
                            cfg->sweep[j].line);
        if (!(d->key = strdup(key))) return fail(c, g, "out of memory");
        if (!vs || (!config_setting_is_array(vs) && !config_setting_is_list(vs)))
            return fail(c, vs ? vs : g, "sweep %s: needs values = [v1, v2, ...] (a list of numbers, booleans or strings)",
                        key);
        int nv = config_setting_length(vs);
        if (nv == 0) return fail(c, vs, "sweep %s: the list of values is empty", key);
        if (ws && (d->with = sweep_partner(c, cfg, i, ws, vs, nv)) < 0) return -1;
        size_t n = (size_t)nv;
        const size_t bytes[] = {n * sizeof *d->texts, n * sizeof *d->folders, n * sizeof *d->kinds, n * sizeof *d->lines};
        void *arr[4];
        if (!(d->block = rql_alloc_views(4, bytes, arr))) return fail(c, vs, "out of memory");
        d->texts = arr[0], d->folders = arr[1], d->kinds = arr[2], d->lines = arr[3];
        for (int v = 0; v < nv; v++) {
            const config_setting_t *e = config_setting_get_elem(vs, v);
            char val[512], fold[512];
            if (!config_setting_is_scalar(e))
                return fail(c, e, "sweep %s: values[%d]: expected a number, boolean or string, got %s", key, v,
                            type_name(config_setting_type(e)));
            scalar_text(e, val, sizeof val);
            int t = config_setting_type(e);
            d->kinds[v] = t == CONFIG_TYPE_STRING ? RQL_SWEEP_STR : t == CONFIG_TYPE_BOOL ? RQL_SWEEP_BOOL
                        : t == CONFIG_TYPE_FLOAT ? RQL_SWEEP_REAL : RQL_SWEEP_INT;
            if (d->kinds[v] == RQL_SWEEP_BOOL) snprintf(val, sizeof val, "%s", config_setting_get_bool(e) ? "true" : "false");
            if (strchr(val, '\n')) return fail(c, e, "sweep %s: values[%d]: a line break in a value", key, v);
            folder_text(val, fold, sizeof fold);
            for (int w = 0; d->with < 0 && w < v; w++)    /* a paired value names no folder */
                if (!strcmp(d->folders[w], fold))
                    return fail(c, e, "sweep %s: values[%d] = %s: same folder name '%s' as values[%d] = %s "
                                      "(values must differ in letters, digits or _ . + -)", key, v, val, fold, w,
                                d->texts[w]);
            d->lines[v] = config_setting_source_line(e) ? (int)config_setting_source_line(e) : d->line;
            d->nvalues = v + 1;
            if (!(d->texts[v] = strdup(val)) || !(d->folders[v] = strdup(fold))) return fail(c, e, "out of memory");
        }
        if (ns) {
            if (config_setting_type(ns) != CONFIG_TYPE_STRING || !label_ok(config_setting_get_string(ns)) ||
                strchr(config_setting_get_string(ns), '='))
                return fail(c, ns, "sweep %s: name: a short name is 1-%d characters of A-Z a-z 0-9 _ . + -", key,
                            RQL_LABEL_MAX - 1);
            d->name = strdup(config_setting_get_string(ns));
            d->named = 1;
        } else {
            char fold[256];
            folder_text(strrchr(key, '.') + 1, fold, sizeof fold);
            d->name = strdup(fold);
        }
        if (!d->name) return fail(c, g, "out of memory");
        if (d->with < 0) cells *= nv;
        if (cells > 1e6) return fail(c, vs, "sweep: more than a million cells");
    }
    /* Short names must tell the keys apart: where two derived names clash,
     * both fall back to the whole key (agent.dqn.hidden, agent.drqn.hidden). */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (strcmp(cfg->sweep[i].name, cfg->sweep[j].name)) continue;
            char fi[256], fj[256];
            folder_text(cfg->sweep[i].key, fi, sizeof fi);
            folder_text(cfg->sweep[j].key, fj, sizeof fj);
            if (cfg->sweep[i].named || cfg->sweep[j].named || !strcmp(fi, cfg->sweep[i].name) || !strcmp(fj, cfg->sweep[j].name) || !strcmp(fi, fj))
                return fail(c, config_setting_get_elem(list, j), "sweep %s: short name '%s' already used by %s; "
                            "give one of them another with name = \"...\"", cfg->sweep[j].key, cfg->sweep[j].name,
                            cfg->sweep[i].key);
            char *a = strdup(fi), *b = strdup(fj);
            if (!a || !b) { free(a); free(b); return fail(c, list, "out of memory"); }
            free(cfg->sweep[i].name);
            free(cfg->sweep[j].name);
            cfg->sweep[i].name = a;
            cfg->sweep[j].name = b;
            j = i;      /* recheck against the new names */
        }
    return 0;
}

long rql_sweep_ncells(const rql_config *c) {
    long n = 1;
    for (int d = 0; d < c->nsweep; d++)
        if (c->sweep[d].with < 0) n *= c->sweep[d].nvalues;
    return n;
}

int rql_sweep_ncross(const rql_config *c) {
    int n = 0;
    for (int d = 0; d < c->nsweep; d++) n += c->sweep[d].with < 0;
    return n;
}

static int set_key(const ctx *c, rql_config *cfg, const key_row *k, const config_setting_t *s) {
    char val[512];
    scalar_text(s, val, sizeof val);
    int t = config_setting_type(s);
    const char *p = k->d.path;
    switch (k->f) {
    case F_STR:
        if (t != CONFIG_TYPE_STRING)
            return fail(c, s, "%s = %s: expected a string, got %s", p, val, type_name(t));
        if (!config_setting_get_string(s)[0]) return fail(c, s, "%s: must not be empty", p);
        free(*(char **)((char *)cfg + k->off));
        *(char **)((char *)cfg + k->off) = strdup(config_setting_get_string(s));
        return 0;
    case F_SEEDS: {
        if (!config_setting_is_array(s) && !config_setting_is_list(s))
            return fail(c, s, "%s = %s: expected an array of integers, e.g. [0, 1, 2]", p, val);
        int n = config_setting_length(s);
        if (n == 0) return fail(c, s, "%s: the list is empty", p);
        long *v = malloc((size_t)n * sizeof *v);
        if (!v) return fail(c, s, "out of memory");
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, i);
            scalar_text(e, val, sizeof val);
            if (config_setting_type(e) != CONFIG_TYPE_INT && config_setting_type(e) != CONFIG_TYPE_INT64) {
                free(v);
                return fail(c, e, "%s[%d] = %s: expected an integer, got %s", p, i, val,
                            type_name(config_setting_type(e)));
            }
            long long x = config_setting_get_int64(e);
            if (x < k->d.lo || (double)x > k->d.hi) {
                free(v);
                return fail(c, e, "%s[%d] = %lld: out of range [0, 2^53-1]", p, i, x);
            }
            for (int j = 0; j < i; j++)
                if (v[j] == x) {
                    free(v);
                    return fail(c, e, "%s[%d] = %lld: seed listed twice", p, i, x);
                }
            v[i] = (long)x;
        }
        free(cfg->seeds);
        cfg->seeds = v;
        cfg->nseeds = n;
        return 0;
    }
    case F_DOUBLE: {
        if (!config_setting_is_number(s))
            return fail(c, s, "%s = %s: expected a number, got %s", p, val, type_name(t));
        double x = config_setting_get_float(s);
        if (!(x >= k->d.lo && x <= k->d.hi))
            return fail(c, s, "%s = %s: out of range [%g, %g]", p, val, k->d.lo, k->d.hi);
        *(double *)((char *)cfg + k->off) = x;
        return 0;
    }
    default: {
        double x;
        if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) x = (double)config_setting_get_int64(s);
        else if (t == CONFIG_TYPE_FLOAT && config_setting_get_float(s) == floor(config_setting_get_float(s)))
            x = config_setting_get_float(s);   /* steps = 1e6 */
        else return fail(c, s, "%s = %s: expected an integer, got %s", p, val, type_name(t));
        if (!(x >= k->d.lo && x <= k->d.hi))
            return fail(c, s, "%s = %s: out of range [%.0f, %.0f]", p, val, k->d.lo, k->d.hi);
        if (k->f == F_INT) *(int *)((char *)cfg + k->off) = (int)x;
        else *(long *)((char *)cfg + k->off) = (long)x;
        return 0;
    }
    }
}

static const key_row *key_find(const char *path) {
    int i = rql_find_named(keys, NKEYS, sizeof *keys, path);    /* a row begins with d.path */
    return i < 0 ? NULL : &keys[i];
}

static int set_defaults(rql_config *cfg) {
    config_t d;
    config_init(&d);
    int rc = 0;
    for (int i = 0; i < NKEYS && !rc; i++) {
        if (keys[i].f == F_STR) {
            if (!(*(char **)((char *)cfg + keys[i].off) = strdup(keys[i].d.def))) rc = -1;
            continue;
        }
        char text[256];
        snprintf(text, sizeof text, "v = %s;", keys[i].d.def);
        if (config_read_string(&d, text) != CONFIG_TRUE) { rc = -1; break; }
        char err[64];
        ctx c = {"<defaults>", err, sizeof err};
        rc = set_key(&c, cfg, &keys[i], config_lookup(&d, "v"));
    }
    config_destroy(&d);
    return rc;
}

static int build(const ctx *c, rql_config *cfg, config_t *cf) {
    config_setting_t *root = config_root_setting(cf);
    if (set_defaults(cfg)) return fail(c, NULL, "internal error: bad default in the key table");
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, i);
        const char *name = config_setting_name(s);
        const key_row *k = key_find(name);
        if (k) {
            if (set_key(c, cfg, k, s)) return -1;
            continue;
        }
        int sec = -1;
        for (int j = 0; j < NSECTIONS; j++)
            if (!strcmp(sections[j], name)) sec = j;
        if (!strcmp(name, "sweep")) {
            if (build_sweep(c, cfg, s)) return -1;
            continue;
        }
        if (sec < 0)
            return fail(c, s, "unknown key '%s' (top-level keys: env, agents, seeds, train, eval, log, "
                              "checkpoint, output, sweep)", name);
        if (sec <= 1) continue;           /* env and agents are built below */
        if (!config_setting_is_group(s))
            return fail(c, s, "%s: expected a group { ... }, got %s", name, type_name(config_setting_type(s)));
        for (int m = 0; m < config_setting_length(s); m++) {
            const config_setting_t *e = config_setting_get_elem(s, m);
            char path[256];
            snprintf(path, sizeof path, "%s.%s", name, config_setting_name(e));
            const key_row *ke = key_find(path);
            if (!ke) {
                char known[512] = "";
                size_t nl = strlen(name);
                for (int q = 0; q < NKEYS; q++)
                    if (!strncmp(keys[q].d.path, name, nl) && keys[q].d.path[nl] == '.' &&
                        strlen(known) + strlen(keys[q].d.path) + 3 < sizeof known)
                        strcat(strcat(known, known[0] ? ", " : ""), keys[q].d.path + nl + 1);
                return fail(c, e, "unknown key '%s' (keys of %s: %s)", path, name, known);
            }
            if (set_key(c, cfg, ke, e)) return -1;
        }
    }
    if (build_env(c, cfg, config_setting_get_member(root, "env"))) return -1;
    if (build_agents(c, cfg, config_setting_get_member(root, "agents"))) return -1;
    if (cfg->train_steps == 0 && cfg->train_episodes == 0) {
        const config_setting_t *t = config_lookup(cf, "train");
        return fail(c, t, "train: no budget (train.steps and train.episodes are both 0)");
    }
    if (cfg->eval_record > cfg->eval_episodes)
        return fail(c, config_lookup(cf, "eval.record"), "eval.record = %d: more than eval.episodes = %d",
                    cfg->eval_record, cfg->eval_episodes);
    return 0;
}

static rql_config *load(const char *path, const char *text, const char *source,
                        const char *const *sets, const rql_override *ov, int nsets, char *err, size_t cap) {
    config_t cf;
    config_init(&cf);
    config_set_auto_convert(&cf, CONFIG_TRUE);
    ctx c = {source, err, cap};
    rql_config *cfg = NULL;
    /* origins of the overrides as messages show them; the settings' hooks
     * point into these until validation is done */
    char **origins = calloc((size_t)nsets + 1, sizeof *origins);
    if (!origins) { snprintf(err, cap, "out of memory"); goto out; }
    /* A FIFO, a device or a folder would block or fail inside libconfig:
     * a config is a regular file. */
    struct stat st;
    if (path && stat(path, &st) != 0) {
        snprintf(err, cap, "%s: cannot read: %s", source, strerror(errno));
        goto out;
    }
    if (path && !S_ISREG(st.st_mode)) {
        snprintf(err, cap, "%s: cannot read: not a regular file (%s)", source,
                 S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket");
        goto out;
    }
    errno = 0;
    int ok = path ? config_read_file(&cf, path) : config_read_string(&cf, text);
    if (ok != CONFIG_TRUE) {
        const char *why = config_error_text(&cf) ? config_error_text(&cf) : "?";
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            snprintf(err, cap, "%s: cannot read: %s", source, errno ? strerror(errno) : "I/O error");
        else if (strstr(why, "syntax error"))          /* libconfig's own text says it already */
            snprintf(err, cap, "%s:%d: %s", source, config_error_line(&cf), why);
        else
            snprintf(err, cap, "%s:%d: syntax error: %s", source, config_error_line(&cf), why);
        goto out;
    }
    for (int i = 0; i < nsets; i++) {
        const char *set = ov ? ov[i].set : sets[i];
        if (ov && ov[i].origin) {
            if (apply_set(&c, &cf, set, ov[i].origin)) goto out;
            continue;
        }
        if (asprintf(&origins[i], "--set %s", set) < 0) {
            origins[i] = NULL;
            snprintf(err, cap, "out of memory");
            goto out;
        }
        if (apply_set(&c, &cf, set, origins[i])) goto out;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->source = strdup(source))) {
        snprintf(err, cap, "out of memory");
        rql_config_free(cfg);
        cfg = NULL;
        goto out;
    }
    if (build(&c, cfg, &cf)) {
        rql_config_free(cfg);
        cfg = NULL;
        goto out;
    }
out:
    config_destroy(&cf);
    for (int i = 0; origins && i < nsets; i++) free(origins[i]);
    free(origins);
    return cfg;
}

rql_config *rql_config_load(const char *path, const char *const *sets, int nsets, char *err, size_t cap) {
    errno = 0;
    return load(path, NULL, path, sets, NULL, nsets, err, cap);
}

rql_config *rql_config_parse(const char *text, const char *source, const char *const *sets, int nsets,
                             char *err, size_t cap) {
    return load(NULL, text, source ? source : "<string>", sets, NULL, nsets, err, cap);
}

rql_config *rql_config_load_overrides(const char *path, const char *text, const char *source,
                                      const rql_override *ov, int nov, char *err, size_t cap) {
    errno = 0;
    return load(path, path ? NULL : text, path ? path : source ? source : "<string>", NULL, ov, nov, err, cap);
}

void rql_config_free(rql_config *c) {
    if (!c) return;
    env_spec_free(c->env);
    for (int i = 0; i < c->nagents; i++) agent_cfg_free(c->agents[i].cfg);
    free(c->agents);
    free(c->seeds);
    free(c->output);
    free(c->source);
    for (int i = 0; c->sweep && i < c->nsweep; i++) sweep_dim_free(&c->sweep[i]);
    free(c->sweep);
    free(c->cell);
    free(c);
}

int rql_config_find_agent(const rql_config *c, const char *label) {
    for (int i = 0; i < c->nagents; i++)
        if (!strcmp(c->agents[i].label, label)) return i;
    return -1;
}

/* Seeds as the config key takes them: integers in [0, 2^53-1] (what a
 * double, and so JSON and h5py, hold exactly). */
#define SEED_MAX 9007199254740991LL
#define SEEDS_MAX_RANGE 100000

char *rql_config_seeds_text(const char *list, char *err, size_t cap_err) {
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    const char *p = list, *why = "expected a list like 0,1,2 or 0-4";
    if (!out) { snprintf(err, cap_err, "--seeds: out of memory"); return NULL; }
    len = (size_t)snprintf(out, cap, "seeds=[");
    while (*p == ' ') p++;
    if (*p == '[') p++;
    long long n = 0;
    while (*p && *p != ']') {
        char *end;
        long long a, b;
        if (!isdigit((unsigned char)*p)) goto bad;          /* no sign, no spaces inside a number */
        errno = 0;
        a = strtoll(p, &end, 10);
        if (errno == ERANGE || a > SEED_MAX) { why = "a seed out of range [0, 2^53-1]"; goto bad; }
        b = a;
        p = end;
        if (*p == '-') {
            if (!isdigit((unsigned char)p[1])) goto bad;
            errno = 0;
            b = strtoll(p + 1, &end, 10);
            if (errno == ERANGE || b > SEED_MAX) { why = "a seed out of range [0, 2^53-1]"; goto bad; }
            if (b < a) { why = "a range A-B needs A <= B"; goto bad; }
            p = end;
        }
        if (b - a >= SEEDS_MAX_RANGE || n + (b - a) >= SEEDS_MAX_RANGE) {
            why = "more than 100000 seeds";
            goto bad;
        }
        for (long long x = a; x <= b; x++) {
            char num[32];
            /* libconfig wraps integer literals past 32 bits without their L */
            int w = snprintf(num, sizeof num, "%s%lld%s", n ? "," : "", x, x > 2147483647LL ? "L" : "");
            if (len + (size_t)w + 2 > cap) {
                char *bigger = realloc(out, 2 * cap + (size_t)w);
                if (!bigger) { why = "out of memory"; goto bad; }
                out = bigger;
                cap = 2 * cap + (size_t)w;
            }
            memcpy(out + len, num, (size_t)w + 1);
            len += (size_t)w;
            n++;
        }
        while (*p == ',' || *p == ' ') p++;
    }
    if (*p == ']') p++;
    while (*p == ' ') p++;
    if (!n || *p) goto bad;
    memcpy(out + len, "]", 2);
    return out;
bad:
    free(out);
    snprintf(err, cap_err, "--seeds %s: %s", list, why);
    return NULL;
}

int rql_config_seeds_override(const char *list, char *out, size_t cap, char *err, size_t cap_err) {
    char *t = rql_config_seeds_text(list, err, cap_err);
    if (!t) return -1;
    int fits = strlen(t) < cap;
    if (fits) memcpy(out, t, strlen(t) + 1);
    else snprintf(err, cap_err, "--seeds %s: expected a list like 0,1,2 or 0-4 (too long for %zu bytes)", list, cap);
    free(t);
    return fits ? 0 : -1;
}

/* ---- resolved text of one run ---------------------------------------------- */
static void put_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if (*s == '\n') { fputs("\\n", f); continue; }
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A module parameter as libconfig: 0 int, 1 real, 2 bool, 3 string. */
static void put_param(FILE *f, const char *indent, const char *name, int ptype, const char *v) {
    fprintf(f, "%s%s = ", indent, name);
    if (ptype == 3) put_str(f, v);
    else if (ptype == 2) fputs(!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ? "true" : "false", f);
    else if (ptype == 1) {
        /* a real stays real in libconfig even when integral (1 -> 1.0) */
        char *end;
        double x = strtod(v, &end);
        if (*end || !isfinite(x)) put_str(f, v);
        else {
            char t[64];
            param_fmt_real(x, t, sizeof t);
            fprintf(f, "%s%s", t, strpbrk(t, ".eE") ? "" : ".0");
        }
    } else fputs(v, f);
    fputs(";\n", f);
}

char *rql_config_run_text(const rql_config *c, int a, long seed) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    const env_info *w = env_info_find(env_spec_world(c->env));
    fprintf(f, "# resolved config of run %s seed %ld (every value spelled out)\nenv = {\n  name = ",
            c->agents[a].label, seed);
    put_str(f, env_spec_world(c->env));
    fputs(";\n", f);
    for (int i = 0; w && i < w->nparams; i++) {
        const char *v = env_spec_get(c->env, w->params[i].name);
        if (v) put_param(f, "  ", w->params[i].name, (int)w->params[i].type, v);
    }
    for (int j = 0; j < env_count(); j++) {
        const env_info *x = env_info_at(j);
        for (int i = 0; x && x->is_wrapper && i < x->nparams; i++) {
            const char *v = env_spec_get(c->env, x->params[i].name);
            if (v) put_param(f, "  ", x->params[i].name, (int)x->params[i].type, v);
        }
    }
    fputs("};\nagents = (\n  {\n    label = ", f);
    put_str(f, c->agents[a].label);
    fputs(";\n    type = ", f);
    const agent_cfg *ac = c->agents[a].cfg;
    put_str(f, agent_cfg_type(ac));
    fputs(";\n", f);
    const agent_info *t = agent_info_find(agent_cfg_type(ac));
    for (int i = 0; t && i < t->nparams; i++) {
        const char *v = agent_cfg_get(ac, t->params[i].name);
        if (v) put_param(f, "    ", t->params[i].name, (int)t->params[i].type, v);
    }
    fprintf(f, "  }\n);\nseeds = [%ld%s];\n", seed, seed > 2147483647L ? "L" : "");
    const char *open = NULL;
    for (int i = 0; i < NKEYS; i++) {
        const key_row *k = &keys[i];
        const char *dot = strchr(k->d.path, '.');
        if (!dot) continue;                 /* output and seeds: per invocation, not per run */
        size_t sl = (size_t)(dot - k->d.path);
        if (!open || strncmp(open, k->d.path, sl) || open[sl] != '.') {
            if (open) fputs("};\n", f);
            fprintf(f, "%.*s = {\n", (int)sl, k->d.path);
            open = k->d.path;
        }
        const char *field = (const char *)c + k->off;
        switch (k->f) {
        case F_LONG: fprintf(f, "  %s = %ld%s;\n", dot + 1, *(const long *)field,
                             *(const long *)field > 2147483647L ? "L" : ""); break;
        case F_INT: fprintf(f, "  %s = %d;\n", dot + 1, *(const int *)field); break;
        case F_DOUBLE: fprintf(f, "  %s = %.17g%s;\n", dot + 1, *(const double *)field,
                               *(const double *)field == floor(*(const double *)field) ? ".0" : ""); break;
        default: break;
        }
    }
    if (open) fputs("};\n", f);
    if (fclose(f)) { free(buf); return NULL; }
    return buf;
}

int rql_config_expand(const rql_config *c, const char *dir, rql_run_spec **runs, int *nruns,
                      char *err, size_t cap) {
    int n = c->nagents * c->nseeds;
    rql_run_spec *r = calloc((size_t)n, sizeof *r);
    if (!r) { snprintf(err, cap, "out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        r[i].agent = i / c->nseeds;
        r[i].seed = c->seeds[i % c->nseeds];
        const char *label = c->agents[r[i].agent].label;
        int a = snprintf(r[i].log_path, sizeof r[i].log_path, "%s/%s/seed%ld.h5", dir, label, r[i].seed);
        int b = snprintf(r[i].ckpt_path, sizeof r[i].ckpt_path, "%s/%s/seed%ld.ckpt", dir, label, r[i].seed);
        if (a < 0 || b < 0 || (size_t)a >= sizeof r[i].log_path || (size_t)b >= sizeof r[i].ckpt_path) {
            free(r);
            snprintf(err, cap, "output folder name too long: %s", dir);
            return -1;
        }
    }
    *runs = r;
    *nruns = n;
    return 0;
}
