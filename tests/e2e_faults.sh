#!/usr/bin/env bash
# Fault injection: damaged logs and checkpoints, concurrent writers and the
# bad inputs of issue #12, against every command that reads them. Each
# attempt ends in one of:
#   same    exit 0 with exactly the output of the undamaged file (the damage
#           hit bytes the command does not use: unused space, padding)
#   error   a non-zero exit whose message names the damaged file
# and never in one of the failures counted and printed at the end:
#   hang    still running after the time bound (timeout)
#   crash   killed by a signal, or a sanitizer report
#   wrong   exit 0 with output that differs from the undamaged file's
#   unclear a non-zero exit whose message does not name the file
# A full disk is tests/e2e_fulldisk.sh (it needs root for a tmpfs).
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
RQL=$(cd "$(dirname "$RQL")" && pwd)/$(basename "$RQL")
BOUND=${FAULT_BOUND:-30}            # seconds per command
tmp=$(mktemp -d /tmp/rql_e2e_faults.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
# libconfig's and HDF5's own leaks on bad input (tests/lsan.supp)
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/tests/lsan.supp
cd "$tmp"
declare -A N=([same]=0 [error]=0 [hang]=0 [crash]=0 [wrong]=0 [unclear]=0)
bad_list=()

# run NAME EXPECTED_FILE REFERENCE_OUT CMD...: runs CMD under the bound and
# classifies it; stdout+status of the undamaged run is in REFERENCE_OUT.
classify() {
  local name=$1 file=$2 ref=$3; shift 3
  timeout -k 5 "$BOUND" bash -c "$*" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local kind
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then kind=hang
  elif [ $rc -gt 128 ] || grep -qE 'Sanitizer|runtime error:' "$tmp/err"; then kind=crash
  elif [ $rc -eq 0 ]; then
    if [ -n "$ref" ] && cmp -s "$tmp/out" "$ref"; then kind=same; else kind=wrong; fi
  elif cat "$tmp/out" "$tmp/err" | grep -qF "$(basename "$file")"; then kind=error
  else kind=unclear
  fi
  N[$kind]=$((N[$kind] + 1))
  if [ $kind != same ] && [ $kind != error ]; then
    bad_list+=("$kind: $name (rc $rc): $(head -c 300 "$tmp/err" | tr '\n' ' ')")
  fi
}

cat > run.cfg <<'CFG'
env = { name = "tmaze"; length = 4; };
agents = ( { label = "drqn"; type = "drqn"; } );
seeds = [0];
train = { episodes = 40; n_envs = 4; };
eval = { every = 20; episodes = 10; record = 1; };
log = { train_every = 5; weights_every = 20; };
checkpoint = { every = 20; };
CFG
"$RQL" train run.cfg -o pristine -q >/dev/null 2>&1 || { echo "FAIL: the undamaged run"; exit 1; }
LOG=pristine/drqn/seed0.h5 CK=pristine/drqn/seed0.ckpt
lsz=$(stat -c %s $LOG) csz=$(stat -c %s $CK)

# The work folder w/ holds one run (log + checkpoint) at a fixed path, so the
# outputs of damaged and undamaged files are comparable byte for byte.
fresh() { rm -rf w; mkdir -p w/drqn; cp $LOG $CK w/drqn/; }
WL=w/drqn/seed0.h5 WC=w/drqn/seed0.ckpt
# sweep --dry-run reads the run folder the config's output names
sed 's/^seeds.*/seeds = [0];/' run.cfg > sweep.cfg
echo 'output = "w";' >> sweep.cfg
# one more log for compare DIR
mkdir -p other && "$RQL" train run.cfg -o other --seeds 1 -q >/dev/null 2>&1

cmd_info()    { "$RQL" info $WL; }
cmd_eval()    { "$RQL" eval $WL --episodes 5; }
cmd_export()  { rm -rf exp; "$RQL" export $WL --minari exp --dataset-id rql/faults-v0 &&
                h5dump exp/rql/faults-v0/data/main_data.hdf5 | grep -v -i created; }
cmd_compare() { "$RQL" compare w other; }
cmd_sweep()   { "$RQL" sweep sweep.cfg --dry-run; }
cmd_resume()  { "$RQL" train run.cfg -o w --resume -q && "$RQL" info $WL; }

export RQL WL WC
export -f cmd_info cmd_eval cmd_export cmd_compare cmd_sweep cmd_resume
# references from the undamaged files
for c in info eval export compare sweep resume; do
  fresh
  cmd_$c >"ref.$c" 2>"ref.$c.err" || { cat "ref.$c.err"; echo "FAIL: $c on the undamaged run"; exit 1; }
done

flip() {   # flip FILE OFFSET: xor one byte with 0x5a
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  [ -n "$b" ] || return 0
  printf "$(printf '\\%03o' $((b ^ 0x5a)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Offsets: the superblock (20, 40, 60 hung every reader before), the user
# block and its edge, and a spread over the file.
offsets() {   # offsets SIZE
  local sz=$1
  echo 0 8 20 40 60 100 511 512 520
  for k in 1 2 3 4 5 6; do echo $((sz * k / 7 + k)); done
  echo $((sz - 1))
}
truncs() {
  local sz=$1
  echo 0 16 512 600
  for k in 1 2 3; do echo $((sz * k / 4)); done
  echo $((sz - 1))
}

log_cmds="info eval export compare sweep resume"
ck_cmds="eval sweep resume"
for target in log ckpt; do
  if [ $target = log ]; then f=$WL sz=$lsz cmds=$log_cmds; else f=$WC sz=$csz cmds=$ck_cmds; fi
  for off in $(offsets $sz); do
    for c in $cmds; do
      fresh; flip $f $off
      classify "$c, $target byte $off flipped" $f ref.$c cmd_$c
    done
  done
  for len in $(truncs $sz); do
    for c in $cmds; do
      fresh; truncate -s $len $f
      classify "$c, $target truncated to $len" $f ref.$c cmd_$c
    done
  done
done
damage_total=$((N[same] + N[error] + N[hang] + N[crash] + N[wrong] + N[unclear]))
echo "damaged files: $damage_total commands: ${N[same]} same output, ${N[error]} clear errors," \
     "${N[hang]} hangs, ${N[crash]} crashes, ${N[wrong]} wrong results, ${N[unclear]} unclear errors"

# ---- bad inputs (issue #12), each with the outcome it must have ----------------
expect() {   # expect NAME WANT_RC GREP_PATTERN CMD...: exit WANT_RC, stderr+stdout matching
  local name=$1 want=$2 pat=$3; shift 3
  timeout -k 5 "$BOUND" "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then N[hang]=$((N[hang] + 1)); bad_list+=("hang: $name")
  elif [ $rc -gt 128 ] || grep -qE 'Sanitizer|runtime error:' "$tmp/out"; then
    N[crash]=$((N[crash] + 1)); bad_list+=("crash: $name (rc $rc)")
  elif [ $rc -ne "$want" ] || ! grep -qE -- "$pat" "$tmp/out"; then
    N[wrong]=$((N[wrong] + 1)); bad_list+=("wrong: $name (rc $rc, want $want /$pat/): $(head -c 300 "$tmp/out" | tr '\n' ' ')")
  else N[error]=$((N[error] + 1))
  fi
}
inputs0=$((N[error]))
mkfifo fifo.cfg
expect "a FIFO as the config" 2 'fifo.cfg: cannot read: not a regular file' "$RQL" train fifo.cfg -o fo
expect "a FIFO to sweep" 2 'fifo.cfg: cannot read: not a regular file' "$RQL" sweep fifo.cfg --dry-run
expect "a folder as the config" 2 'w: cannot read: not a regular file' "$RQL" train w -o fo
expect "-o \"\"" 2 'output folder must not be empty' "$RQL" train run.cfg -o ""
expect "--seeds 4294967297 runs that seed" 0 'seed4294967297.h5' "$RQL" sweep run.cfg -o s1 --dry-run --seeds 4294967297
expect "--seeds 2^53 refused" 2 'out of range' "$RQL" sweep run.cfg -o s1 --dry-run --seeds 9007199254740992
expect "--seeds 99999999999999999999 refused" 2 'out of range' "$RQL" train run.cfg -o s1 --seeds 99999999999999999999
expect "--seeds -1 refused" 2 'expected a list' "$RQL" train run.cfg -o s1 --seeds -1
expect "--seeds 0-1999" 0 '2000 new' "$RQL" sweep run.cfg -o s2 --dry-run --seeds 0-1999
expect "--set with a second setting" 2 "second one, 'b'" "$RQL" train run.cfg -o s3 --set $'train.episodes=1;\nb=2'
expect "--set with ';' and a second setting" 2 "second one, 'b'" "$RQL" train run.cfg -o s3 --set 'train.episodes=1;b=2'
expect "a syntax error said once" 2 '^rql train: syn.cfg:2: syntax error$' bash -c "printf 'env = { name = \"tmaze\"\n' > syn.cfg; '$RQL' train syn.cfg -o s4"
printf '#####\n#S.G#\n\0####\n' > nul.txt
sed 's/name = "tmaze"; length = 4;/name = "gridworld"; map = "nul.txt";/' run.cfg > nulmap.cfg
expect "a NUL byte in a map file" 2 'map nul.txt: a NUL byte at offset 12' "$RQL" train nulmap.cfg -o s5
mkfifo fifo.txt
sed 's/nul.txt/fifo.txt/' nulmap.cfg > fifomap.cfg
expect "a FIFO as the map" 2 'map fifo.txt: not a regular file' "$RQL" train fifomap.cfg -o s6
# an inline map of 63 x 20 cells (1260 > 511 characters) trains as 63 x 20
row() { printf '#%*s#' 61 '' | tr ' ' "$1"; }
map="$(printf '%*s' 63 '' | tr ' ' '#')|#S$(printf '%*s' 60 '' | tr ' ' '.')#"
for i in $(seq 3 18); do map="$map|$(row .)"; done
map="$map|#$(printf '%*s' 60 '' | tr ' ' '.')G#|$(printf '%*s' 63 '' | tr ' ' '#')"
cat > bigmap.cfg <<CFG
env = { name = "gridworld"; map = "$map"; max_steps = 20; };
agents = ( { label = "q"; type = "qtable"; } );
train = { episodes = 2; n_envs = 1; };
eval = { every = 0; episodes = 2; record = 1; };
CFG
expect "an inline map of 1260 cells" 0 'obs 1260' bash -c "'$RQL' train bigmap.cfg -o s7 -q >/dev/null 2>&1 && '$RQL' info s7/q/seed0.h5"
# --resume without a checkpoint never replaces a log of another config
fresh; rm -f $WC; sum0=$(md5sum < $WL)
expect "--resume over another config's log" 1 'is a log of another config' "$RQL" train run.cfg -o w --resume --set env.length=5
[ "$(md5sum < $WL)" = "$sum0" ] || { N[wrong]=$((N[wrong] + 1)); bad_list+=("wrong: the other config's log was changed"); }
# ... nor one it cannot read
truncate -s 100 $WL; sum0=$(md5sum < $WL)
expect "--resume over an unreadable log" 1 'cannot be read to check' "$RQL" train run.cfg -o w --resume
[ "$(md5sum < $WL)" = "$sum0" ] || { N[wrong]=$((N[wrong] + 1)); bad_list+=("wrong: the unreadable log was changed"); }
# drqn sampling with no episode start in the replay: seconds, not minutes
cat > long.cfg <<'CFG'
env = { name = "tmaze"; length = 200; };
agents = ( { label = "d"; type = "drqn"; capacity = 300; } );
train = { steps = 1500; n_envs = 2; };
eval = { every = 0; episodes = 2; record = 1; };
CFG
expect "drqn, T-maze 200, replay shorter than an episode" 0 '1 runs finished' "$RQL" train long.cfg -o s8 -q

# two writers of one run at once: the second is refused, the first finishes
sed 's/episodes = 40;/episodes = 400;/' run.cfg > slow.cfg
"$RQL" train slow.cfg -o cw -q >cw.out 2>&1 &
pid=$!
for i in $(seq 1 100); do [ -e cw/drqn/seed0.h5.lock ] && break; sleep 0.05; done
expect "a second writer (--resume)" 1 "is in use by process $pid" "$RQL" train slow.cfg -o cw --resume -q
expect "a second writer (--force)" 1 "is in use by process $pid" "$RQL" train slow.cfg -o cw --force -q
expect "rql eval --record into a run being trained" 1 "is in use by process $pid" \
  "$RQL" eval cw/drqn/seed0.h5 --record --episodes 2
wait $pid; rc=$?
if [ $rc -ne 0 ] || ! "$RQL" info cw/drqn/seed0.h5 | grep -q 'status    complete'; then
  N[wrong]=$((N[wrong] + 1)); bad_list+=("wrong: the first writer (rc $rc): $(tail -c 300 cw.out)")
fi
[ -e cw/drqn/seed0.h5.lock ] && { N[wrong]=$((N[wrong] + 1)); bad_list+=("wrong: the lock file stayed"); }
echo "bad inputs and concurrent writers: $((N[error] - inputs0)) handled as they must be"

for b in "${bad_list[@]}"; do echo "  $b"; done
echo "fault suite: $((N[same] + N[error])) commands as expected; hangs ${N[hang]}, crashes ${N[crash]}," \
     "silent wrong results ${N[wrong]}, unclear errors ${N[unclear]}"
[ $((N[hang] + N[crash] + N[wrong] + N[unclear])) -eq 0 ]
