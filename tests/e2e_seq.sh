#!/usr/bin/env bash
# End-to-end test of `rql seq`: 8-bit addition with the LSTM reaches 100% on
# the test set and prints progress and its key=value summary line; next,
# reverse and pattern run with the new cells and print their extra figures;
# the same seed prints the same run twice; bad options exit 2 naming the
# option and its value.
set -u
RQL=${RQL:-${BUILD:-build/rel}/rql}
[ -x "$RQL" ] || RQL=./rql
case "$RQL" in /*) ;; *) RQL="$PWD/$RQL" ;; esac
[ -x "$RQL" ] || { echo "FAIL: no rql binary ($RQL)"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
has() { printf '%s\n' "$1" | grep -qF -- "$2" || fail "$3: expected '$2' in: $(printf '%s\n' "$1" | tail -5)"; }

out=$("$RQL" seq --task add --cell lstm --length 8 --seed 0) || fail "rql seq add exited $?"
has "$out" "seq: task add, cell lstm(64) -> dense(1), length 8 (9 steps)" "header"
has "$out" "validation accuracy" "progress"
has "$out" "solved at update" "solved line"
acc=$(printf '%s\n' "$out" | sed -n 's/^seq task=add .*test_accuracy=\([0-9.]*\).*/\1/p')
[ "$acc" = "1.0000" ] || fail "LSTM 8-bit addition: test_accuracy '$acc', want 1.0000"
echo "rql seq --task add --cell lstm --length 8: test accuracy $acc"

# the sequence types: next prints the trivial predictor beside the network,
# reverse names encoder and decoder; every recurrent kind is a --cell
out=$("$RQL" seq --task next --cell mingru --length 6 --steps 50) || fail "rql seq next exited $?"
has "$out" "trivial predictor (repeat the last term)" "next: trivial line"
has "$out" "trivial_error=" "next: summary"
out=$("$RQL" seq --task reverse --cell lru --length 4 --steps 50) || fail "rql seq reverse exited $?"
has "$out" "seq: task reverse, encoder lru(64), decoder lru(64) -> dense(8), length 4" "reverse header"
has "$out" "step_error=" "reverse summary"
for c in peephole mingru lru; do
  q=$("$RQL" seq --task pattern --cell $c --length 4 --steps 20 --quiet) || fail "rql seq pattern --cell $c exited $?"
  has "$q" "seq task=pattern cell=$c length=4" "pattern $c"
done

# deterministic: the same seed prints the same lines (time aside)
a=$("$RQL" seq --task recall --cell gru --length 5 --steps 100 --seed 3 | sed 's/seconds=.*//')
b=$("$RQL" seq --task recall --cell gru --length 5 --steps 100 --seed 3 | sed 's/seconds=.*//')
[ "$a" = "$b" ] || fail "two runs with seed 3 differ"
q=$("$RQL" seq --task recall --cell rnn --length 5 --steps 50 --quiet) || fail "--quiet exited $?"
[ "$(printf '%s\n' "$q" | wc -l)" -eq 1 ] || fail "--quiet printed more than the summary line: $q"
has "$q" "seq task=recall cell=rnn length=5 seed=0 updates=50" "--quiet summary"

# usage errors: exit 2, message names the option and value
check_bad() {
  local want=$1; shift
  err=$("$RQL" seq "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 2 ] || fail "rql seq $*: exit $rc, want 2"
  has "$err" "$want" "rql seq $*"
}
check_bad '--task must be add, recall, next, reverse or pattern (got "mul")' --task mul --cell lstm --length 8
check_bad '--cell must be lstm, gru, rnn, peephole, mingru or lru (got "tcn")' --task add --cell tcn --length 8
check_bad 'next needs at least 2 terms' --task next --cell lstm --length 1
check_bad '--length needs an integer in [1, 100000] (got "0")' --task add --cell lstm --length 0
check_bad '--lr needs a number' --task add --cell lstm --length 8 --lr abc
check_bad 'unknown option "--frobnicate"' --task add --cell lstm --length 8 --frobnicate
check_bad '--length T is required' --task add --cell lstm
check_bad '--seed needs a value' --task add --cell lstm --length 8 --seed
"$RQL" seq --help | grep -q "usage: rql seq" || fail "rql seq --help lacks the usage line"
echo "rql seq: ok"
