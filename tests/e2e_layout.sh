#!/usr/bin/env bash
# The house's shape, checked: folder dependencies point one way (the
# includes of every .c and .h form the allowed DAG), HDF5 appears in no
# header outside log/ and nets' weight I/O (nets/net_h5.h), and every folder's
# README.md names each of its source files.
set -u
cd "$(dirname "$0")/.."
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# allowed[folder] = the folders it may include from
declare -A allowed=(
  [util]=""
  [nets]="util"
  [envs]="util"
  [agents]="nets util"
  [log]="agents nets util"
  [stats]="log util"
  [experiments]="agents envs log nets stats util"
  [bench]="experiments agents envs log nets stats util"
  [cli]="bench experiments agents envs log nets stats util"
)
for d in "${!allowed[@]}"; do
  for f in "$d"/*.c "$d"/*.h; do
    [ -e "$f" ] || continue
    for dep in $(grep -ho '^#include "[a-z_]*/' "$f" | sed 's/#include "//; s#/##' | sort -u); do
      [ "$dep" = "$d" ] && continue
      case " ${allowed[$d]} " in *" $dep "*) ;; *) bad "$f includes from $dep/ ($d/ may include from: ${allowed[$d]:-nothing})" ;; esac
    done
  done
done

for h in */*.h; do
  case "$h" in log/*|nets/net_h5.h|tests/*) continue ;; esac
  grep -q '#include *<hdf5.h>' "$h" && bad "$h includes <hdf5.h> (only log/ and nets/net_h5.h may)"
done

for d in "${!allowed[@]}"; do
  [ -f "$d/README.md" ] || { bad "$d/README.md is missing"; continue; }
  for f in "$d"/*.c "$d"/*.h; do
    [ -e "$f" ] || continue
    grep -q "$(basename "$f")" "$d/README.md" || bad "$d/README.md does not name $(basename "$f")"
  done
done

[ $fail -eq 0 ] && echo "e2e_layout: folder dependencies one way, HDF5 only in log/ and nets/net_h5.h, every folder's files listed"
exit $fail
