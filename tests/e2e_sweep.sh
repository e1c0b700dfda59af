#!/usr/bin/env bash
# End-to-end test of `rql sweep` on a dozen tiny runs (T-maze length 2, 3, 4
# x dqn, gru x seeds 0, 1):
#   - --dry-run lists the 12 runs and their logs; `rql train` refuses a sweep;
#   - a one-process sweep (-j 1) logs every run, exit 0;
#   - `mpirun --oversubscribe -n 3` logs every run exactly once, on more than
#     one rank, with logs equal to the one-process sweep's (every dataset bit
#     for bit and every attribute, the wall-clock column curves/wall_s and the
#     creation time aside);
#   - a sweep SIGKILLed (mpirun and every rank at once) after some runs are
#     complete and started again: the complete runs are skipped (summary
#     status "skipped", same inode and mtime), and the final logs equal the
#     uninterrupted sweep's;
#   - a grid cell with an invalid value: reported failed in the summary with
#     the error naming file, line, key and value, every other run done, exit 1;
#   - a cell whose training diverges (SGD, lr 1, no clipping): failed in the
#     summary and in its log (status "failed", attribute error), the other
#     cell complete, exit 1;
#   - `rql compare DIR` groups by the swept key.
# Without mpirun or without an MPI build of rql, the kill test runs without
# mpirun (-j 2) and the MPI parts are reported SKIPPED (exit 77) once every
# other part has passed.
#
# Under ASan (BUILD=build/san), leak checking is off for processes started
# by mpirun only: Open MPI keeps allocations alive until exit on purpose
# (its component framework and hwloc topology), which LeakSanitizer reports
# from inside libmpi and its plugins; the same code paths run leak-checked
# without mpirun above.
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: $PY lacks h5py/numpy"; exit 77; }
tmp=$(mktemp -d /tmp/rql_e2e_sweep.XXXXXX)
mpid=""
# Open MPI puts every rank in a process group of its own, so "the sweep" is
# the session that setsid started: mpirun and its ranks, killed by their ids.
kill_session() { kill -KILL $(ps -eo pid=,sid= | awk -v s="$1" '$2 == s {print $1}') 2>/dev/null; }
trap '[ -n "$mpid" ] && kill_session "$mpid"; rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*"; exit 1; }
t_start=$(date +%s.%N)

cat > "$tmp/s.cfg" <<'CFG'
env = { name = "tmaze"; length = 2; };
agents = ( { label = "dqn"; type = "dqn"; hidden = 8; warmup = 16; },
           { label = "gru"; type = "drqn"; cell = "gru"; hidden = 8; warmup = 16; } );
seeds = [0, 1];
train = { episodes = 40; n_envs = 2; };
eval  = { every = 20; episodes = 4; record = 1; };
log   = { train_every = 1; flush_s = 0.0; };
checkpoint = { every = 8; };
sweep = ( { key = "env.length"; values = [2, 3, 4]; } );
CFG

# The same logs (datasets and attributes) in two sweep folders, each run
# logged exactly once: prints the number of runs compared.
same_logs() {
  "$PY" - "$1" "$2" <<'PYEOF'
import os, sys, h5py, numpy as np
def logs(d):
    out = {}
    for root, _, files in os.walk(d):
        for n in files:
            if n.endswith(".h5"):
                out[os.path.relpath(os.path.join(root, n), d)] = os.path.join(root, n)
    return out
def attrs(o):
    return {k: (v.tobytes() if isinstance(v, np.ndarray) else v) for k, v in o.attrs.items() if k != "created"}
def walk(p):
    out = {}
    with h5py.File(p, "r") as f:
        out["/"] = attrs(f)
        def v(name, obj):
            a = attrs(obj)
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.dtype.str, obj.shape, None if name == "curves/wall_s" else obj[()].tobytes(), a)
            else:
                out[name] = a
        f.visititems(v)
    return out
a, b = logs(sys.argv[1]), logs(sys.argv[2])
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for k in a:
    x, y = walk(a[k]), walk(b[k])
    assert x.keys() == y.keys(), (k, sorted(set(x) ^ set(y)))
    for n in x:
        assert x[n] == y[n], (k, n)
    assert x["/"]["status"] == "complete", (k, x["/"]["status"])
print(len(a))
PYEOF
}

# status of each run in DIR/sweep.json, one "log status rank" line each
statuses() {
  "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1] + "/sweep.json"))
for r in j["runs"]:
    print(r["log"], r["status"], r["rank"])' "$1"
}

