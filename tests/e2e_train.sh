#!/usr/bin/env bash
# End-to-end test of `rql train` / `rql eval` / `rql help`: a tiny experiment
# trains and writes one log and checkpoint per run; -j 1 and -j 2 give
# bit-identical logs (wall times aside); existing output is refused; config
# errors exit 2 naming file and line; `rql eval` reports a success rate and
# records into the log; bad files give clear errors, never a crash.
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: $PY lacks h5py/numpy"; exit 77; }
tmp=$(mktemp -d /tmp/rql_e2e_train.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=2
fail() { echo "FAIL: $*"; exit 1; }

cat > "$tmp/tiny.cfg" <<'CFG'
env = { name = "tmaze"; length = 3; };
agents = (
  { label = "dqn-k1"; type = "dqn"; },
  { label = "drqn"; type = "drqn"; }
);
seeds = [0, 1];
train = { episodes = 40; n_envs = 4; };
eval = { every = 20; episodes = 8; record = 2; };
log = { train_every = 1; flush_s = 0.0; };
checkpoint = { every = 15; };
CFG

# --- two thread counts, same logs --------------------------------------------
out1=$("$RQL" train "$tmp/tiny.cfg" -o "$tmp/j1" -j 1 2>&1) || { printf '%s\n' "$out1" | tail; fail "train -j 1"; }
out2=$("$RQL" train "$tmp/tiny.cfg" -o "$tmp/j2" -j 2 2>&1) || { printf '%s\n' "$out2" | tail; fail "train -j 2"; }
for r in dqn-k1/seed0 dqn-k1/seed1 drqn/seed0 drqn/seed1; do
  [ -s "$tmp/j1/$r.h5" ] && [ -s "$tmp/j1/$r.ckpt" ] || fail "$r: log or checkpoint missing"
  [ -e "$tmp/j1/$r.ckpt.tmp" ] && fail "$r: a checkpoint temp file was left behind"
done
"$PY" - "$tmp/j1" "$tmp/j2" <<'PYEOF' || fail "-j 1 and -j 2 logs differ"
import sys, os, h5py, numpy as np
def walk(path):
    out = {}
    with h5py.File(path, "r") as f:
        def v(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.endswith("wall_s"):
                out[name] = obj[()]
        f.visititems(v)
        attrs = {k: f.attrs[k] for k in f.attrs if k not in ("created",)}
    return out, attrs
n = 0
for d, _, files in os.walk(sys.argv[1]):
    for fn in files:
        if not fn.endswith(".h5"): continue
        a = os.path.join(d, fn); b = a.replace(sys.argv[1], sys.argv[2], 1)
        (da, aa), (db, ab) = walk(a), walk(b)
        assert da.keys() == db.keys(), (a, sorted(da), sorted(db))
        for k in da:
            assert da[k].dtype == db[k].dtype and da[k].shape == db[k].shape, (a, k)
            assert da[k].tobytes() == db[k].tobytes(), (a, k)
        for k in aa:
            assert str(aa[k]) == str(ab[k]), (a, k)
        assert len(da["curves/episode"]) >= 40, (a, len(da["curves/episode"]))
        n += 1
assert n == 4, n
print("logs identical across -j 1 and -j 2:", n, "runs")
PYEOF

# a finished log is a plain HDF5 file too: h5dump reads it whole, rql info summarises it
if command -v h5dump >/dev/null; then
  h5dump "$tmp/j1/drqn/seed0.h5" >"$tmp/dump" 2>&1 || { tail "$tmp/dump"; fail "h5dump of a finished log"; }
  grep -q 'DATASET "return"' "$tmp/dump" || fail "h5dump shows no curves/return"
fi
"$RQL" info "$tmp/j1/drqn/seed0.h5" >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "rql info of a finished log"; }

# --- existing output refused, config errors ------------------------------------
"$RQL" train "$tmp/tiny.cfg" -o "$tmp/j1" >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "already exists" "$tmp/o" || { cat "$tmp/o"; fail "existing output not refused (rc $rc)"; }
printf 'env = { name = "tmaze"; };\nagents = ( { type = "dqn"; } );\ntrain = { episdes = 5; };\n' > "$tmp/typo.cfg"
"$RQL" train "$tmp/typo.cfg" -o "$tmp/typo" >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "typo.cfg:3: unknown key 'train.episdes'" "$tmp/o" || { cat "$tmp/o"; fail "typo not reported with its line"; }
[ -e "$tmp/typo" ] && fail "a bad config created its output folder"
"$RQL" train "$tmp/tiny.cfg" -o "$tmp/x" --set agent.nope.k=1 >"$tmp/o" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "no agent labelled 'nope'" "$tmp/o" || { cat "$tmp/o"; fail "bad --set not reported"; }

# --- help --------------------------------------------------------------------------
"$RQL" help config >"$tmp/o" 2>&1 || fail "rql help config"
for k in train.episodes train.n_envs eval.every checkpoint.every log.flush_s 'type "drqn"'; do
  grep -q "$k" "$tmp/o" || fail "rql help config lacks $k"
done
"$RQL" help train | grep -q "usage: rql train" || fail "rql help train"

# --- eval ----------------------------------------------------------------------------
"$RQL" eval "$tmp/j1/drqn/seed0.h5" --episodes 12 >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "rql eval"; }
grep -q "greedy success .*(12 episodes)" "$tmp/o" || { cat "$tmp/o"; fail "rql eval output"; }
"$RQL" eval "$tmp/j1/drqn/seed0.h5" --episodes 3 --record >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "rql eval --record"; }
"$PY" - "$tmp/j1/drqn/seed0.h5" "$tmp/j2/drqn/seed0.h5" <<'PYEOF' || fail "--record did not append 3 episodes"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    ea, eb = a["steps/episode"][()], b["steps/episode"][()]
    assert len(ea) > len(eb), (len(ea), len(eb))
    new = np.unique(ea[len(eb):])
    assert len(new) == 3 and new.min() > eb.max(), new
