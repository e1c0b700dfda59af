/* grid.c — the gridworld core and two worlds built on it.
 *
 * gridworld: an ASCII map (a shipped name, a file, or inline text) of walls,
 * a start, goals, keys, locked doors and lava. Two views:
 *   full  one-hot of the agent's cell (H W floats), plus 1 "carrying a key"
 *         float when the map has keys; actions N, E, S, W move one cell
 *         (absolute directions). Position and key are the whole state, so
 *         this view is Markov: a memoryless agent should do as well as any.
 *   ego   MiniGrid's partial view (Chevalier-Boisvert et al. 2018,
 *         "Minimalistic Gridworld Environment"): the k x k cells in front of
 *         the agent, which sits at the middle of the bottom row facing up;
 *         each cell is 7 one-hot channels (wall, goal, key, door, lava, ball,
 *         box; empty floor is all zero; outside the map reads as wall),
 *         row-major from the far row, left to right; then 4 floats one-hot of
 *         the facing (N, E, S, W) and, if the map has keys, 1 carrying float.
 *         Actions are MiniGrid's first three: left, right (turn in place),
 *         forward. Walls do not block the view (MiniGrid's
 *         see_through_walls = True).
 * Entering a goal ends the episode (terminated, success, reward_goal);
 * entering lava ends it (terminated, reward_lava); entering a key cell picks
 * the key up; a locked door opens (and stays open) when the agent walks into
 * it carrying a key, and blocks it otherwise. A move into a wall stays put.
 * Every other step pays reward_step. Simplification of MiniGrid: no
 * pickup/toggle actions, walking does both.
 *
 * memory_room: MiniGrid's MemoryEnv idea on the same core, ego view only:
 *
 *   #########    (L = 3)  a 3 x 3 start room with the cue object c (a ball
 *   #...###A#    'o' or a box 'B', drawn at each reset) in the middle of its
 *   #c.<....#    west side; the agent starts east of the room's centre facing
 *   #...###B#    the cue (so the first view shows it), turns, walks the
 *   #########    hallway of L cells to the split, where the two objects A and
 *   B (one of each kind, order drawn at each reset) sit north and south.
 *   Walking into the object matching the cue ends the episode with
 *   reward_right (+1) and success; into the other, reward_wrong (0). The
 *   default 3 x 3 view loses the cue as soon as the agent turns away, so it
 *   must be remembered. Optimal episode: L + 5 steps.
 *
 * Time limit: max_steps = 0 means 4 H W for gridworld (MiniGrid's Empty
 * rooms use 4 size^2) and 5 H W for memory_room (MiniGrid's MemoryEnv
 * uses 5 size^2).
 *
 * Map text: one row per line ('|' also separates rows, for inline maps);
 * '#' wall, '.' or ' ' floor, 'S' start facing east ('^', '>', 'v', '<' give
 * the facing), 'G' goal, 'K' key, 'D' locked door, 'L' lava; lines starting
 * with ';' are comments. Exactly one start, at least one goal, rows of equal
 * width, at most 64 x 64. Errors name the map, line and column.
 * A map name without '/' that is not an existing file is looked up as
 * NAME.txt in $RQL_MAPS, then ./envs/maps, then envs/maps beside the running
 * binary's repository (the binary's directory and up to three levels above),
 * so `rql` and the test binaries find the shipped maps from any directory.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "envs/env_internal.h"

enum { C_EMPTY, C_WALL, C_GOAL, C_KEY, C_DOOR, C_LAVA, C_BALL, C_BOX, C_N };
#define NCH (C_N - 1)          /* one-hot channels: every kind but empty */
#define MAP_MAX 64

static const int DR[4] = {-1, 0, 1, 0}, DC[4] = {0, 1, 0, -1};   /* N, E, S, W */

typedef struct {
    int h, w;
    int sr, sc, sdir;          /* start */
    int ego, k, has_keys, memory, max_steps;
    float r_goal, r_lava, r_step, r_wrong;
    int obs_size;
    uint8_t cells[MAP_MAX * MAP_MAX];   /* the map at reset, row-major */
} grid_cfg;

typedef struct {
    int32_t r, c, dir, carrying, t, pad;
    uint8_t cells[];           /* [h * w] current cells (keys taken, doors opened, objects) */
} grid_state;

