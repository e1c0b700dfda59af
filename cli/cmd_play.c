/* rql play NAME [KEY=VALUE...] [--seed N] — a person plays a world.
 *
 * Each turn shows the render, the observation vector the agent would get
 * and the reward. Input: on a terminal, single keys (arrow keys too) without
 * Enter; from a pipe or file, whitespace-separated tokens, one action each,
 * so a session can be scripted and tested. A token is an action's name
 * (case-insensitive: N, E, left, forward, 3), a unique prefix of one, or its
 * index; arrows map to N/forward, E/right, S, W/left. '!' starts a new
 * episode, '?' shows help, 'q' (or end of input) quits with a summary. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>
#include "envs/env.h"
#include "cli/cmd.h"

typedef struct {
    env *e;
    float *obs;
    char *buf;
    int os, na, episode, t, episodes_done, successes;
    float ret, total;
} play_state;

static struct termios saved_tio;
static int raw_mode;

static void restore_tty(void) {
    if (raw_mode) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    raw_mode = 0;
}

static void enter_raw(void) {
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &saved_tio)) return;
    t = saved_tio;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t)) return;
    raw_mode = 1;
    atexit(restore_tty);
}

static void show_obs(const play_state *p) {
    printf("obs ");
    if (p->os <= 32) {
        printf("[");
        for (int k = 0; k < p->os; k++) printf("%s%g", k ? " " : "", p->obs[k]);
        printf("]\n");
        return;
    }
    printf("(%d floats) nonzero:", p->os);
    for (int k = 0; k < p->os; k++)
        if (p->obs[k] != 0) printf(" [%d]=%g", k, p->obs[k]);
    printf("\n");
}

static void show(const play_state *p) {
    env_render(p->e, p->buf, 1 << 16);
    fputs(p->buf, stdout);
    show_obs(p);
    fflush(stdout);
}

static void help(const play_state *p) {
    printf("actions:");
    for (int a = 0; a < p->na && a < 32; a++) printf(" %s", env_action_name(p->e, a));
    printf("%s (name, unique prefix or index; arrow keys on a terminal); '!' new episode, '?' help, 'q' quit\n",
           p->na > 32 ? " ..." : "");
}

/* Action of a token, or -1. */
static int parse_action(const play_state *p, const char *tok) {
    for (int a = 0; a < p->na; a++)
        if (!strcasecmp(tok, env_action_name(p->e, a))) return a;
    int found = -1, n = 0;
    size_t len = strlen(tok);
    for (int a = 0; a < p->na; a++)
        if (!strncasecmp(tok, env_action_name(p->e, a), len)) { found = a; n++; }
    if (n == 1) return found;
    char *end;
    long x = strtol(tok, &end, 10);
    if (*tok && !*end && x >= 0 && x < p->na) return (int)x;
    return -1;
}

static void new_episode(play_state *p, int first, unsigned long seed) {
    if (first) env_reset(p->e, seed, p->obs);
    else env_restart(p->e, p->obs);
    p->episode++;
    p->t = 0;
    p->ret = 0;
    printf("\n-- episode %d --\n", p->episode);
    show(p);
}

static void act(play_state *p, int a) {
    float r;
    uint8_t term, trunc, succ;
    env_step(p->e, a, p->obs, &r, &term, &trunc, &succ);
    p->t++;
    p->ret += r;
    printf("\n> %s: reward %g, return %g, step %d\n", env_action_name(p->e, a), r, p->ret, p->t);
    show(p);
    if (term || trunc) {
        p->episodes_done++;
        p->successes += succ;
        p->total += p->ret;
        printf("episode %d ended: %s, %s, return %g in %d steps\n", p->episode, term ? "terminated" : "truncated",
               succ ? "success" : "no success", p->ret, p->t);
        new_episode(p, 0, 0);
    }
}

/* Next token from the terminal (one key; arrows as their names) or from a
 * stream; NULL at end of input. */
