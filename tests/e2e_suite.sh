#!/usr/bin/env bash
# End-to-end test of `rql suite` on a shrunken memory_len (2 settings, 30
# episodes per run, two agents):
#   - --list names both bsuite suites with 23 and 17 settings;
#   - a run ends with the scorecard: the settings, every agent's score with
#     the settings learned, the published references, the aggregates;
#   - --score --json parses and agrees with the logs (episodes, bsuite's
#     regret ratio recomputed from /curves/success with h5py);
#   - running the same command again skips every complete run;
#   - popgym at Hard (two worlds, 5000 steps): every run normalised with its
#     world's chance at Hard, read from the logs, also when scored without
#     the --set that trained them;
#   - an unknown suite and an unknown agent label are errors (exit 2).
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
"$PY" -c 'import h5py, numpy' 2>/dev/null || { echo "SKIPPED: $PY lacks h5py/numpy"; exit 77; }
tmp=$(mktemp -d /tmp/rql_e2e_suite.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*"; exit 1; }

"$RQL" suite --list >"$tmp/list" || fail "rql suite --list"
grep -qE '^memory_len +23 +3 ' "$tmp/list" || { cat "$tmp/list"; fail "--list: memory_len with 23 settings"; }
grep -qE '^memory_size +17 +3 ' "$tmp/list" || { cat "$tmp/list"; fail "--list: memory_size with 17 settings"; }

args=(suite memory_len -o "$tmp/s" -j 2 --agents dqn-k1,drqn-lstm --set train.episodes=30
      --set 'sweep=( { key = "env.memory_length"; values = [1, 4]; } )')
"$RQL" "${args[@]}" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "rql suite run"; }
grep -q "4 complete" "$tmp/err" || { cat "$tmp/err"; fail "not 4 runs complete"; }
for want in "suite memory_len" "setting score" "score and aggregates" "bsuite actor_critic_rnn" "probability of improvement" \
            "performance profile"; do
  grep -q "$want" "$tmp/out" || { cat "$tmp/out"; fail "scorecard lacks '$want'"; }
done
grep -qE '^dqn-k1 +[0-9.]+ +[0-9]/2 ' "$tmp/out" || { cat "$tmp/out"; fail "no score row for dqn-k1"; }

"$RQL" "${args[@]}" --score --json >"$tmp/card.json" || fail "rql suite --score --json"
"$PY" - "$tmp" <<'EOF' || fail "the JSON scorecard differs from the logs"
import json, sys, h5py, numpy as np
d = sys.argv[1]
j = json.load(open(d + "/card.json"))
assert j["rule"] == "bsuite" and j["settings"] == ["1", "4"], j["settings"]
for a in j["agents"]:
    for m, L in enumerate(j["settings"]):
        with h5py.File("%s/s/memory_length=%s/%s/seed0.h5" % (d, L, a["label"]), "r") as f:
            s = f["curves/success"][()].astype(float)
        assert len(s) >= 30, len(s)
        ratio = (len(s) - s.sum()) / 0.5 / len(s)
        assert abs(a["raw"][m][0] - ratio) < 1e-12, (a["label"], L, a["raw"][m][0], ratio)
        assert abs(a["setting_scores"][m] - ratio) < 1e-12
        assert a["learned_settings"][m] == int(ratio < 0.75)
    assert abs(a["score"] - np.mean([r < 0.75 for r in a["setting_scores"]])) < 1e-12
print("  suite: the JSON scorecard agrees with h5py's reading of the logs")
EOF

"$RQL" "${args[@]}" >"$tmp/out2" 2>"$tmp/err2" || { cat "$tmp/err2"; fail "rql suite again"; }
grep -q "0 complete, 0 resumed, 4 skipped" "$tmp/err2" || { cat "$tmp/err2"; fail "second run did not skip the 4 runs"; }

pargs=(suite popgym -o "$tmp/p" -j 2 --agents dqn-k1 --set train.steps=5000
       --set 'sweep=( { key = "env.name"; values = ["count_recall", "stateless_cartpole"]; } )')
"$RQL" "${pargs[@]}" --set env.difficulty=hard >"$tmp/pout" 2>"$tmp/perr" || { cat "$tmp/perr"; fail "rql suite popgym"; }
grep -q "difficulty: hard (from the runs' logs)" "$tmp/pout" || { cat "$tmp/pout"; fail "popgym: no difficulty line"; }
"$RQL" "${pargs[@]}" --set env.difficulty=hard --score --json >"$tmp/hard.json" || fail "popgym --score --json"
"$RQL" "${pargs[@]}" --score --json >"$tmp/plain.json" || fail "popgym --score --json without --set"
"$RQL" "${pargs[@]}" --score --csv >"$tmp/plain.csv" || fail "popgym --score --csv without --set"
"$PY" - "$tmp" <<'EOF' || fail "popgym at hard is not normalised with Hard's chance"
import csv, json, sys
d = sys.argv[1]
hard = {"count_recall": -0.882, "stateless_cartpole": 0.037}     # docs/envs.md; Easy: -0.925, 0.111
for name in ("hard.json", "plain.json"):
    j = json.load(open(d + "/" + name))
    assert j["difficulty"] == "hard", (name, j["difficulty"])
    a = j["agents"][0]
    for m, w in enumerate(j["settings"]):
        assert a["random"][m] == [hard[w]], (name, w, a["random"][m])
        assert a["raw"][m][0] is not None, (name, w)
for row in csv.DictReader(open(d + "/plain.csv")):
    r = hard[row["name"]]
    want = (float(row["raw_score"]) - r) / (1 - r)
    assert abs(float(row["normalised_score"]) - want) < 1e-12, (row, want)
print("  suite: popgym at hard normalised with Hard's chance, from the logs")
EOF

"$RQL" suite nope >/dev/null 2>"$tmp/e1"; [ $? -eq 2 ] || fail "unknown suite: exit not 2"
grep -q "no suite named 'nope'" "$tmp/e1" || fail "unknown suite: $(cat "$tmp/e1")"
"$RQL" suite memory_len --agents drqn --dry-run -o "$tmp/x" >/dev/null 2>"$tmp/e2"; [ $? -eq 2 ] || fail "bad label: exit not 2"
grep -q "no agent labelled 'drqn'" "$tmp/e2" || fail "bad label: $(cat "$tmp/e2")"
echo "ok: rql suite --list, a run with its scorecard, --score --json against the logs, skip on rerun, popgym's chance at Hard, errors"