/* ---- maps -------------------------------------------------------------------- */
static int read_file(const char *path, char **out) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) { errno = EISDIR; return -1; }
    /* a FIFO or device would block the open or the read */
    if (!S_ISREG(st.st_mode)) return rql_set_error(ENV_EIO, "map %s: not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    int big = buf && n == 65536 && fgetc(f) != EOF;
    fclose(f);
    if (!buf) return rql_set_error(ENV_ENOMEM, "map %s: out of memory", path);
    if (big) { free(buf); return rql_set_error(ENV_EINVAL, "map %s: larger than 64 KiB", path); }
    const char *nul = memchr(buf, 0, n);
    if (nul) {
        long at = (long)(nul - buf);
        free(buf);
        return rql_set_error(ENV_EPARSE, "map %s: a NUL byte at offset %ld (not a text file?)", path, at);
    }
    buf[n] = 0;
    *out = buf;
    return 0;
}

static int is_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return 0;
    return 1;
}

/* Text of a map value (file, shipped name or inline); *origin names it in
 * messages. */
static int map_text(const char *value, char **text, char *origin, size_t ocap) {
    if (strchr(value, '|') || strchr(value, '\n')) {
        snprintf(origin, ocap, "inline map");
        *text = strdup(value);
        return *text ? 0 : rql_set_error(ENV_ENOMEM, "map: out of memory");
    }
    snprintf(origin, ocap, "%s", value);
    int rc = read_file(value, text);
    if (rc != -1) return rc;
    if (!is_name(value))
        return rql_set_error(ENV_EIO, "gridworld: map = '%s': cannot open it (%s)", value, strerror(errno));
    const char *env_dir = getenv("RQL_MAPS");
    char dirs[6][4096];
    int nd = rql_data_dirs("RQL_MAPS", "envs/maps", dirs, 6);
    for (int i = 0; i < nd; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%.4000s/%.150s.txt", dirs[i], value);
        rc = read_file(path, text);
        if (rc == 0) { snprintf(origin, ocap, "%s", path); return 0; }
        if (rc != -1) return rc;
    }
    return rql_set_error(ENV_EIO, "gridworld: map = '%s': no such file, and no %s.txt in $RQL_MAPS (%s), "
                         "./envs/maps or envs/maps beside the rql binary (shipped maps: open_room, four_rooms, "
                         "long_corridor)", value, value, env_dir && *env_dir ? env_dir : "unset");
}

