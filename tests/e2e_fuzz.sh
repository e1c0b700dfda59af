#!/usr/bin/env bash
# Config and map fuzzing: mutated copies (seeded, so every run tries the same
# inputs) of the shipped configs and maps, validated by `rql sweep
# --dry-run` (which loads and checks everything a run would, and runs
# nothing). Every input must get exit 0, or exit 1/2 with a message naming
# the file (and for a config its line or key); never a signal, a sanitizer
# report or a hang. FUZZ_N configs (default 300) and FUZZ_N/5 maps.
set -u
RQL=${BUILD:-build/rel}/rql
[ -x "$RQL" ] || RQL=./rql
PY=${PY:-/usr/bin/python3}
N=${FUZZ_N:-300}
SEED=${FUZZ_SEED:-12}
tmp=$(mktemp -d /tmp/rql_e2e_fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1
# libconfig's own leak on some syntax errors (tests/lsan.supp)
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/tests/lsan.supp
"$PY" - "$tmp" "$N" "$SEED" <<'PYEOF' || { echo "FAIL: the generator"; exit 1; }
import glob, os, random, sys
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
cfgs = [open(p, 'rb').read() for p in sorted(glob.glob('experiments/configs/*.cfg'))]
maps = [open(p, 'rb').read() for p in sorted(glob.glob('envs/maps/*.txt'))]
ALPHA = b';{}[]()"=,.#\n-+eL0123456789abcxyz \t\\/*'
NUMS = [b'0', b'-1', b'1e308', b'-1e308', b'nan', b'4294967297', b'9223372036854775807',
        b'99999999999999999999999', b'0.5', b'""', b'[]', b'()', b'{}', b'true', b'"x"']
def mutate(t, kinds):
    t = bytearray(t)
    for _ in range(rng.randint(1, 3)):
        k = rng.choice(kinds)
        i = rng.randrange(len(t) + 1) if t else 0
        if k == 'del' and t: del t[i % len(t)]
        elif k == 'ins': t[i:i] = bytes([rng.choice(ALPHA)])
        elif k == 'byte' and t: t[i % len(t)] = rng.randrange(256)
        elif k == 'nul': t[i:i] = b'\0'
        elif k == 'trunc': del t[i:]
        elif k == 'dup':
            lines = bytes(t).split(b'\n'); j = rng.randrange(len(lines)); lines.insert(j, lines[j]); t = bytearray(b'\n'.join(lines))
        elif k == 'swap':
            lines = bytes(t).split(b'\n'); a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]; t = bytearray(b'\n'.join(lines))
        elif k == 'num':
            ds = [j for j in range(len(t)) if 48 <= t[j] <= 57]
            if ds:
                j = rng.choice(ds); e = j
                while e < len(t) and (48 <= t[e] <= 57 or t[e] in b'.eE-'): e += 1
                t[j:e] = rng.choice(NUMS)
        elif k == 'long':
            t[i:i] = b'"' + b'x' * rng.choice([511, 512, 4096, 70000]) + b'"'
    return bytes(t)
ck = ['del', 'ins', 'byte', 'nul', 'trunc', 'dup', 'swap', 'num', 'num', 'long']
for i in range(n):
    t = mutate(rng.choice(cfgs), ck)
    open(os.path.join(out, 'c%03d.cfg' % i), 'wb').write(t)
mk = ['del', 'ins', 'byte', 'nul', 'trunc', 'dup', 'swap']
for i in range(max(1, n // 5)):
    m = mutate(rng.choice(maps), mk)
    open(os.path.join(out, 'm%03d.txt' % i), 'wb').write(m)
    open(os.path.join(out, 'g%03d.cfg' % i), 'w').write(
        'env = { name = "gridworld"; map = "%s/m%03d.txt"; };\n'
        'agents = ( { label = "q"; type = "qtable"; } );\n' % (out, i))
PYEOF
ok=0 err=0 bad=0
for f in "$tmp"/c*.cfg "$tmp"/g*.cfg; do
  b=$(basename "$f")
  name=$b
  case $b in g*) name="m${b#g}"; name="${name%.cfg}.txt" ;; esac
  timeout -k 5 20 "$RQL" sweep "$f" -o "$tmp/out" --dry-run >"$tmp/o" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then ok=$((ok + 1))
  elif [ $rc -le 2 ] && ! grep -qE 'Sanitizer|runtime error:' "$tmp/o" &&
       { grep -qF "$b" "$tmp/o" || grep -qF "$name" "$tmp/o"; }; then err=$((err + 1))
  else
    bad=$((bad + 1))
    echo "FAIL: $b (rc $rc): $(head -c 400 "$tmp/o")"
    [ "$bad" -le 3 ] && cp "$f" "/tmp/rql_fuzz_fail_$b" 2>/dev/null
  fi
done
echo "fuzz (seed $SEED): $((ok + err)) inputs: $ok valid, $err refused with the file named; $bad otherwise"
[ $bad -eq 0 ]
