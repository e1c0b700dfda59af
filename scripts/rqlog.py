#!/usr/bin/python3
"""rqlog -- load rql HDF5 run logs into pandas DataFrames and numpy arrays.

Import it (``sys.path.insert(0, "scripts"); import rqlog``) or run it:

    scripts/rqlog.py RUN.h5|DIR      prints a summary of every run found

    run = rqlog.load("runs/tmaze_memory/drqn-lstm/seed1.h5")
    run.curves    one row per episode  (episode, env_steps, return, length,
                  success, epsilon, wall_s)
    run.train     one row per logged update (update, loss, q_mean, grad_norm)
    run.eval      one row per greedy evaluation (at_episode, env_steps,
                  return_mean, success_rate, episodes)
    run.steps     one row per recorded step: episode, t, actions, rewards,
                  terminations, truncations, and the vector datasets expanded
                  into columns obs_0.. (observations), next_obs_0..
                  (next_observations), q_0.. (q_values), h_0.. (hidden),
                  c_0.. (cell); run.episodes() splits it by episode
    run.weights            {tensor name: array} of the latest snapshot
    run.weight_snapshots   {tensor name: array [K, ...]} of every snapshot
    run.weight_episodes    at_episode [K] of the snapshots
    run.attrs     root attributes (seed, env, agent, label, ...)
    run.config    the config text of the root attribute parsed into a dict

    df = rqlog.load_dir("runs/tmaze_memory")    # all runs, with label, seed
    df.curves, df.train, df.eval, df.steps       # and run columns

    sw = rqlog.load_sweep("runs/sweep")          # a folder of `rql sweep`
    sw            one row per run: one column per swept key (its short name,
                  e.g. length, core; sw.attrs["keys"] maps names to keys),
                  label, seed, status, log, final_success, final_return,
                  episodes, solve_episode (inf: never), solved, cell, error
    rqlog.sweep_table(sw, "length")              # mean success, seeds solved
                                                 # per (length, label)

Booleans (HDF5 enum FALSE/TRUE) become bool columns; strings become str.
A log whose format_version is newer than FORMAT_VERSION is refused.
"""
import argparse
import json
import math
import os
import re
import signal
import sys

import h5py
import numpy as np
import pandas as pd

FORMAT = "rql-log"
FORMAT_VERSION = 1          # the newest log format these scripts understand
SWEEP_FORMAT = "rql-sweep"
SWEEP_FORMAT_VERSION = 1    # the newest sweep summary (sweep.json) these scripts understand

# Vector (2-D) datasets of /steps are expanded into PREFIX_i columns.
VECTOR_PREFIX = {"observations": "obs", "next_observations": "next_obs", "q_values": "q",
                 "hidden": "h", "cell": "c"}
TABLES = ("curves", "train", "eval", "steps")


class LogError(Exception):
    """A file that is not a readable rql log (the message names the file)."""


