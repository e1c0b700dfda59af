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
"""
import os
import sys

import h5py
import numpy as np

IGNORED = {"created", "wall_s", "elapsed_s", "started"}


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
        if not same_value(A.attrs[k], B.attrs[k]):
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
    print(f"same_logs: {len(both)} files compared, {len(diffs)} differences")
    return 1 if diffs or not both else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