static const char *next_token(char *tok, size_t cap) {
    if (raw_mode) {
        int c = getchar();
        if (c == EOF || c == 4) return NULL;                 /* ^D */
        if (c == 27) {
            int b = getchar(), d = b == '[' ? getchar() : 0;
            const char *arrow = d == 'A' ? "@up" : d == 'B' ? "@down" : d == 'C' ? "@right" : d == 'D' ? "@left" : "";
            snprintf(tok, cap, "%s", arrow);
            return tok;
        }
        if (c == '\n' || c == ' ') { tok[0] = 0; return tok; }
        tok[0] = (char)c;
        tok[1] = 0;
        return tok;
    }
    int c;
    while ((c = getchar()) != EOF && isspace(c)) {}
    if (c == EOF) return NULL;
    size_t n = 0;
    do { if (n + 1 < cap) tok[n++] = (char)c; } while ((c = getchar()) != EOF && !isspace(c));
    tok[n] = 0;
    return tok;
}

/* Arrow keys: the action whose name fits the direction, in this world. */
static int arrow_action(const play_state *p, const char *tok) {
    static const char *const names[4][3] = {
        {"@up", "N", "forward"}, {"@right", "E", "right"}, {"@down", "S", NULL}, {"@left", "W", "left"}};
    for (int i = 0; i < 4; i++) {
        if (strcmp(tok, names[i][0])) continue;
        for (int k = 1; k < 3; k++)
            for (int a = 0; names[i][k] && a < p->na; a++)
                if (!strcmp(env_action_name(p->e, a), names[i][k])) return a;
    }
    return -1;
}

int cmd_play(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        rql_usage_of("play", argc < 2 ? stderr : stdout);
        fprintf(argc < 2 ? stderr : stdout,
                "  [--seed N] seeds the first episode (default 1). Input: single keys on a terminal,\n"
                "  whitespace-separated action names or indices from a pipe; '!' new episode, 'q' quit.\n"
                "  'rql envs' lists the worlds and their parameters.\n");
        return argc < 2 ? 2 : 0;
    }
    env_spec *s = env_spec_alloc(argv[1]);
    if (!s) { fprintf(stderr, "rql play: %s\n", rql_error()); return 2; }
    unsigned long seed = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            char *end;
            seed = strtoul(argv[++i], &end, 10);
            if (*end || !*argv[i]) {
                fprintf(stderr, "rql play: --seed %s: expected a non-negative integer\n", argv[i]);
                env_spec_free(s);
                return 2;
            }
            continue;
        }
        if (rql_env_kv("play", s, argv[i], "KEY=VALUE (e.g. length=4) or --seed N")) {
            env_spec_free(s);
            return 2;
        }
    }
    play_state p = {0};
    p.e = env_make(s);
    env_spec_free(s);
    if (!p.e) { fprintf(stderr, "rql play: %s\n", rql_error()); return 2; }
    p.os = env_obs_size(p.e);
    p.na = env_num_actions(p.e);
    p.obs = malloc(sizeof(float) * (size_t)p.os);
    p.buf = malloc(1 << 16);
    if (!p.obs || !p.buf) { fprintf(stderr, "rql play: out of memory\n"); free(p.obs); free(p.buf); env_free(p.e); return 1; }
    if (isatty(STDIN_FILENO)) enter_raw();
    printf("rql play %s (seed %lu)\n", argv[1], seed);
    help(&p);
    new_episode(&p, 1, seed);
    char tok[256];
    while (next_token(tok, sizeof tok)) {
        if (!tok[0]) continue;
        if (!strcmp(tok, "q") || !strcmp(tok, "quit")) break;
        if (!strcmp(tok, "?")) { help(&p); continue; }
        if (!strcmp(tok, "!")) { new_episode(&p, 0, 0); continue; }
        int a = tok[0] == '@' ? arrow_action(&p, tok) : parse_action(&p, tok);
        if (a < 0) {
            printf("'%s' is not an action here; ", tok);
            help(&p);
            fflush(stdout);
            continue;
        }
        act(&p, a);
    }
    restore_tty();
    printf("\n%d episode%s finished, %d successful, mean return %g\n", p.episodes_done,
           p.episodes_done == 1 ? "" : "s", p.successes, p.episodes_done ? p.total / p.episodes_done : 0.0);
    free(p.obs);
    free(p.buf);
    env_free(p.e);
    return 0;
}
