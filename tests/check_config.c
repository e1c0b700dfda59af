/* check_config — experiment configs: parsing, defaults, overrides, the
 * resolved run text, and every class of error with its line asserted. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/config.h"

static char err[2048];

static const char *base =
    "# a config\n"                                        /* 1 */
    "env = { name = \"tmaze\"; length = 6; };\n"          /* 2 */
    "agents = (\n"                                        /* 3 */
    "  { label = \"a1\"; type = \"dqn\"; },\n"            /* 4 */
    "  { label = \"b2\"; type = \"drqn\"; }\n"            /* 5 */
    ");\n"                                                /* 6 */
    "seeds = [3, 1, 4];\n"                                /* 7 */
    "train = { episodes = 50; n_envs = 4; };\n"           /* 8 */
    "eval = { every = 10; episodes = 20; };\n";           /* 9 */

static rql_config *parse(const char *text, const char *const *sets, int n) {
    return rql_config_parse(text, "t.cfg", sets, n, err, sizeof err);
}

/* Parsing text must fail with a message starting "t.cfg:LINE:" and holding want. */
static void expect_error(const char *text, int line, const char *want) {
    rql_config *c = parse(text, NULL, 0);
    ck_assert_msg(c == NULL, "accepted: %s", text);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t.cfg:%d:", line);
    ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "expected '%s...', got '%s'", prefix, err);
    ck_assert_msg(strstr(err, want) != NULL, "expected '%s' in '%s'", want, err);
}

/* base with line k (1-based) replaced by repl. */
static char *with_line(int k, const char *repl) {
    static char out[4096];
    const char *p = base;
    out[0] = 0;
    for (int line = 1; *p; line++) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p + 1) : strlen(p);
        if (line == k) strcat(strcat(out, repl), "\n");
        else strncat(out, p, n);
        p += n;
    }
    return out;
}

START_TEST(test_valid) {
    rql_config *c = parse(base, NULL, 0);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(env_spec_world(c->env), "tmaze");
    ck_assert_str_eq(env_spec_get(c->env, "length"), "6");
    ck_assert_int_eq(c->nagents, 2);
    ck_assert_str_eq(c->agents[0].label, "a1");
    ck_assert_str_eq(agent_cfg_type(c->agents[1].cfg), "drqn");
    ck_assert_int_eq(c->agents[1].line, 5);
    ck_assert_int_eq(c->nseeds, 3);
    ck_assert_int_eq(c->seeds[0], 3);
    ck_assert_int_eq(c->seeds[2], 4);
    ck_assert_int_eq(c->train_episodes, 50);
    ck_assert_int_eq(c->n_envs, 4);
    ck_assert_int_eq(c->eval_every, 10);
    ck_assert_int_eq(c->eval_episodes, 20);
    /* defaults of keys the file does not set */
    ck_assert_int_eq(c->train_steps, 0);
    ck_assert_int_eq(c->log_train_every, 10);
    ck_assert_int_eq(c->ckpt_every, 500);
    ck_assert_str_eq(c->output, "runs/out");
    ck_assert(c->log_flush_s == 2.0);
    rql_config_free(c);
}
END_TEST

START_TEST(test_defaults_table) {
    /* every documented default parses and passes its own range check */
    ck_assert_int_gt(rql_config_nkeys(), 10);
    for (int i = 0; i < rql_config_nkeys(); i++) {
        const rql_key_desc *k = rql_config_key(i);
        ck_assert(k->help && strlen(k->help) > 10);
        ck_assert(k->def != NULL);
    }
    ck_assert(rql_config_key(rql_config_nkeys()) == NULL);
    /* a label defaults to the type */
    rql_config *c = parse("agents = ( { type = \"dqn\"; } );", NULL, 0);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->agents[0].label, "dqn");
    ck_assert_int_eq(c->nseeds, 1);
    ck_assert_int_eq(c->seeds[0], 0);
    ck_assert_int_eq(c->train_episodes, 1000);
    rql_config_free(c);
}
END_TEST

START_TEST(test_syntax_error) {
    expect_error(with_line(7, "seeds = [3, 1, 4;"), 7, "syntax error");
    expect_error(with_line(4, "  { label = \"a1\"; type = ; },"), 4, "syntax error");
}
END_TEST

