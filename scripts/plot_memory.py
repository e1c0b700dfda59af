#!/usr/bin/python3
"""The memory of a recurrent rql agent made visible: for the episodes a run
recorded (T-maze, memory_room, any env with a signal in the first
observation), the hidden state h (and for an LSTM the cell state c) of every
unit over time, one panel per sign the agent saw, with the units that carry
the sign (largest separation between the signs) highlighted in colour.
Writes OUT.png and OUT.svg and prints the units ranked by separation.

    scripts/plot_memory.py runs/tmaze_memory/drqn-lstm/seed1.h5 -o memory

The sign of an episode is the value of the signal bits of its first
observation (the log's signal_bits attribute where present, else the
observation entries that differ between episodes at t = 0). The separation of
a unit is the mean over time of |mean over sign-A episodes - mean over sign-B
episodes| of its state (at each step t, the mean over the episodes still
running), over the steps that episodes of both signs reach; with more than
two signs, the two most frequent are compared.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rqlog  # noqa: E402


def signal_bits(run, eps, given=None):
    """Indices of the observation entries that carry the sign."""
    if given is not None:
        n = len(run.columns("obs"))
        bad = [b for b in given if not 0 <= b < n]
        if bad:
            raise rqlog.LogError("%s: --bits %s out of range: observations have %d entries"
                                 % (run.path, ",".join(map(str, bad)), n))
        return list(given)
    for where in (run.group_attrs.get("steps", {}), run.attrs):
        v = where.get("signal_bits")
        if v is not None:
            return [int(x) for x in np.atleast_1d(v)]
    first = np.vstack([d.loc[0, run.columns("obs")].to_numpy(dtype=float) for d in eps.values()])
    return [int(j) for j in np.flatnonzero(first.max(axis=0) != first.min(axis=0))]


def group_by_sign(run, eps, bits):
    """{sign label: [episode numbers]}, most frequent sign first."""
    obs = run.columns("obs")
    groups = {}
    for e, d in eps.items():
        v = d.loc[0, obs].to_numpy(dtype=float)[bits] if bits else np.zeros(0)
        key = ", ".join("obs_%d=%g" % (b, x) for b, x in zip(bits, v)) or "all episodes"
        groups.setdefault(key, []).append(e)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def traces(run, eps, episodes, prefix):
    """[episodes] list of arrays [T_e, H] of the state columns with prefix."""
    cols = run.columns(prefix)
    return [eps[e][cols].to_numpy(dtype=float) for e in episodes]


def mean_trace(tr, T):
    """Mean over episodes at each t < T of those episodes that reach t: [T, H]."""
    H = tr[0].shape[1]
    s, n = np.zeros((T, H)), np.zeros((T, 1))
    for x in tr:
        m = min(T, x.shape[0])
        s[:m] += x[:m]
        n[:m] += 1
    return s / n


def separation(a, b):
    """Per-unit mean over t of |mean_A(t) - mean_B(t)|, over the steps that
    episodes of both signs reach (means at t over the episodes still running)."""
    T = min(max(x.shape[0] for x in a), max(x.shape[0] for x in b))
    return np.abs(mean_trace(a, T) - mean_trace(b, T)).mean(axis=0)


def analyse(run, top=3, max_episodes=None, bits=None):
    eps = run.episodes()
    if not eps:
        raise rqlog.LogError("%s: no recorded steps (/steps is empty): enable trajectory "
                             "recording in the config" % run.path)
    if not run.columns("h"):
        raise rqlog.LogError("%s: /steps has no hidden state (agent %s has no recurrent core)"
                             % (run.path, run.attrs.get("agent", "?")))
    if max_episodes:
        keep = sorted(eps)[-max_episodes:]
        eps = {e: eps[e] for e in keep}
    bits = signal_bits(run, eps, bits)
    groups = group_by_sign(run, eps, bits)
    # a GRU or Elman core logs no cell state (its columns, if any, are NaN)
    kinds = [p for p in ("h", "c") if run.columns(p) and not run.steps[run.columns(p)].isna().all().all()]
    keys = list(groups)
    res = {"groups": groups, "bits": bits, "kinds": kinds, "sep": {}, "top": {}}
    for p in kinds:
        if len(keys) >= 2:
            s = separation(traces(run, eps, groups[keys[0]], p), traces(run, eps, groups[keys[1]], p))
        else:
            s = np.zeros(len(run.columns(p)))
        res["sep"][p] = s
        res["top"][p] = [int(u) for u in np.argsort(-s, kind="stable")[:top]] if len(keys) >= 2 else []
    res["eps"] = eps
    return res


def plot(run, res, out, title=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    groups, kinds, eps = res["groups"], res["kinds"], res["eps"]
    keys = list(groups)[:4]
    names = {"h": "hidden h", "c": "cell c"}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    unit_color = {}                 # one colour per highlighted unit, the same in h and c
    for p in kinds:
        for u in res["top"][p]:
            unit_color.setdefault(u, colors[len(unit_color) % len(colors)])
    ncol = len(keys) + 1
    fig, axes = plt.subplots(len(kinds), ncol, figsize=(4.2 * ncol, 3.4 * len(kinds)), squeeze=False)
    for i, p in enumerate(kinds):
        top = res["top"][p]
        lo = min(np.nanmin(t) for t in traces(run, eps, list(eps), p))
        hi = max(np.nanmax(t) for t in traces(run, eps, list(eps), p))
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        for j, k in enumerate(keys):
            ax = axes[i][j]
            for tr in traces(run, eps, groups[k], p):
                t = np.arange(tr.shape[0])
                rest = [u for u in range(tr.shape[1]) if u not in top]
                if rest:
                    ax.plot(t, tr[:, rest], color="0.6", lw=0.5, alpha=0.35)
                for u in top:
                    ax.plot(t, tr[:, u], color=unit_color[u], lw=1.6, alpha=0.8)
            for u in top:
                ax.plot([], [], color=unit_color[u], lw=1.6, label="unit %d" % u)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_title("%s | %s (%d episodes)" % (names[p], k, len(groups[k])), fontsize=9)
            ax.set_xlabel("step t")
            ax.grid(alpha=0.3)
            if top:
                ax.legend(fontsize=8, loc="best")
        ax = axes[i][ncol - 1]
        s = res["sep"][p]
        bar_colors = ["0.6"] * len(s)
        for u in top:
            bar_colors[u] = unit_color[u]
        ax.bar(np.arange(len(s)), s, color=bar_colors)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("%s: separation between the two signs" % names[p], fontsize=9)
        ax.set_xlabel("unit")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or "%s (%s, %s, seed %s): recurrent state by sign seen"
                 % (os.path.join(*run.path.split(os.sep)[-2:]), run.attrs.get("env", "?"),
                    run.attrs.get("net_spec", run.label), run.seed))
    return rqlog.save_figure(fig, out)


def main(argv=None):
    ap = rqlog.plot_parser("Plot the hidden and cell state of every recurrent unit over the recorded "
                           "episodes of a run, grouped by the sign seen, sign-carrying units highlighted.",
                           "path", "run log (.h5), or a folder: every run under it, OUT_<run name>")
    ap.add_argument("--top", type=int, default=3, help="units to highlight (default 3)")
    ap.add_argument("--episodes", type=int, default=None,
                    help="use only the last N recorded episodes (default: all)")
    ap.add_argument("--bits", default=None,
                    help="observation entries that carry the sign, e.g. 0,2 (default: those that "
                         "differ between the first observations of the recorded episodes)")
    ap.add_argument("--title", default=None, help="figure title")
    a = ap.parse_args(argv)
    if a.top < 0:
        ap.error("--top must be >= 0 (got %d)" % a.top)
    bits = None
    if a.bits is not None:
        try:
            bits = [int(x) for x in a.bits.split(",") if x.strip()]
        except ValueError:
            ap.error("--bits wants comma-separated integers (got %r)" % a.bits)
    try:
        runs = rqlog.load_runs(a.path)
    except rqlog.LogError as e:
        print("plot_memory: %s" % e, file=sys.stderr)
        return 2
    done = 0
    try:
        for run in runs:
            if len(runs) > 1 and (run.steps.empty or not run.columns("h")):
                print("%s: skipped (no recorded recurrent state)" % run.path)
                continue
            res = analyse(run, a.top, a.episodes, bits)
            out = a.out if len(runs) == 1 else "%s_%s_%s" % (
                a.out, run.label, os.path.splitext(os.path.basename(run.path))[0])
            paths = plot(run, res, out, a.title)
            print("%s: %d recorded episodes, signs: %s" % (run.path, len(res["eps"]), "; ".join(
                "%s (%d)" % (k, len(v)) for k, v in res["groups"].items())))
            for p in res["kinds"]:
                if res["top"][p]:
                    print("  %s units by separation: %s" % (p, ", ".join(
                        "%d (%.3f)" % (u, res["sep"][p][u]) for u in res["top"][p])))
                else:
                    print("  %s: a single sign was recorded, nothing to separate" % p)
            print("wrote %s" % " ".join(paths))
            done += 1
    except rqlog.LogError as e:
        print("plot_memory: %s" % e, file=sys.stderr)
        return 2
    if not done:
        print("plot_memory: no run under %s recorded a recurrent state" % a.path, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