# ---------------------------------------------------------------------------
# libconfig text -> dict
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+L{0,2}
                  |(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?L{0,2}))
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
""", re.VERBOSE | re.DOTALL)

_ESC = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "\\": "\\", '"': '"'}


def _tokens(text):
    pos, line, out = 0, 1, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError("config line %d: unexpected %r" % (line, text[pos:pos + 20]))
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind), line))
        line += m.group(0).count("\n")
        pos = m.end()
    out.append(("end", "", line))
    return out


def parse_config(text):
    """Parse libconfig text (settings, groups {}, lists (), arrays [],
    strings with adjacent-literal concatenation, ints, hex, floats, booleans,
    # // /* */ comments) into nested dicts and lists."""
    toks = _tokens(text)
    i = 0

    def peek():
        return toks[i]

    def take(kind=None, value=None):
        nonlocal i
        t = toks[i]
        if (kind and t[0] != kind) or (value and t[1] != value):
            want = value or kind
            raise ValueError("config line %d: expected %s, found %r" % (t[2], want, t[1] or "end"))
        i += 1
        return t

    def settings(closer):
        d = {}
        while not (peek()[0] == "punct" and peek()[1] == closer) and peek()[0] != "end":
            name = take("name")
            t = take("punct")
            if t[1] not in "=:":
                raise ValueError("config line %d: expected '=' or ':' after %s" % (t[2], name[1]))
            d[name[1]] = value()
            if peek()[0] == "punct" and peek()[1] in ";,":
                take()
        return d

    def value():
        t = peek()
        if t[0] == "str":
            parts = []
            while peek()[0] == "str":
                s = take()[1][1:-1]
                parts.append(re.sub(r"\\(x[0-9a-fA-F]{2}|.)",
                                    lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x"
                                    else _ESC.get(m.group(1), m.group(1)), s))
            return "".join(parts)
        if t[0] == "num":
            take()
            s = t[1].rstrip("L")
            if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", s):
                return int(s, 16)
            if re.fullmatch(r"[-+]?\d+", s):
                return int(s)
            return float(s)
        if t[0] == "name" and t[1].lower() in ("true", "false"):
            take()
            return t[1].lower() == "true"
        if t[0] == "punct" and t[1] in "{([":
            take()
            if t[1] == "{":
                d = settings("}")
                take("punct", "}")
                return d
            closer = ")" if t[1] == "(" else "]"
            items = []
            while not (peek()[0] == "punct" and peek()[1] == closer):
                items.append(value())
                if peek()[0] == "punct" and peek()[1] == ",":
                    take()
                elif not (peek()[0] == "punct" and peek()[1] == closer):
                    raise ValueError("config line %d: expected ',' or '%s'" % (peek()[2], closer))
            take("punct", closer)
            return items
        raise ValueError("config line %d: unexpected %r" % (t[2], t[1] or "end of text"))

    d = settings(None)
    if peek()[0] != "end":
        raise ValueError("config line %d: unexpected %r" % (peek()[2], peek()[1]))
    return d


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

def _attr(v):
    """HDF5 attribute -> plain Python value."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "OS":
            return [x.decode("utf-8") if isinstance(x, bytes) else x for x in v.tolist()]
        if v.shape == ():
            return v.item()
        return v
    if isinstance(v, np.generic):
        return v.item()
    return v


def _is_bool_enum(ds):
    d = h5py.check_enum_dtype(ds.dtype)
    return d is not None and set(k.upper() for k in d) == {"FALSE", "TRUE"}


def _column(ds):
    """Dataset -> numpy array with booleans and strings decoded."""
    a = ds[()]
    if _is_bool_enum(ds):
        return a.astype(bool)
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in a], dtype=object)
    return a


def _table(f, name, path):
    """Group of equal-length 1-D / 2-D datasets -> DataFrame (2-D expanded)."""
    if name not in f:
        return pd.DataFrame()
    g = f[name]
    cols, n = {}, None
    for key in g:                     # creation order if tracked, else alphabetical
        ds = g[key]
        if not isinstance(ds, h5py.Dataset):
            continue
        a = _column(ds)
        if a.ndim == 0:
            continue
        if n is None:
            n = a.shape[0]
        elif a.shape[0] != n:
            # a writer killed mid-row leaves ragged tables: keep complete rows
            n = min(n, a.shape[0])
        if a.ndim == 1:
            cols[key] = a
        else:
            a = a.reshape(a.shape[0], int(np.prod(a.shape[1:])))
            p = VECTOR_PREFIX.get(key, key)
            for j in range(a.shape[1]):
                cols["%s_%d" % (p, j)] = a[:, j]
    if not cols:
        return pd.DataFrame()
    return pd.DataFrame({k: v[:n] for k, v in cols.items()})


def _open(path):
    try:
        return h5py.File(path, "r", swmr=True)    # readable while rql still writes it
    except (OSError, ValueError):
        pass
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise LogError("%s: cannot open as HDF5 (%s)" % (path, e)) from None


def check_format(f, path):
    fmt = _attr(f.attrs.get("format", None))
    if fmt != FORMAT:
        raise LogError("%s: not an rql run log (root attribute format is %r, want %r)"
                       % (path, fmt, FORMAT))
    ver = _attr(f.attrs.get("format_version", None))
    if ver is None:
        raise LogError("%s: rql log without a format_version attribute" % path)
    if int(ver) > FORMAT_VERSION:
        raise LogError("%s: log format_version %d is newer than these scripts know (%d); "
                       "update scripts/ from the rql that wrote it" % (path, int(ver), FORMAT_VERSION))
    return int(ver)


class Run:
    """One run log, fully loaded into memory (see the module docstring)."""

    def __init__(self, path):
        self.path = path
        with _open(path) as f:
            self.format_version = check_format(f, path)
            self.attrs = {k: _attr(v) for k, v in f.attrs.items()}
            text = self.attrs.get("config", "")
            try:
                self.config = parse_config(text) if text else {}
            except ValueError as e:
                raise LogError("%s: root attribute config: %s" % (path, e)) from None
            self.curves = _table(f, "curves", path)
            self.train = _table(f, "train", path)
            self.eval = _table(f, "eval", path)
            self.steps = _table(f, "steps", path)
            self.group_attrs = {}
            for name in TABLES + ("weights",):
                if name in f:
                    self.group_attrs[name] = {k: _attr(v) for k, v in f[name].attrs.items()}
            self.weight_snapshots, self.weights = {}, {}
            self.weight_episodes = np.zeros(0, dtype=np.int64)
            self.weights_attrs = self.group_attrs.get("weights", {})
            if "weights" in f:
                self._load_weights(f["weights"])

    def _load_weights(self, g):
        if "at_episode" in g:
            self.weight_episodes = g["at_episode"][()]
        k = len(self.weight_episodes)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name != "at_episode":
                a = obj[()]
                if "at_episode" in g:
                    a = a[:k]            # rows past at_episode are a torn append
                self.weight_snapshots[name.replace("/", ".")] = a
        g.visititems(visit)
        if k:
            self.weights = {n: a[-1] for n, a in self.weight_snapshots.items()}

    @property
    def label(self):
        return self.attrs.get("label") or self.attrs.get("agent") or os.path.basename(self.path)

    @property
    def seed(self):
        return self.attrs.get("seed")

    def episodes(self):
        """Recorded episodes: {episode number: DataFrame of its steps, ordered by t}."""
        if self.steps.empty:
            return {}
        return {int(e): d.sort_values("t").reset_index(drop=True)
                for e, d in self.steps.groupby("episode", sort=True)}

    def columns(self, prefix):
        """Expanded vector columns of steps with that prefix, in index order."""
        c = [x for x in self.steps.columns if re.fullmatch(re.escape(prefix) + r"_\d+", x)]
        return sorted(c, key=lambda x: int(x.rsplit("_", 1)[1]))

    def __repr__(self):
        return "<rqlog.Run %s label=%s seed=%s: %d episodes, %d updates, %d evals, %d steps, %d snapshots>" % (
            self.path, self.label, self.seed, len(self.curves), len(self.train), len(self.eval),
            len(self.steps), len(self.weight_episodes))


def load(path):
    """Load one run log."""
    if not os.path.isfile(path):
        raise LogError("%s: no such file" % path)
    return Run(path)


def is_run_log(path):
    """True for an HDF5 file whose root says format = rql-log (so checkpoints,
    exports and other HDF5 files are skipped)."""
    if not path.endswith((".h5", ".hdf5")):
        return False
    try:
        with _open(path) as f:
            return _attr(f.attrs.get("format", None)) == FORMAT
    except LogError as e:
        print("rqlog: skipping %s" % e, file=sys.stderr)
        return False


def plot_parser(description, name, help, nargs=None):
    """The plot scripts' command line: DESCRIPTION, one positional NAME (its
    HELP, NARGS as argparse takes it) and -o/--out, the prefix save_figure
    takes. The script adds its own options to the parser returned."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument(name, nargs=nargs, help=help)
    ap.add_argument("-o", "--out", required=True, help="output prefix: writes OUT.png and OUT.svg")
    return ap


