#!/usr/bin/env bash
# End-to-end test of stop and resume: a training run stopped with SIGINT
# and then SIGTERM (at about 30% and 60% of its uninterrupted time) and resumed with --resume ends with logs and
# weights bit for bit equal to an uninterrupted run (wall-time columns aside),
# and a resumed run refuses a changed config.
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: $PY lacks h5py/numpy"; exit 77; }
tmp=$(mktemp -d /tmp/rql_e2e_resume.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=2
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/r.cfg" <<'CFG'
env = { name = "tmaze"; length = 4; };
agents = (
  { label = "dqn"; type = "dqn"; },
  { label = "drqn"; type = "drqn"; }
);
seeds = [7];
train = { episodes = 600; n_envs = 4; };
eval = { every = 50; episodes = 10; record = 1; record_every = 3; };
log = { train_every = 5; weights_every = 100; flush_s = 0.05; };
checkpoint = { every = 1000; };
CFG

t0=$(date +%s.%N)
"$RQL" train "$tmp/r.cfg" -o "$tmp/full" -j 2 -q >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "uninterrupted run"; }
t1=$(date +%s.%N)
full=$("$PY" -c "print(max(0.05, ($t1 - $t0)))")
echo "uninterrupted: ${full}s"

# Stop at about 30% and 60% of the uninterrupted time, then finish.
stops=0
for stop in 0.3:INT 0.6:TERM; do
  frac=${stop%:*}; sig=${stop#*:}
  extra=""; [ -d "$tmp/cut" ] && extra="--resume"
  "$RQL" train "$tmp/r.cfg" -o "$tmp/cut" -j 2 -q $extra >"$tmp/o" 2>&1 &
  pid=$!
  sleep "$("$PY" -c "print($full * $frac / 1.0)")"
  kill -$sig $pid 2>/dev/null
  wait $pid; rc=$?
  if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then
    grep -q "stopped by SIG$sig" "$tmp/o" || { cat "$tmp/o"; fail "no 'stopped by SIG$sig' message"; }
    stops=$((stops + 1))
    grep -q -- "--resume" "$tmp/o" || { cat "$tmp/o"; fail "no resume hint after SIGTERM"; }
    ls "$tmp"/cut/*/seed7.ckpt >/dev/null 2>&1 || fail "no checkpoint after SIGTERM"
  elif [ $rc -ne 0 ]; then
    cat "$tmp/o"; fail "interrupted run exited $rc"
  fi
done
[ $stops -ge 1 ] || fail "the run finished before any SIGTERM landed (too short to test)"
echo "stopped $stops times (SIGINT, SIGTERM)"
"$RQL" train "$tmp/r.cfg" -o "$tmp/cut" -j 1 -q --resume >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "final --resume"; }

"$PY" - "$tmp/full" "$tmp/cut" <<'PYEOF' || fail "resumed logs differ from the uninterrupted ones"
import sys, os, h5py
def walk(path):
    out = {}
    with h5py.File(path, "r") as f:
        def v(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.endswith("wall_s"):
                out[name] = obj[()]
        f.visititems(v)
    return out
for label in ("dqn", "drqn"):
    a = walk(os.path.join(sys.argv[1], label, "seed7.h5"))
    b = walk(os.path.join(sys.argv[2], label, "seed7.h5"))
    assert a.keys() == b.keys(), (label, sorted(a), sorted(b))
    for k in a:
        assert a[k].shape == b[k].shape, (label, k, a[k].shape, b[k].shape)
        assert a[k].tobytes() == b[k].tobytes(), (label, k)
    assert "weights/at_episode" in a and len(a["weights/at_episode"]) >= 2, (label, sorted(a))
    print(label, "identical:", len(a), "datasets,", len(a["curves/episode"]), "episodes")
PYEOF

# A changed config is refused on resume (the checkpoint keeps the resolved config).
"$RQL" train "$tmp/r.cfg" -o "$tmp/cut2" -q --set train.episodes=2000 >/dev/null 2>&1 &
pid=$!; sleep "$("$PY" -c "print($full * 0.3)")"; kill -TERM $pid 2>/dev/null; wait $pid; rc=$?
if [ $rc -eq 143 ]; then
  "$RQL" train "$tmp/r.cfg" -o "$tmp/cut2" -q --resume --set train.episodes=2000 --set env.length=5 >"$tmp/o" 2>&1; rc=$?
  [ $rc -ne 0 ] && grep -q "different config" "$tmp/o" || { cat "$tmp/o"; fail "changed config accepted on resume (rc $rc)"; }
fi
echo "e2e_resume: all checks passed"
