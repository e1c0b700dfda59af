#!/usr/bin/env python3
"""Compare two folders of rql logs and checkpoints, file by file, dataset by
dataset and attribute by attribute (the restructuring's guard: "every log
identical before and after, timestamps and wall-clock columns aside").

    scripts/same_logs.py DIR_A DIR_B

Every *.h5 and *.ckpt under DIR_A must exist under DIR_B with the same
relative path, the same groups, datasets (dtype, shape, bytes) and attributes
(values). Ignored: the root attribute `created` and any dataset or attribute
named wall_s, elapsed_s or started (wall-clock time). A checkpoint's
replay_final_obs is compared where its replay_flags say an episode ended
(terminated or truncated): elsewhere builds before 2026-12-02 wrote
uninitialised memory there, which no computation ever read. Exit 0 when identical,
1 with every difference listed otherwise.

A parameter the newer build added shows up in B's resolved `config`
attribute (every value is spelled out there) as a line `key = value;` that A
lacks. With SAME_LOGS_DEFAULTS naming the newer build's `rql help config
--markdown`, such a line is not a difference when the key is absent from A's
config and its value is the key's default: the option is off, and the
datasets show whether results moved. Those lines are counted and reported.
"""
import os
import re
import sys

import h5py
import numpy as np

IGNORED = {"created", "wall_s", "elapsed_s", "started"}
NEW_AT_DEFAULT = []          # (file, line) of new keys at their defaults, accepted
LINE = re.compile(r"^\s*(\w+) = (.*);$")


def load_defaults(path):
    """key -> set of default texts, from the rows `| `key` | type | `default` | help |`."""
    out = {}
    if not path:
        return out
    with open(path) as f:
        for row in f:
            # keys as the config spells them: a wrapper's `env.KEY` is KEY there
            m = re.match(r"^\| `([\w.]+)` \| \w+ \| `([^`]*)` \|", row)
            if m:
                out.setdefault(m.group(1).split(".")[-1], set()).add(m.group(2))
    return out


DEFAULTS = load_defaults(os.environ.get("SAME_LOGS_DEFAULTS"))


def norm(v):
    v = v.strip().strip('"')
    if v in ("true", "false"):
        return 1.0 if v == "true" else 0.0
    try:
        return float(v)
    except ValueError:
        return v


def config_minus_new_defaults(where, a, b):
    """B's config text without the lines of keys A never names that hold the
    key's default (see the module's docstring)."""
    keys_a = {m.group(1) for m in map(LINE.match, a.splitlines()) if m}
    kept = []
    for line in b.splitlines(keepends=True):
        m = LINE.match(line.rstrip("\n"))
        if m and m.group(1) not in keys_a and m.group(1) in DEFAULTS and \
                norm(m.group(2)) in {norm(d) for d in DEFAULTS[m.group(1)]}:
            NEW_AT_DEFAULT.append((where, line.strip()))
            continue
        kept.append(line)
    return "".join(kept)


def walk(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith((".h5", ".ckpt")):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def compare_attrs(name, A, B, diffs):
    ka, kb = set(A.attrs) - IGNORED, set(B.attrs) - IGNORED
    for k in sorted(ka ^ kb):
        diffs.append(f"{name}: attribute {k} only in {'A' if k in ka else 'B'}")
    for k in sorted(ka & kb):
        va, vb = A.attrs[k], B.attrs[k]
        if k == "config" and DEFAULTS and isinstance(va, str) and isinstance(vb, str) and va != vb:
            vb = config_minus_new_defaults(name, va, vb)
        if not same_value(va, vb):
            diffs.append(f"{name}: attribute {k} differs: {A.attrs[k]!r} vs {B.attrs[k]!r}")


def compare_files(pa, pb, diffs):
    with h5py.File(pa, "r", swmr=pa.endswith(".h5")) as fa, h5py.File(pb, "r", swmr=pb.endswith(".h5")) as fb:
        compare_attrs(pa + ":/", fa, fb, diffs)
        na, nb = [], []
        fa.visit(na.append)
        fb.visit(nb.append)
        sa = {n for n in na if n.split("/")[-1] not in IGNORED}
        sb = {n for n in nb if n.split("/")[-1] not in IGNORED}
        for n in sorted(sa ^ sb):
            diffs.append(f"{pa}:/{n} only in {'A' if n in sa else 'B'}")
        for n in sorted(sa & sb):
            oa, ob = fa[n], fb[n]
            where = f"{pa}:/{n}"
            if isinstance(oa, h5py.Dataset) != isinstance(ob, h5py.Dataset):
                diffs.append(f"{where}: a dataset in one file, a group in the other")
                continue
            compare_attrs(where, oa, ob, diffs)
            if isinstance(oa, h5py.Dataset):
                if oa.dtype != ob.dtype or oa.shape != ob.shape:
                    diffs.append(f"{where}: {oa.dtype}{oa.shape} vs {ob.dtype}{ob.shape}")
                elif n.endswith("replay_final_obs") and n[: -len("final_obs")] + "flags" in fa:
                    flags = fa[n[: -len("final_obs")] + "flags"][()]
                    va, vb = oa[()], ob[()]
                    if len(flags):
                        done = (flags & 3) != 0
                        va, vb = va.reshape(len(flags), -1)[done], vb.reshape(len(flags), -1)[done]
                    if not same_value(va, vb):
                        diffs.append(f"{where}: values differ where an episode ended")
                elif not same_value(oa[()], ob[()]):
                    diffs.append(f"{where}: values differ")


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    a, b = argv[1], argv[2]
    fa, fb = walk(a), walk(b)
    diffs = [f"{f}: only in {a}" for f in sorted(set(fa) - set(fb))]
    diffs += [f"{f}: only in {b}" for f in sorted(set(fb) - set(fa))]
    both = sorted(set(fa) & set(fb))
    for f in both:
        compare_files(os.path.join(a, f), os.path.join(b, f), diffs)
    for d in diffs:
        print(d)
    if NEW_AT_DEFAULT:
        keys = sorted({line for _, line in NEW_AT_DEFAULT})
        print(f"same_logs: new keys at their defaults in B's configs (not differences): {' '.join(keys)}")
    print(f"same_logs: {len(both)} files compared, {len(diffs)} differences")
    return 1 if diffs or not both else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