def save_figure(fig, out, dpi=110):
    """Lay out a matplotlib figure (tight), write it to OUT.png (at dpi) and
    OUT.svg, creating OUT's folder, and close it; returns the two paths. The
    plot scripts all save this way."""
    import matplotlib.pyplot as plt
    d = os.path.dirname(out)
    if d:
        os.makedirs(d, exist_ok=True)
    fig.tight_layout()
    paths = [out + ".png", out + ".svg"]
    fig.savefig(paths[0], dpi=dpi)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def find_runs(path):
    """A run file, or every run log under a folder (recursively, sorted)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise LogError("%s: no such file or folder" % path)
    out = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for n in sorted(files):
            p = os.path.join(root, n)
            if is_run_log(p):
                out.append(p)
    if not out:
        raise LogError("%s: no rql run logs (*.h5 with format = %s) found" % (path, FORMAT))
    return out


class RunSet:
    """Runs concatenated: every table gets columns run (file), label, seed."""

    def __init__(self, runs):
        self.runs = runs
        for name in TABLES:
            parts = []
            for r in runs:
                d = getattr(r, name)
                if d.empty:
                    continue
                d = d.copy()
                d.insert(0, "seed", r.seed)
                d.insert(0, "label", r.label)
                d.insert(0, "run", r.path)
                parts.append(d)
            setattr(self, name, pd.concat(parts, ignore_index=True) if parts else pd.DataFrame())

    def labels(self):
        seen = []
        for r in self.runs:
            if r.label not in seen:
                seen.append(r.label)
        return seen


def load_runs(path):
    """Every run under a folder (or the one file), loaded, in find_runs'
    order; each Run knows its path."""
    return [load(p) for p in find_runs(path)]


def load_dir(path):
    """Load every run under a folder (or one file) into a RunSet."""
    return RunSet(load_runs(path))


# ---------------------------------------------------------------------------
# sweeps (rql sweep): DIR/sweep.json and the logs' root attribute sweep
# ---------------------------------------------------------------------------

def sweep_values(text):
    """The root attribute sweep of a log ("KEY = VALUE" lines, VALUE a
    libconfig literal) -> {key: value} with typed values."""
    out = {}
    for line in (text or "").splitlines():
        if " = " not in line:
            continue
        k, v = line.split(" = ", 1)
        out[k.strip()] = parse_config("v = %s;" % v)["v"]
    return out


def short_names(keys):
    """Short column names of swept keys: the last part of each key, or the
    whole key where two last parts clash (what `rql compare` prints)."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (k if last.count(s) > 1 else s) for k, s in zip(keys, last)}


