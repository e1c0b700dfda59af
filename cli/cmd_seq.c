/* rql seq — the supervised memory tasks of seq.h from the command line:
 * parses the options, trains, prints progress and the test accuracy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cmd.h"
#include "experiments/seq.h"

static void help(FILE *f) {
    rql_usage_of("seq", f);
    fprintf(f,
            "options: [--seed S] [--hidden H] [--steps N] [--batch B] [--lr X] [--clip X]\n"
            "         [--test N] [--quiet]\n"
            "Trains CELL(H) -> dense on a memory task with Adam and gradient clipping,\n"
            "stops early once every validation sequence is right (twice in a row), and prints the accuracy on a\n"
            "fresh test set (the fraction of sequences entirely right).\n"
            "CELL: lstm, gru, rnn, peephole, mingru, lru. TASK:\n"
            "  add     binary addition of two T-bit numbers, LSB first, one output bit per step (many-to-many)\n"
            "  recall  name the first of %d symbols after T random distractor steps (many-to-one)\n"
            "  next    next term of an arithmetic series mod %d over T terms (many-to-many, synchronous);\n"
            "          prints the step error beside the trivial predictor's (repeat the last term)\n"
            "  reverse an encoder reads T of %d symbols, its final state starts a decoder that emits\n"
            "          them reversed (sequence to sequence: teacher forcing in training, free running at test)\n"
            "  pattern a digit at step 0, then its fixed T-bit pattern, one bit per step (one-to-many)\n"
            "Defaults: --seed 0 --hidden 64 --steps 3000 --batch 32 --lr 0.003 --clip 1 --test 1000\n",
            SEQ_SYMBOLS, SEQ_DIGITS, SEQ_RSYMBOLS);
}

static int parse_long(const char *flag, const char *v, long lo, long hi, long *out) {
    if (!v) { fprintf(stderr, "rql seq: %s needs a value\n", flag); return -1; }
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "rql seq: %s needs an integer in [%ld, %ld] (got \"%s\")\n", flag, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_float(const char *flag, const char *v, double lo, float *out) {
    if (!v) { fprintf(stderr, "rql seq: %s needs a value\n", flag); return -1; }
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !(x >= lo) || x > 1e6) {
        fprintf(stderr, "rql seq: %s needs a number >= %g (got \"%s\")\n", flag, lo, v ? v : "");
        return -1;
    }
    *out = (float)x;
    return 0;
}

int cmd_seq(int argc, char **argv) {
    const char *task = NULL, *cell = NULL;
    long length = -1, seed = 0, hidden = -1, steps = -1, batch = -1, test = -1;
    float lr = -1, clip = -1;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { help(stdout); return 0; }
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { quiet = 1; continue; }
        else if (!strcmp(a, "--task")) task = v;
        else if (!strcmp(a, "--cell")) cell = v;
        else if (!strcmp(a, "--length")) rc = parse_long(a, v, 1, 100000, &length);
        else if (!strcmp(a, "--seed")) rc = parse_long(a, v, 0, 0x7fffffffL, &seed);
        else if (!strcmp(a, "--hidden")) rc = parse_long(a, v, 1, 4096, &hidden);
        else if (!strcmp(a, "--steps")) rc = parse_long(a, v, 0, 100000000L, &steps);
        else if (!strcmp(a, "--batch")) rc = parse_long(a, v, 1, 4096, &batch);
        else if (!strcmp(a, "--test")) rc = parse_long(a, v, 1, 10000000L, &test);
        else if (!strcmp(a, "--lr")) rc = parse_float(a, v, 1e-12, &lr);
        else if (!strcmp(a, "--clip")) rc = parse_float(a, v, 0, &clip);
        else {
            fprintf(stderr, "rql seq: unknown option \"%s\" (see rql seq --help)\n", a);
            return 2;
        }
        if (rc) return 2;
        if (!v) {
            fprintf(stderr, "rql seq: %s needs a value\n", a);
            return 2;
        }
        i++;
    }
    int tk = seq_task_parse(task);
    if (tk < 0) {
        fprintf(stderr, "rql seq: --task must be add, recall, next, reverse or pattern (got \"%s\")\n",
                task ? task : "");
        return 2;
    }
    int ck = -1;
    for (int k = LAYER_RNN; cell && k <= LAYER_LRU; k++)
        if (!strcmp(cell, layer_kind_str((layer_kind)k))) ck = k;
    if (ck < 0) {
        fprintf(stderr, "rql seq: --cell must be lstm, gru, rnn, peephole, mingru or lru (got \"%s\")\n",
                cell ? cell : "");
        return 2;
    }
    if (length < 0) {
        fprintf(stderr, "rql seq: --length T is required (bits for add, distractor steps for recall)\n");
        return 2;
    }
    seq_config c;
    seq_config_default(&c, (seq_task)tk, (layer_kind)ck, (int)length);
    c.seed = (unsigned long)seed;
    if (hidden > 0) c.hidden = (int)hidden;
    if (steps >= 0) c.steps = (int)steps;
    if (batch > 0) c.batch = (int)batch;
    if (test > 0) c.test_size = (int)test;
    if (lr > 0) c.lr = lr;
    if (clip >= 0) c.clip = clip;

    if (!quiet && tk == SEQ_REVERSE)
        printf("seq: task reverse, encoder %s(%d), decoder %s(%d) -> dense(%d), length %d, batch %d, Adam lr %g, "
               "clip %g, seed %lu, at most %d updates\n",
               cell, c.hidden, cell, c.hidden, seq_out_size(&c), c.length, c.batch, c.lr, c.clip, c.seed,
               c.steps);
    else if (!quiet)
        printf("seq: task %s, cell %s(%d) -> dense(%d), length %d (%d steps), batch %d, Adam lr %g, "
               "clip %g, seed %lu, at most %d updates\n",
               task, cell, c.hidden, seq_out_size(&c), c.length, seq_steps(&c), c.batch, c.lr, c.clip,
               c.seed, c.steps);
    seq_result r;
    char err[256] = "";
    if (seq_run(&c, &r, quiet ? NULL : stdout, err, sizeof err)) {
        fprintf(stderr, "rql seq: %s\n", err);
        return err[0] == '-' ? 2 : 1;
    }
    if (!quiet) {
        if (r.solved_at >= 0) printf("solved at update %d (every validation sequence right from then on)\n", r.solved_at);
        else printf("not solved in %d updates (validation accuracy %.4f)\n", r.updates, r.val_accuracy);
    }
    if (!quiet && tk == SEQ_NEXT)
        printf("test step error %.4f, trivial predictor (repeat the last term) %.4f\n", r.step_error,
               r.trivial_error);
    /* one line that scripts parse: key=value pairs */
    printf("seq task=%s cell=%s length=%d seed=%lu updates=%d test_accuracy=%.4f test_size=%d seconds=%.2f",
           task, cell, c.length, c.seed, r.updates, r.accuracy, c.test_size, r.seconds);
    if (seq_many_to_many(&c)) printf(" step_error=%.4f", r.step_error);
    if (tk == SEQ_NEXT) printf(" trivial_error=%.4f", r.trivial_error);
    printf("\n");
    return 0;
}