# ---- dry run, and rql train refusing a sweep --------------------------------
"$RQL" sweep "$tmp/s.cfg" -o "$tmp/one" --dry-run >"$tmp/dry" 2>&1 || { cat "$tmp/dry"; fail "--dry-run"; }
grep -q "3 cells x 2 agents x 2 seeds = 12 runs" "$tmp/dry" || { cat "$tmp/dry"; fail "dry run: no run count"; }
[ "$(grep -c "new .*$tmp/one/length=.*/seed[01].h5" "$tmp/dry")" -eq 12 ] || { cat "$tmp/dry"; fail "dry run: not 12 log paths"; }
grep -q "length=4  *gru  *1 .*$tmp/one/length=4/gru/seed1.h5" "$tmp/dry" || { cat "$tmp/dry"; fail "dry run: cell layout"; }
[ ! -e "$tmp/one" ] || fail "--dry-run created $tmp/one"
"$RQL" train "$tmp/s.cfg" -o "$tmp/t" -q >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "declares a sweep" "$tmp/o" || { cat "$tmp/o"; fail "rql train accepted a sweep (rc $rc)"; }
echo "dry run: 12 runs listed; rql train refuses the sweep"

# ---- one process ----------------------------------------------------------------
"$RQL" sweep "$tmp/s.cfg" -o "$tmp/one" -j 1 >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "one-process sweep"; }
[ "$(find "$tmp/one" -name '*.h5' | wc -l)" -eq 12 ] || fail "one-process sweep: not 12 logs"
[ "$(statuses "$tmp/one" | grep -c ' complete 0$')" -eq 12 ] || { statuses "$tmp/one"; fail "one-process summary"; }
grep -q "seeds solved" "$tmp/o" && grep -q "^length  agent" "$tmp/o" || { cat "$tmp/o"; fail "no comparison by cell"; }
"$RQL" compare "$tmp/one" >"$tmp/cmp" || fail "rql compare $tmp/one"
[ "$(grep -cE '^[234] +(dqn|gru) ' "$tmp/cmp")" -eq 6 ] || { cat "$tmp/cmp"; fail "compare: not 6 (length, agent) rows"; }
echo "one process: 12 runs complete; rql compare groups them by length"
if "$PY" -c 'import pandas, matplotlib' 2>/dev/null; then
  MPLBACKEND=Agg "$PY" scripts/plot_sweep.py "$tmp/one" -o "$tmp/plot" >"$tmp/p" 2>&1 || { cat "$tmp/p"; fail "plot_sweep.py"; }
  [ -s "$tmp/plot.png" ] && [ -s "$tmp/plot.svg" ] || fail "plot_sweep.py wrote no images"
  "$PY" -c '
import sys; sys.path.insert(0, "scripts"); import rqlog
df = rqlog.load_sweep(sys.argv[1])
assert len(df) == 12 and sorted(set(df["length"])) == [2, 3, 4] and df["final_success"].notna().all(), df
t = rqlog.sweep_table(df, "length")
assert len(t) == 6 and (t["seeds"] == 2).all(), t' "$tmp/one" || fail "rqlog.load_sweep on the sweep"
  echo "scripts: rqlog.load_sweep 12 rows, plot_sweep.py wrote $(basename "$tmp/plot").png/.svg"
fi

# ---- the same sweep again: nothing to do -----------------------------------------
"$RQL" sweep "$tmp/s.cfg" -o "$tmp/one" -j 2 -q >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "second sweep"; }
[ "$(statuses "$tmp/one" | grep -c ' skipped ')" -eq 12 ] || { statuses "$tmp/one"; fail "second sweep redid runs"; }

# ---- invalid cell --------------------------------------------------------------------
sed 's/values = \[2, 3, 4\]/values = [2, -1]/' "$tmp/s.cfg" > "$tmp/bad.cfg"
"$RQL" sweep "$tmp/bad.cfg" -o "$tmp/bad" -j 2 -q >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$tmp/o"; fail "a sweep with an invalid cell exited $rc, not 1"; }
"$PY" - "$tmp/bad" "$tmp/bad.cfg" <<'PYEOF' || { cat "$tmp/o"; fail "invalid cell not reported in the summary"; }
import json, sys
j = json.load(open(sys.argv[1] + "/sweep.json"))
bad = [r for r in j["runs"] if r["values"]["env.length"] == -1]
good = [r for r in j["runs"] if r["values"]["env.length"] == 2]
assert len(bad) == 4 and len(good) == 4, j["runs"]
want = sys.argv[2] + ":9: sweep env.length=-1: env.length = -1"
assert all(r["status"] == "failed" and want in r["error"] and "out of range" in r["error"] for r in bad), bad
assert all(r["status"] == "complete" and r["error"] is None for r in good), good
assert j["counts"]["failed"] == 4 and j["counts"]["complete"] == 4 and j["state"] == "finished", j["counts"]
PYEOF
grep -q "sweep env.length=-1" "$tmp/bad/sweep.txt" || fail "sweep.txt lacks the error"
echo "invalid cell: 4 runs failed with 'env.length = -1: out of range', the 4 others complete, exit 1"

