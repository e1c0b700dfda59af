/* rql envs [NAME [KEY=VALUE...]] — the worlds and wrappers, their parameters
 * and defaults; with a NAME, one of them in detail with its start state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "envs/env.h"
#include "cli/cmd.h"

static const char *const type_names[] = {"int", "real", "bool", "string"};

static void print_params(const env_info *x, const char *indent) {
    for (int i = 0; i < x->nparams; i++) {
        const param_desc *d = &x->params[i];
        char range[64] = "";
        if (d->type == PARAM_INT || d->type == PARAM_REAL) snprintf(range, sizeof range, " [%.10g, %.10g]", d->lo, d->hi);
        printf("%s%-15s %-6s default %-10s %s%s\n", indent, d->name, type_names[d->type], d->def, d->help, range);
    }
}

/* Prints text wrapped at width columns after indent. */
static void wrap(const char *text, const char *indent, int width) {
    int col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ') p++;
        const char *w = p;
        while (*p && *p != ' ') p++;
        int len = (int)(p - w);
        if (!len) break;
        if (col && col + 1 + len > width) { putchar('\n'); col = 0; }
        if (!col) col = printf("%s", indent) - 1;
        col += printf(" %.*s", len, w);
    }
    if (col) putchar('\n');
}

static void print_obs(const float *o, int n) {
    if (n <= 32) {
        printf("[");
        for (int k = 0; k < n; k++) printf("%s%g", k ? " " : "", o[k]);
        printf("]\n");
        return;
    }
    printf("%d floats, nonzero:", n);
    int any = 0;
    for (int k = 0; k < n; k++)
        if (o[k] != 0) { printf(" [%d]=%g", k, o[k]); any = 1; }
    printf("%s\n", any ? "" : " none");
}

static void list_all(void) {
    printf("worlds (rql envs NAME for details; set parameters in the config's env group or as KEY=VALUE):\n");
    for (int i = 0; i < env_count(); i++) {
        const env_info *x = env_info_at(i);
        if (x->is_wrapper) continue;
        printf("\n  %-12s %s\n", x->name, x->summary);
        print_params(x, "      ");
    }
    printf("\nwrappers (any world: set their parameter alongside the world's):\n");
    for (int i = 0; i < env_count(); i++) {
        const env_info *x = env_info_at(i);
        if (!x->is_wrapper) continue;
        printf("\n  %-12s %s\n", x->name, x->summary);
        print_params(x, "      ");
    }
}

static int show_one(const env_info *x, int argc, char **argv) {
    if (x->is_wrapper && argc > 2) {
        fprintf(stderr, "rql envs: %s is a wrapper: KEY=VALUE applies to worlds only (e.g. rql envs tmaze %s=0.5)\n",
                x->name, x->params[0].name);
        return 2;
    }
    /* Parameters are checked before anything is printed. */
    env *e = NULL;
    if (!x->is_wrapper) {
        env_spec *s = env_spec_alloc(x->name);
        if (!s) { fprintf(stderr, "rql envs: %s\n", rql_error()); return 1; }
        for (int i = 2; i < argc; i++)
            if (rql_env_kv("envs", s, argv[i], "KEY=VALUE (e.g. length=20)")) {
                env_spec_free(s);
                return 2;
            }
        e = env_make(s);
        env_spec_free(s);
        if (!e) { fprintf(stderr, "rql envs: %s\n", rql_error()); return 2; }
    }
    printf("%s%s: %s\n\n", x->name, x->is_wrapper ? " (wrapper)" : "", x->summary);
    wrap(x->doc, "  ", 78);
    printf("\nparameters:\n");
    print_params(x, "  ");
    if (!e) return 0;
    int os = env_obs_size(e), na = env_num_actions(e);
    printf("\nobservation: %d floats; actions (%d):", os, na);
    for (int a = 0; a < na && a < 16; a++) printf(" %d=%s", a, env_action_name(e, a));
    if (na > 16) printf(" ...");
    int idx[64], nb = env_signal_bits(e, idx, 64);
    printf("\nsignal bits:");
    for (int k = 0; k < nb; k++) printf(" %d", idx[k]);
    printf("%s\n", nb ? (nb == 64 ? " ..." : "") : " none");
    float *o = malloc(sizeof(float) * (size_t)os);
    char *buf = malloc(1 << 16);
    if (!o || !buf) { free(o); free(buf); env_free(e); fprintf(stderr, "rql envs: out of memory\n"); return 1; }
    env_reset(e, 1, o);
    env_render(e, buf, 1 << 16);
    printf("\nstart state (seed 1):\n%s", buf);
    printf("first observation: ");
    print_obs(o, os);
    free(o);
    free(buf);
    env_free(e);
    return 0;
}

int cmd_envs(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        rql_usage_of("envs", stdout);
        printf("  with no NAME, lists every world and wrapper with its parameters;\n"
               "  with NAME, shows it in detail and renders its start state (KEY=VALUE sets parameters)\n");
        return 0;
    }
    if (argc < 2) { list_all(); return 0; }
    const env_info *x = env_info_find(argv[1]);
    if (!x) {
        fprintf(stderr, "rql envs: unknown world or wrapper '%s' (known:", argv[1]);
        for (int i = 0; i < env_count(); i++) fprintf(stderr, " %s", env_info_at(i)->name);
        fprintf(stderr, ")\n");
        return 2;
    }
    return show_one(x, argc, argv);
}
