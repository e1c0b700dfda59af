#!/usr/bin/env bash
# End-to-end test of `rql envs` and `rql play`: the listing names every world
# and wrapper with defaults; details render a start state (shipped maps are
# found from any working directory); a T-maze is played through a pipe to
# the right arm and a wall; bad parameters, worlds and maps give messages
# naming the key, value, file, line and column.
set -u
RQL=${RQL:-${BUILD:-build/rel}/rql}
[ -x "$RQL" ] || RQL=./rql
case "$RQL" in /*) ;; *) RQL="$PWD/$RQL" ;; esac
[ -x "$RQL" ] || { echo "FAIL: no rql binary ($RQL)"; exit 1; }
tmp=$(mktemp -d /tmp/rql_e2e_envs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
has() { printf '%s\n' "$1" | grep -qF -- "$2" || fail "$3: expected '$2' in: $(printf '%s\n' "$1" | tail -5)"; }

# listing
out=$("$RQL" envs) || fail "rql envs exited $?"
for name in tmaze gridworld memory_room sum flicker obs_noise; do has "$out" "  $name " "rql envs"; done
has "$out" "length          int    default 10" "rql envs"
has "$out" "corridor_noise" "rql envs"

# details with a rendered start state
out=$("$RQL" envs tmaze length=3) || fail "rql envs tmaze"
has "$out" "Bakker (2002)" "rql envs tmaze"
has "$out" "start state (seed 1):" "rql envs tmaze"
has "$out" "  x = 0 of 3, t = 0 of 40" "rql envs tmaze"
out=$(cd "$tmp" && "$RQL" envs gridworld map=four_rooms view=ego) || fail "rql envs gridworld map=four_rooms from $tmp"
has "$out" "#############" "rql envs gridworld map=four_rooms"
has "$out" "observation: 179 floats; actions (3): 0=left 1=right 2=forward" "rql envs gridworld ego"
out=$("$RQL" envs memory_room) || fail "rql envs memory_room"
has "$out" "cue " "rql envs memory_room"

# play the T-maze through a pipe: read the sign, then walk to the right arm
first=$(printf 'q\n' | "$RQL" play tmaze length=2 --seed 7 | grep -m1 '^obs ') || fail "rql play (sign)"
case "$first" in
  "obs [0 1 1]") arm=N ;;
  "obs [1 1 0]") arm=S ;;
  *) fail "first T-maze observation is '$first', expected obs [0 1 1] or obs [1 1 0]" ;;
esac
out=$(printf 'W\nx\n e  E\n%s\n' "$arm" | "$RQL" play tmaze length=2 --seed 7) || fail "rql play tmaze exited $?"
has "$out" "> W: reward -0.1, return -0.1, step 1" "wall at the start"
has "$out" "'x' is not an action here" "bad key"
has "$out" "obs [1 0 1]" "corridor observation"
has "$out" "obs [0 1 0]" "junction observation"
has "$out" "> $arm: reward 4, return 3.9, step 4" "right arm"
has "$out" "episode 1 ended: terminated, success, return 3.9 in 4 steps" "episode end"
has "$out" "-- episode 2 --" "auto reset"
has "$out" "1 episode finished, 1 successful" "summary at end of input"
out=$(printf 'forward\n' | "$RQL" play memory_room length=1) || fail "rql play memory_room"
has "$out" "> forward: reward 0" "memory_room forward"

# errors name what is wrong, exit status 2
err=$("$RQL" play tmaze length=0 2>&1 </dev/null); rc=$?
[ $rc -eq 2 ] || fail "rql play tmaze length=0 exited $rc, expected 2"
has "$err" "tmaze: length = 0 out of range [1, 1000]" "out of range"
err=$("$RQL" envs tmaze lenght=3 2>&1); [ $? -eq 2 ] || fail "unknown parameter: exit status"
has "$err" "unknown parameter 'lenght' for world 'tmaze'" "unknown parameter"
err=$("$RQL" play tmaz 2>&1 </dev/null); [ $? -eq 2 ] || fail "unknown world: exit status"
has "$err" "unknown world 'tmaz'" "unknown world"
err=$("$RQL" envs nope 2>&1); [ $? -eq 2 ] || fail "rql envs nope: exit status"
has "$err" "unknown world or wrapper 'nope'" "rql envs nope"
printf '#####\n#SxG#\n#####\n' > "$tmp/bad.txt"
err=$("$RQL" play gridworld map="$tmp/bad.txt" 2>&1 </dev/null); [ $? -eq 2 ] || fail "malformed map: exit status"
has "$err" "$tmp/bad.txt:2:3: unknown map character 'x'" "malformed map"
err=$("$RQL" play gridworld map=no_such_map 2>&1 </dev/null); [ $? -eq 2 ] || fail "missing map: exit status"
has "$err" "gridworld: map = 'no_such_map': no such file" "missing map"

# one parser for every parameter table: booleans and integral reals read the
# same in a world's and an agent's parameters
err=$("$RQL" play tmaze length=2e1 </dev/null 2>&1) || fail "length=2e1 (an integral real) refused: $err"
err=$("$RQL" play tmaze length=6.5 2>&1 </dev/null); [ $? -eq 2 ] || fail "length=6.5: exit status"
has "$err" "tmaze: length = '6.5' is not an integer" "length=6.5"

# docs/parameters.md is generated from the tables and must match them
docs="$(dirname "$0")/../docs/parameters.md"
"$RQL" help config --markdown | cmp -s - "$docs" ||
  fail "docs/parameters.md is stale: regenerate it with 'rql help config --markdown > docs/parameters.md'"

echo "ok: rql envs listing and details, rql play through a pipe, error messages, docs/parameters.md"