# ---- a cell that diverges to inf/NaN ------------------------------------------------
# Plain SGD at lr 1 without clipping on +-1000 rewards blows up in a few dozen
# updates; Adam at the same settings does not (its steps are bounded by lr).
cat > "$tmp/nan.cfg" <<'CFG'
env = { name = "tmaze"; length = 2; reward_goal = 1000.0; reward_wrong = -1000.0; reward_wall = -1000.0; };
agents = ( { label = "q"; type = "drqn"; cell = "rnn"; hidden = 16; warmup = 16; lr = 1.0; loss = "mse"; grad_clip = 0.0; } );
seeds = [0];
train = { episodes = 60; n_envs = 2; };
eval = { every = 30; episodes = 2; };
checkpoint = { every = 0; };
sweep = ( { key = "agent.q.optimizer"; values = ["adam", "sgd"]; name = "opt"; } );
CFG
"$RQL" sweep "$tmp/nan.cfg" -o "$tmp/nan" -j 2 -q >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$tmp/o"; fail "a sweep with a diverging run exited $rc, not 1"; }
"$PY" - "$tmp/nan" <<'PYEOF' || { cat "$tmp/o"; fail "diverged run not reported"; }
import json, os, sys, h5py
j = json.load(open(sys.argv[1] + "/sweep.json"))
by = {r["values"]["agent.q.optimizer"]: r for r in j["runs"]}
for r in by.values():
    r["log"] = os.path.join(sys.argv[1], r["log"])      # relative to the sweep folder
assert by["adam"]["status"] == "complete", by["adam"]
assert by["sgd"]["status"] == "failed" and "training diverged" in by["sgd"]["error"], by["sgd"]
with h5py.File(by["sgd"]["log"], "r") as f:      # the log says so too, and keeps its rows
    assert f.attrs["status"] == "failed" and "training diverged" in f.attrs["error"], dict(f.attrs)
    assert len(f["curves/episode"]) > 0
with h5py.File(by["adam"]["log"], "r") as f:
    assert f.attrs["status"] == "complete" and f.attrs["error"] == "", dict(f.attrs)
PYEOF
"$RQL" info "$tmp/nan/opt=sgd/q/seed0.h5" | grep -q "error     training diverged" || fail "rql info does not show the error"
echo "diverging cell: sgd run failed with 'training diverged' (summary, log status/error, rql info), adam run complete, exit 1"

# ---- MPI ------------------------------------------------------------------------------
mpi=1
command -v mpirun >/dev/null || { mpi=0; why="mpirun not installed (openmpi-bin)"; }
if [ $mpi -eq 1 ] && "$RQL" sweep --help | grep -q "built without MPI"; then mpi=0; why="rql built without MPI"; fi
MPIRUN=(mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
# Open MPI in containers: shared memory without CMA
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
case "${BUILD:-}" in *san*) MPIRUN+=(-x ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0") ;; esac

if [ $mpi -eq 1 ]; then
  "${MPIRUN[@]}" -n 3 "$RQL" sweep "$tmp/s.cfg" -o "$tmp/mpi" >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "mpirun -n 3 sweep"; }
  grep -q "on 3 ranks" "$tmp/o" || { cat "$tmp/o"; fail "not on 3 ranks"; }
  # every run logged exactly once: 12 results, 12 distinct runs, all complete
  [ "$(grep -c '\] length=.* complete in ' "$tmp/o")" -eq 12 ] || { cat "$tmp/o"; fail "not 12 results"; }
  [ "$(grep -o '\] length=[^ ]*' "$tmp/o" | sort -u | wc -l)" -eq 12 ] || { cat "$tmp/o"; fail "a run done twice"; }
  [ "$(statuses "$tmp/mpi" | grep -c ' complete ')" -eq 12 ] || { statuses "$tmp/mpi"; fail "mpi summary"; }
  ranks=$(statuses "$tmp/mpi" | awk '{print $3}' | sort -u | wc -l)
  [ "$ranks" -ge 2 ] || { statuses "$tmp/mpi"; fail "the runs were not spread over the ranks"; }
  n=$(same_logs "$tmp/one" "$tmp/mpi") || fail "mpirun -n 3 logs differ from the one-process sweep's"
  echo "mpirun -n 3: $n runs, each logged once, on $ranks ranks; logs identical to the one-process sweep's"
  RUN=("${MPIRUN[@]}" -n 3 "$RQL" sweep "$tmp/s.cfg" -o "$tmp/kill")
