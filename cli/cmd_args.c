/* cmd_args.c — what the commands share on their command lines: the options
 * of rql train, sweep and suite (-o, -j, --seeds, --set, --force, --quiet)
 * and the config path, parsed once for all; a lone path argument (eval,
 * export); KEY=VALUE world parameters (envs, play); the stop signals. */
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
    free(a->seeds_set);
    a->sets = NULL;
    a->seeds_set = NULL;
}

/* -o names the folder every run writes under: the rules of the config key
 * output (not empty) plus no line breaks or NULs a shell could hide. */
static int out_ok(const char *cmd, const char *o) {
    if (!o[0]) {
        fprintf(stderr, "rql %s: -o \"\": the output folder must not be empty (it would write into the current "
                        "folder's root, or /)\n", cmd);
        return 0;
    }
    if (strpbrk(o, "\n\r")) {
        fprintf(stderr, "rql %s: -o: the output folder name holds a line break\n", cmd);
        return 0;
    }
    return 1;
}

int rql_run_arg(const char *cmd, rql_run_args *a, int argc, char **argv, int *i) {
    const char *s = argv[*i];
    int more = *i + 1 < argc;
    if (!strcmp(s, "-o") && more) {
        a->out = argv[++*i];
        if (!out_ok(cmd, a->out)) return 2;
    }
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
        char *t = rql_config_seeds_text(argv[++*i], err, sizeof err);
        if (!t) {
            fprintf(stderr, "rql %s: %s\n", cmd, err);
            return 2;
        }
        free(a->seeds_set);           /* the last --seeds wins, as a later --set would */
        for (int k = 0; k < a->nsets; k++)
            if (a->sets[k] == a->seeds_set) a->sets[k] = t;
        if (!a->seeds_set) a->sets[a->nsets++] = t;
        a->seeds_set = t;
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

int rql_run_args_parse(const char *cmd, rql_run_args *a, int argc, char **argv, rql_own_arg own, void *ctx,
                       void (*usage)(FILE *)) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int took = rql_run_arg(cmd, a, argc, argv, &i);
        if (took == 0 && (!strcmp(s, "-h") || !strcmp(s, "--help"))) {
            usage(stdout);
            rql_run_args_free(a);
            return 0;
        }
        if (took == 0 && own) took = own(ctx, argc, argv, &i);
        if (took == 0 && rql_run_positional(cmd, a, argc, argv, i)) {
            usage(stderr);
            took = 2;
        }
        if (took == 2) {
            rql_run_args_free(a);
            return 2;
        }
    }
    return -1;
}

int rql_one_path(const char *cmd, const char *arg, const char **slot, void (*usage)(FILE *)) {
    if (arg[0] != '-' && !*slot) {
        *slot = arg;
        return 0;
    }
    fprintf(stderr, "rql %s: unexpected argument '%s'\n", cmd, arg);
    usage(stderr);
    return 2;
}

int rql_env_kv(const char *cmd, env_spec *s, char *arg, const char *expected) {
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "rql %s: argument '%s': expected %s\n", cmd, arg, expected);
        return 2;
    }
    *eq = 0;
    int rc = env_spec_set(s, arg, eq + 1);
    *eq = '=';
    if (rc < 0) {
        fprintf(stderr, "rql %s: %s\n", cmd, rql_error());
        return 2;
    }
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