def _log_summary(path, threshold):
    """Final greedy results of a log, read from /eval alone (light)."""
    out = {"log_status": None, "episodes": np.nan, "evals": 0, "final_success": np.nan,
           "final_return": np.nan, "solve_episode": np.nan, "solved": np.nan}
    if not path or not os.path.isfile(path):
        return out
    try:
        with _open(path) as f:
            check_format(f, path)
            out["log_status"] = _attr(f.attrs.get("status", "")) or ""
            out["episodes"] = len(f["curves/episode"]) if "curves/episode" in f else 0
            if "eval" in f:
                at = f["eval/at_episode"][()]
                sr = f["eval/success_rate"][()]
                rm = f["eval/return_mean"][()]
                n = min(len(at), len(sr), len(rm))
                out["evals"] = n
                if n:
                    out["final_success"] = float(sr[n - 1])
                    out["final_return"] = float(rm[n - 1])
                    hit = np.nonzero(sr[:n] >= threshold)[0]
                    out["solve_episode"] = float(at[hit[0]]) if len(hit) else math.inf
                    out["solved"] = bool(len(hit))
    except (OSError, KeyError, LogError) as e:
        print("rqlog: skipping %s" % e, file=sys.stderr)
    return out


def load_sweep(path, threshold=1.0):
    """A sweep -> DataFrame, one row per run, one column per swept key.

    path is the folder of `rql sweep` (its sweep.json says which runs there
    are, with their cells, statuses and errors; failed runs have no log and
    NaN results), or any folder or file of logs of sweeps (their root
    attribute sweep gives the values). Columns: the swept keys by short name
    (df.attrs["keys"]: {short name: key}), label, seed, status, log, cell,
    error, log_status, episodes, evals, final_success, final_return,
    solve_episode (first evaluation with success >= threshold; inf: never),
    solved."""
    rows, keys, names = [], [], {}
    manifest = os.path.join(path, "sweep.json") if os.path.isdir(path) else None
    if manifest and os.path.isfile(manifest):
        with open(manifest) as fh:
            try:
                j = json.load(fh)
            except ValueError as e:
                raise LogError("%s: not JSON (%s)" % (manifest, e)) from None
        if j.get("format") != SWEEP_FORMAT:
            raise LogError("%s: not an rql sweep summary (format %r)" % (manifest, j.get("format")))
        if int(j.get("format_version", 0)) > SWEEP_FORMAT_VERSION:
            raise LogError("%s: sweep format_version %s is newer than these scripts know (%d)"
                           % (manifest, j.get("format_version"), SWEEP_FORMAT_VERSION))
        keys = [k["key"] for k in j["keys"]]
        names = {k["key"]: k["name"] for k in j["keys"]}
        for r in j["runs"]:
            row = {names[k]: r["values"].get(k) for k in keys}
            log = os.path.join(path, r["log"])
            row.update(label=r["label"], seed=r["seed"], status=r["status"], log=log, cell=r["cell_dir"],
                       error=r["error"], rank=r["rank"], wall_s=r["wall_s"])
            row.update(_log_summary(log if r["status"] != "failed" else None, threshold))
            rows.append(row)
    else:
        found = []
        for p in find_runs(path):
            with _open(p) as f:
                check_format(f, p)
                vals = sweep_values(_attr(f.attrs.get("sweep", "")))
                found.append((p, vals, _attr(f.attrs.get("label", "")), _attr(f.attrs.get("seed", None))))
            for k in vals:
                if k not in keys:
                    keys.append(k)
        names = short_names(keys)
        for p, vals, label, seed in found:
            row = {names[k]: vals.get(k) for k in keys}
            s = _log_summary(p, threshold)
            row.update(label=label, seed=seed, status=s["log_status"], log=p,
                       cell=",".join("%s=%s" % (names[k], vals.get(k)) for k in keys), error=None)
            row.update(s)
            rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["keys"] = {names[k]: k for k in keys}
    return df


