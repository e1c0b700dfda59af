/* check_seqtasks — the supervised memory tasks of experiments/seq.h: the task
 * data is what it claims (sums and carries, first symbol then distractors),
 * runs are deterministic, and with the fixed seed 0 the LSTM reaches 100% on
 * 8-bit addition and >= 99% on recall after 50 distractor steps; the Elman
 * RNN's accuracy on the same recall task is printed beside it. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiments/seq.h"

/* a + b, both read back from the inputs, must equal the targets read as a
 * number: every sequence of a batch, bit by bit and with the final carry */
START_TEST(add_data_is_addition) {
    seq_config c;
    seq_config_default(&c, SEQ_ADD, LAYER_LSTM, 8);
    const int B = 64, Ts = seq_steps(&c), in = seq_in_size(&c);
    ck_assert_int_eq(Ts, 9);
    ck_assert_int_eq(in, 2);
    ck_assert_int_eq(seq_out_size(&c), 1);
    ck_assert(seq_many_to_many(&c));
    float *x = malloc(sizeof(float) * B * Ts * in);
    int *target = malloc(sizeof(int) * B * Ts);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    seq_batch(&c, r, B, x, target);
    int carries = 0;
    for (int b = 0; b < B; b++) {
        unsigned a = 0, bb = 0, s = 0;
        for (int t = 0; t < Ts; t++) {
            float xa = x[(b * Ts + t) * in], xb = x[(b * Ts + t) * in + 1];
            ck_assert(xa == 0 || xa == 1);
            ck_assert(xb == 0 || xb == 1);
            if (t == Ts - 1) ck_assert(xa == 0 && xb == 0);
            a |= (unsigned)xa << t;
            bb |= (unsigned)xb << t;
            ck_assert(target[b * Ts + t] == 0 || target[b * Ts + t] == 1);
            s |= (unsigned)target[b * Ts + t] << t;
        }
        ck_assert_msg(a + bb == s, "row %d: %u + %u != %u", b, a, bb, s);
        carries += (s >> 8) & 1;
    }
    /* half of random pairs of 8-bit numbers overflow: the carry step matters */
    ck_assert_msg(carries > 16 && carries < 48, "%d of %d sums carry out", carries, B);
    gsl_rng_free(r);
    free(x);
    free(target);
}
END_TEST

START_TEST(recall_data_is_first_symbol) {
    seq_config c;
    seq_config_default(&c, SEQ_RECALL, LAYER_LSTM, 50);
    const int B = 200, Ts = seq_steps(&c), in = seq_in_size(&c);
    ck_assert_int_eq(Ts, 51);
    ck_assert_int_eq(in, SEQ_SYMBOLS + SEQ_DISTRACTORS);
    ck_assert_int_eq(seq_out_size(&c), SEQ_SYMBOLS);
    ck_assert(!seq_many_to_many(&c));
    float *x = malloc(sizeof(float) * B * Ts * in);
    int *target = malloc(sizeof(int) * B);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    seq_batch(&c, r, B, x, target);
    int count[SEQ_SYMBOLS] = {0}, dcount[SEQ_DISTRACTORS] = {0};
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < Ts; t++) {
            const float *v = x + (b * Ts + t) * in;
            int ones = 0, at = -1;
            for (int k = 0; k < in; k++) {
                ck_assert(v[k] == 0 || v[k] == 1);
                if (v[k] == 1) ones++, at = k;
            }
            ck_assert_int_eq(ones, 1);
            if (t == 0) {
                ck_assert_int_lt(at, SEQ_SYMBOLS);
                ck_assert_int_eq(at, target[b]);
                count[at]++;
            } else {
                ck_assert_int_ge(at, SEQ_SYMBOLS);
                dcount[at - SEQ_SYMBOLS]++;
            }
        }
    }
    for (int k = 0; k < SEQ_SYMBOLS; k++) ck_assert_msg(count[k] > 20, "symbol %d drawn %d times", k, count[k]);
    for (int k = 0; k < SEQ_DISTRACTORS; k++) ck_assert(dcount[k] > B * (Ts - 1) / 8);
    gsl_rng_free(r);
    free(x);
    free(target);
}
END_TEST

static seq_result run(seq_task task, layer_kind cell, int length, int steps) {
    seq_config c;
    seq_config_default(&c, task, cell, length);
    c.seed = 0;
    if (steps >= 0) c.steps = steps;
    seq_result r;
    char err[256];
    ck_assert_msg(seq_run(&c, &r, NULL, err, sizeof err) == 0, "seq_run: %s", err);
    ck_assert_msg(r.accuracy >= 0 && r.accuracy <= 1, "accuracy %g", r.accuracy);
    return r;
}

