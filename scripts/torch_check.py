#!/usr/bin/python3
"""Load a run's final weights into PyTorch modules (torch.nn.Linear, nn.LSTM,
nn.GRU, nn.RNN, and for the peephole / mingru / lru cores the modules of
scripts/rql_cells.py, written from the papers' equations) and replay the observations of the episodes the run recorded,
checking that the Q-values (and hidden / cell states) PyTorch computes equal
the logged ones within a tolerance (default 1e-5).

    scripts/torch_check.py runs/tmaze_memory/drqn-lstm/seed0.h5

Exit status: 0 every checked value matches, 1 a mismatch, 2 bad input,
77 python3-torch is not installed (a skip, not a pass).

The network is layer i = module i of a ModuleList, exactly as the weight
names say ("0.weight", "1.weight_ih_l0", ...; docs/analysis.md). The layer
kinds, sizes and activations come from the attributes of /weights; where a
log lacks them they are inferred from the tensor shapes (gates per hidden
unit: 4 lstm, 3 gru, 1 rnn) and the agent's config.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rqlog  # noqa: E402

GATES = {4: "lstm", 3: "gru", 1: "rnn"}


def _list_attr(attrs, *names):
    for n in names:
        if n in attrs:
            v = attrs[n]
            if isinstance(v, str):
                return [x for x in re.split(r"[,\s]+", v) if x]
            return list(np.atleast_1d(v))
    return None


def layer_specs(run, weights):
    """[{kind, in, units, act, learn_h0}] of the network, layer by layer."""
    idx = sorted({int(k.split(".", 1)[0]) for k in weights if re.match(r"\d+\.", k)})
    if not idx or idx != list(range(len(idx))):
        raise rqlog.LogError("%s: /weights tensors are not named 0.*, 1.*, ... (found %s)"
                             % (run.path, ", ".join(sorted(weights)) or "none"))
    wa = run.weights_attrs
    kinds = _list_attr(wa, "layer_kinds", "kinds", "layer_kind")
    acts = _list_attr(wa, "layer_acts", "activations", "acts", "layer_act")
    specs = []
    for i in idx:
        if "%d.weight" % i in weights:
            w = weights["%d.weight" % i]
            kind = "dense"
            units, fan_in = w.shape
        elif "%d.nu_log" % i in weights:
            kind, units, fan_in = "lru", weights["%d.nu_log" % i].shape[0], weights["%d.B_re" % i].shape[1]
        elif "%d.weight_peep" % i in weights:
            kind = "peephole"
            units, fan_in = weights["%d.weight_hh_l0" % i].shape[1], weights["%d.weight_ih_l0" % i].shape[1]
        elif "%d.weight_ih_l0" % i in weights and "%d.weight_hh_l0" % i not in weights:
            w = weights["%d.weight_ih_l0" % i]
            kind, units, fan_in = "mingru", w.shape[0] // 2, w.shape[1]
        elif "%d.weight_ih_l0" % i in weights:
            w = weights["%d.weight_ih_l0" % i]
            H = weights["%d.weight_hh_l0" % i].shape[1]
            g = w.shape[0] // H
            if g not in GATES or g * H != w.shape[0]:
                raise rqlog.LogError("%s: %d.weight_ih_l0 has %d rows for hidden size %d"
                                     % (run.path, i, w.shape[0], H))
            kind, units, fan_in = GATES[g], H, w.shape[1]
        else:
            raise rqlog.LogError("%s: layer %d has neither %d.weight nor %d.weight_ih_l0"
                                 % (run.path, i, i, i))
        if kinds is not None and i < len(kinds):
            k = str(kinds[i]).lower()
            if k != kind and not (k in ("elman", "rnn") and kind == "rnn"):
                raise rqlog.LogError("%s: /weights says layer %d is %s but its tensors are %s"
                                     % (run.path, i, k, kind))
        act = "none"
        if kind == "dense":
            if acts is not None and i < len(acts):
                act = str(acts[i]).lower()
            elif i != idx[-1]:
                raise rqlog.LogError("%s: /weights has no activation attribute for dense layer %d"
                                     % (run.path, i))
            if act not in ("none", "relu", "tanh", ""):
                raise rqlog.LogError("%s: unknown activation %r of layer %d" % (run.path, act, i))
        specs.append({"kind": kind, "in": int(fan_in), "units": int(units), "act": act or "none",
                      "learn_h0": "%d.h0" % i in weights})
    units = _list_attr(wa, "layer_units")
    if units is not None and [int(u) for u in units] != [s["units"] for s in specs]:
        raise rqlog.LogError("%s: /weights layer_units %s disagree with the tensor shapes %s"
                             % (run.path, [int(u) for u in units], [s["units"] for s in specs]))
    if "input_size" in wa and int(wa["input_size"]) != specs[0]["in"]:
        raise rqlog.LogError("%s: /weights input_size %d but %s takes %d inputs"
                             % (run.path, int(wa["input_size"]), "0.*", specs[0]["in"]))
    for a, b in zip(specs, specs[1:]):
        if a["units"] != b["in"]:
            raise rqlog.LogError("%s: layer sizes do not chain (%d units into %d inputs)"
                                 % (run.path, a["units"], b["in"]))
    return specs


def build(torch, specs, weights, dtype):
    """ModuleList whose state_dict keys are the log's tensor names."""
    nn = torch.nn
    import rql_cells
    mods = []
    for s in specs:
        if s["kind"] == "dense":
            m = nn.Linear(s["in"], s["units"])
        elif s["kind"] in rql_cells.CELLS:
            m = rql_cells.CELLS[s["kind"]](s["in"], s["units"])
        elif s["kind"] == "lstm":
            m = nn.LSTM(s["in"], s["units"], batch_first=True)
        elif s["kind"] == "gru":
            m = nn.GRU(s["in"], s["units"], batch_first=True)
        else:
            m = nn.RNN(s["in"], s["units"], nonlinearity="tanh", batch_first=True)
        if s["learn_h0"]:
            m.h0 = nn.Parameter(torch.zeros((2, s["units"]) if s["kind"] == "lru" else s["units"]))
            if s["kind"] in ("lstm", "peephole"):
                m.c0 = nn.Parameter(torch.zeros(s["units"]))
        mods.append(m)
    net = nn.ModuleList(mods).to(dtype)
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)).to(dtype) for k, v in weights.items()}
    missing, unexpected = net.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise rqlog.LogError("weights do not match the modules: missing %s, unexpected %s"
                             % (missing, unexpected))
    return net


