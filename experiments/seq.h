/* seq — the classic "simple problems requiring memory" as supervised
 * sequence tasks, trained with nets (Adam, clipping by global norm). They
 * prove that a recurrent cell trained by BPTT really carries information
 * across time before any RL is built on it. nets knows nothing of tasks; the
 * task data, losses and the training loop live here, `rql seq` is the front.
 *
 *   add     binary addition of two T-bit numbers fed bit by bit, least
 *           significant first: input [a_t, b_t], T + 1 steps (the last feeds
 *           0, 0 and reads the carry); many-to-many, one sigmoid logit per
 *           step (bit t of a + b). A sequence is right when EVERY bit is.
 *   recall  one of SEQ_SYMBOLS symbols (one-hot) at step 0, then T distractor
 *           steps (one-hot over SEQ_DISTRACTORS other inputs, drawn at
 *           random); many-to-one: after the last step, softmax over the
 *           symbols names the first one.
 * Accuracy is measured on a fresh test set drawn from its own RNG stream.
 * Every stream (init, training data, validation, test) is a gsl_rng seeded
 * from (seed, stream) by SplitMix64, so a seed gives the same run anywhere. */
#ifndef RQL_SEQ_H
#define RQL_SEQ_H

#include <stdio.h>
#include <gsl/gsl_rng.h>
#include "nets/nets.h"

enum { SEQ_SYMBOLS = 4, SEQ_DISTRACTORS = 4 };

typedef enum { SEQ_ADD, SEQ_RECALL } seq_task;

typedef struct {
    seq_task task;
    layer_kind cell;       /* LAYER_LSTM, LAYER_GRU or LAYER_RNN */
    int length;            /* T: bits (add) or distractor steps (recall) */
    int hidden;            /* H of the recurrent layer */
    int batch;             /* sequences per update */
    int steps;             /* most updates; training stops earlier once solved */
    float lr;              /* Adam */
    float clip;            /* global gradient norm (0: none) */
    unsigned long seed;
    int test_size;         /* sequences in the test set */
    int eval_every;        /* updates between validation checks */
    int val_size;          /* sequences in the validation set */
} seq_config;

typedef struct {
    double accuracy;       /* test set: fraction of sequences entirely right */
    double val_accuracy;   /* validation set, at the last check */
    double loss;           /* training loss of the last update */
    int updates;           /* updates made */
    int solved_at;         /* first of two checks in a row with 100% validation, -1 never */
    double seconds;        /* wall time of training and test */
} seq_result;

/* Defaults of `rql seq` for a task and cell (hidden 64, batch 32, Adam 3e-3,
 * clip 1, 3000 updates at most, 1000 test sequences, validation on 512 every
 * 50 updates). */
void seq_config_default(seq_config *c, seq_task task, layer_kind cell, int length);

/* Sizes of the task's network and data: inputs per step, outputs, steps per
 * sequence, and whether an output is read at every step. */
int seq_in_size(const seq_config *c);
int seq_out_size(const seq_config *c);
int seq_steps(const seq_config *c);
int seq_many_to_many(const seq_config *c);

/* Draw B sequences: x [B, steps, in]; target [B, steps] bits (add) or [B]
 * symbols (recall). Draws come from r only. */
void seq_batch(const seq_config *c, gsl_rng *r, int B, float *x, int *target);

/* Builds, trains and tests the network. Progress lines (every eval_every
 * updates) go to log unless it is NULL. Returns 0, or -1 with a message in
 * err (a bad setting names the option and its value). */
int seq_run(const seq_config *c, seq_result *res, FILE *log, char *err, size_t errlen);

#endif
