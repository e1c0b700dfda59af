#!/usr/bin/env bash
# End-to-end test of `make run`: the default experiment
# (experiments/configs/tmaze_memory.cfg: dqn k=1, dqn k=4, drqn LSTM, drqn
# GRU on the T-maze N = 10, 5 seeds) trains as `make run` trains it, prints
# the comparison table, and in that comparison the LSTM DRQN beats the k = 1
# DQN on final greedy success with Welch's p < 0.05. About 10 s in the
# release build, 50 s under the sanitizers (which check the full-size path).
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
tmp=$(mktemp -d /tmp/rql_e2e_make_run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

t0=$(date +%s)
# the command `make run` runs, into a temporary folder
"$RQL" train experiments/configs/tmaze_memory.cfg -o "$tmp/runs" --force >"$tmp/out" 2>"$tmp/err" \
  || { tail -20 "$tmp/err"; cat "$tmp/out"; fail "rql train tmaze_memory.cfg"; }
t1=$(date +%s)
cat "$tmp/out"
echo "trained in $((t1 - t0)) s"
for label in dqn-k1 dqn-k4 drqn-lstm drqn-gru; do
  grep -q "$label" "$tmp/out" || fail "the comparison table lacks $label"
  n=$(ls "$tmp/runs/$label"/seed*.h5 2>/dev/null | wc -l)
  [ "$n" -eq 5 ] || fail "$label: $n logs, expected 5"
done

"$RQL" compare "$tmp/runs" --json >"$tmp/cmp.json" 2>"$tmp/err" || { cat "$tmp/err"; fail "rql compare --json"; }
"$PY" - "$tmp/cmp.json" <<'PYEOF' || fail "DRQN (LSTM) does not beat DQN k=1 with p < 0.05"
import json, sys
c = json.load(open(sys.argv[1]))
# rql compare --json: groups with the mean final greedy success, and a list
# of Welch tests between labels (a, b, p)
def success(g):
    s = g.get("final_success", g.get("success"))
    return s["mean"] if isinstance(s, dict) else s
succ = {g["label"]: success(g) for g in c["groups"]}
tests = [v for v in c.values() if isinstance(v, list) and v and isinstance(v[0], dict) and "p" in v[0]]
assert tests, "no Welch tests in %s" % list(c)
pair = [p for p in tests[0] if {p["a"], p["b"]} == {"drqn-lstm", "dqn-k1"}]
assert len(pair) == 1, tests[0]
pval = pair[0]["p"]
print("final greedy success: drqn-lstm %.3f, dqn-k1 %.3f; Welch p = %.3g" % (succ["drqn-lstm"], succ["dqn-k1"], pval))
assert succ["drqn-lstm"] > succ["dqn-k1"]
assert pval is not None and pval < 0.05
PYEOF
echo "e2e_make_run: all checks passed"