static const char *name_of(seq_task t, layer_kind c) {
    return t == SEQ_ADD ? (c == LAYER_LSTM ? "add lstm" : c == LAYER_GRU ? "add gru" : "add rnn")
                        : (c == LAYER_LSTM ? "recall lstm" : c == LAYER_GRU ? "recall gru" : "recall rnn");
}

static void report(seq_task t, layer_kind c, int length, const seq_result *r) {
    fprintf(stderr, "seq %-11s T=%-3d seed 0: test accuracy %.4f after %d updates (%s), %.2f s\n",
            name_of(t, c), length, r->accuracy, r->updates, r->solved_at >= 0 ? "solved" : "not solved",
            r->seconds);
}

START_TEST(lstm_adds_8_bits) {
    seq_result r = run(SEQ_ADD, LAYER_LSTM, 8, -1);
    report(SEQ_ADD, LAYER_LSTM, 8, &r);
    ck_assert_msg(r.accuracy == 1.0, "LSTM on 8-bit addition: test accuracy %.4f, want 1", r.accuracy);
}
END_TEST

START_TEST(lstm_recalls_after_50) {
    seq_result r = run(SEQ_RECALL, LAYER_LSTM, 50, -1);
    report(SEQ_RECALL, LAYER_LSTM, 50, &r);
    ck_assert_msg(r.accuracy >= 0.99, "LSTM on recall at T = 50: test accuracy %.4f, want >= 0.99", r.accuracy);
}
END_TEST

/* Reported, not required: the issue asks for the Elman RNN's number next to
 * the LSTM's. Capped at 1000 updates (the LSTM needs about 100). */
START_TEST(rnn_recall_reported) {
    seq_result r = run(SEQ_RECALL, LAYER_RNN, 50, 1000);
    report(SEQ_RECALL, LAYER_RNN, 50, &r);
    ck_assert(isfinite(r.accuracy));
}
END_TEST

/* The same seed gives the same run, update for update. */
START_TEST(deterministic) {
    seq_result a = run(SEQ_ADD, LAYER_GRU, 6, 120), b = run(SEQ_ADD, LAYER_GRU, 6, 120);
    ck_assert_int_eq(a.updates, b.updates);
    ck_assert(a.loss == b.loss);
    ck_assert(a.accuracy == b.accuracy);
    ck_assert(a.val_accuracy == b.val_accuracy);
}
END_TEST

/* With no updates the network guesses: near 1/4 on recall, near 0 on whole
 * 8-bit sums (2^-9 by chance), so the accuracy measure is not trivially 1. */
START_TEST(untrained_is_chance) {
    seq_result r = run(SEQ_RECALL, LAYER_LSTM, 10, 0);
    ck_assert_msg(r.accuracy < 0.5, "untrained recall accuracy %.4f", r.accuracy);
    r = run(SEQ_ADD, LAYER_LSTM, 8, 0);
    ck_assert_msg(r.accuracy < 0.05, "untrained add accuracy %.4f", r.accuracy);
}
END_TEST

START_TEST(bad_settings) {
    const struct { int length, hidden, batch, steps; float lr; const char *needle; } bad[] = {
        {0, 8, 8, 10, 1e-3f, "--length 0"},
        {8, 0, 8, 10, 1e-3f, "--hidden 0"},
        {8, 8, 0, 10, 1e-3f, "--batch 0"},
        {8, 8, 8, -1, 1e-3f, "--steps -1"},
        {8, 8, 8, 10, 0.0f, "--lr 0"},
        {30000, 8, 64, 10, 1e-3f, "--length 30000"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        seq_config c;
        seq_config_default(&c, SEQ_ADD, LAYER_LSTM, bad[k].length);
        c.hidden = bad[k].hidden, c.batch = bad[k].batch, c.steps = bad[k].steps, c.lr = bad[k].lr;
        seq_result r;
        char err[256] = "";
        ck_assert_int_eq(seq_run(&c, &r, NULL, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[k].needle), "case %zu: message \"%s\" lacks \"%s\"", k, err, bad[k].needle);
    }
}
END_TEST

static Suite *seq_suite(void) {
    Suite *s = suite_create("seqtasks");
    TCase *tc = tcase_create("tasks");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, add_data_is_addition);
    tcase_add_test(tc, recall_data_is_first_symbol);
    tcase_add_test(tc, lstm_adds_8_bits);
    tcase_add_test(tc, lstm_recalls_after_50);
    tcase_add_test(tc, rnn_recall_reported);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, untrained_is_chance);
    tcase_add_test(tc, bad_settings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(seq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