START_TEST(test_unknown_keys) {
    expect_error(with_line(7, "seed = [3, 1, 4];"), 7, "unknown key 'seed'");
    expect_error(with_line(8, "train = { episdes = 50; n_envs = 4; };"), 8, "unknown key 'train.episdes'");
    expect_error(with_line(9, "evaluation = { every = 10; };"), 9, "unknown key 'evaluation'");
    expect_error(with_line(2, "env = { name = \"tmaze\"; lenght = 6; };"), 2, "env.lenght = 6");
    expect_error(with_line(4, "  { label = \"a1\"; type = \"dqn\"; hiddden = 3; },"), 4, "agent.a1.hiddden = 3");
}
END_TEST

START_TEST(test_wrong_types) {
    expect_error(with_line(8, "train = { episodes = \"many\"; };"), 8, "train.episodes = many: expected an integer");
    expect_error(with_line(8, "train = { episodes = 2.5; };"), 8, "expected an integer");
    expect_error(with_line(8, "train = 5;"), 8, "train: expected a group");
    expect_error(with_line(7, "seeds = [\"a\"];"), 7, "seeds[0] = a: expected an integer");
    expect_error(with_line(7, "seeds = 3;"), 7, "seeds = 3: expected an array");
    expect_error(with_line(2, "env = { name = 3; };"), 2, "env.name: expected a string");
    expect_error(with_line(2, "env = { name = \"tmaze\"; length = \"six\"; };"), 2, "env.length = six: expected an integer");
    expect_error(with_line(2, "env = { name = \"tmaze\"; length = [1, 2]; };"), 2, "env.length: expected a number");
    expect_error(with_line(5, "  7"), 5, "agents[1]: expected a group");
    expect_error(with_line(5, "  { label = 7; type = \"drqn\"; }"), 5, "agents[1].label: expected a string");
    expect_error(with_line(9, "output = 3;"), 9, "output = 3: expected a string");
}
END_TEST

START_TEST(test_out_of_range) {
    expect_error(with_line(8, "train = { episodes = 50; n_envs = 0; };"), 8, "train.n_envs = 0: out of range [1, 4096]");
    expect_error(with_line(8, "train = { episodes = -1; };"), 8, "train.episodes = -1: out of range");
    expect_error(with_line(8, "train = { episodes = 0; };"), 8, "no budget");
    expect_error(with_line(9, "log = { flush_s = -1.0; };"), 9, "log.flush_s = -1: out of range");
    expect_error(with_line(7, "seeds = [1, -2];"), 7, "seeds[1] = -2: out of range");
    expect_error(with_line(7, "seeds = [1, 1];"), 7, "seed listed twice");
    expect_error(with_line(9, "eval = { episodes = 5; record = 6; };"), 9, "eval.record = 6: more than eval.episodes");
    /* module ranges: the env's and the agent's own checks, with our line */
    expect_error(with_line(2, "env = { name = \"tmaze\"; length = -3; };"), 2, "env.length = -3: ");
    const agent_info *ai = agent_info_find("dqn");
    ck_assert(ai != NULL);
    for (int i = 0; i < ai->nparams; i++)
        if (ai->params[i].type == PARAM_INT && ai->params[i].hi < 1e9) {
            char line[256], want[128];
            snprintf(line, sizeof line, "  { label = \"a1\"; type = \"dqn\"; %s = %.0f; },", ai->params[i].name,
                     ai->params[i].hi + 1);
            snprintf(want, sizeof want, "agent.a1.%s = %.0f: ", ai->params[i].name, ai->params[i].hi + 1);
            expect_error(with_line(4, line), 4, want);
            break;
        }
}
END_TEST

START_TEST(test_unknown_types) {
    expect_error(with_line(2, "env = { name = \"tmaz\"; };"), 2, "env.name = \"tmaz\": unknown env (known: ");
    expect_error(with_line(5, "  { label = \"b2\"; type = \"drqnn\"; }"), 5, "agent.b2.type = \"drqnn\": unknown agent type");
    expect_error(with_line(5, "  { label = \"b2\"; }"), 5, "missing key 'type'");
    expect_error(with_line(5, "  { label = \"a1\"; type = \"drqn\"; }"), 5, "already used by agents[0] (line 4)");
    expect_error(with_line(5, "  { label = \"b/2\"; type = \"drqn\"; }"), 5, "agents[1].label = \"b/2\"");
    rql_config *c = parse("seeds = [1];", NULL, 0);
    ck_assert(c == NULL);
    ck_assert_msg(strstr(err, "agents: missing") != NULL, "%s", err);
    c = rql_config_load("/nonexistent/x.cfg", NULL, 0, err, sizeof err);
    ck_assert(c == NULL);
    ck_assert_msg(strstr(err, "/nonexistent/x.cfg: cannot read") != NULL, "%s", err);
}
END_TEST

