#!/usr/bin/python3
"""The DRQN training run that `rql bench train` times in C, written as a
plain PyTorch DRQN (one thread), printing the same figures; with --rql it
runs both at the same settings and prints the ratios.

    /usr/bin/python3 scripts/bench_torch_drqn.py [--config small|large] [--steps N]
                                                 [--repeats R] [--rql ./rql]

The algorithm and settings are bench/bench_train.c's (rql's drqn defaults):
T-maze (Bakker 2002: N corridor cells, 3-bit observations, sign at the
start, time limit 10 (N + 1), rewards +4 / -0.1 / -0.1 wall) in 8 envs that
auto-reset; nn.LSTM(3, H) -> nn.Linear(H, 4); epsilon-greedy, epsilon
linear 1 -> 0.05 over 10000 env steps; a replay of 50000 env steps stored
per vector step; after 500 env steps one update per 8 env steps: a batch of
whole episodes (small: 16, up to 256 train steps) or of 64-step chunks
(large: 32, zero start state), 3-step double-Q targets from a target net
copied every 100 updates, gamma 0.98, Huber loss averaged over the train
steps, gradients clipped to norm 10, Adam lr 1e-2.
  small  N = 10, LSTM 32, batch 16 episodes
  large  N = 50, LSTM 128, batch 32 chunks of 64 train steps (+ 3 lookahead)

FLOPs are counted as rql counts them (bench/bench_train.c): 2 per
multiply-add of the matrix products over the valid steps of each row
(padding not counted); an update's forward is the online and the target
net's, its backward dW, dx of all layers but the first, and dh through
time; acting one row per env per vector step. Times are the process's CPU
time (time.process_time), the wall clock beside them; the shares are of CPU
time in acting, env stepping, replay (store + sample), update forward (and
targets), backward, optimizer (clip, Adam, target copy) and logging (a row
per finished episode and per 10 updates, appended to lists).

With --rql PATH it also runs `PATH bench train --config C --steps N
--repeats R`, before and after the PyTorch runs, and prints rql's env steps
per CPU second (both), PyTorch's, and the ratios (target in issue 16: rql >= 30x on the small config). Exit status: 0
measured, 1 rql failed or printed no figure, 2 bad arguments.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

CONFIGS = {
    "small": dict(length=10, hidden=32, batch=16, mode="episode", train=256, steps=40000),
    "large": dict(length=50, hidden=128, batch=32, mode="chunk", train=64, steps=2000),
}
N_ENVS, N_ACT, OBS = 8, 4, 3
GAMMA, N_STEP, LR, CLIP, TARGET_EVERY = 0.98, 3, 1e-2, 10.0, 100
WARMUP, CAPACITY, UPS = 500, 50000, 0.125
EPS0, EPS1, EPS_DECAY = 1.0, 0.05, 10000
TERM, TRUNC, START = 1, 2, 4
SLOTS = ["acting", "env stepping", "replay store + sample", "update forward", "update backward",
         "update optimizer", "logging"]


class TMaze:
    """N envs of the T-maze, stepped together (numpy), auto-resetting."""
    SIGN = np.array([[0, 1, 1], [1, 1, 0]], np.float32)
    CORR = np.array([1, 0, 1], np.float32)
    JUNC = np.array([0, 1, 0], np.float32)

    def __init__(self, n, length, rng):
        self.n, self.N, self.max_steps, self.rng = n, length, 10 * (length + 1), rng
        self.x = np.zeros(n, np.int64)
        self.t = np.zeros(n, np.int64)
        self.sign = rng.integers(0, 2, n)
        self.obs = np.zeros((n, OBS), np.float32)
        for i in range(n):
            self.obs[i] = self._obs(i)

    def _obs(self, i):
        if self.x[i] == 0:
            return self.SIGN[self.sign[i]]
        return self.JUNC if self.x[i] == self.N else self.CORR

    def step(self, act):
        """Returns rewards, terminated, truncated, success, final obs; self.obs
        holds the next observation (a new episode's first where one ended)."""
        n = self.n
        rew = np.zeros(n, np.float32)
        term = np.zeros(n, bool)
        succ = np.zeros(n, bool)
        for i in range(n):
            a, x = act[i], self.x[i]
            self.t[i] += 1
            if x == self.N and a in (0, 2):
                term[i] = True
                succ[i] = (a == 0) == (self.sign[i] == 0)
                rew[i] = 4.0 if succ[i] else -0.1
            elif a == 1 and x < self.N:
                self.x[i] = x + 1
            elif a == 3 and x > 0:
                self.x[i] = x - 1
            else:
                rew[i] = -0.1
        trunc = ~term & (self.t >= self.max_steps)
        final = np.zeros((n, OBS), np.float32)
        for i in range(n):
            o = self.JUNC if term[i] else self._obs(i)
            if term[i] or trunc[i]:
                final[i] = o
                self.x[i], self.t[i], self.sign[i] = 0, 0, self.rng.integers(0, 2)
                o = self._obs(i)
            self.obs[i] = o
        return rew, term, trunc, succ, final


class QNet(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.LSTM(OBS, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_ACT)

    def forward(self, x, state=None):
        h, state = self.rnn(x, state)
        return self.head(h), state


class Replay:
    """Steps of the n envs, one slot per vector step, in a ring."""

    def __init__(self, n, capacity):
        self.n, self.nslots, self.head = n, max(2, capacity // n), 0
        self.obs = np.zeros((self.nslots, n, OBS), np.float32)
        self.fin = np.zeros((self.nslots, n, OBS), np.float32)
        self.rew = np.zeros((self.nslots, n), np.float32)
        self.act = np.zeros((self.nslots, n), np.int64)
        self.flags = np.zeros((self.nslots, n), np.uint8)

    def add(self, obs, act, rew, term, trunc, start, final):
        s = self.head % self.nslots
        self.obs[s], self.act[s], self.rew[s] = obs, act, rew
        self.flags[s] = term * TERM | trunc * TRUNC | start * START
        self.fin[s] = final
        self.head += 1

    def lo(self):
        return max(0, self.head - self.nslots)

    def f(self, u, row):
        return self.flags[u % self.nslots, row]

    def plan(self, u, row, max_train):
        """Train steps from u (up to max_train, to the episode's end), then up
        to N_STEP lookahead steps; has_final: the episode ended inside."""
        train = look = 0
        v, ended = u, False
        while train < max_train and v < self.head:
            if v > u and self.f(v, row) & START:
                break
            train += 1
            if self.f(v, row) & (TERM | TRUNC):
                ended, v = True, v + 1
                break
            v += 1
        while not ended and look < N_STEP and v < self.head:
            if self.f(v, row) & START:
                break
            look += 1
            if self.f(v, row) & (TERM | TRUNC):
                ended = True
            v += 1
        return train, look, ended

    def target(self, u, row, held, i):
        """(return, discount, bootstrap index) of train step i, or None."""
        R, g = 0.0, 1.0
        for j in range(N_STEP):
            t = i + j
            if t >= held:
                return None
            f = self.f(u + t, row)
            R += g * self.rew[(u + t) % self.nslots, row]
            g *= GAMMA
            if f & (TERM | TRUNC):
                return R, (0.0 if f & TERM else g), held
        if i + N_STEP >= held:
            return None
        return R, g, i + N_STEP


def flops_per_row(hidden):
    """Forward and backward FLOPs per row, as bench_train.c's net_flops."""
    G = 4 * hidden
    fwd = 2 * (OBS * G + hidden * G) + 2 * hidden * N_ACT
    bwd = 2 * (OBS * G + 2 * hidden * G) + 2 * (2 * hidden * N_ACT)
    return fwd, bwd


def run(cfg, steps, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = TMaze(N_ENVS, cfg["length"], rng)
    online, target = QNet(cfg["hidden"]), QNet(cfg["hidden"])
    target.load_state_dict(online.state_dict())
    opt = torch.optim.Adam(online.parameters(), lr=LR)
    rp = Replay(N_ENVS, CAPACITY)
    B, max_train = cfg["batch"], cfg["train"]
    H = cfg["hidden"]
    h = torch.zeros(1, N_ENVS, H)
    c = torch.zeros(1, N_ENVS, H)
    start = np.ones(N_ENVS, bool)
    sl = [0.0] * len(SLOTS)
    rows_fwd = rows_bwd = 0
    env_steps = updates = episodes = 0
    credit = 0.0
    curves, train_rows = [], []
    w0, c0 = time.perf_counter(), time.process_time()
    t = c0
    while env_steps < steps:
        # acting: one LSTM step for all envs, state reset at episode starts
        obs = env.obs.copy()
        keep = torch.from_numpy(~start).float().view(1, N_ENVS, 1)
        h, c = h * keep, c * keep
        with torch.no_grad():
            q, (h, c) = online(torch.from_numpy(obs).view(N_ENVS, 1, OBS), (h, c))
        act = q.view(N_ENVS, N_ACT).argmax(1).numpy()
        eps = EPS1 if env_steps >= EPS_DECAY else EPS0 + (EPS1 - EPS0) * env_steps / EPS_DECAY
        explore = rng.random(N_ENVS) < eps
        act = np.where(explore, rng.integers(0, N_ACT, N_ENVS), act)
        now = time.process_time(); sl[0] += now - t; t = now
        rew, term, trunc, succ, final = env.step(act)
        now = time.process_time(); sl[1] += now - t; t = now
        rp.add(obs, act, rew, term, trunc, start, final)
        start = term | trunc
        env_steps += N_ENVS
        now = time.process_time(); sl[2] += now - t; t = now
        if env_steps >= WARMUP:
            credit += N_ENVS * UPS
        while credit >= 1.0:
            credit -= 1.0
            # sample: episode starts uniformly (rejection), or any step (chunks)
            lo, span = rp.lo(), rp.head - rp.lo()
            seqs = []
            for _ in range(B):
                for _ in range(1000000):
                    u, row = lo + int(rng.integers(span)), int(rng.integers(N_ENVS))
                    if cfg["mode"] == "chunk" or rp.f(u, row) & START:
                        break
                seqs.append((u, row) + rp.plan(u, row, max_train))
            lens = [tr + lk + fin for (_, _, tr, lk, fin) in seqs]
            T = max(lens)
            x = np.zeros((B, T, OBS), np.float32)
            for b, (u, row, tr, lk, fin) in enumerate(seqs):
                held = tr + lk
                idx = (np.arange(u, u + held) % rp.nslots)
                x[b, :held] = rp.obs[idx, row]
                if fin:
                    x[b, held] = rp.fin[(u + held - 1) % rp.nslots, row]
            xt = torch.from_numpy(x)
            rows_fwd += 2 * sum(lens)
            rows_bwd += sum(lens)
            now = time.process_time(); sl[2] += now - t; t = now
            with torch.no_grad():
                qt, _ = target(xt)
            q, _ = online(xt)
            bi, ti, ai, bb, rr, dd = [], [], [], [], [], []
            for b, (u, row, tr, lk, fin) in enumerate(seqs):
                held = tr + lk
                for i in range(tr):
                    r = rp.target(u, row, held, i)
                    if r is None:
                        continue
                    bi.append(b); ti.append(i); ai.append(int(rp.act[(u + i) % rp.nslots, row]))
                    rr.append(r[0]); dd.append(r[1]); bb.append(r[2])
            if not bi:
                continue
            # double Q: the online net picks at the bootstrap step, the target values
            bi_t, bb_t = torch.tensor(bi), torch.tensor(bb)
            with torch.no_grad():
                a_star = q[bi_t, bb_t].argmax(1)
                y = torch.tensor(rr) + torch.tensor(dd) * qt[bi_t, bb_t, a_star]
            qa = q[bi_t, torch.tensor(ti), torch.tensor(ai)]
            loss = nn.functional.huber_loss(qa, y.float(), delta=1.0)
            now = time.process_time(); sl[3] += now - t; t = now
            opt.zero_grad()
            loss.backward()
            now = time.process_time(); sl[4] += now - t; t = now
            gn = nn.utils.clip_grad_norm_(online.parameters(), CLIP)
            opt.step()
            updates += 1
            if updates % TARGET_EVERY == 0:
                target.load_state_dict(online.state_dict())
            now = time.process_time(); sl[5] += now - t; t = now
            if updates % 10 == 0:
                train_rows.append((updates, float(loss), float(qa.mean()), float(gn)))
        for i in np.nonzero(start)[0]:
            curves.append((episodes, env_steps, float(succ[i])))
            episodes += 1
        now = time.process_time(); sl[6] += now - t; t = now
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    fwd, bwd = flops_per_row(H)
    return dict(cpu=cpu, wall=wall, env_steps=env_steps, updates=updates, episodes=episodes, slots=sl,
                flop_upd=fwd * rows_fwd + bwd * rows_bwd, flop_act=fwd * env_steps)


def sgemm_gflops(n=512):
    a, b = torch.rand(n, n), torch.rand(n, n)
    best = 1e30
    for r in range(41):
        t0 = time.perf_counter()
        torch.mm(a, b)
        dt = time.perf_counter() - t0
        if r and dt < best:
            best = dt
    return 2.0 * n ** 3 / best * 1e-9


def report(name, rs, gemm):
    rs = sorted(rs, key=lambda r: r["env_steps"] / r["cpu"])
    m = rs[len(rs) // 2]
    sps_cpu = [r["env_steps"] / r["cpu"] for r in rs]
    sl = m["slots"]
    upd_s = sl[3] + sl[4] + sl[5]
    gf_upd = m["flop_upd"] / upd_s * 1e-9 if upd_s else 0
    gf_act = m["flop_act"] / sl[0] * 1e-9
    gf_all = (m["flop_upd"] + m["flop_act"]) / m["cpu"] * 1e-9
    print(f"torch {name}: {m['env_steps']} env steps, {m['updates']} updates, {m['episodes']} episodes; "
          f"median of {len(rs)} runs: {m['wall']:.3f} s wall, {m['cpu']:.3f} s CPU")
    print(f"  env steps/s {m['env_steps'] / m['wall']:10.0f}; per CPU second {sps_cpu[len(rs) // 2]:.0f} "
          f"(runs: {sps_cpu[0]:.0f} .. {sps_cpu[-1]:.0f})")
    print(f"  updates/s   {m['updates'] / m['wall']:10.1f}  per CPU second {m['updates'] / m['cpu']:.1f}")
    print(f"  FLOPs: updates {m['flop_upd'] * 1e-9:.3f} GFLOP "
          f"({m['flop_upd'] / max(m['updates'], 1) * 1e-6:.2f} MFLOP each), acting {m['flop_act'] * 1e-9:.3f} GFLOP")
    print(f"  GFLOP/s: updates {gf_upd:.2f} ({100 * gf_upd / gemm:.1f}% of sgemm), acting {gf_act:.3f} "
          f"({100 * gf_act / gemm:.2f}%), whole run {gf_all:.2f} ({100 * gf_all / gemm:.1f}%)")
    print("  CPU time: " + ", ".join(f"{n} {100 * s / m['cpu']:.1f}%" for n, s in zip(SLOTS, sl))
          + f", other {100 * (m['cpu'] - sum(sl)) / m['cpu']:.1f}%")
    return sps_cpu[len(rs) // 2]


def run_rql(a):
    cmd = [a.rql, "bench", "train", "--config", a.config, "--steps", str(a.steps), "--repeats", str(a.repeats)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode:
        sys.stderr.write(p.stderr)
        return None
    m = re.search(r"env steps/s\s+\d+\s+\(runs:[^)]*\); per CPU second (\d+)", p.stdout)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="small")
    ap.add_argument("--steps", type=int, default=0, help="env steps per run (default: the config's)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--rql", help="path of an rql binary to run side by side")
    a = ap.parse_args()
    cfg = CONFIGS[a.config]
    a.steps = a.steps or cfg["steps"]
    if a.steps < 8 or a.repeats < 1:
        ap.error("--steps must be >= 8 and --repeats >= 1")
    torch.set_num_threads(1)
    # rql runs before and after PyTorch, so that both see the machine's load
    # of the same stretch of time (a shared machine's load drifts)
    before = run_rql(a) if a.rql else None
    if a.rql and before is None:
        print("rql: no figure", file=sys.stderr)
        return 1
    gemm = sgemm_gflops()
    rs = [run(cfg, a.steps, seed) for seed in range(a.repeats)]
    gemm = max(gemm, sgemm_gflops())
    sps = report(a.config, rs, gemm)
    print(f"  torch.mm 512^3: {gemm:.1f} GFLOP/s, one thread (torch {torch.__version__})")
    if not a.rql:
        return 0
    after = run_rql(a)
    if after is None:
        print("rql: no figure", file=sys.stderr)
        return 1
    lo, hi = sorted((before, after))
    print(f"env steps per CPU second, {a.config}: rql {lo:.0f} .. {hi:.0f} (before and after), PyTorch {sps:.0f}: "
          f"rql is {lo / sps:.1f}x .. {hi / sps:.1f}x (target >= 30x on small)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
