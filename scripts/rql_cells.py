"""PyTorch modules for rql's peephole, mingru and lru layers, written from
the papers' equations with autograd (PyTorch has none of the three), so that
scripts/make_torch_ref.py can compute reference numbers and
scripts/torch_check.py can replay a run. Parameter names and shapes are
those of nets/nets.h, so a state_dict loads as rql saves it ("1.weight_peep",
"1.nu_log", ...).

Each module runs one row: forward(x [1, L, I], state) -> (y [1, L, H],
final state, per-step states), the state as rql lays out a state row:
  Peephole  (h [H], c [H])      Gers, Schraudolph, Schmidhuber 2002
  MinGRU    h [H]               Feng et al. 2024 (sequential mode; the
                                paper's log-space scan as forward_scan)
  LRU       h [2H] = (Re, Im)   Orvieto et al. 2023 (complex arithmetic)
"""
import torch
from torch import nn


def _param(*shape):
    return nn.Parameter(torch.zeros(*shape))


class Peephole(nn.Module):
    """LSTM with diagonal peepholes: c_{t-1} into i and f, c_t into o.
    Gates i, f, g, o stacked as in nn.LSTM; weight_peep [3, H] = p_i, p_f, p_o."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        H = self.hidden_size = hidden_size
        self.weight_ih_l0 = _param(4 * H, input_size)
        self.weight_hh_l0 = _param(4 * H, H)
        self.bias_ih_l0 = _param(4 * H)
        self.bias_hh_l0 = _param(4 * H)
        self.weight_peep = _param(3, H)

    def forward(self, x, state):
        h, c = state
        pi, pf, po = self.weight_peep
        hs, cs = [], []
        for t in range(x.shape[1]):
            a = x[0, t] @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T + self.bias_hh_l0
            ai, af, ag, ao = a.chunk(4)
            i = torch.sigmoid(ai + pi * c)
            f = torch.sigmoid(af + pf * c)
            g = torch.tanh(ag)
            c = f * c + i * g
            o = torch.sigmoid(ao + po * c)
            h = o * torch.tanh(c)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs)[None], (h, c), (torch.stack(hs), torch.stack(cs))


def _g(a):
    """minGRU's g: a + 0.5 for a >= 0, sigmoid(a) below (continuous, positive)."""
    return torch.where(a >= 0, a + 0.5, torch.sigmoid(a))


def _log_g(a):
    return torch.where(a >= 0, (torch.relu(a) + 0.5).log(), -nn.functional.softplus(-a))


class MinGRU(nn.Module):
    """z = s(W_z x + b_z), h~ = g(W_h x + b_h), h' = (1 - z) h + z h~;
    weight_ih_l0 [2H, I] stacks W_z over W_h, bias_ih_l0 [2H] b_z over b_h."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        H = self.hidden_size = hidden_size
        self.weight_ih_l0 = _param(2 * H, input_size)
        self.bias_ih_l0 = _param(2 * H)

    def forward(self, x, h):
        k, a = (x[0] @ self.weight_ih_l0.T + self.bias_ih_l0).chunk(2, -1)
        z, ht = torch.sigmoid(k), _g(a)
        hs = []
        for t in range(x.shape[1]):
            h = (1 - z[t]) * h + z[t] * ht[t]
            hs.append(h)
        hs = torch.stack(hs)
        return hs[None], h, (hs, None)

    def forward_scan(self, x, h0):
        """The paper's parallel_scan_log (its listing, batch of one): needs
        h0 > 0. Returns h [L, H]."""
        k, a = (x[0] @ self.weight_ih_l0.T + self.bias_ih_l0).chunk(2, -1)
        log_coeffs = -nn.functional.softplus(k)
        log_values = torch.cat([h0.log()[None], -nn.functional.softplus(-k) + _log_g(a)], 0)
        a_star = nn.functional.pad(torch.cumsum(log_coeffs, 0), (0, 0, 1, 0))
        log_h = a_star + torch.logcumsumexp(log_values - a_star, 0)
        return torch.exp(log_h)[1:]


class LRU(nn.Module):
    """lambda = exp(-exp(nu_log) + i exp(theta_log)), h' = lambda h +
    exp(gamma_log) (B x), y = Re(C h') + D x; B [H, I], C [H, H] complex as
    re/im pairs, D [H, I] real. The state row is (Re h, Im h)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        H = self.hidden_size = hidden_size
        self.nu_log = _param(H)
        self.theta_log = _param(H)
        self.gamma_log = _param(H)
        self.B_re = _param(H, input_size)
        self.B_im = _param(H, input_size)
        self.C_re = _param(H, H)
        self.C_im = _param(H, H)
        self.D = _param(H, input_size)

    def forward(self, x, state):
        H = self.hidden_size
        h = torch.complex(state[:H], state[H:])
        lam = torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))
        gam = torch.exp(self.gamma_log)
        Bc = torch.complex(self.B_re, self.B_im)
        Cc = torch.complex(self.C_re, self.C_im)
        ys, hs = [], []
        for t in range(x.shape[1]):
            xt = x[0, t]
            h = lam * h + gam * (Bc @ xt.to(Bc.dtype))
            ys.append((Cc @ h).real + self.D @ xt)
            hs.append(torch.cat([h.real, h.imag]))
        fin = torch.cat([h.real, h.imag])
        return torch.stack(ys)[None], fin, (torch.stack(hs), None)


CELLS = {"peephole": Peephole, "mingru": MinGRU, "lru": LRU}


def state_width(kind, H):
    """Floats of the layer's block in a state row (nets.h)."""
    return 2 * H if kind in ("lstm", "peephole", "lru") else H