START_TEST(test_overrides) {
    const char *sets[] = {"env.length=9", "train.episodes=7", "seeds=[5,6]", "agent.b2.type=dqn",
                          "eval.every=0", "output=elsewhere", "log.flush_s=0.5", "checkpoint.every=3"};
    rql_config *c = parse(base, sets, 8);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(env_spec_get(c->env, "length"), "9");
    ck_assert_int_eq(c->train_episodes, 7);
    ck_assert_int_eq(c->n_envs, 4);              /* untouched member of the same group */
    ck_assert_int_eq(c->nseeds, 2);
    ck_assert_int_eq(c->seeds[1], 6);
    ck_assert_str_eq(agent_cfg_type(c->agents[1].cfg), "dqn");
    ck_assert_str_eq(c->output, "elsewhere");
    ck_assert_int_eq(c->eval_every, 0);
    ck_assert(c->log_flush_s == 0.5);
    ck_assert_int_eq(c->ckpt_every, 3);
    rql_config_free(c);

    /* an agent hyperparameter set on one label, then on all with '*' */
    const agent_info *ai = agent_info_find("dqn");
    const param_desc *d = NULL;
    for (int i = 0; i < ai->nparams && !d; i++)
        if (ai->params[i].type == PARAM_INT && ai->params[i].hi > ai->params[i].lo) d = &ai->params[i];
    ck_assert(d != NULL);
    char s1[128], s2[128];
    long v = (long)d->hi;
    snprintf(s1, sizeof s1, "agent.a1.%s=%ld", d->name, v);
    const char *one[] = {s1};
    c = parse(base, one, 1);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(atol(agent_cfg_get(c->agents[0].cfg, d->name)), v);
    rql_config_free(c);
    snprintf(s2, sizeof s2, "agent.*.%s=%ld", d->name, v);
    const char *all[] = {"agent.b2.type=dqn", s2};
    c = parse(base, all, 2);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(atol(agent_cfg_get(c->agents[1].cfg, d->name)), v);
    rql_config_free(c);

    /* errors name the override, not a line */
    const char *bad1[] = {"train.n_envs=0"};
    ck_assert(parse(base, bad1, 1) == NULL);
    ck_assert_msg(!strncmp(err, "--set train.n_envs=0: train.n_envs = 0: out of range", 51), "%s", err);
    const char *bad2[] = {"agent.zz.lr=1"};
    ck_assert(parse(base, bad2, 1) == NULL);
    ck_assert_msg(strstr(err, "no agent labelled 'zz' (labels: a1, b2)") != NULL, "%s", err);
    const char *bad3[] = {"train.episodes"};
    ck_assert(parse(base, bad3, 1) == NULL);
    ck_assert_msg(strstr(err, "expected KEY=VALUE") != NULL, "%s", err);
    const char *bad4[] = {"train.epsiodes=4"};
    ck_assert(parse(base, bad4, 1) == NULL);
    ck_assert_msg(!strncmp(err, "--set train.epsiodes=4: unknown key 'train.epsiodes'", 51), "%s", err);
    const char *bad5[] = {"seeds=[1,"};
    ck_assert(parse(base, bad5, 1) == NULL);
    ck_assert_msg(strstr(err, "cannot parse value '[1,'") != NULL, "%s", err);
    const char *bad6[] = {"seeds=[0,-1]"};
    ck_assert(parse(base, bad6, 1) == NULL);
    ck_assert_msg(!strncmp(err, "--set seeds=[0,-1]: seeds[1] = -1", 33), "%s", err);
}
END_TEST