PYEOF
"$RQL" eval "$tmp/nonexistent.h5" >"$tmp/o" 2>&1; rc=$?
{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -q "nonexistent.h5" "$tmp/o" || { cat "$tmp/o"; fail "missing file: rc $rc"; }
echo "not hdf5" > "$tmp/bad.h5"
"$RQL" eval "$tmp/bad.h5" >"$tmp/o" 2>&1; rc=$?
{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -q "bad.h5" "$tmp/o" || { cat "$tmp/o"; fail "non-HDF5 file: rc $rc"; }
cp "$tmp/j1/dqn-k1/seed0.h5" "$tmp/noconf.h5"
"$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1],'a'); del f.attrs['config']" "$tmp/noconf.h5"
"$RQL" eval "$tmp/noconf.h5" --checkpoint "$tmp/j1/dqn-k1/seed0.ckpt" >"$tmp/o" 2>&1; rc=$?
{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -q "noconf.h5" "$tmp/o" || { cat "$tmp/o"; fail "log without config: rc $rc"; }
cp "$tmp/j1/dqn-k1/seed0.h5" "$tmp/other.h5"
"$RQL" eval "$tmp/other.h5" --checkpoint "$tmp/j1/drqn/seed0.ckpt" >"$tmp/o" 2>&1; rc=$?
{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } || { cat "$tmp/o"; fail "mismatched checkpoint accepted: rc $rc"; }
"$RQL" eval "$tmp/j1/dqn-k1/seed0.h5" --checkpoint "$tmp/bad.h5" >"$tmp/o" 2>&1; rc=$?
{ [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -q "not an HDF5 file" "$tmp/o" || { cat "$tmp/o"; fail "bad checkpoint: rc $rc"; }
# --- every shipped config parses and runs a tiny budget ---------------------------
for cfg in experiments/configs/*.cfg; do
  name=$(basename "$cfg" .cfg)
  # no updates (warmup beyond the budget) and short episodes: this checks the
  # config, not the learning
  # (sum and POPGym's repeat_first and count_recall have fixed lengths: no time limit to set)
  limit="--set env.max_steps=30"; grep -qE 'name = "(sum|repeat_first|count_recall)"' "$cfg" && limit=""
  cmd=train; grep -q '^sweep' "$cfg" && cmd=sweep      # a study: rql sweep (docs/sweep.md)
  "$RQL" $cmd "$cfg" -o "$tmp/cfg/$name" --seeds 0 --set train.episodes=6 --set train.steps=0 \
      $limit --set 'agent.*.warmup=1000000' --set train.n_envs=2 \
      --set eval.episodes=3 --set eval.record=1 -q >"$tmp/o" 2>&1 || { cat "$tmp/o"; fail "$cfg with a tiny budget"; }
  n=$(find "$tmp/cfg/$name" -name 'seed0.h5' | wc -l)
  [ "$n" -ge 2 ] || fail "$cfg: $n logs"
done
echo "shipped configs: $(ls experiments/configs/*.cfg | wc -l) run with a tiny budget"
echo "e2e_train: all checks passed"