def forward(torch, net, specs, x):
    """x [1, T, in] -> q [T, A], h [T, H], c [T, H] or None of the last recurrent layer."""
    h_last = c_last = None
    for m, s in zip(net, specs):
        if s["kind"] == "dense":
            x = m(x)
            if s["act"] == "relu":
                x = torch.relu(x)
            elif s["act"] == "tanh":
                x = torch.tanh(x)
            continue
        H = s["units"]
        if s["kind"] in ("peephole", "mingru", "lru"):
            # rql_cells modules run one row from a state-row block; the
            # logged hidden is the block's first H floats (Re h for an lru)
            W = 2 * H if s["kind"] == "lru" else H
            h0 = m.h0.reshape(W) if s["learn_h0"] else torch.zeros(W, dtype=x.dtype)
            if s["kind"] == "peephole":
                c0 = m.c0 if s["learn_h0"] else torch.zeros(H, dtype=x.dtype)
                x, _, (hs, cs) = m(x, (h0, c0))
            else:
                x, _, (hs, cs) = m(x, h0)
            h_last, c_last = hs[:, :H], cs
            continue
        h0 = (m.h0 if s["learn_h0"] else torch.zeros(H, dtype=x.dtype)).reshape(1, 1, H)
        if s["kind"] == "lstm":
            c0 = (m.c0 if s["learn_h0"] else torch.zeros(H, dtype=x.dtype)).reshape(1, 1, H)
            # nn.LSTM returns h of every step but c only at the end: step it for c
            hs, cs, st = [], [], (h0, c0)
            for t in range(x.shape[1]):
                y, st = m(x[:, t:t + 1], st)
                hs.append(y)
                cs.append(st[1].reshape(1, 1, H))
            x = torch.cat(hs, 1)
            h_last, c_last = x[0], torch.cat(cs, 1)[0]
        else:
            x, _ = m(x, h0)
            h_last, c_last = x[0], None
    return x[0], h_last, c_last


def maxerr(computed, logged):
    """Max abs difference; a NaN in the log (a value rql did not record)
    counts as an infinite error, never as a match."""
    diff = np.abs(computed.double().numpy() - logged.to_numpy(dtype=np.float64))
    return float("inf") if np.isnan(diff).any() else float(np.max(diff, initial=0.0))