def _t975(n):
    """t(0.975, n - 1) for a 95% interval (scipy-free; tables up to 30, then 1.96 + 2.4/n)."""
    table = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
             2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
             2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452]
    df = n - 1
    return table[df - 1] if 1 <= df <= len(table) else 1.96 + 2.4 / n


def sweep_table(df, by=None):
    """Per (swept keys in `by`, default all of them, and label): seeds (runs
    with a result), solved, failed, mean final success with its 95% t
    half-width, mean final return. Rows sorted by the keys."""
    keys = list(df.attrs.get("keys", {})) if by is None else ([by] if isinstance(by, str) else list(by))
    out = []
    for idx, g in df.groupby(keys + ["label"], sort=True, dropna=False):
        ok = g[g["final_success"].notna()]
        n = len(ok)
        sd = ok["final_success"].std(ddof=1) if n > 1 else np.nan
        row = dict(zip(keys + ["label"], idx if isinstance(idx, tuple) else (idx,)))
        row.update(seeds=n, solved=int(ok["solved"].astype(bool).sum()), failed=int((g["status"] == "failed").sum()),
                   success_mean=ok["final_success"].mean() if n else np.nan,
                   success_ci=_t975(n) * sd / math.sqrt(n) if n > 1 else np.nan,
                   return_mean=ok["final_return"].mean() if n else np.nan)
        out.append(row)
    return pd.DataFrame(out)


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)      # `rqlog.py DIR | head` ends quietly
    ap = argparse.ArgumentParser(description="Summarise rql run logs (a run .h5 or a folder of runs).")
    ap.add_argument("path", nargs="+", help="run log (.h5) or folder searched recursively")
    a = ap.parse_args(argv)
    try:
        for p in a.path:
            for f in find_runs(p):
                r = load(f)
                print(r)
                if not r.curves.empty:
                    c = r.curves
                    tail = c.tail(max(1, len(c) // 10))
                    print("   last %d episodes: return %.3f, success %.3f" % (
                        len(tail), tail["return"].mean(), tail["success"].mean()))
    except LogError as e:
        print("rqlog: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