/* Parses map text into cfg (h, w, cells, start, has_keys). */
static int map_parse(const char *text, const char *origin, grid_cfg *g) {
    int line = 1, row = 0, col = 0, starts = 0, goals = 0, sline = 0, scol = 0;
    g->h = g->w = 0;
    g->has_keys = 0;
    const char *p = text;
    while (*p) {
        const char *end = p;
        while (*end && *end != '\n' && *end != '|') end++;
        size_t len = (size_t)(end - p);
        if (len && p[len - 1] == '\r') len--;
        if (len && p[0] == ';') goto next;                         /* comment */
        if (len == 0) {
            /* blank lines are allowed only after the last row */
            const char *q = end;
            while (*q == '\n' || *q == '\r' || *q == '|' || *q == ' ' || *q == '\t') q++;
            if (*q && row > 0)
                return rql_set_error(ENV_EPARSE, "%s:%d:1: empty row inside the map", origin, line);
            goto next;
        }
        if (row == 0) {
            if (len > MAP_MAX)
                return rql_set_error(ENV_EPARSE, "%s:%d:%d: map wider than %d columns", origin, line, MAP_MAX + 1, MAP_MAX);
            g->w = (int)len;
        } else if ((int)len != g->w) {
            return rql_set_error(ENV_EPARSE, "%s:%d:%d: row has %zu columns, expected %d (the first row's width)",
                                 origin, line, (int)len < g->w ? (int)len + 1 : g->w + 1, len, g->w);
        }
        if (row >= MAP_MAX)
            return rql_set_error(ENV_EPARSE, "%s:%d:1: map taller than %d rows", origin, line, MAP_MAX);
        for (col = 0; col < (int)len; col++) {
            char ch = p[col];
            uint8_t c;
            switch (ch) {
            case '#': c = C_WALL; break;
            case '.': case ' ': c = C_EMPTY; break;
            case 'G': c = C_GOAL; goals++; break;
            case 'K': c = C_KEY; g->has_keys = 1; break;
            case 'D': c = C_DOOR; break;
            case 'L': c = C_LAVA; break;
            case 'S': case '^': case '>': case 'v': case '<':
                if (starts++)
                    return rql_set_error(ENV_EPARSE, "%s:%d:%d: second start '%c' (the first is at line %d, column %d)",
                                         origin, line, col + 1, ch, sline, scol);
                sline = line;
                scol = col + 1;
                g->sr = row;
                g->sc = col;
                g->sdir = ch == '^' ? 0 : ch == 'v' ? 2 : ch == '<' ? 3 : 1;
                c = C_EMPTY;
                break;
            default:
                if (isprint((unsigned char)ch))
                    return rql_set_error(ENV_EPARSE, "%s:%d:%d: unknown map character '%c' (known: # . space S ^ > v < G K D L)",
                                         origin, line, col + 1, ch);
                return rql_set_error(ENV_EPARSE, "%s:%d:%d: unknown map character 0x%02x (known: # . space S ^ > v < G K D L)",
                                     origin, line, col + 1, (unsigned char)ch);
            }
            g->cells[row * g->w + col] = c;
        }
        row++;
    next:
        p = *end ? end + 1 : end;
        line++;
    }
    g->h = row;
    if (row == 0) return rql_set_error(ENV_EPARSE, "%s: the map has no rows", origin);
    if (!starts) return rql_set_error(ENV_EPARSE, "%s: no start (S, ^, >, v or <) in the map", origin);
    if (!goals) return rql_set_error(ENV_EPARSE, "%s: no goal 'G' in the map", origin);
    return 0;
}

/* ---- parameters -------------------------------------------------------------- */
static const param_desc gridworld_params[] = {
    {"map", PARAM_STR, "open_room", 0, 0,
     "shipped map (open_room, four_rooms, long_corridor), a map file, or inline rows separated by '|'", NULL},
    {"view", PARAM_STR, "full", 0, 0, "full (one-hot position, actions N E S W) or ego (k x k view, left right forward)", NULL},
    {"view_size", PARAM_INT, "5", 3, 15, "k of the ego view (odd)", NULL},
    ENV_MAX_STEPS("4 H W"),
    ENV_REWARD("reward_goal", "1", "reward for entering a goal (ends the episode)"),
    ENV_REWARD("reward_lava", "-1", "reward for entering lava (ends the episode)"),
    ENV_REWARD("reward_step", "0", "reward for any other step"),
};

static const param_desc memory_room_params[] = {
    {"length", PARAM_INT, "5", 1, 58, "hallway length L between the start room and the split", NULL},
    {"view_size", PARAM_INT, "3", 3, 15, "k of the ego view (odd)", NULL},
    ENV_MAX_STEPS("5 H W"),
    ENV_REWARD("reward_right", "1", "reward for the object matching the cue (success)"),
    ENV_REWARD("reward_wrong", "0", "reward for the other object"),
    ENV_REWARD("reward_step", "0", "reward for any other step"),
};

static const env_info gridworld_info = {
    "gridworld", "ASCII-map grid (walls, goals, keys, doors, lava); full or egocentric partial view",
    "A grid from an ASCII map: a shipped one (open_room, four_rooms after Sutton, Precup & Singh 1999, "
    "long_corridor), a file, or inline rows separated by '|'. Legend: # wall, . floor, S start facing "
    "east (^ > v < set the facing), G goal (+1, ends, success), K key (picked up by walking onto it), "
    "D locked door (opens when walked into with a key), L lava (-1, ends). view=full: one-hot cell "
    "(+ carrying bit when the map has keys), actions N E S W. view=ego: MiniGrid's k x k view in front "
    "of the agent, 7 one-hot channels per cell, + facing one-hot (+ carrying), actions left, right, "
    "forward (Chevalier-Boisvert et al. 2018). Time limit 4 H W by default.",
    gridworld_params, (int)(sizeof gridworld_params / sizeof gridworld_params[0]), 0};