def window_inputs(obs, k):
    """[T, obs] -> [T, k*obs]: the last k observations, oldest first, zeros
    before the episode's first step."""
    T, n = obs.shape
    pad = np.vstack([np.zeros((k - 1, n)), obs])
    return np.hstack([pad[j:j + T] for j in range(k)])


def recorded_evals(run):
    """[(recorded episode ids, at_episode)] of the evaluations that recorded
    /steps: rql records eval.record episodes of every eval.record_every-th
    evaluation (record_every 0: the final one only), numbering the recorded
    episodes 0, 1, ... across evaluations."""
    ev = run.config.get("eval", {})
    n_rec, every = int(ev.get("record", 0)), int(ev.get("record_every", 0))
    if n_rec <= 0 or run.eval.empty:
        return []
    rows = list(range(len(run.eval)))
    rows = [k for k in rows if k % every == 0] if every > 0 else rows[-1:]
    at = run.eval["at_episode"].to_numpy()
    return [(list(range(j * n_rec, (j + 1) * n_rec)), int(at[k])) for j, k in enumerate(rows)]


def plan(run, snapshot=None):
    """{snapshot index: [recorded episode ids]}: each recorded evaluation is
    replayed with the snapshot taken at the same training episode (the agent
    does not learn between the two); snapshot given: every episode with it."""
    eps = run.episodes()
    K = len(run.weight_episodes)
    if snapshot is not None:
        if not -K <= snapshot < K:
            raise rqlog.LogError("%s: snapshot %d out of range (the log has %d)" % (run.path, snapshot, K))
        return {snapshot % K: sorted(eps)}, []
    out, unmatched = {}, []
    groups = recorded_evals(run)
    if not groups:
        raise rqlog.LogError("%s: the config attribute has no eval.record/eval.record_every, or /eval is "
                             "empty: cannot tell which weights recorded /steps (use --snapshot)" % run.path)
    covered = set()
    for ids, at_ep in groups:
        covered.update(ids)
        ids = [e for e in ids if e in eps]
        if not ids:
            continue
        match = np.flatnonzero(run.weight_episodes == at_ep)
        if len(match):
            out.setdefault(int(match[-1]), []).extend(ids)
        else:
            unmatched.append((ids, "training episode %d" % at_ep))
    # ids past those of training: appended by `rql eval --record` with the
    # checkpoint's weights, which are the last snapshot's when that snapshot
    # was taken after the last training episode (the end of the run)
    extra = sorted(e for e in eps if e not in covered)
    if extra:
        if K and int(run.weight_episodes[-1]) >= len(run.curves):
            out.setdefault(K - 1, []).extend(extra)
        else:
            unmatched.append((extra, "rql eval --record while the last snapshot (episode %s) is older "
                              "than the last training episode (%d)"
                              % (run.weight_episodes[-1] if K else "none", len(run.curves))))
    return out, unmatched


def check(run, tol=1e-5, dtype_name="float64", snapshot=None, verbose=True):
    import torch
    if not run.weight_snapshots:
        agent = run.attrs.get("agent", "?")
        raise rqlog.LogError("%s: no /weights snapshots%s" % (
            run.path, " (a qtable agent has no network)" if agent == "qtable" else ""))
    eps = run.episodes()
    if not eps:
        raise rqlog.LogError("%s: no recorded steps in /steps: nothing to replay" % run.path)
    todo, unmatched = plan(run, snapshot)
    for ids, when in unmatched:
        print("%s: episodes %d-%d recorded at %s: no weight snapshot of then, not checked"
              % (run.path, ids[0], ids[-1], when))
    if not todo:
        raise rqlog.LogError("%s: no recorded evaluation has a weight snapshot of the same episode "
                             "(snapshots at %s)" % (run.path, list(run.weight_episodes)))
    err = {"q": 0.0, "h": None, "c": None}     # None: not compared (no such state)
    n = ne = 0
    for snap, ids in sorted(todo.items()):
        weights = {k: v[snap] for k, v in run.weight_snapshots.items()}
        specs, k, m = _check_snapshot(torch, run, weights, dtype_name, {e: eps[e] for e in ids}, err, verbose,
                                      "snapshot %d (episode %d)" % (snap, run.weight_episodes[snap]))
        n += m
        ne += len(ids)
    return specs, k, ne, n, err


