/* rql help — the config reference (every key, its default and meaning) and
 * each command's usage. The tables come from the modules that own the keys:
 * the harness keys from config.c, env parameters from the env registry,
 * agent hyperparameters from the agent registry. */
#include <stdio.h>
#include <string.h>
#include "cli/cmd.h"
#include "experiments/config.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

static const char *const env_types[] = {"int", "real", "bool", "string"};

static void help_config(FILE *f) {
    fprintf(f,
            "rql experiment configs (libconfig syntax; docs/config.md has a worked example)\n\n"
            "  env = { name = \"tmaze\"; length = 10; };            # env and its parameters\n"
            "  agents = ( { label = \"drqn-lstm\"; type = \"drqn\"; cell = \"lstm\"; }, ... );\n"
            "  seeds = [0, 1, 2, 3, 4];\n"
            "  train = { episodes = 2000; n_envs = 8; };\n\n"
            "Unknown keys are errors. Override any key with --set KEY=VALUE: env.length=20,\n"
            "train.episodes=500, seeds=[0,1], agent.LABEL.KEY=VALUE (agent.*.KEY for all agents).\n\n"
            "A sweep (rql sweep; docs/sweep.md) crosses lists of values of any such key with the\n"
            "agents and seeds, each cell validated like a config of its own:\n"
            "  sweep = ( { key = \"env.length\"; values = [4, 8, 16]; },\n"
            "            { key = \"agent.drqn.cell\"; values = [\"lstm\", \"gru\"]; name = \"core\"; } );\n"
            "  (key: SECTION.KEY or agent.LABEL.KEY, not seeds, output or a label; name: the short\n"
            "  name in folder names, default the key's last part)\n\n"
            "Harness keys (section.key, default, meaning):\n");
    for (int i = 0; i < rql_config_nkeys(); i++) {
        const rql_key_desc *k = rql_config_key(i);
        const char *t = k->type == RQL_KEY_INT ? "int" : k->type == RQL_KEY_REAL ? "real"
                      : k->type == RQL_KEY_STR ? "string" : "int list";
        fprintf(f, "  %-20s %-8s default %-9s %s\n", k->path, t, k->def, k->help);
    }
    fprintf(f, "\nagents: a list of groups; each has\n"
               "  %-20s %-8s required  %s\n  %-20s %-8s default = type  %s\n",
            "type", "string", "agent type, one of the types below", "label", "string",
            "unique name of the agent: its log folder and its row in the comparison");
    fprintf(f, "\nenv.name (string, default \"tmaze\") picks the world; its parameters and the\n"
               "wrappers' parameters go in the same group:\n");
    for (int w = 0; w < env_count(); w++) {
        const env_info *e = env_info_at(w);
        if (!e) continue;
        fprintf(f, "\n  %s %s: %s\n", e->is_wrapper ? "wrapper" : "env", e->name, e->summary);
        for (int i = 0; i < e->nparams; i++) {
            const env_param_desc *d = &e->params[i];
            char range[64] = "";
            if (d->type == ENV_PARAM_INT || d->type == ENV_PARAM_REAL) snprintf(range, sizeof range, " [%g, %g]", d->lo, d->hi);
            fprintf(f, "    env.%-16s %-6s default %-9s %s%s\n", d->name, env_types[d->type], d->def, d->help, range);
        }
    }
    fprintf(f, "\nAgent hyperparameters, by type (set inside the agent's group):\n");
    for (int t = 0; t < agent_type_count(); t++) {
        const agent_info *a = agent_info_at(t);
        if (!a) continue;
        fprintf(f, "\n  type \"%s\": %s\n", a->name, a->summary);
        for (int i = 0; i < a->nparams; i++) {
            const agent_param_desc *d = &a->params[i];
            char range[64] = "";
            if (d->type == AGENT_PARAM_INT || d->type == AGENT_PARAM_REAL) snprintf(range, sizeof range, " [%g, %g]", d->lo, d->hi);
            fprintf(f, "    %-20s %-6s default %-9s %s%s\n", d->name, env_types[d->type], d->def, d->help, range);
        }
    }
}

int cmd_help(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stdout, "usage: rql help config | rql help COMMAND\n"
                        "  config    every config key with its default and meaning\n"
                        "  COMMAND   the usage of one command (rql --help lists them)\n");
        return 0;
    }
    if (!strcmp(argv[1], "config")) {
        help_config(stdout);
        return 0;
    }
    /* train, eval and sweep describe their options themselves; the rest: usage line */
    char *sub[] = {argv[1], "--help", NULL};
    if (!strcmp(argv[1], "train")) return cmd_train(2, sub);
    if (!strcmp(argv[1], "eval")) return cmd_eval(2, sub);
    if (!strcmp(argv[1], "sweep")) return cmd_sweep(2, sub);
    if (rql_usage_of(argv[1], stdout) == 0) return 0;
    fprintf(stderr, "rql help: no command or topic '%s' (try 'rql --help')\n", argv[1]);
    return 2;
}
