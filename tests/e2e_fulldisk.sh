#!/usr/bin/env bash
# A full disk: training into small tmpfs mounts (root only) must end every
# time with exit 1 and a message naming the file, never a signal; the log
# left behind must open (status "failed" with the reason where there was
# room to write it, else as its last flush left it) and no PATH.tmp stays.
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: a tmpfs mount needs root"; exit 77; }
tmp=$(mktemp -d /tmp/rql_e2e_fulldisk.XXXXXX)
mnt="$tmp/mnt"
mkdir -p "$mnt"
mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null || { rm -rf "$tmp"; echo "SKIPPED: cannot mount a tmpfs here"; exit 77; }
umount "$mnt"
trap 'umount "$mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
cat > "$tmp/run.cfg" <<'CFG'
env = { name = "tmaze"; length = 4; };
agents = ( { label = "drqn"; type = "drqn"; } );
seeds = [0];
train = { episodes = 40; n_envs = 4; };
eval = { every = 20; episodes = 10; record = 1; };
log = { train_every = 5; weights_every = 20; };
CFG
bad=0 failed=0 statuses=""
for size in 24k 48k 64k 80k 96k 128k 160k 200k; do
  mount -t tmpfs -o size=$size tmpfs "$mnt" || { echo "FAIL: mount $size"; exit 1; }
  timeout -k 5 120 "$RQL" train "$tmp/run.cfg" -o "$mnt/o" -q >"$tmp/out" 2>&1
  rc=$?
  log="$mnt/o/drqn/seed0.h5"
  if [ $rc -eq 0 ]; then
    echo "FAIL: $size: the run finished on a full disk?"; bad=$((bad + 1))
  elif [ $rc -ne 1 ] || grep -qE 'Sanitizer|runtime error:' "$tmp/out"; then
    echo "FAIL: $size: exit $rc"; cat "$tmp/out"; bad=$((bad + 1))
  elif ! grep -q "No space left on device\|cannot flush the log\|cannot create" "$tmp/out" || ! grep -q "$mnt/o/drqn/seed0" "$tmp/out"; then
    echo "FAIL: $size: no clear message naming the file:"; cat "$tmp/out"; bad=$((bad + 1))
  elif [ -e "$mnt/o/drqn/seed0.ckpt.tmp" ]; then
    echo "FAIL: $size: seed0.ckpt.tmp left behind"; bad=$((bad + 1))
  elif [ -e "$log" ] && ! "$RQL" info "$log" >"$tmp/info" 2>&1; then
    echo "FAIL: $size: the log left behind does not open:"; cat "$tmp/info"; bad=$((bad + 1))
  else
    failed=$((failed + 1))
    st=$(grep -o 'status    [a-z]*' "$tmp/info" 2>/dev/null | awk '{print $2}')
    statuses="$statuses $size:${st:-nolog}"
  fi
  umount "$mnt"
done
echo "full disk: $failed of 8 sizes ended cleanly (exit 1, file named, log readable):$statuses"
[ $bad -eq 0 ]
