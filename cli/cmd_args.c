/* cmd_args.c — the options rql train and rql sweep share (-o, -j, --seeds,
 * --set, --force, --quiet) and the config path, parsed once for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cmd.h"
#include "experiments/config.h"

int rql_run_args_init(rql_run_args *a, int argc) {
    memset(a, 0, sizeof *a);
    a->sets = calloc((size_t)argc + 1, sizeof *a->sets);
    return a->sets ? 0 : -1;
}

void rql_run_args_free(rql_run_args *a) {
    free(a->sets);
    a->sets = NULL;
}

int rql_run_arg(const char *cmd, rql_run_args *a, int argc, char **argv, int *i) {
    const char *s = argv[*i];
    int more = *i + 1 < argc;
    if (!strcmp(s, "-o") && more) a->out = argv[++*i];
    else if (!strcmp(s, "-j") && more) {
        char *end;
        long j = strtol(argv[++*i], &end, 10);
        if (*end || j < 1 || j > 1 << 20) {
            fprintf(stderr, "rql %s: -j %s: expected a positive number of runs at once\n", cmd, argv[*i]);
            return 2;
        }
        a->threads = (int)j;
    } else if (!strcmp(s, "--seeds") && more) {
        char err[2048];
        if (rql_config_seeds_override(argv[++*i], a->seeds_set, sizeof a->seeds_set, err, sizeof err)) {
            fprintf(stderr, "rql %s: %s\n", cmd, err);
            return 2;
        }
        a->sets[a->nsets++] = a->seeds_set;
    } else if (!strcmp(s, "--set") && more) a->sets[a->nsets++] = argv[++*i];
    else if (!strncmp(s, "--set=", 6)) a->sets[a->nsets++] = s + 6;
    else if (!strcmp(s, "--force")) a->force = 1;
    else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) a->quiet = 1;
    else return 0;
    return 1;
}

int rql_run_positional(const char *cmd, rql_run_args *a, int argc, char **argv, int i) {
    const char *s = argv[i];
    if (s[0] == '-' || a->cfg_path) {
        fprintf(stderr, "rql %s: unexpected argument '%s'%s\n", cmd, s,
                s[0] == '-' && i + 1 >= argc ? " (missing its value?)" : "");
        return 2;
    }
    a->cfg_path = s;
    return 0;
}

volatile sig_atomic_t rql_stop_flag;

static void on_stop_signal(int sig) {
    rql_stop_flag = sig;
    signal(sig, SIG_DFL);
}

void rql_catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void rql_release_stop_signals(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}