static const env_info memory_room_info = {
    "memory_room", "MiniGrid MemoryEnv: see a cue object, walk a hallway, pick the matching object",
    "After MiniGrid's MemoryEnv (Chevalier-Boisvert et al. 2018). A 3 x 3 start room shows a cue "
    "object (ball or box, random each episode) that the agent faces at the start; a hallway of length "
    "L leads to a split with one ball and one box (order random) to the north and south. Walking into "
    "the object matching the cue pays +1 (success), into the other 0; both end the episode. Ego view "
    "only (default 3 x 3, so the cue leaves the view once the agent turns), actions left, right, "
    "forward. Optimal: L + 5 steps. Time limit 5 H W by default. Signal bits: the ball and box "
    "channels of the view.",
    memory_room_params, (int)(sizeof memory_room_params / sizeof memory_room_params[0]), 0};

static int gridworld_check(env_spec *s, const char *key, const char *value) {
    if (!strcmp(key, "view")) {
        if (strcmp(value, "full") && strcmp(value, "ego"))
            return rql_set_error(ENV_EINVAL, "gridworld: view = '%s' must be full or ego", value);
        return 0;
    }
    if (!strcmp(key, "view_size")) {
        if (atoi(value) % 2 == 0) return rql_set_error(ENV_EINVAL, "gridworld: view_size = %s must be odd", value);
        return 0;
    }
    if (strcmp(key, "map")) return 0;
    char *text = NULL, origin[4300];
    int rc = map_text(value, &text, origin, sizeof origin);
    if (rc < 0) return rc;
    grid_cfg *g = malloc(sizeof *g);
    if (!g) { free(text); return rql_set_error(ENV_ENOMEM, "gridworld: out of memory"); }
    rc = map_parse(text, origin, g);
    free(g);
    if (rc == 0) rc = env_spec_set_aux(s, text);
    free(text);
    return rc;
}

static int memory_room_check(env_spec *s, const char *key, const char *value) {
    if (!strcmp(key, "view_size") && atoi(value) % 2 == 0)
        return rql_set_error(ENV_EINVAL, "memory_room: view_size = %s must be odd", value);
    return 0;
}

/* ---- building ---------------------------------------------------------------- */
/* What both worlds read alike (view_size, odd; max_steps, 0 meaning
 * steps_per_cell H W) and their dims; frees g on error. */
static int finish_make(grid_cfg *g, const env_spec *s, const char *world, int steps_per_cell, void **out,
                       env_dims *d) {
    g->k = (int)env_param_long(s, "view_size");
    if (g->k % 2 == 0) {
        int k = g->k;
        free(g);
        return rql_set_error(ENV_EINVAL, "%s: view_size = %d must be odd", world, k);
    }
    long ms = env_param_long(s, "max_steps");
    g->max_steps = ms > 0 ? (int)ms : steps_per_cell * g->h * g->w;
    g->obs_size = g->ego ? g->k * g->k * NCH + 4 + g->has_keys : g->h * g->w + g->has_keys;
    *out = g;
    size_t sb = sizeof(grid_state) + (size_t)g->h * g->w;
    *d = (env_dims){.obs_size = g->obs_size, .n_actions = g->ego ? 3 : 4, .state_bytes = (sb + 7) & ~(size_t)7};
    return 0;
}

static int gridworld_make(const env_spec *s, void **out, env_dims *d) {
    grid_cfg *g = calloc(1, sizeof *g);
    if (!g) return rql_set_error(ENV_ENOMEM, "gridworld: out of memory");
    const char *value = env_spec_get(s, "map");
    char *text = NULL, origin[4300];
    int rc;
    if (env_spec_aux(s)) {
        snprintf(origin, sizeof origin, "%s", value);
        text = strdup(env_spec_aux(s));
        rc = text ? 0 : rql_set_error(ENV_ENOMEM, "gridworld: out of memory");
    } else {
        rc = map_text(value, &text, origin, sizeof origin);   /* the default map, loaded on first use */
    }
    if (rc == 0) rc = map_parse(text, origin, g);
    free(text);
    if (rc < 0) { free(g); return rc; }
    g->ego = !strcmp(env_spec_get(s, "view"), "ego");
    g->r_goal = (float)env_param_real(s, "reward_goal");
    g->r_lava = (float)env_param_real(s, "reward_lava");
    g->r_step = (float)env_param_real(s, "reward_step");
    return finish_make(g, s, "gridworld", 4, out, d);
}

