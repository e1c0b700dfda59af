#!/usr/bin/python3
"""A suite's scorecard as two pictures in OUT.png and OUT.svg: the setting
score against the swept setting (memory length L or bits n), one line per
agent, with the rule's threshold; and the performance profiles (fraction of
runs x settings with normalised score above tau, 95% bootstrap band).

    rql suite memory_len --score --json > card.json
    scripts/plot_suite.py card.json -o runs/suite/memory_len/score
    scripts/plot_suite.py runs/suite/memory_len --suite memory_len -o out   # runs rql for the JSON

The JSON is `rql suite NAME --score --json` (docs/suite.md has its fields).
The table it draws is printed too: one row per setting, one column per agent.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rqlog  # noqa: E402


def load_card(path, suite=None, rql=None):
    if os.path.isdir(path):
        if not suite:
            sys.exit("plot_suite.py: a folder needs --suite NAME")
        exe = rql or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rql")
        r = subprocess.run([exe, "suite", suite, "--score", "--json", "-o", path], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("plot_suite.py: rql suite failed: " + r.stderr)
        return json.loads(r.stdout)
    with open(path) as fh:
        return json.load(fh)


def table(card):
    """Rows (setting, [score per agent]) as printed."""
    rows = []
    for m, s in enumerate(card["settings"]):
        rows.append((s, [a["setting_scores"][m] for a in card["agents"]]))
    return rows


def main(argv=None):
    ap = rqlog.plot_parser(__doc__.split("\n\n")[0],
                           "card", "rql suite --score --json output, or a suite's output folder (with --suite)")
    ap.add_argument("--suite", help="the suite's name when CARD is a folder")
    ap.add_argument("--rql", help="the rql binary (default ./rql)")
    a = ap.parse_args(argv)
    card = load_card(a.card, a.suite, a.rql)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = card["setting_key"]
    try:
        xs = [float(s) for s in card["settings"]]
    except ValueError:
        xs = list(range(len(card["settings"])))
    print("%-14s %s" % (key, " ".join("%-12s" % x["label"] for x in card["agents"])))
    for s, v in table(card):
        print("%-14s %s" % (s, " ".join("%-12s" % ("n/a" if x is None else "%.3f" % x) for x in v)))
    for x in card["agents"]:
        print("%s: score %s, learned %d/%d" % (x["label"], "n/a" if x["score"] is None else "%.3f" % x["score"],
                                                x["learned"], x["verdicts"]))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for x in card["agents"]:
        ys = [float("nan") if v is None else v for v in x["setting_scores"]]
        ax1.plot(xs, ys, marker="o", ms=3, label="%s (%s)" % (x["label"], "n/a" if x["score"] is None
                                                                 else "%.2f" % x["score"]))
    th = card["params"].get("threshold")
    if th is not None:
        ax1.axhline(th, color="grey", ls="--", lw=1, label="learned below %g" % th if card["rule"] == "bsuite"
                    else "threshold %g" % th)
    ax1.set_xlabel(key)
    ax1.set_ylabel("regret ratio (wrong / 0.5)" if card["rule"] == "bsuite" else "setting score")
    if xs and min(xs) > 0 and max(xs) / min(xs) >= 20:
        ax1.set_xscale("log")
    ax1.set_title("%s: setting scores (%s rule)" % (card["suite"], card["rule"]))
    ax1.legend(fontsize=8)
    tau = card["tau"]
    for x in card["agents"]:
        p = [v["point"] for v in x["profile"]]
        if any(v is None for v in p):
            continue
        line, = ax2.plot(tau, p, label=x["label"])
        lo = [v["lo"] for v in x["profile"]]
        hi = [v["hi"] for v in x["profile"]]
        ax2.fill_between(tau, lo, hi, color=line.get_color(), alpha=0.2)
    ax2.set_xlabel("normalised score tau (0 random, 1 optimal)")
    ax2.set_ylabel("fraction of runs with score > tau")
    ax2.set_title("performance profiles (rliable)")
    ax2.set_ylim(-0.02, 1.02)
    ax2.legend(fontsize=8)
    for p in rqlog.save_figure(fig, a.out):
        print("wrote", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
