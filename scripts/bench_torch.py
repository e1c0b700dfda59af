#!/usr/bin/python3
"""Times in PyTorch the training update that `rql bench nets` times in C, and
prints the ratio of the two.

    /usr/bin/python3 scripts/bench_torch.py [--threads 1] [--rql ./rql] [--cell lstm]

The update (experiments/bench_nets.c): nn.Linear(8, 8) -> nn.LSTM(8, 64,
batch_first=True) -> nn.Linear(64, 4) on 8 input features, batch 32 x 32
timesteps, every row full length, zero initial state, outputs at every step;
zero the gradients, forward, backward through time from a fixed dL/dy
[32, 32, 4] (y.backward(dy)), one Adam step (lr 1e-3). FLOPs are counted as
bench_nets.c counts them (the multiply-adds of the matrix products, 2 per MAC;
115.08 MFLOP for the LSTM), so the GFLOP/s figures compare directly. The time
is the median (and best) of about one second of updates after a warm-up, on
torch.set_num_threads(--threads).

With --rql PATH it also runs `PATH bench nets` (same batch, steps, hidden,
cell) and prints rql's median time, PyTorch's and the speed-up (target in
issue 2: rql at least 3x faster). Exit status: 0 measured, 1 rql failed or
printed no time, 2 bad arguments.
"""
import argparse
import re
import subprocess
import sys
import time

import torch
from torch import nn


def flops(B, T, In, D, H, A, G):
    """Forward and backward FLOPs as experiments/bench_nets.c counts them."""
    N = B * T
    fwd = 2 * N * (In * D + D * G * H + H * G * H + H * A)
    bwd = 2 * N * (In * D + 2 * D * G * H + 2 * H * G * H + 2 * H * A)
    return fwd, bwd


class Net(nn.Module):
    def __init__(self, In, D, H, A, cell):
        super().__init__()
        self.enc = nn.Linear(In, D)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](D, H, batch_first=True)
        self.head = nn.Linear(H, A)

    def forward(self, x):
        h, _ = self.rnn(self.enc(x))
        return self.head(h)


def time_torch(a):
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    In, D, A = 8, 8, 4
    net = Net(In, D, a.hidden, A, a.cell)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(a.batch, a.steps, In) * 2 - 1
    dy = (torch.rand(a.batch, a.steps, A) * 2 - 1) * 1e-2

    def update():
        opt.zero_grad()
        y = net(x)
        y.backward(dy)
        opt.step()

    t0 = time.perf_counter()
    warm = 0
    while warm < 20 or time.perf_counter() - t0 < 0.3:
        update()
        warm += 1
    per = (time.perf_counter() - t0) / warm
    reps = a.reps or max(50, int(1.0 / per))
    dt = []
    for _ in range(reps):
        s = time.perf_counter()
        update()
        dt.append(time.perf_counter() - s)
    dt.sort()
    G = {"lstm": 4, "gru": 3, "rnn": 1}[a.cell]
    fwd, bwd = flops(a.batch, a.steps, In, D, a.hidden, A, G)
    nparams = sum(p.numel() for p in net.parameters())
    return dt[len(dt) // 2], dt[0], reps, fwd + bwd, nparams


def run_rql(a):
    cmd = [a.rql, "bench", "nets", "--batch", str(a.batch), "--steps", str(a.steps),
           "--hidden", str(a.hidden), "--cell", a.cell]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("bench_torch: %s: %s" % (" ".join(cmd), e), file=sys.stderr)
        return None
    out = p.stdout
    m = re.search(r"update \(forward \+ BPTT \+ Adam\): ([0-9.]+) ms median, ([0-9.]+) ms best", out)
    if p.returncode != 0 or not m:
        print("bench_torch: %s exited %d without an update time:\n%s%s"
              % (" ".join(cmd), p.returncode, out, p.stderr), file=sys.stderr)
        return None
    return float(m.group(1)) * 1e-3, float(m.group(2)) * 1e-3, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--rql", metavar="PATH", help="also run PATH bench nets and print the ratio")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--cell", choices=["lstm", "gru", "rnn"], default="lstm")
    ap.add_argument("--reps", type=int, default=0, help="timed updates (default: about 1 s)")
    a = ap.parse_args()
    if min(a.threads, a.batch, a.steps, a.hidden) < 1 or a.reps < 0:
        ap.error("--threads, --batch, --steps and --hidden must be >= 1, --reps >= 0")

    med, best, reps, flop, nparams = time_torch(a)
    print("torch %s: Linear(8, 8) -> %s(8, %d) -> Linear(%d, 4), batch %d x %d steps, %d parameters, "
          "%d thread(s)" % (torch.__version__, a.cell.upper(), a.hidden, a.hidden, a.batch, a.steps,
                            nparams, a.threads))
    print("  update (forward + BPTT + Adam): %.3f ms median, %.3f ms best of %d; %.2f MFLOP"
          % (med * 1e3, best * 1e3, reps, flop * 1e-6))
    print("  update: %6.1f GFLOP/s (median), %6.1f GFLOP/s (best)" % (flop / med * 1e-9, flop / best * 1e-9))
    if not a.rql:
        return 0
    r = run_rql(a)
    if r is None:
        return 1
    rmed, rbest, out = r
    print("rql (%s bench nets):" % a.rql)
    for line in out.splitlines()[1:]:
        print("  " + line.strip())
    print("ratio: rql %.3f ms vs PyTorch %.3f ms (median): rql is %.2fx faster (best: %.2fx); target >= 3x"
          % (rmed * 1e3, med * 1e3, med / rmed, best / rbest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