static int memory_room_make(const env_spec *s, void **out, env_dims *d) {
    grid_cfg *g = calloc(1, sizeof *g);
    if (!g) return rql_set_error(ENV_ENOMEM, "memory_room: out of memory");
    int L = (int)env_param_long(s, "length");
    g->memory = 1;
    g->ego = 1;
    g->h = 5;
    g->w = L + 6;
    for (int r = 0; r < g->h; r++)
        for (int c = 0; c < g->w; c++) {
            int room = r >= 1 && r <= 3 && c >= 1 && c <= 3;
            int hall = r == 2 && c >= 4 && c <= g->w - 2;
            int split = c == g->w - 2 && r >= 1 && r <= 3;
            g->cells[r * g->w + c] = room || hall || split ? C_EMPTY : C_WALL;
        }
    g->sr = 2;
    g->sc = 3;
    g->sdir = 3;                        /* facing west, towards the cue */
    g->r_goal = (float)env_param_real(s, "reward_right");
    g->r_wrong = (float)env_param_real(s, "reward_wrong");
    g->r_step = (float)env_param_real(s, "reward_step");
    return finish_make(g, s, "memory_room", 5, out, d);
}

/* ---- dynamics ---------------------------------------------------------------- */
static inline int cell_at(const grid_cfg *g, const grid_state *s, int r, int c) {
    return r < 0 || c < 0 || r >= g->h || c >= g->w ? C_WALL : s->cells[r * g->w + c];
}

static void put_obs(const grid_cfg *g, const grid_state *s, float *o) {
    memset(o, 0, sizeof(float) * (size_t)g->obs_size);
    if (!g->ego) {
        o[s->r * g->w + s->c] = 1;
        if (g->has_keys) o[g->h * g->w] = (float)s->carrying;
        return;
    }
    int k = g->k, half = k / 2, f = s->dir, rt = (s->dir + 1) & 3;
    for (int i = 0; i < k; i++) {          /* i = 0: farthest row */
        int ahead = k - 1 - i;
        for (int j = 0; j < k; j++) {
            int side = j - half;
            int r = s->r + DR[f] * ahead + DR[rt] * side, c = s->c + DC[f] * ahead + DC[rt] * side;
            int v = cell_at(g, s, r, c);
            if (v != C_EMPTY) o[(i * k + j) * NCH + v - 1] = 1;
        }
    }
    o[k * k * NCH + s->dir] = 1;
    if (g->has_keys) o[k * k * NCH + 4] = (float)s->carrying;
}

static void grid_reset(const void *cfg, void *st, gsl_rng *rng, float *obs) {
    const grid_cfg *g = cfg;
    grid_state *s = st;
    memcpy(s->cells, g->cells, (size_t)g->h * g->w);
    s->r = g->sr;
    s->c = g->sc;
    s->dir = g->sdir;
    s->carrying = 0;
    s->t = 0;
    if (g->memory) {
        int cue = (int)gsl_rng_uniform_int(rng, 2), top = (int)gsl_rng_uniform_int(rng, 2);
        s->cells[2 * g->w + 1] = (uint8_t)(C_BALL + cue);
        s->cells[1 * g->w + g->w - 2] = (uint8_t)(C_BALL + top);
        s->cells[3 * g->w + g->w - 2] = (uint8_t)(C_BALL + 1 - top);
    }
    put_obs(g, s, obs);
}

