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
 *   next    next-term prediction (many-to-many, synchronous): the seed's
 *           arithmetic series a_t = a_0 + t d mod SEQ_DIGITS (a_0, d drawn
 *           uniformly), fed one-hot, T steps; at every step softmax over the
 *           digits predicts a_{t+1}. Step 0 cannot know d and is neither
 *           trained nor scored; a sequence is right when steps 1..T-1 all
 *           are. The trivial predictor (a_{t+1} = a_t) is scored beside it.
 *   reverse sequence to sequence (many-to-many, asynchronous): an encoder
 *           (CELL) reads T symbols of SEQ_RSYMBOLS (one-hot); its final
 *           state starts a decoder (CELL -> dense) that emits them in
 *           reverse order, fed its previous symbol (a start symbol first):
 *           the true one in training (teacher forcing), its own argmax at
 *           test (free running, net_step). Right when all T symbols are.
 *   pattern one-to-many: a digit (one-hot at step 0, zeros after) and T
 *           steps in which to emit its fixed T-bit pattern (bit t of digit
 *           d is a hash of (d, t)), one sigmoid logit per step. Right when
 *           every bit is.
 * Accuracy is measured on a fresh test set drawn from its own RNG stream.
 * Every stream (init, training data, validation, test) is a gsl_rng seeded
 * from (seed, stream) by SplitMix64, so a seed gives the same run anywhere. */
#ifndef RQL_SEQ_H
#define RQL_SEQ_H

#include <stdio.h>
#include <gsl/gsl_rng.h>
#include "nets/nets.h"

enum { SEQ_SYMBOLS = 4, SEQ_DISTRACTORS = 4, SEQ_DIGITS = 10, SEQ_RSYMBOLS = 8 };

typedef enum { SEQ_ADD, SEQ_RECALL, SEQ_NEXT, SEQ_REVERSE, SEQ_PATTERN } seq_task;
/* "add", "recall", "next", "reverse", "pattern"; seq_task_parse returns -1
 * for another name. */
const char *seq_task_str(seq_task t);
int seq_task_parse(const char *s);

typedef struct {
    seq_task task;
    layer_kind cell;       /* any recurrent kind of nets.h */
    int length;            /* T: bits (add), distractor steps (recall), terms
                              (next), symbols (reverse), pattern steps */
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
    double step_error;     /* test set, many-to-many tasks: fraction of scored steps wrong */
    double trivial_error;  /* next: the same for the trivial predictor a_{t+1} = a_t; else -1 */
} seq_result;

/* Defaults of `rql seq` for a task and cell (hidden 64, batch 32, Adam 3e-3,
 * clip 1, 3000 updates at most, 1000 test sequences, validation on 512 every
 * 50 updates). */
void seq_config_default(seq_config *c, seq_task task, layer_kind cell, int length);

/* Sizes of the task's network and data: inputs per step, outputs, steps per
 * sequence, and whether an output is read at every step. For reverse these
 * describe the encoder's input (in, steps) and the decoder's output (out,
 * steps); the decoder reads out + 1 inputs (the symbols and a start). */
int seq_in_size(const seq_config *c);
int seq_out_size(const seq_config *c);
int seq_steps(const seq_config *c);
int seq_many_to_many(const seq_config *c);

/* Draw B sequences: x [B, steps, in]; target [B, steps] bits (add,
 * pattern), digits (next: a_{t+1}) or symbols (reverse: the input
 * reversed), or [B] symbols (recall). Draws come from r only. */
/* Bit t of digit d's pattern (task pattern). */
int seq_pattern_bit(int d, int t);
void seq_batch(const seq_config *c, gsl_rng *r, int B, float *x, int *target);

/* Builds, trains and tests the network. Progress lines (every eval_every
 * updates) go to log unless it is NULL. Returns 0, or -1 with a message in
 * err (a bad setting names the option and its value). */
int seq_run(const seq_config *c, seq_result *res, FILE *log, char *err, size_t errlen);

#endif
