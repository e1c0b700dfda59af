#!/usr/bin/env bash
# End-to-end test of the performance machinery (issue 16): `rql bench train`
# prints its figures for a short run, with the update count the schedule
# fixes and CPU shares that add up; `rql bench envs` prints the busy columns
# and leaves no CPU-bound child behind; rql runs OpenMP passive unless the
# user chose a wait policy; the drqn update's two-thread forward passes give
# the same logs as one thread.
set -u
RQL=${RQL:-${BUILD:-build/rel}/rql}
[ -x "$RQL" ] || RQL=./rql
case "$RQL" in /*) ;; *) RQL="$PWD/$RQL" ;; esac
[ -x "$RQL" ] || { echo "FAIL: no rql binary ($RQL)"; exit 1; }
tmp=$(mktemp -d /tmp/rql_e2e_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
has() { printf '%s\n' "$1" | grep -qF -- "$2" || fail "$3: expected '$2' in: $(printf '%s\n' "$1" | tail -8)"; }

# bench train: 800 env steps of 8 envs; the first update comes at 504 env
# steps (warmup 500), then one per vector step: (800 - 504) / 8 + 1 = 38
out=$("$RQL" bench train --config small --steps 800 --repeats 1) || fail "rql bench train exited $?"
has "$out" "small: T-maze N=10, LSTM 32, 8 envs" "bench train"
has "$out" "800 env steps, 38 updates" "bench train"
has "$out" "GFLOP/s: updates" "bench train"
has "$out" "of sgemm" "bench train"
sum=$(printf '%s\n' "$out" | sed -n '/CPU time:/,/other/p' | grep -o '[0-9.]*%' | tr -d '%' | awk '{s+=$1} END {print s}')
awk -v s="$sum" 'BEGIN {exit !(s > 99.4 && s < 100.6)}' || fail "bench train: CPU shares add up to $sum%, not 100%"
flop=$(printf '%s\n' "$out" | sed -n 's/.*FLOPs: updates \([0-9.]*\) GFLOP.*/\1/p')
awk -v f="$flop" 'BEGIN {exit !(f > 0)}' || fail "bench train: update FLOPs '$flop'"
"$RQL" bench train --config medium >/dev/null 2>&1 && fail "bench train accepted --config medium"

# bench envs: busy columns, passive by default, the busy child stopped
out=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$RQL" bench envs --n 1024 --seconds 0.02 --repeats 1 --only "tmaze length=10") ||
  fail "rql bench envs exited $?"
has "$out" "OMP_WAIT_POLICY=passive GOMP_SPINCOUNT=(unset)" "bench envs (default policy)"
has "$out" "busy vec 2t" "bench envs"
[ "$(printf '%s\n' "$out" | grep -c '^tmaze length=10 ')" = 2 ] || fail "bench envs: expected two T-maze rows: $out"
sleep 0.2
pgrep -f -- "bench envs --n 1024 --seconds 0.02" >/dev/null && fail "bench envs left a busy process running"
out=$(env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 "$RQL" bench envs --n 300 --seconds 0.01 --repeats 1 --only "flicker" --no-busy) ||
  fail "rql bench envs --no-busy exited $?"
has "$out" "OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=1000" "bench envs (user's spin count kept)"
printf '%s\n' "$out" | grep -q "busy vec" && fail "bench envs --no-busy printed busy columns"

# the target and online forward passes on two threads (hidden 128: large
# enough that drqn runs them side by side): the same logs as one thread
cfg=experiments/configs/tmaze_memory.cfg
[ -f "$cfg" ] || cfg="$(dirname "$0")/../$cfg"
for th in 1 2; do
  OMP_NUM_THREADS=$th "$RQL" train "$cfg" -o "$tmp/t$th" --seeds 0 -j 1 --set train.episodes=40 \
    --set agent.drqn-lstm.hidden=128 --force -q >/dev/null 2>&1 ||
    fail "rql train with OMP_NUM_THREADS=$th"
done
n=0
for f in $(cd "$tmp/t1" && find . -name '*.h5' | sort); do
  n=$((n + 1))
  [ -f "$tmp/t2/$f" ] || fail "no $f with 2 threads"
done
[ "$n" -gt 0 ] || fail "rql train wrote no logs"
/usr/bin/python3 "$(dirname "$0")/../scripts/same_logs.py" "$tmp/t1" "$tmp/t2" >"$tmp/same.txt" 2>&1 ||
  fail "logs differ between 1 and 2 threads: $(tail -5 "$tmp/same.txt")"

# bench memory --r2d2 --per-seed: a line per seed, the recipe named in the
# header, and the same runs (solved, env steps, last evaluation) at 1 and 2
# threads (seeds run in parallel; CPU-seconds aside)
for th in 1 2; do
  OMP_NUM_THREADS=$th "$RQL" bench memory --agents drqn --lengths 50 --seeds 2 --r2d2 --per-seed --no-wall \
    --budget 3200 --eval-every 1600 >"$tmp/mem$th.txt" 2>&1 || fail "bench memory ($th threads) exited $?: $(tail -3 "$tmp/mem$th.txt")"
done
out=$(cat "$tmp/mem1.txt")
has "$out" "chrono 2N, epsilon over 200N steps, gamma 1-1/N" "bench memory --r2d2"
[ "$(grep -c '^  seed [01] .*drqn .*N 50 .*env_steps  *3200 ' "$tmp/mem1.txt")" = 2 ] ||
  fail "bench memory --per-seed: expected two seed lines at 3200 env steps: $out"
grep -q '^drqn  *50  *[0-2]/2 ' "$tmp/mem1.txt" || fail "bench memory: no summary line: $out"
strip() { grep '^  seed' "$1" | sed 's/cpu_s  *[0-9.]*//'; }
[ "$(strip "$tmp/mem1.txt")" = "$(strip "$tmp/mem2.txt")" ] ||
  fail "bench memory: 1 and 2 threads differ: $(strip "$tmp/mem1.txt") / $(strip "$tmp/mem2.txt")"
echo "e2e_bench: ok"
