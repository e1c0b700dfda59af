#!/usr/bin/env bash
# Runs every shipped config (experiments/configs/*.cfg; the sweep config as a
# sweep) with two rql binaries and compares the logs and checkpoints with
# scripts/same_logs.py: the guard for a change that must not change results.
#
#   scripts/same_logs.sh OLD_RQL NEW_RQL [EPISODES]
#
# A key NEW_RQL added shows in its logs' resolved config; at its default it
# is listed, not counted as a difference (see scripts/same_logs.py); a config
# OLD_RQL refuses as unknown (new keys or worlds) is listed, not compared.
#
# Seed 0 of every agent; train.episodes capped at EPISODES (default 200, 0 =
# the config's own budget) so the check takes a few minutes on 2 cores.
set -euo pipefail
old=$1 new=$2 eps=${3:-200}
cd "$(dirname "$0")/.."
out=$(mktemp -d /tmp/same_logs.XXXXXX)
# the newer build's parameter defaults: a key it added, at its default, is
# not a difference (scripts/same_logs.py)
"$new" help config --markdown > "$out/defaults.md"
export SAME_LOGS_DEFAULTS="$out/defaults.md"
set_eps=(); [ "$eps" -gt 0 ] && set_eps=(--set "train.episodes=$eps")
rc=0
for cfg in experiments/configs/*.cfg; do
  name=$(basename "$cfg" .cfg)
  cmd=train; grep -q '^sweep' "$cfg" && cmd=sweep
  run() { "$1" $cmd "$cfg" -o "$out/$2/$name" --seeds 0 "${set_eps[@]}" --force -q -j 2 >/dev/null 2>"$out/$2.$name.err"; }
  run "$new" new || { echo "$name: new rql failed:"; cat "$out/new.$name.err"; rc=1; }
  if ! run "$old" old; then
    # a config written for keys or worlds OLD_RQL lacks has nothing to be
    # compared with: listed, not counted
    if grep -q "unknown" "$out/old.$name.err"; then
      printf '%-16s new config, OLD_RQL does not know it: %s\n' "$name" "$(head -n 1 "$out/old.$name.err")"
      continue
    fi
    echo "$name: old rql failed:"; cat "$out/old.$name.err"; rc=1
  fi
  printf '%-16s ' "$name"
  /usr/bin/python3 scripts/same_logs.py "$out/old/$name" "$out/new/$name" | tail -n 25 || rc=1
done
rm -rf "$out"
exit $rc
