#!/usr/bin/python3
"""Reference numbers for tests/check_nets_ref.c, computed once with PyTorch.

    /usr/bin/python3 scripts/make_torch_ref.py [-o tests/data/torch_ref.h5]
    /usr/bin/python3 scripts/make_torch_ref.py --cells [-o tests/data/torch_ref_cells.h5]

--cells writes the cases of the peephole, mingru and lru layers (modules
written from the papers' equations in scripts/rql_cells.py, differentiated by
autograd) into their own file, so that torch_ref.h5 stays as it was. For
mingru the script also checks the paper's log-space scan (forward_scan)
against the sequential recurrence in float64.

Each case is a small network of torch.nn.Linear / nn.RNN / nn.LSTM / nn.GRU
modules (batch_first=True) in a ModuleList, so that its state_dict names are
the ones nets/nets.h uses ("0.weight_ih_l0", "1.weight", ...). For fixed
seeded weights and inputs, rows of different lengths (one of them empty) and
one of three initial states (zero, a given per-row state, a learned h0/c0),
the script stores the outputs, the final states and the gradient of
L = sum(y * dy) over the valid steps with respect to every weight and to the
initial state.

File layout, one group per case (e.g. /lstm_state0):
  attrs   spec (net_parse_spec string), input_size, batch, time,
          return_seq (0/1), init ("zero" | "state0" | "learned")
  x [B, T, I], len [B] int32, dy [B, T, O] or [B, O] (random at masked steps
  too: nets must ignore them), y (zeros at masked steps), state_out [B, S],
  state0 [B, S] (init "state0" only), dstate0 [B, S] (dL/d initial state of
  every row), weights/ and grads/ (one dataset per tensor, PyTorch names;
  weights/ loads with net_load_h5).
State rows follow nets.h: for each recurrent layer h [H] then (lstm) c [H].

Why rows run one at a time: nn.LSTM's own masking (pack_padded_sequence)
refuses a row of length 0, which nets supports; running each row on its own
valid prefix is what packing computes, and the script checks that against
pack_padded_sequence for the rows that packing accepts.

The computation runs in float64 from float32-representable weights and
inputs, and is stored as float32: the reference is then exact to float32
rounding, and a float32 implementation is judged against the truth rather
than against PyTorch's own float32 rounding (the script also checks that
PyTorch in float32 agrees with it to 1e-5).
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rql_cells  # noqa: E402

B, T, I = 3, 5, 4
LENS = [5, 3, 0]  # one full row, one short row, one empty row


def make_layers(spec, inp, dtype):
    """ModuleList for a net_parse_spec string like "dense:5:tanh,lstm:6:h0"."""
    mods, acts, kinds, learn = [], [], [], []
    n_in = inp
    for field in spec.split(","):
        f = field.split(":")
        kind, units = f[0], int(f[1])
        opt = f[2] if len(f) > 2 else ""
        if kind == "dense":
            mods.append(nn.Linear(n_in, units))
            acts.append(opt or "none")
        elif kind in rql_cells.CELLS:
            mods.append(rql_cells.CELLS[kind](n_in, units))
            acts.append(None)
        else:
            cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
            mods.append(cls(n_in, units, batch_first=True))
            acts.append(None)
        kinds.append(kind)
        learn.append(opt == "h0")
        n_in = units
    return nn.ModuleList(mods).to(dtype), kinds, acts, learn


def state_layout(mods, kinds):
    """[(layer index, 'h' or 'c', offset, H)] in the order of a state row."""
    out, off = [], 0
    for i, k in enumerate(kinds):
        if k == "dense":
            continue
        Hh = mods[i].hidden_size
        if k == "lru":      # one block: Re h, Im h
            out.append((i, "h", off, 2 * Hh))
            off += 2 * Hh
            continue
        out.append((i, "h", off, Hh))
        off += Hh
        if k in ("lstm", "peephole"):
            out.append((i, "c", off, Hh))
            off += Hh
    return out, off


def run_row(mods, kinds, acts, xb, init):
    """Forward one row xb [1, L, I] from init {(layer, 'h'/'c'): [H] tensor}.
    Returns (y [L, O], final state dict)."""
    h = xb
    fin = {}
    for i, (m, k) in enumerate(zip(mods, kinds)):
        if k == "dense":
            h = m(h)
            if acts[i] == "relu":
                h = torch.relu(h)
            elif acts[i] == "tanh":
                h = torch.tanh(h)
        elif k == "lstm":
            h, (hn, cn) = m(h, (init[(i, "h")].view(1, 1, -1), init[(i, "c")].view(1, 1, -1)))
            fin[(i, "h")], fin[(i, "c")] = hn.view(-1), cn.view(-1)
        elif k == "peephole":
            h, (hn, cn), _ = m(h, (init[(i, "h")], init[(i, "c")]))
            fin[(i, "h")], fin[(i, "c")] = hn, cn
        elif k in ("mingru", "lru"):
            h, hn, _ = m(h, init[(i, "h")])
            fin[(i, "h")] = hn
        else:
            h, hn = m(h, init[(i, "h")].view(1, 1, -1))
            fin[(i, "h")] = hn.view(-1)
    return h[0], fin


def compute(mods, kinds, acts, learn, x, lens, dy, return_seq, init_mode, state0):
    """Outputs, final states and gradients for one case in the dtype of mods."""
    dtype = next(mods.parameters()).dtype
    layout, S = state_layout(mods, kinds)
    Bn, Tn = x.shape[0], x.shape[1]
    learned = {}
    if init_mode == "learned":
        for (i, hc, off, Hh) in layout:
            learned[(i, hc)] = torch.tensor(state0[0, off:off + Hh], dtype=dtype, requires_grad=True)
    # per-row initial state leaves: their gradients are dstate0
    rows0 = torch.tensor(state0, dtype=dtype, requires_grad=True)
    O = mods[-1].out_features if kinds[-1] == "dense" else mods[-1].hidden_size
    ys, outs, loss = [], [], 0
    for b in range(Bn):
        init = {}
        for (i, hc, off, Hh) in layout:
            base = learned[(i, hc)] if init_mode == "learned" else 0
            # a learned row is h0 + (row leaf - its value): the same number,
            # with the gradient flowing to both the row and the parameter
            v = rows0[b, off:off + Hh]
            init[(i, hc)] = base + v - v.detach() if init_mode == "learned" else v
        L = lens[b]
        if L == 0:
            yb = torch.zeros(Tn if return_seq else 1, O, dtype=dtype)
            fin = init
        else:
            yv, fin = run_row(mods, kinds, acts, torch.tensor(x[b:b + 1, :L], dtype=dtype), init)
            if return_seq:
                yb = torch.cat([yv, torch.zeros(Tn - L, O, dtype=dtype)], 0)
                loss = loss + (yv * torch.tensor(dy[b, :L], dtype=dtype)).sum()
            else:
                yb = yv[L - 1:L]
                loss = loss + (yv[L - 1] * torch.tensor(dy[b], dtype=dtype)).sum()
        ys.append(yb if return_seq else yb[0])
        outs.append(torch.cat([fin[(i, hc)] for (i, hc, _, _) in layout]))
    y = torch.stack(ys)
    state_out = torch.stack(outs)
    mods.zero_grad()
    loss.backward()
    grads = {k: p.grad.detach().numpy().copy() for k, p in mods.named_parameters()}
    for (i, hc), v in learned.items():
        grads["%d.%s0" % (i, hc)] = v.grad.detach().numpy().copy().reshape(learned_shape(mods, kinds, i))
    return (y.detach().numpy(), state_out.detach().numpy(), grads,
            rows0.grad.detach().numpy().copy(), S)


def check_packed(mods, kinds, x, lens, state0):
    """A single recurrent layer: the row-by-row forward equals PyTorch's own
    masking (pack_padded_sequence) on the rows of nonzero length."""
    if len(kinds) != 1 or kinds[0] not in ("lstm", "gru", "rnn"):
        return
    keep = [b for b in range(len(lens)) if lens[b] > 0]
    m = mods[0]
    dtype = next(m.parameters()).dtype
    xs = torch.tensor(x[keep], dtype=dtype)
    Hh = m.hidden_size
    h0 = torch.tensor(state0[keep, :Hh], dtype=dtype).unsqueeze(0)
    packed = nn.utils.rnn.pack_padded_sequence(xs, [lens[b] for b in keep], batch_first=True,
                                               enforce_sorted=False)
    if kinds[0] == "lstm":
        c0 = torch.tensor(state0[keep, Hh:2 * Hh], dtype=dtype).unsqueeze(0)
        out, (hn, _) = m(packed, (h0, c0))
    else:
        out, hn = m(packed, h0)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out.detach().numpy(), hn[0].detach().numpy(), keep


def learned_shape(mods, kinds, i):
    """Shape of a learned initial-state tensor: [H], or [2, H] for an lru."""
    H = mods[i].hidden_size
    return (2, H) if kinds[i] == "lru" else (H,)


def check_scan(name, mods, kinds, x, lens):
    """minGRU: the paper's log-space scan equals the sequential recurrence
    (float64, a positive initial state as the scan requires)."""
    for m, k in zip(mods, kinds):
        if k != "mingru" or kinds[0] != "mingru":
            continue
        with torch.no_grad():
            h0 = torch.full((m.hidden_size,), 0.3, dtype=torch.float64)
            for b, L in enumerate(lens):
                if L == 0:
                    continue
                xb = torch.tensor(x[b:b + 1, :L], dtype=torch.float64)
                seq = m(xb, h0)[0][0]
                scan = m.forward_scan(xb, h0)
                if (scan - seq).abs().max() > 1e-12:
                    sys.exit("%s: log-space scan differs from the recurrence by %.3g"
                             % (name, float((scan - seq).abs().max())))


def put(grp, name, a):
    """float32 (or int32) dataset in compact layout: the data sits in the
    object header, which keeps the committed file small."""
    a = np.asarray(a, np.int32 if np.asarray(a).dtype.kind == "i" else np.float32)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    grp.create_dataset(name, data=a, dcpl=dcpl)


def group(parent, name):
    """A group whose links stay in its object header (compact storage)."""
    return parent.create_group(name)


def make_case(f, name, spec, return_seq, init_mode, seed, B=B, T=T, I=I, LENS=LENS):
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    mods64, kinds, acts, learn = make_layers(spec, I, torch.float64)
    if (init_mode == "learned") != any(learn):
        sys.exit("%s: init %s needs ':h0' on the recurrent layer exactly when learned" % (name, init_mode))
    # weights U(-0.5, 0.5) rounded to float32, so both precisions see the same numbers
    with torch.no_grad():
        for p in mods64.parameters():
            p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5).float().double())
        # lru: |lambda| = exp(-exp(nu_log)) in (0.87, 0.99) as after the paper's
        # ring init (U(-0.5, 0.5) would forget within a few steps), phases
        # exp(theta_log) spread over (0.05, 3)
        for k, p in mods64.named_parameters():
            if k.endswith("nu_log"):
                p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) * 3 - 5).float().double())
            elif k.endswith("theta_log"):
                p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) * 4 - 3).float().double())
        # gamma_log: the paper's normalisation log sqrt(1 - |lambda|^2), give
        # or take 0.25, so that states stay O(1) as in the paper
        for m in mods64:
            if isinstance(m, rql_cells.LRU):
                mag2 = torch.exp(-2 * torch.exp(m.nu_log))
                noise = torch.rand(m.gamma_log.shape, generator=g, dtype=torch.float64) * 0.5 - 0.25
                m.gamma_log.copy_((0.5 * torch.log(1 - mag2) + noise).float().double())
    layout, S = state_layout(mods64, kinds)
    x = rng.uniform(-1, 1, (B, T, I)).astype(np.float32)
    # masked steps hold NaN: nets promises never to read them
    for b in range(B):
        x[b, LENS[b]:] = np.nan
    O = mods64[-1].out_features if kinds[-1] == "dense" else mods64[-1].hidden_size
    dy = rng.uniform(-1, 1, (B, T, O) if return_seq else (B, O)).astype(np.float32)
    if init_mode == "zero":
        state0 = np.zeros((B, S), np.float32)
    elif init_mode == "state0":
        state0 = rng.uniform(-0.8, 0.8, (B, S)).astype(np.float32)
    else:  # one learned h0 / c0 shared by every row
        state0 = np.tile(rng.uniform(-0.8, 0.8, (1, S)).astype(np.float32), (B, 1))
    y, sout, grads, ds0, _ = compute(mods64, kinds, acts, learn, x, LENS, dy, return_seq,
                                     init_mode, state0)

    # the same in float32 PyTorch: agreement to 1e-5 shows the float64 truth
    # is what a float32 nn.LSTM computes, to its own rounding
    mods32, _, _, _ = make_layers(spec, I, torch.float32)
    mods32.load_state_dict({k: v.float() for k, v in mods64.state_dict().items()})
    y32, s32, g32, d32, _ = compute(mods32, kinds, acts, learn, x, LENS, dy, return_seq,
                                    init_mode, state0)
    # relative above magnitude 1, as check_nets_ref compares (an lru's
    # gradients through 60 steps reach the hundreds)
    def err(u, v):
        return (np.abs(u - v) / np.maximum(1.0, np.abs(v))).max(initial=0.0)
    worst = max([err(y32, y), err(s32, sout), err(d32, ds0)] + [err(g32[k], grads[k]) for k in grads])
    if worst > 1e-5:
        sys.exit("%s: float32 PyTorch differs from float64 by %.3g" % (name, worst))
    pk = check_packed(mods64, kinds, x, LENS, state0)
    if pk is not None:
        out, hn, keep = pk
        yk = y[keep] if return_seq else None
        Hh = mods64[0].hidden_size
        if (yk is not None and np.abs(out - yk).max() > 1e-12) or \
                np.abs(hn - sout[keep, :Hh]).max() > 1e-12:
            sys.exit("%s: row-by-row forward differs from pack_padded_sequence" % name)

    check_scan(name, mods64, kinds, x, LENS)

    grp = group(f, name)
    grp.attrs["spec"] = np.bytes_(spec)
    grp.attrs["init"] = np.bytes_(init_mode)
    for k, v in (("input_size", I), ("batch", B), ("time", T), ("return_seq", int(return_seq))):
        grp.attrs[k] = np.int32(v)
    put(grp, "x", x)
    put(grp, "len", np.asarray(LENS, np.int32))
    put(grp, "dy", dy)
    put(grp, "y", y)
    put(grp, "state_out", sout)
    if init_mode == "state0":
        put(grp, "state0", state0)
    put(grp, "dstate0", ds0)
    w = group(grp, "weights")
    gr = group(grp, "grads")
    sd = {k: v.detach().numpy() for k, v in mods64.state_dict().items()}
    if init_mode == "learned":
        for (i, hc, off, Hh) in layout:
            sd["%d.%s0" % (i, hc)] = state0[0, off:off + Hh].reshape(learned_shape(mods64, kinds, i))
    for k in sd:
        put(w, k, sd[k])
        put(gr, k, grads[k])
    return worst


CASES = [
    # name, spec, return_seq, init
    ("lstm_zero", "lstm:6", 1, "zero"),
    ("lstm_state0", "lstm:6", 0, "state0"),
    ("lstm_learned", "lstm:6:h0", 1, "learned"),
    ("gru_zero", "gru:6", 1, "zero"),
    ("gru_state0", "gru:6", 0, "state0"),
    ("gru_learned", "gru:6:h0", 1, "learned"),
    ("rnn_zero", "rnn:6", 1, "zero"),
    ("rnn_state0", "rnn:6", 0, "state0"),
    ("rnn_learned", "rnn:6:h0", 1, "learned"),
    ("stack_lstm", "dense:5:tanh,lstm:6:h0,dense:3", 1, "learned"),
    ("stack_gru", "dense:5:relu,gru:6,dense:3", 0, "state0"),
]
# Long sequences (60 steps: products of 60 Jacobians, as in the memory tasks)
# and odd sizes (7 inputs, 17 units: GEMM and vector-loop tails), each
# (name, spec, return_seq, init, B, T, I, lens).
MORE = [
    ("lstm_long", "lstm:6", 1, "state0", 2, 60, 4, [60, 37]),
    ("gru_long", "gru:6", 1, "zero", 2, 60, 4, [60, 37]),
    ("rnn_long", "rnn:6:h0", 0, "learned", 2, 60, 4, [60, 37]),
    ("lstm_odd", "lstm:17:h0", 1, "learned", 5, 7, 7, [7, 1, 6, 0, 3]),
    ("gru_odd", "gru:17", 0, "state0", 5, 7, 7, [7, 1, 6, 0, 3]),
]


# The cells without a PyTorch layer (--cells, tests/data/torch_ref_cells.h5):
# each cell from a zero, a given and a learned initial state; stacks of them
# behind dense layers; 60 steps; odd sizes. (name, spec, return_seq, init,
# B, T, I, lens).
CELL_CASES = [
    ("peephole_zero", "peephole:6", 1, "zero", B, T, I, LENS),
    ("peephole_state0", "peephole:6", 0, "state0", B, T, I, LENS),
    ("peephole_learned", "peephole:6:h0", 1, "learned", B, T, I, LENS),
    ("mingru_zero", "mingru:6", 1, "zero", B, T, I, LENS),
    ("mingru_state0", "mingru:6", 0, "state0", B, T, I, LENS),
    ("mingru_learned", "mingru:6:h0", 1, "learned", B, T, I, LENS),
    ("lru_zero", "lru:6", 1, "zero", B, T, I, LENS),
    ("lru_state0", "lru:6", 0, "state0", B, T, I, LENS),
    ("lru_learned", "lru:6:h0", 1, "learned", B, T, I, LENS),
    ("stack_cells", "dense:5:tanh,peephole:6:h0,mingru:5:h0,lru:4:h0,dense:3", 1, "learned", B, T, I, LENS),
    ("stack_cells_state0", "dense:5:relu,lru:6,mingru:4,dense:3", 0, "state0", B, T, I, LENS),
    ("peephole_long", "peephole:6", 1, "state0", 2, 60, 4, [60, 37]),
    ("mingru_long", "mingru:6:h0", 1, "learned", 2, 60, 4, [60, 37]),
    ("lru_long", "lru:6", 1, "state0", 2, 60, 4, [60, 37]),
    ("peephole_odd", "peephole:17:h0", 1, "learned", 5, 7, 7, [7, 1, 6, 0, 3]),
    ("mingru_odd", "mingru:17", 0, "state0", 5, 7, 7, [7, 1, 6, 0, 3]),
    ("lru_odd", "lru:17:h0", 1, "learned", 5, 7, 7, [7, 1, 6, 0, 3]),
    # nets/lru.c runs a sequence in blocks of 512 // B steps (10 here):
    # several blocks, rows ending at, next to and inside them
    ("lru_blocks", "dense:5:tanh,lru:6:h0,dense:3", 1, "learned", 48, 24, 4,
     [24, 23, 21, 20, 19, 11, 10, 9, 1, 0, 2, 24, 15, 5, 17, 22, 12, 8, 24, 3, 13, 18, 6, 16,
      24, 10, 20, 7, 14, 4, 21, 11, 19, 9, 22, 1, 24, 12, 18, 2, 23, 8, 15, 5, 17, 0, 13, 24]),
    ("lru_blocks_state0", "lru:5", 0, "state0", 48, 24, 3,
     [24, 10, 20, 7, 14, 4, 21, 11, 19, 9, 22, 1, 24, 12, 18, 2, 23, 8, 15, 5, 17, 0, 13, 24,
      24, 23, 21, 20, 19, 11, 10, 9, 1, 0, 2, 24, 15, 5, 17, 22, 12, 8, 24, 3, 13, 18, 6, 16]),
    # nets/lru.c's scan takes the units in vectors of 16, in groups of 4, 3,
    # 2 or 1, then one at a time: 70 = 64 + 6, 40 = 32 + 8
    ("lru_wide", "dense:5:tanh,lru:70:h0,dense:3", 1, "learned", 5, 9, 6, [9, 1, 8, 0, 4]),
    ("lru_wide_state0", "lru:40", 0, "state0", 4, 11, 5, [11, 3, 10, 7]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--cells", action="store_true",
                    help="the peephole / mingru / lru cases, into tests/data/torch_ref_cells.h5")
    ap.add_argument("-o", "--output", default=None)
    a = ap.parse_args()
    if a.output is None:
        a.output = os.path.join(here, "..", "tests", "data",
                                "torch_ref_cells.h5" if a.cells else "torch_ref.h5")
    torch.set_num_threads(1)
    # the latest format and compact link storage in every case group: the
    # file stays a few tens of KB instead of one heap and B-tree per group
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    fid = h5py.h5f.create(a.output.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl)
    with h5py.File(fid) as f:
        f.attrs["generator"] = np.bytes_("scripts/make_torch_ref.py%s, torch %s"
                                         % (" --cells" if a.cells else "", torch.__version__))
        for k, (name, spec, seq, init, b, t, i, lens) in enumerate(CELL_CASES if a.cells else []):
            worst = make_case(f, name, spec, seq, init, 3000 + k, b, t, i, lens)
            print("%-18s %-52s seq=%d init=%-7s float32 vs float64 torch: %.2e"
                  % (name, spec, seq, init, worst))
        for k, (name, spec, seq, init) in enumerate([] if a.cells else CASES):
            worst = make_case(f, name, spec, seq, init, 1000 + k)
            print("%-13s %-32s seq=%d init=%-7s float32 vs float64 torch: %.2e"
                  % (name, spec, seq, init, worst))
        for k, (name, spec, seq, init, b, t, i, lens) in enumerate([] if a.cells else MORE):
            worst = make_case(f, name, spec, seq, init, 2000 + k, b, t, i, lens)
            print("%-13s %-32s seq=%d init=%-7s float32 vs float64 torch: %.2e"
                  % (name, spec, seq, init, worst))
    print("wrote %s (%d bytes)" % (a.output, os.path.getsize(a.output)))


if __name__ == "__main__":
    main()