static int grid_step(const void *cfg, void *st, gsl_rng *rng, int a, float *obs, float *rew) {
    const grid_cfg *g = cfg;
    grid_state *s = st;
    int f = 0, dir = -1;
    float r = g->r_step;
    if (g->ego) {
        if (a == 0) s->dir = (s->dir + 3) & 3;
        else if (a == 1) s->dir = (s->dir + 1) & 3;
        else dir = s->dir;
    } else {
        dir = s->dir = a;
    }
    if (dir >= 0) {
        int nr = s->r + DR[dir], nc = s->c + DC[dir], move = 1;
        switch (cell_at(g, s, nr, nc)) {
        case C_WALL: move = 0; break;
        case C_DOOR:
            if (s->carrying) s->cells[nr * g->w + nc] = C_EMPTY;
            else move = 0;
            break;
        case C_KEY:
            s->carrying = 1;
            s->cells[nr * g->w + nc] = C_EMPTY;
            break;
        case C_GOAL: f = ENV_F_TERM | ENV_F_SUCCESS; r = g->r_goal; break;
        case C_LAVA: f = ENV_F_TERM; r = g->r_lava; break;
        case C_BALL: case C_BOX:
            move = 0;
            if (g->memory && nc == g->w - 2) {   /* an object of the split, not the cue */
                int right = s->cells[nr * g->w + nc] == s->cells[2 * g->w + 1];
                f = ENV_F_TERM | (right ? ENV_F_SUCCESS : 0);
                r = right ? g->r_goal : g->r_wrong;
            }
            break;
        default: break;
        }
        if (move) { s->r = nr; s->c = nc; }
    }
    s->t++;
    if (!(f & ENV_F_TERM) && s->t >= g->max_steps) f |= ENV_F_TRUNC;
    *rew = r;
    put_obs(g, s, obs);
    return f;
}

static int grid_render(const void *cfg, const void *st, char *buf, size_t cap) {
    const grid_cfg *g = cfg;
    const grid_state *s = st;
    static const char glyph[C_N] = {'.', '#', 'G', 'K', 'D', 'L', 'o', 'B'};
    static const char arrow[4] = {'^', '>', 'v', '<'};
    size_t pos = 0;
    int k = g->k, half = k / 2, f = s->dir, rt = (s->dir + 1) & 3;
    for (int r = 0; r < g->h; r++) {
        env_bufcat(buf, cap, &pos, "  ");
        for (int c = 0; c < g->w; c++) {
            char ch = glyph[s->cells[r * g->w + c]];
            if (r == s->r && c == s->c) ch = g->ego ? arrow[s->dir] : '@';
            else if (g->ego && ch == '.') {
                /* shade the cells in view */
                int dr = r - s->r, dc = c - s->c;
                int ahead = dr * DR[f] + dc * DC[f], side = dr * DR[rt] + dc * DC[rt];
                if (ahead >= 0 && ahead < k && side >= -half && side <= half) ch = ',';
            }
            env_bufcat(buf, cap, &pos, "%c", ch);
        }
        env_bufcat(buf, cap, &pos, "\n");
    }
    env_bufcat(buf, cap, &pos, "  t = %d of %d", s->t, g->max_steps);
    if (g->has_keys) env_bufcat(buf, cap, &pos, ", %s a key", s->carrying ? "carrying" : "not carrying");
    if (g->memory) env_bufcat(buf, cap, &pos, ", cue %s", s->cells[2 * g->w + 1] == C_BALL ? "ball (o)" : "box (B)");
    if (g->ego) env_bufcat(buf, cap, &pos, " (',' = in view)");
    env_bufcat(buf, cap, &pos, "\n");
    return 0;
}

static const char *grid_action_name(const void *cfg, int a) {
    static const char *const abs_names[] = {"N", "E", "S", "W"}, *const ego_names[] = {"left", "right", "forward"};
    return ((const grid_cfg *)cfg)->ego ? ego_names[a] : abs_names[a];
}

static int memory_room_signal_bits(const void *cfg, int *idx, int cap) {
    const grid_cfg *g = cfg;
    int n = 0;
    for (int cell = 0; cell < g->k * g->k; cell++)
        for (int ch = C_BALL; ch <= C_BOX; ch++)
            if (n < cap) idx[n++] = cell * NCH + ch - 1;
    return n;
}

const env_class gridworld_class = {
    .info = &gridworld_info, .check = gridworld_check, .make = gridworld_make,
    .reset = grid_reset, .step = grid_step, .render = grid_render, .action_name = grid_action_name,
};

const env_class memory_room_class = {
    .info = &memory_room_info, .check = memory_room_check, .make = memory_room_make,
    .reset = grid_reset, .step = grid_step, .render = grid_render, .action_name = grid_action_name,
    .signal_bits = memory_room_signal_bits,
};
