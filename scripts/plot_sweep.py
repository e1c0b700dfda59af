#!/usr/bin/python3
"""A sweep's results against one swept key: final greedy success (mean over
seeds, 95% Student-t band) or the fraction of seeds solved, one line per
agent label, written to OUT.png and OUT.svg, with the table printed.

    scripts/plot_sweep.py runs/sweep -o runs/sweep/success            # x: the first key
    scripts/plot_sweep.py runs/sweep -o out --x length --metric solved

The sweep is a folder of `rql sweep` (or any folder of its logs), read with
rqlog.load_sweep. When the sweep has other keys than --x, each combination
of their values gets its own panel. Numeric keys are plotted on a numeric
axis (--logx for a log scale), other values (e.g. core = lstm, gru) as
categories in the order they appear. Failed runs (no log) are left out and
counted in the table.
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rqlog  # noqa: E402

METRICS = {"success": ("success_mean", "final greedy success (mean over seeds, 95% t band)"),
           "solved": ("solved_frac", "fraction of seeds solved"),
           "return": ("return_mean", "final greedy return (mean over seeds)")}


def _numeric(values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def summarise(df, x, threshold_note=""):
    """sweep_table by (other keys, x, label) with the solved fraction."""
    keys = list(df.attrs["keys"])
    others = [k for k in keys if k != x]
    t = rqlog.sweep_table(df, others + [x])
    t["solved_frac"] = t["solved"] / t["seeds"].where(t["seeds"] > 0)
    return t, others


def plot(df, out, x=None, metric="success", logx=False, title=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(df.attrs.get("keys", {}))
    if not keys:
        raise rqlog.LogError("no swept keys: not a sweep (rql sweep writes DIR/sweep.json)")
    x = x or keys[0]
    if x not in keys:
        raise rqlog.LogError("--x %s: not a swept key (swept: %s)" % (x, ", ".join(keys)))
    t, others = summarise(df, x)
    col, ylabel = METRICS[metric]
    xs_all = list(dict.fromkeys(df[x].tolist()))           # order of appearance
    numeric = _numeric(xs_all)
    if numeric:
        xs_all = sorted(xs_all)
    panels = [()] if not others else list(dict.fromkeys(
        tuple(r) for r in df[others].itertuples(index=False, name=None)))
    n = len(panels)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(7.0, 5.2 * cols), 3.8 * rows + 0.4), squeeze=False,
                             sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = list(dict.fromkeys(df["label"].tolist()))
    for i, pv in enumerate(panels):
        ax = axes[i // cols][i % cols]
        sub = t
        for k, v in zip(others, pv):
            sub = sub[sub[k] == v]
        for j, lab in enumerate(labels):
            s = sub[sub["label"] == lab]
            if s.empty:
                continue
            pos = [xs_all.index(v) for v in s[x]]
            order = np.argsort(pos)
            xv = (np.array(s[x].tolist(), dtype=float) if numeric else np.array(pos, dtype=float))[order]
            yv = s[col].to_numpy(dtype=float)[order]
            c = colors[j % len(colors)]
            # markers of decreasing size, so agents with equal results stay visible
            ax.plot(xv, yv, "-", marker="osD^v<>"[j % 7], ms=max(3.0, 9.0 - 2.0 * j), color=c, lw=1.6, label=lab)
            if metric == "success":
                half = s["success_ci"].to_numpy(dtype=float)[order]
                ok = np.isfinite(half)
                if ok.any():
                    ax.fill_between(xv[ok], np.clip(yv[ok] - half[ok], 0, 1), np.clip(yv[ok] + half[ok], 0, 1),
                                    color=c, alpha=0.18, lw=0)
        if not numeric:
            ax.set_xticks(range(len(xs_all)))
            ax.set_xticklabels([str(v) for v in xs_all])
        elif logx:
            ax.set_xscale("log")
        if numeric and len(xs_all) <= 12:
            ax.set_xticks([float(v) for v in xs_all])
            ax.set_xticklabels([str(v) for v in xs_all])
        ax.set_xlabel("%s (%s)" % (x, df.attrs["keys"][x]))
        if metric != "return":
            ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        if others:
            ax.set_title(", ".join("%s=%s" % (k, v) for k, v in zip(others, pv)), fontsize=10)
        if i % cols == 0:
            ax.set_ylabel(ylabel if len(ylabel) < 40 else ylabel.split(" (")[0])
    for i in range(n, rows * cols):
        axes[i // cols][i % cols].set_visible(False)
    axes[0][0].legend(loc="best", fontsize=9)
    env = sorted(set(str(v) for v in df.get("env", [])) - {""}) if "env" in df else []
    fig.suptitle(title or "%s against %s%s" % (ylabel, x, (" on " + ", ".join(env)) if env else ""), fontsize=11)
    paths = rqlog.save_figure(fig, out)
    return paths, t, others, x


def main(argv=None):
    ap = rqlog.plot_parser("Plot a sweep's final success (or seeds solved, or return) against one swept key, "
                           "one line per agent label; prints the table.",
                           "path", "folder of `rql sweep` (with sweep.json), or a folder of its logs")
    ap.add_argument("--x", default=None, help="swept key on the x axis, by short name (default: the first)")
    ap.add_argument("--metric", choices=sorted(METRICS), default="success",
                    help="success: mean final greedy success with a 95%% t band (default); "
                         "solved: fraction of seeds that reached --threshold; return: mean final return")
    ap.add_argument("--threshold", type=float, default=1.0, help="success rate that counts as solved (default 1.0)")
    ap.add_argument("--logx", action="store_true", help="log scale for a numeric x")
    ap.add_argument("--title", default=None)
    a = ap.parse_args(argv)
    if not 0 < a.threshold <= 1:
        ap.error("--threshold must be in (0, 1]")
    try:
        df = rqlog.load_sweep(a.path, a.threshold)
        if df.empty:
            raise rqlog.LogError("%s: no runs" % a.path)
        paths, t, others, x = plot(df, a.out, a.x, a.metric, a.logx, a.title)
    except rqlog.LogError as e:
        print("plot_sweep: %s" % e, file=sys.stderr)
        return 2
    head = others + [x]
    print(" ".join("%-10s" % k for k in head) + " %-16s %6s %7s %7s %16s %10s" % (
        "agent", "seeds", "solved", "failed", "final success", "return"))
    for _, r in t.iterrows():
        ci = "" if not np.isfinite(r["success_ci"]) else " ± %.3f" % r["success_ci"]
        print(" ".join("%-10s" % r[k] for k in head) + " %-16s %6d %7s %7d %16s %10.3f" % (
            r["label"], r["seeds"], "%d/%d" % (r["solved"], r["seeds"]), r["failed"],
            "%.3f%s" % (r["success_mean"], ci), r["return_mean"]))
    print("wrote %s" % " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
