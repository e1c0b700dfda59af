#!/usr/bin/env bash
# Sweep throughput, side by side: the same sweep (RUNS tiny runs, default 24:
# T-maze length 2..7 x dqn, gru x seeds 0, 1) with `mpirun -n K` for each K in
# RANKS (default "1 2 3"), and without mpirun (`-j J` for J in JOBS, default
# "1 2"), each into a fresh folder, and the largest K once more with
# --dedicated-master; prints wall seconds and runs per second.
# Every rank runs one run at a time with OMP_NUM_THREADS=1 (set THREADS to
# change it). The logs of every configuration are the same (e2e_sweep checks
# that); only the time differs.
#
#   scripts/bench_sweep.sh                     # release build (build/rel/rql)
#   RANKS="1 2 4 8" EPISODES=200 scripts/bench_sweep.sh
set -eu
cd "$(dirname "$0")/.."
RQL=${RQL:-build/rel/rql}
RANKS=${RANKS:-1 2 3}
JOBS=${JOBS:-1 2}
EPISODES=${EPISODES:-2000}
THREADS=${THREADS:-1}
[ -x "$RQL" ] || { echo "bench_sweep: $RQL missing (make)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/rql_bench_sweep.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=$THREADS

cat > "$tmp/b.cfg" <<CFG
env = { name = "tmaze"; length = 2; };
agents = ( { label = "dqn"; type = "dqn"; hidden = 16; warmup = 32; },
           { label = "gru"; type = "drqn"; cell = "gru"; hidden = 16; warmup = 32; } );
seeds = [0, 1];
train = { episodes = $EPISODES; n_envs = 4; };
eval  = { every = 40; episodes = 10; record = 1; };
log   = { train_every = 10; flush_s = 2.0; };
checkpoint = { every = 0; };
sweep = ( { key = "env.length"; values = [2, 3, 4, 5, 6, 7]; } );
CFG
nruns=$("$RQL" sweep "$tmp/b.cfg" -o "$tmp/x" --dry-run | sed -n 's/.*= \([0-9]*\) runs.*/\1/p')

MPIRUN=(mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
export OMPI_MCA_btl_vader_single_copy_mechanism=none

echo "rql sweep throughput: $nruns runs ($EPISODES episodes each), OMP_NUM_THREADS=$THREADS, $(getconf _NPROCESSORS_ONLN) cores"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-34s %8s %8s %8s\n' "how" "wall_s" "runs/s" "speedup"
base=""
measure() {   # $1: label; the rest: the command (writing into $tmp/out)
  local label=$1; shift
  rm -rf "$tmp/out"
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "bench_sweep: '$label' failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  local w
  w=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
  [ -n "$base" ] || base=$w
  awk -v l="$label" -v w="$w" -v n="$nruns" -v b="$base" 'BEGIN {printf "%-34s %8.2f %8.2f %7.2fx\n", l, w, n / w, b / w}'
}
for j in $JOBS; do
  measure "rql sweep -j $j (no mpirun)" "$RQL" sweep "$tmp/b.cfg" -o "$tmp/out" -j "$j" -q
done
if command -v mpirun >/dev/null && ! "$RQL" sweep --help | grep -q "built without MPI"; then
  for k in $RANKS; do
    measure "mpirun -n $k rql sweep" "${MPIRUN[@]}" -n "$k" "$RQL" sweep "$tmp/b.cfg" -o "$tmp/out" -q
  done
  # the largest K again with rank 0 only handing out runs (K - 1 ranks train)
  [ "$k" -gt 1 ] && measure "mpirun -n $k ... --dedicated-master" "${MPIRUN[@]}" -n "$k" "$RQL" sweep "$tmp/b.cfg" \
      -o "$tmp/out" -q --dedicated-master
else
  echo "(no mpirun, or rql built without MPI: the mpirun rows are skipped)"
fi