else
  RUN=("$RQL" sweep "$tmp/s.cfg" -o "$tmp/kill" -j 2)
fi

# ---- kill mid-way and start again ----------------------------------------------------
setsid "${RUN[@]}" >"$tmp/k1" 2>&1 &
mpid=$!
for _ in $(seq 1 6000); do
  [ "$(grep -c ' complete in ' "$tmp/k1")" -ge 4 ] && break
  kill -0 $mpid 2>/dev/null || break
  sleep 0.01
done
kill_session "$mpid"
wait $mpid 2>/dev/null
for _ in $(seq 1 500); do      # until every process of the session is gone
  [ -z "$(ps -eo sid= | awk -v s="$mpid" '$1 == s')" ] && break
  sleep 0.01
done
mpid=""
"$PY" - "$tmp/kill" >"$tmp/done_before" <<'PYEOF'
import os, sys, h5py
for root, _, files in os.walk(sys.argv[1]):
    for n in sorted(files):
        p = os.path.join(root, n)
        if n.endswith(".h5"):
            try:
                with h5py.File(p, "r", swmr=True) as f:
                    s = f.attrs.get("status", "")
            except OSError:
                continue
            if (s.decode() if isinstance(s, bytes) else s) == "complete":
                st = os.stat(p)
                print(os.path.relpath(p, sys.argv[1]), st.st_ino, st.st_mtime_ns)
PYEOF
before=$(wc -l <"$tmp/done_before")
[ "$before" -ge 1 ] || { cat "$tmp/k1"; fail "no run complete before the kill"; }
[ "$before" -lt 12 ] || { cat "$tmp/k1"; fail "the sweep finished before the kill (too short to test)"; }
"${RUN[@]}" >"$tmp/k2" 2>&1 || { cat "$tmp/k2"; fail "the restarted sweep"; }
statuses "$tmp/kill" >"$tmp/st2"
while read -r log ino mt; do
  grep -q "^$log skipped " "$tmp/st2" || { cat "$tmp/st2"; fail "$log was complete before the kill but not skipped"; }
  now=$(stat -c '%i' "$tmp/kill/$log") && [ "$now" = "$ino" ] || fail "$log replaced"
  "$PY" -c 'import os,sys; sys.exit(os.stat(sys.argv[1]).st_mtime_ns != int(sys.argv[2]))' "$tmp/kill/$log" "$mt" ||
    fail "$log rewritten after the restart"
done <"$tmp/done_before"
# (a run killed between its final checkpoint and closing its log is skipped
# too: its checkpoint says done, and the log's status is set then)
skipped=$(grep -c ' skipped ' "$tmp/st2")
[ "$skipped" -ge "$before" ] && [ "$skipped" -le $((before + 3)) ] || { cat "$tmp/st2"; fail "skipped count"; }
[ "$(grep -cE ' (complete|resumed|skipped) ' "$tmp/st2")" -eq 12 ] || { cat "$tmp/st2"; fail "not every run done after the restart"; }
resumed=$(grep -c ' resumed ' "$tmp/st2")
n=$(same_logs "$tmp/one" "$tmp/kill") || fail "logs after kill and restart differ from the uninterrupted sweep's"
echo "killed with $before of 12 logs complete; the restart skipped $skipped (those $before among them), resumed $resumed from checkpoints; $n logs identical to the uninterrupted sweep's"

t_end=$(date +%s.%N)
echo "e2e_sweep: $("$PY" -c "print('%.1f' % ($t_end - $t_start))") s"
if [ $mpi -eq 0 ]; then
  echo "SKIPPED: the mpirun parts ($why); every other check passed"
  exit 77
fi
echo "e2e_sweep: all checks passed"