def _check_snapshot(torch, run, weights, dtype_name, eps, err, verbose, what):
    specs = layer_specs(run, weights)
    dtype = getattr(torch, dtype_name)
    net = build(torch, specs, weights, dtype)
    obs_cols, q_cols = run.columns("obs"), run.columns("q")
    h_cols, c_cols = run.columns("h"), run.columns("c")
    n_obs = len(obs_cols)
    if specs[0]["in"] % n_obs:
        raise rqlog.LogError("%s: first layer takes %d inputs, not a multiple of the %d observation entries"
                             % (run.path, specs[0]["in"], n_obs))
    k = specs[0]["in"] // n_obs
    dueling = run.attrs.get("q_head", "linear") == "dueling"
    if specs[-1]["units"] != len(q_cols) + (1 if dueling else 0):
        raise rqlog.LogError("%s: the last layer has %d outputs for %d Q-values (q_head %s)"
                             % (run.path, specs[-1]["units"], len(q_cols), "dueling" if dueling else "linear"))
    n = 0
    with torch.no_grad():
        for e, d in eps.items():
            x = window_inputs(d[obs_cols].to_numpy(dtype=np.float64), k)
            q, h, c = forward(torch, net, specs, torch.from_numpy(x).to(dtype).unsqueeze(0))
            if dueling:
                # the dueling head: V, then the advantages (docs/log-format.md, q_head)
                q = q[:, :1] + q[:, 1:] - q[:, 1:].mean(dim=1, keepdim=True)
            eq = maxerr(q, d[q_cols])
            err["q"] = max(err["q"], eq)
            line = "episode %d with %s: %d steps, max |dQ| %.3g" % (e, what, len(d), eq)
            if h is not None and h_cols:
                eh = maxerr(h, d[h_cols])
                err["h"] = max(err["h"] or 0.0, eh)
                line += ", max |dh| %.3g" % eh
            if c is not None and c_cols:
                ec = maxerr(c, d[c_cols])
                err["c"] = max(err["c"] or 0.0, ec)
                line += ", max |dc| %.3g" % ec
            n += len(d)
            if verbose:
                print(line)
    return specs, k, n


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Rebuild a run's network in PyTorch from its logged weights, replay the "
                    "recorded episodes and check the logged Q-values (and h, c). "
                    "Exit 0 match, 1 mismatch, 2 bad input, 77 torch missing.")
    ap.add_argument("path", help="run log (.h5), or a folder: every run with recorded steps and weights")
    ap.add_argument("--tol", type=float, default=1e-5, help="max abs error allowed (default 1e-5)")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                    help="PyTorch dtype of the replay (default float64)")
    ap.add_argument("--snapshot", type=int, default=None,
                    help="replay every recorded episode with this weight snapshot (index into "
                         "/weights/at_episode, -1 the latest; default: each recorded evaluation with "
                         "the snapshot taken at its training episode)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    a = ap.parse_args(argv)
    try:
        runs = rqlog.load_runs(a.path)
    except rqlog.LogError as e:
        print("torch_check: %s" % e, file=sys.stderr)
        return 2
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch_check: SKIPPED: python3-torch is not installed (scripts/install-deps --torch)")
        return 77
    worst, checked = 0, 0
    for run in runs:
        if len(runs) > 1 and (not run.weight_snapshots or run.steps.empty):
            print("%s: skipped (no weights or no recorded steps)" % run.path)
            continue
        try:
            specs, k, ne, ns, err = check(run, a.tol, a.dtype, a.snapshot, not a.quiet)
        except rqlog.LogError as e:
            print("torch_check: %s" % e, file=sys.stderr)
            return 2
        arch = ",".join(s["kind"] + ":%d" % s["units"] + (":" + s["act"] if s["act"] != "none" else "")
                        + (":h0" if s["learn_h0"] else "") for s in specs)
        bad = max(v for v in err.values() if v is not None) > a.tol
        errs = ", ".join("%s %.3g" % (name, err[key]) for key, name in (("q", "Q"), ("h", "h"), ("c", "c"))
                         if err[key] is not None)
        print("%s: %s (window %d), %d episodes, %d steps: max abs error %s -> %s"
              % (run.path, arch, k, ne, ns, errs, "MISMATCH" if bad else "ok"))
        worst = max(worst, 1 if bad else 0)
        checked += 1
    if checked == 0:
        print("torch_check: no run under %s has both weights and recorded steps" % a.path, file=sys.stderr)
        return 2
    print("torch_check: %s (tolerance %g)" % ("FAILED" if worst else "passed", a.tol))
    return worst


if __name__ == "__main__":
    sys.exit(main())