START_TEST(test_seeds_override) {
    char out[256];
    ck_assert_int_eq(rql_config_seeds_override("0-3,7", out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "seeds=[0,1,2,3,7]");
    ck_assert_int_eq(rql_config_seeds_override("[4, 5]", out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "seeds=[4,5]");
    ck_assert_int_eq(rql_config_seeds_override("x", out, sizeof out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "--seeds x") != NULL, "%s", err);
    ck_assert_int_eq(rql_config_seeds_override("5-2", out, sizeof out, err, sizeof err), -1);
}
END_TEST

START_TEST(test_run_text_roundtrip) {
    const char *sets[] = {"train.steps=123456789012", "log.flush_s=0.25"};
    rql_config *c = parse(base, sets, 2);
    ck_assert_msg(c != NULL, "%s", err);
    char *t = rql_config_run_text(c, 1, 4);
    ck_assert(t != NULL);
    rql_config *d = parse(t, NULL, 0);
    ck_assert_msg(d != NULL, "%s\n%s", err, t);
    ck_assert_int_eq(d->nagents, 1);
    ck_assert_str_eq(d->agents[0].label, "b2");
    ck_assert_int_eq(d->nseeds, 1);
    ck_assert_int_eq(d->seeds[0], 4);
    ck_assert_int_eq(d->train_steps, 123456789012L);
    ck_assert(d->log_flush_s == 0.25);
    ck_assert_str_eq(env_spec_get(d->env, "length"), "6");
    /* the text is a fixed point: resolving the resolved config changes nothing */
    char *t2 = rql_config_run_text(d, 0, 4);
    ck_assert_str_eq(t, t2);
    /* every agent hyperparameter is spelled out */
    const agent_info *ai = agent_info_find("drqn");
    for (int i = 0; i < ai->nparams; i++) {
        char k[80];
        snprintf(k, sizeof k, "    %s = ", ai->params[i].name);
        ck_assert_msg(strstr(t, k) != NULL, "%s missing from\n%s", ai->params[i].name, t);
        const char *x = agent_cfg_get(d->agents[0].cfg, ai->params[i].name);
        const char *y = agent_cfg_get(c->agents[1].cfg, ai->params[i].name);
        if (ai->params[i].type == PARAM_REAL) ck_assert_msg(strtod(x, NULL) == strtod(y, NULL), "%s %s", x, y);
        else ck_assert_str_eq(x, y);
    }
    free(t);
    free(t2);
    rql_config_free(d);
    rql_config_free(c);
}
END_TEST

START_TEST(test_expand) {
    rql_config *c = parse(base, NULL, 0);
    ck_assert_msg(c != NULL, "%s", err);
    rql_run_spec *r;
    int n;
    ck_assert_int_eq(rql_config_expand(c, "out", &r, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 6);
    ck_assert_int_eq(r[0].agent, 0);
    ck_assert_int_eq(r[0].seed, 3);
    ck_assert_int_eq(r[4].agent, 1);
    ck_assert_int_eq(r[4].seed, 1);
    ck_assert_str_eq(r[4].log_path, "out/b2/seed1.h5");
    ck_assert_str_eq(r[4].ckpt_path, "out/b2/seed1.ckpt");
    ck_assert_int_eq(rql_config_find_agent(c, "b2"), 1);
    ck_assert_int_eq(rql_config_find_agent(c, "zz"), -1);
    free(r);
    rql_config_free(c);
}
END_TEST

/* Every config shipped in experiments/configs/ parses and validates (a new
 * one is covered without being listed here), the named ones among them. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

START_TEST(test_shipped_configs_parse) {
    const char *dir = "experiments/configs";
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {     /* every one, however many */
        size_t l = strlen(e->d_name);
        if (l <= 4 || strcmp(e->d_name + l - 4, ".cfg")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = realloc(names, sizeof *names * (size_t)cap);
            ck_assert_ptr_nonnull(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    const char *must[] = {"flicker.cfg", "gridworld_full.cfg", "memory_room.cfg", "popgym_count_recall.cfg",
                          "popgym_repeat_first.cfg", "sum.cfg", "sum_r2d2.cfg", "tmaze_corridor.cfg", "tmaze_long.cfg",
                          "tmaze_memory.cfg", "tmaze_sweep.cfg"};
    for (size_t j = 0; j < sizeof must / sizeof must[0]; j++)
        ck_assert_msg(bsearch(&must[j], names, (size_t)n, sizeof names[0], cmp_str), "%s/%s missing", dir, must[j]);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rql_config *c = rql_config_load(path, NULL, 0, err, sizeof err);
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_ge(c->nagents, 1);
        if (!strcmp(names[i], "tmaze_corridor.cfg")) {
            /* the recipe of docs/agents.md at N = 200 */
            ck_assert_int_eq(c->nagents, 2);
            ck_assert_int_eq(rql_config_find_agent(c, "drqn-lstm"), 0);
        }
        rql_config_free(c);
        free(names[i]);
    }
    free(names);
}
END_TEST

int main(void) {
    Suite *s = suite_create("config");
    TCase *t = tcase_create("config");
    tcase_add_test(t, test_valid);
    tcase_add_test(t, test_defaults_table);
    tcase_add_test(t, test_syntax_error);
    tcase_add_test(t, test_unknown_keys);
    tcase_add_test(t, test_wrong_types);
    tcase_add_test(t, test_out_of_range);
    tcase_add_test(t, test_unknown_types);
    tcase_add_test(t, test_overrides);
    tcase_add_test(t, test_seeds_override);
    tcase_add_test(t, test_run_text_roundtrip);
    tcase_add_test(t, test_expand);
    tcase_add_test(t, test_shipped_configs_parse);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf != 0;
}
