#!/usr/bin/python3
"""Learning curves of rql runs: success rate and return against episodes and
environment steps, one line per agent label (mean across seeds) with a 95%
Student-t confidence band, written to OUT.png and OUT.svg.

    scripts/plot_curves.py runs/tmaze_memory -o runs/tmaze_memory/curves

Each seed's per-episode success and return are smoothed with a trailing
moving average (--window episodes), interpolated onto a common grid that every
seed of the label covers, then averaged; the band is mean +- t(0.975, n-1) *
sd / sqrt(n) over the n seeds (no band for a single seed). With --source
eval the greedy evaluations of /eval are plotted instead (not smoothed).
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rqlog  # noqa: E402


# ---------------------------------------------------------------------------
# Student t quantiles without scipy: regularized incomplete beta by Lentz's
# continued fraction (Numerical Recipes' betacf), inverted by bisection.
# ---------------------------------------------------------------------------

def _betacf(a, b, x):
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        de = d * c
        h *= de
        if abs(de - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """P(T <= t) for Student's t with df degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)
    return 1.0 - tail if t > 0 else tail


def t_ppf(p, df):
    """Quantile of Student's t (0 < p < 1), by bisection on t_cdf."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError("t_ppf needs 0 < p < 1 and df > 0 (got p=%r, df=%r)" % (p, df))
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------
# curves
# ---------------------------------------------------------------------------

def smooth(y, window):
    """Trailing moving average (shorter at the start)."""
    y = np.asarray(y, dtype=float)
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    n = np.arange(1, len(y) + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def mean_band(xs, ys, points=200, level=0.95):
    """Seeds' curves (x ascending) -> common grid, mean, lower, upper, n.
    The grid spans the x range that every seed covers."""
    lo = max(x[0] for x in xs)
    hi = min(x[-1] for x in xs)
    if hi < lo:
        hi = lo
    grid = np.linspace(lo, hi, points) if hi > lo else np.array([lo], dtype=float)
    m = np.vstack([np.interp(grid, x, y) for x, y in zip(xs, ys)])
    mean = m.mean(axis=0)
    n = m.shape[0]
    if n < 2:
        return grid, mean, mean, mean, n
    half = t_ppf(0.5 + level / 2.0, n - 1) * m.std(axis=0, ddof=1) / math.sqrt(n)
    return grid, mean, mean - half, mean + half, n


def curves_by_label(rs, window, source="train"):
    """{label: [(table with episode/env_steps columns, success, return), ...]}:
    smoothed training episodes (source "train") or the greedy evaluations
    (source "eval", as logged)."""
    out = {}
    for r in rs.runs:
        if source == "eval":
            e = r.eval
            if e.empty:
                continue
            e = e.sort_values("at_episode").rename(columns={"at_episode": "episode"})
            out.setdefault(r.label, []).append(
                (e, e["success_rate"].to_numpy(dtype=float), e["return_mean"].to_numpy(dtype=float)))
            continue
        c = r.curves
        if c.empty:
            continue
        c = c.sort_values("episode")
        out.setdefault(r.label, []).append(
            (c, smooth(c["success"].astype(float), window), smooth(c["return"], window)))
    return out


def plot(rs, out, window=None, points=200, title=None, source="train"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = "curves" if source == "train" else "eval"
    n_eps = max((len(getattr(r, table)) for r in rs.runs), default=0)
    if n_eps == 0:
        raise rqlog.LogError("no rows in /%s of %s" % (table, ", ".join(r.path for r in rs.runs)))
    if window is None:
        window = max(1, min(100, n_eps // 20))
    by = curves_by_label(rs, window, source)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharey="row")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    summary = []
    ret_means, ret_bands = [], []
    for k, (label, seeds) in enumerate(by.items()):
        col = colors[k % len(colors)]
        for j, xname in enumerate(("episode", "env_steps")):
            xs = [s[0][xname].to_numpy(dtype=float) for s in seeds]
            for i, idx in enumerate((1, 2)):
                ys = [s[idx] for s in seeds]
                g, m, lo, hi, n = mean_band(xs, ys, points)
                ax = axes[i][j]
                ax.plot(g, m, color=col, lw=1.6,
                        label="%s (n=%d)" % (label, n) if (i, j) == (0, 0) else None)
                if (i, j) == (0, 0):
                    summary.append((label, n, m[-1], lo[-1], hi[-1]))
                if n > 1:
                    if i == 0:      # a success rate lives in [0, 1]: draw the band there
                        lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
                    ax.fill_between(g, lo, hi, color=col, alpha=0.2, lw=0)
                if i == 1:
                    ret_means += [m.min(), m.max()]
                    ret_bands += [lo.min(), hi.max()]
    for j, xl in enumerate(("episodes", "environment steps")):
        axes[1][j].set_xlabel(xl)
    axes[0][0].set_ylabel("success rate")
    axes[1][0].set_ylabel("return")
    for row in axes:
        for ax in row:
            ax.grid(alpha=0.3)
    axes[0][0].set_ylim(-0.05, 1.05)
    # returns: show the bands up to one span of the means beyond them, so a
    # 2-seed band (t = 12.7) does not flatten every curve
    if ret_means:
        a, b = min(ret_means), max(ret_means)
        span = max(b - a, 1e-6)
        axes[1][0].set_ylim(max(min(ret_bands), a - span) - 0.05 * span, min(max(ret_bands), b + span) + 0.05 * span)
    axes[0][0].legend(loc="best", fontsize=9)
    env = sorted({str(r.attrs.get("env", "")) for r in rs.runs} - {""})
    what = ("%d-episode moving average of training episodes" % window if source == "train"
            else "greedy evaluations")
    fig.suptitle(title or "%s: mean over seeds, 95%% t band, %s" % (", ".join(env) or "rql", what))
    paths = rqlog.save_figure(fig, out)
    return paths, summary


def main(argv=None):
    ap = rqlog.plot_parser("Plot learning curves (success rate, return vs episodes and env steps) "
                           "per agent label, mean across seeds with a 95%% t confidence band.",
                           "path", "run log (.h5) or folder of runs (searched recursively)", nargs="+")
    ap.add_argument("-w", "--window", type=int, default=None,
                    help="moving-average window in episodes (default: episodes/20, at most 100)")
    ap.add_argument("--points", type=int, default=200, help="points of the common grid (default 200)")
    ap.add_argument("--source", choices=("train", "eval"), default="train",
                    help="train: every training episode of /curves, smoothed (default); "
                         "eval: the greedy evaluations of /eval")
    ap.add_argument("--title", default=None, help="figure title")
    a = ap.parse_args(argv)
    if a.window is not None and a.window < 1:
        ap.error("--window must be >= 1 (got %d)" % a.window)
    if a.points < 2:
        ap.error("--points must be >= 2 (got %d)" % a.points)
    try:
        runs = []
        for p in a.path:
            runs += rqlog.load_runs(p)
        paths, summary = plot(rqlog.RunSet(runs), a.out, a.window, a.points, a.title, a.source)
    except rqlog.LogError as e:
        print("plot_curves: %s" % e, file=sys.stderr)
        return 2
    basis = ("last greedy evaluation" if a.source == "eval"
             else "moving average of the last training episodes, exploring")
    for label, n, m, lo, hi in summary:
        print("%-24s seeds %d  final success %.3f  [%.3f, %.3f]  (%s)" % (label, n, m, lo, hi, basis))
    print("wrote %s" % " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
