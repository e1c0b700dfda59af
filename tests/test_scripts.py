#!/usr/bin/python3
"""Tests of scripts/ (rqlog, plot_curves, plot_memory, plot_sweep), stdlib unittest.

    RQL_RUNDIR=DIR /usr/bin/python3 tests/test_scripts.py   # runs under DIR (from rql train)
    /usr/bin/python3 tests/test_scripts.py                    # on logs it synthesises itself

tests/e2e_scripts.sh runs it on a real log that `rql train` wrote; without
RQL_RUNDIR the tests use logs written here with h5py following the schema of
docs/log-format.md (write_log), which is also how the scripts were developed.
"""
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(HERE), "scripts")
sys.path.insert(0, SCRIPTS)
import rqlog  # noqa: E402
import plot_curves  # noqa: E402
import plot_memory  # noqa: E402
import plot_sweep  # noqa: E402

PY = "/usr/bin/python3"


# ---------------------------------------------------------------------------
# a schema-exact synthetic log: dense:8:relu, lstm:6, dense:3 on a T-maze-like
# observation of 4 floats whose bits 0/1 at t = 0 are the sign
# ---------------------------------------------------------------------------

BOOL = h5py.enum_dtype({"FALSE": 0, "TRUE": 1}, basetype="i1")
STR = h5py.string_dtype("utf-8")
CONFIG = """# synthetic
seed = 1;
output = "runs/synth";
env = { name = "tmaze"; length = 3; };
train = { episodes = 40; n_envs = 1; };
eval = { every = 10; episodes = 10; record = 4; record_every = 0; };
agents = ( { label = "drqn_lstm"; type = "drqn"; core = "lstm"; hidden = 6; } );
"""


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_forward(obs, W, h0=None, c0=None):
    """Reference forward of the synthetic net: obs [T, 4] -> q [T, 3], h, c."""
    H = W["1.weight_hh_l0"].shape[1]
    h = np.zeros(H) if h0 is None else h0.copy()
    c = np.zeros(H) if c0 is None else c0.copy()
    qs, hs, cs = [], [], []
    for x in obs:
        e = np.maximum(W["0.weight"] @ x + W["0.bias"], 0.0)
        g = W["1.weight_ih_l0"] @ e + W["1.bias_ih_l0"] + W["1.weight_hh_l0"] @ h + W["1.bias_hh_l0"]
        i, f, gg, o = _sig(g[:H]), _sig(g[H:2 * H]), np.tanh(g[2 * H:3 * H]), _sig(g[3 * H:])
        c = f * c + i * gg
        h = o * np.tanh(c)
        qs.append(W["2.weight"] @ h + W["2.bias"])
        hs.append(h)
        cs.append(c)
    return np.array(qs), np.array(hs), np.array(cs)


def put(g, name, data, dtype=None):
    """A column as rlog writes it: chunked, unlimited rows, shuffle + deflate 4."""
    data = np.asarray(data)
    g.create_dataset(name, data=data, dtype=dtype or data.dtype, maxshape=(None,) + data.shape[1:],
                     chunks=(max(1, min(len(data), 4096)),) + data.shape[1:], shuffle=True,
                     compression="gzip", compression_opts=4)


def write_log(path, seed=1, label="drqn_lstm", episodes=40, version=None):
    rng = np.random.default_rng(seed)
    W = {"0.weight": rng.normal(0, 0.5, (8, 4)), "0.bias": rng.normal(0, 0.1, 8),
         "1.weight_ih_l0": rng.normal(0, 0.5, (24, 8)), "1.weight_hh_l0": rng.normal(0, 0.5, (24, 6)),
         "1.bias_ih_l0": rng.normal(0, 0.1, 24), "1.bias_hh_l0": rng.normal(0, 0.1, 24),
         "2.weight": rng.normal(0, 0.5, (3, 6)), "2.bias": rng.normal(0, 0.1, 3)}
    W = {k: v.astype(np.float32) for k, v in W.items()}
    f = h5py.File(path, "w", libver="latest", track_order=True)
    f.attrs["format"] = "rql-log"
    f.attrs["format_version"] = np.int32(rqlog.FORMAT_VERSION if version is None else version)
    f.attrs["rql_version"] = "synthetic"
    f.attrs["seed"] = np.int64(seed)
    f.attrs["env"] = "tmaze"
    f.attrs["agent"] = "drqn"
    f.attrs["label"] = label
    f.attrs["created"] = "2026-01-01T00:00:00Z"
    f.attrs["config"] = CONFIG
    f.attrs["obs_size"] = np.int32(4)
    f.attrs["n_actions"] = np.int32(3)
    f.attrs["hidden_size"] = np.int32(6)
    f.attrs["cell"] = "lstm"
    f.attrs["net_spec"] = "dense:8:relu,lstm:6,dense:3"
    f.attrs["status"] = "complete"
    length = rng.integers(4, 9, episodes)
    success = rng.random(episodes) < np.linspace(0.2, 0.9, episodes)
    g = f.create_group(track_order=True, name="curves")
    put(g, "episode", np.arange(episodes, dtype=np.int64))
    put(g, "env_steps", np.cumsum(length).astype(np.int64))
    put(g, "return", np.where(success, 4.0, -0.1 * length).astype(np.float32))
    put(g, "length", length.astype(np.int32))
    put(g, "success", success.astype(np.int8), BOOL)
    put(g, "epsilon", np.linspace(1, 0.1, episodes).astype(np.float32))
    put(g, "wall_s", np.linspace(0.01, 1, episodes))
    g = f.create_group(track_order=True, name="train")
    put(g, "update", np.arange(1, 31, dtype=np.int64))
    put(g, "loss", rng.random(30).astype(np.float32))
    put(g, "q_mean", rng.random(30).astype(np.float32))
    put(g, "grad_norm", rng.random(30).astype(np.float32))
    g = f.create_group(track_order=True, name="eval")
    put(g, "at_episode", np.array([10, 20, 30, 40], dtype=np.int64))
    put(g, "env_steps", np.array([60, 120, 180, 240], dtype=np.int64))
    put(g, "return_mean", rng.random(4))
    put(g, "success_rate", np.array([0.2, 0.5, 0.6, 0.9]))
    put(g, "episodes", np.full(4, 10, dtype=np.int32))
    cols = {k: [] for k in ("episode", "t", "observations", "actions", "rewards", "terminations",
                            "truncations", "q_values", "hidden", "cell")}
    for e in range(4):          # the final evaluation records 4 episodes, ids 0..3
        T = 5
        obs = np.zeros((T, 4), dtype=np.float32)
        obs[0, e % 2] = 1.0
        obs[1:-1, 2] = 1.0
        obs[-1, 3] = 1.0
        q, h, c = lstm_forward(obs.astype(np.float64), {k: v.astype(np.float64) for k, v in W.items()})
        cols["episode"] += [e] * T
        cols["t"] += list(range(T))
        cols["observations"].append(obs)
        cols["actions"] += list(np.argmax(q, axis=1))
        cols["rewards"] += [-0.1] * (T - 1) + [4.0]
        cols["terminations"] += [0] * (T - 1) + [1]
        cols["truncations"] += [0] * T
        cols["q_values"].append(q)
        cols["hidden"].append(h)
        cols["cell"].append(c)
    g = f.create_group(track_order=True, name="steps")
    put(g, "episode", np.array(cols["episode"], dtype=np.int64))
    put(g, "t", np.array(cols["t"], dtype=np.int32))
    put(g, "observations", np.vstack(cols["observations"]).astype(np.float32))
    nxt = [np.vstack([o[1:], o[-1:] * 0 + 0.5]) for o in cols["observations"]]
    put(g, "next_observations", np.vstack(nxt).astype(np.float32))
    put(g, "actions", np.array(cols["actions"], dtype=np.int32))
    put(g, "rewards", np.array(cols["rewards"], dtype=np.float32))
    put(g, "terminations", np.array(cols["terminations"], dtype=np.int8), BOOL)
    put(g, "truncations", np.array(cols["truncations"], dtype=np.int8), BOOL)
    put(g, "q_values", np.vstack(cols["q_values"]).astype(np.float32))
    put(g, "hidden", np.vstack(cols["hidden"]).astype(np.float32))
    put(g, "cell", np.vstack(cols["cell"]).astype(np.float32))
    g = f.create_group(track_order=True, name="weights")
    put(g, "at_episode", np.array([20, 40], dtype=np.int64))
    # the architecture attributes of nets' net_save_h5
    g.attrs["format"] = "rql-net"
    g.attrs["layer_kinds"] = "dense,lstm,dense"
    g.attrs["layer_acts"] = "relu,-,none"
    g.attrs["gate_order"] = "ifgo"
    g.attrs["input_size"] = np.int32(4)
    g.attrs["layer_units"] = np.array([8, 6, 3], dtype=np.int32)
    g.attrs["learn_h0"] = np.array([0, 0, 0], dtype=np.int32)
    for k, v in W.items():
        put(g, k, np.stack([v * 0.5, v]))
    f.close()
    return path


# ---------------------------------------------------------------------------

def runs_dir():
    return os.environ.get("RQL_RUNDIR")


class Fixture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rql_scripts_")
        d = runs_dir()
        if d:
            cls.dir = d
        else:
            cls.dir = os.path.join(cls.tmp, "runs")
            os.makedirs(os.path.join(cls.dir, "sub"))
            for s in (1, 2, 3):
                write_log(os.path.join(cls.dir, "drqn_s%d.h5" % s), seed=s)
            write_log(os.path.join(cls.dir, "sub", "dqn_s1.h5"), seed=1, label="dqn_k1")
            with h5py.File(os.path.join(cls.dir, "sub", "dqn_s1.ckpt.h5"), "w") as f:
                f.attrs["format"] = "rql-checkpoint"
        cls.files = rqlog.find_runs(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def recorded_file(self):
        """A run whose /steps has rows and hidden state (a recurrent agent)."""
        for p in self.files:
            with h5py.File(p, "r") as f:
                if "steps" in f and "hidden" in f["steps"] and f["steps/hidden"].shape[0] > 0 \
                        and f["steps/hidden"].ndim == 2 and f["steps/hidden"].shape[1] > 0:
                    return p
        self.fail("no run under %s recorded steps with hidden state" % self.dir)


class TestConfigParser(unittest.TestCase):
    def test_subset(self):
        text = '''# comment
        a = 1; b = -2.5e-1; c = "x\\"y" " z";  // trailing
        /* block
           comment */
        g : { h = true; i = [1, 2, 3]; big = 12L; hx = 0x1F; };
        l = ( { k = "v"; }, 3, "s" );
        e = ();
        '''
        d = rqlog.parse_config(text)
        self.assertEqual(d, {"a": 1, "b": -0.25, "c": 'x"y z',
                             "g": {"h": True, "i": [1, 2, 3], "big": 12, "hx": 31},
                             "l": [{"k": "v"}, 3, "s"], "e": []})

    def test_error_names_line(self):
        with self.assertRaisesRegex(ValueError, "line 3"):
            rqlog.parse_config("a = 1;\nb = 2;\nc = = 3;\n")


class TestT(unittest.TestCase):
    def test_known_quantiles(self):
        # t(0.975, df) from standard tables
        for df, want in [(1, 12.7062047362), (2, 4.30265272975), (3, 3.18244630528),
                         (5, 2.57058183661), (10, 2.22813885196), (29, 2.04522964213),
                         (120, 1.97993040505)]:
            self.assertAlmostEqual(plot_curves.t_ppf(0.975, df), want, places=7, msg="df=%d" % df)
        self.assertAlmostEqual(plot_curves.t_ppf(0.95, 4), 2.13184678633, places=7)
        self.assertAlmostEqual(plot_curves.t_ppf(0.025, 7), -2.36462425159, places=7)

    def test_band(self):
        xs = [np.array([0.0, 10.0]), np.array([0.0, 5.0, 20.0])]
        ys = [np.array([0.0, 1.0]), np.array([1.0, 1.0, 1.0])]
        g, m, lo, hi, n = plot_curves.mean_band(xs, ys, points=11)
        self.assertEqual(n, 2)
        self.assertEqual((g[0], g[-1]), (0.0, 10.0))   # the range both seeds cover
        np.testing.assert_allclose(m, (g / 10.0 + 1.0) / 2.0)
        half = 12.7062047362 * np.abs(g / 10.0 - 1.0) / math.sqrt(2) / math.sqrt(2)
        np.testing.assert_allclose(hi - m, half, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(m - lo, half, rtol=1e-9, atol=1e-12)


class TestLoad(Fixture):
    def test_finds_runs_skips_checkpoints(self):
        self.assertTrue(self.files)
        for p in self.files:
            with h5py.File(p, "r") as f:
                self.assertEqual(f.attrs["format"], "rql-log", p)
        for root, _, names in os.walk(self.dir):
            for n in names:
                p = os.path.join(root, n)
                if n.endswith(".h5") and p not in self.files:
                    with h5py.File(p, "r") as f:
                        self.assertNotEqual(f.attrs.get("format"), "rql-log", p)

    def test_tables_equal_h5py(self):
        for p in self.files:
            run = rqlog.load(p)
            with h5py.File(p, "r") as f:
                for name in rqlog.TABLES:
                    df = getattr(run, name)
                    if name not in f:
                        self.assertTrue(df.empty)
                        continue
                    g = f[name]
                    n = min(g[k].shape[0] for k in g)
                    self.assertEqual(len(df), n, "%s /%s rows" % (p, name))
                    want_cols = []
                    for k in g:
                        ds = g[k]
                        a = ds[()]
                        if a.ndim == 1:
                            want_cols.append(k)
                            got = df[k].to_numpy()
                            if h5py.check_enum_dtype(ds.dtype) is not None:
                                self.assertEqual(got.dtype, bool, "%s /%s/%s" % (p, name, k))
                                np.testing.assert_array_equal(got, a[:n] != 0)
                            else:
                                np.testing.assert_array_equal(got, a[:n], "%s /%s/%s" % (p, name, k))
                        else:
                            pre = rqlog.VECTOR_PREFIX.get(k, k)
                            for j in range(a.shape[1]):
                                want_cols.append("%s_%d" % (pre, j))
                            got = df[["%s_%d" % (pre, j) for j in range(a.shape[1])]].to_numpy()
                            np.testing.assert_array_equal(got, a[:n], "%s /%s/%s" % (p, name, k))
                    self.assertEqual(sorted(df.columns), sorted(want_cols), "%s /%s" % (p, name))

    def test_expected_columns(self):
        run = rqlog.load(self.files[0])
        for c in ("episode", "env_steps", "return", "length", "success", "epsilon", "wall_s"):
            self.assertIn(c, run.curves.columns)
        self.assertGreater(len(run.curves), 0)
        np.testing.assert_array_equal(np.diff(run.curves["episode"].to_numpy()) > 0, True)
        run = rqlog.load(self.recorded_file())
        for c in ("episode", "t", "actions", "rewards", "terminations", "truncations",
                  "obs_0", "q_0", "h_0"):
            self.assertIn(c, run.steps.columns)
        self.assertEqual(len(run.columns("q")), len(run.steps.filter(regex=r"^q_\d+$").columns))

    def test_weights_and_attrs(self):
        for p in self.files:
            run = rqlog.load(p)
            with h5py.File(p, "r") as f:
                for k, v in f.attrs.items():
                    got = run.attrs[k]
                    if isinstance(v, (bytes, str)):
                        self.assertEqual(got, v.decode() if isinstance(v, bytes) else v)
                    else:
                        np.testing.assert_array_equal(got, v)
                self.assertEqual(run.seed, int(f.attrs["seed"]))
                if "weights" not in f:
                    continue
                g = f["weights"]
                np.testing.assert_array_equal(run.weight_episodes, g["at_episode"][()])
                k = len(run.weight_episodes)
                names = []
                g.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and n != "at_episode" else None)
                self.assertEqual(sorted(run.weight_snapshots), sorted(n.replace("/", ".") for n in names))
                for n in names:
                    key = n.replace("/", ".")
                    np.testing.assert_array_equal(run.weight_snapshots[key], g[n][:k])
                    if k:
                        np.testing.assert_array_equal(run.weights[key], g[n][k - 1])

    def test_config_parsed(self):
        run = rqlog.load(self.files[0])
        self.assertIsInstance(run.config, dict)
        self.assertTrue(run.config, "config attribute parsed to an empty dict")
        self.assertEqual(rqlog.parse_config(run.attrs["config"]), run.config)

    def test_load_dir(self):
        rs = rqlog.load_dir(self.dir)
        self.assertEqual(len(rs.runs), len(self.files))
        total = sum(len(rqlog.load(p).curves) for p in self.files)
        self.assertEqual(len(rs.curves), total)
        for c in ("run", "label", "seed"):
            self.assertIn(c, rs.curves.columns)
        for r in rs.runs:
            sub = rs.curves[rs.curves["run"] == r.path]
            self.assertEqual(set(sub["label"]), {r.label})
            self.assertEqual(set(sub["seed"]), {r.seed})
            np.testing.assert_array_equal(sub["return"].to_numpy(), r.curves["return"].to_numpy())

    def test_newer_version_refused(self):
        bad = os.path.join(self.tmp, "newer.h5")
        shutil.copy(self.files[0], bad)
        newer = rqlog.FORMAT_VERSION + 1
        with h5py.File(bad, "r+") as f:
            f.attrs["format_version"] = np.int32(newer)
        with self.assertRaises(rqlog.LogError) as cm:
            rqlog.load(bad)
        msg = str(cm.exception)
        self.assertIn(bad, msg)
        self.assertIn("format_version %d" % newer, msg)
        self.assertIn("(%d)" % rqlog.FORMAT_VERSION, msg)
        for script in ("rqlog.py", "plot_curves.py", "plot_memory.py", "torch_check.py"):
            args = [PY, os.path.join(SCRIPTS, script), bad]
            if script.startswith("plot"):
                args += ["-o", os.path.join(self.tmp, "never")]
            r = subprocess.run(args, capture_output=True, text=True)
            self.assertNotIn(r.returncode, (0, 77), script)
            self.assertIn("newer than these scripts know", r.stderr, script)
            self.assertIn(bad, r.stderr, script)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never.png")))

    def test_ragged_table_keeps_shortest_column(self):
        # a writer killed mid-block may leave one column of a table longer
        p = os.path.join(self.tmp, "ragged.h5")
        shutil.copy(self.files[0], p)
        with h5py.File(p, "r+") as f:
            n = f["curves/return"].shape[0]
            d = f["curves/return"]
            d.resize((n + 3,))
            d[n:] = 7.0
        run = rqlog.load(p)
        self.assertEqual(len(run.curves), n)
        self.assertNotIn(7.0, run.curves["return"].to_numpy()[n - 1:])

    def test_empty_tables(self):
        # a live log early in a run: every table created, some still empty
        p = os.path.join(self.tmp, "early.h5")
        shutil.copy(self.recorded_file(), p)
        with h5py.File(p, "r+") as f:
            for name in ("steps", "eval", "train"):
                for k in f[name]:
                    f[name][k].resize(0, axis=0)
        run = rqlog.load(p)
        self.assertEqual((len(run.steps), len(run.eval), len(run.train)), (0, 0, 0))
        self.assertIn("obs_0", run.steps.columns)
        self.assertEqual(run.episodes(), {})
        self.assertGreater(len(run.curves), 0)
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_memory.py"), p, "-o", os.path.join(self.tmp, "m")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no recorded steps", r.stderr)

    def test_not_a_log(self):
        other = os.path.join(self.tmp, "other.h5")
        with h5py.File(other, "w") as f:
            f["x"] = 1
        with self.assertRaisesRegex(rqlog.LogError, "not an rql run log"):
            rqlog.load(other)


class TestTorchMissing(Fixture):
    def test_skip_is_77_not_pass(self):
        # hide torch from the script: it must say SKIPPED and exit 77
        code = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = %r; "
                "runpy.run_path(%r, run_name='__main__')"
                % (["torch_check.py", self.recorded_file()], os.path.join(SCRIPTS, "torch_check.py")))
        r = subprocess.run([PY, "-c", code], capture_output=True, text=True)
        self.assertEqual(r.returncode, 77, r.stdout + r.stderr)
        self.assertIn("SKIPPED", r.stdout)


def have_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


@unittest.skipUnless(have_torch(), "python3-torch not installed")
class TestTorchCheck(Fixture):
    def run_check(self, p):
        return subprocess.run([PY, os.path.join(SCRIPTS, "torch_check.py"), "-q", p],
                              capture_output=True, text=True)

    def test_passes_on_log(self):
        r = self.run_check(self.recorded_file())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("max abs error Q", r.stdout)

    def test_detects_perturbed_weights(self):
        bad = os.path.join(self.tmp, "perturbed.h5")
        shutil.copy(self.recorded_file(), bad)
        with h5py.File(bad, "r+") as f:
            names = []
            f["weights"].visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset)
                                    and n != "at_episode" and n.endswith("weight_hh_l0") else None)
            self.assertTrue(names, "no recurrent weight in /weights of %s" % bad)
            d = f["weights"][names[0]]
            d[...] = d[()] + np.float32(0.05)
        r = self.run_check(bad)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("MISMATCH", r.stdout)


def check_png(tc, p):
    tc.assertTrue(os.path.isfile(p), p)
    with open(p, "rb") as fh:
        data = fh.read()
    tc.assertTrue(data.startswith(b"\x89PNG\r\n\x1a\n"), p)
    tc.assertGreater(len(data), 5000, p)


def check_svg(tc, p):
    tc.assertTrue(os.path.isfile(p), p)
    with open(p) as fh:
        data = fh.read()
    tc.assertIn("<svg", data, p)
    tc.assertIn("</svg>", data, p)
    tc.assertGreater(len(data), 5000, p)


class TestPlots(Fixture):
    def test_curves(self):
        out = os.path.join(self.tmp, "plots", "curves")
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = plot_curves.main([self.dir, "-o", out])
        self.assertEqual(rc, 0)
        check_png(self, out + ".png")
        check_svg(self, out + ".svg")
        labels = rqlog.load_dir(self.dir).labels()
        for lab in labels:
            self.assertIn(lab, buf.getvalue())
        with open(out + ".svg") as fh:
            svg = fh.read()
        for lab in labels:
            self.assertIn(lab, svg)

    def test_curves_eval_source(self):
        out = os.path.join(self.tmp, "evalcurves")
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_curves.py"), self.dir, "-o", out,
                            "--source", "eval"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        check_png(self, out + ".png")
        check_svg(self, out + ".svg")
        # the printed final success of each label is the mean over its seeds of
        # /eval success_rate at the last episode that every seed reached
        rs = rqlog.load_dir(self.dir)
        for lab in rs.labels():
            evs = [r.eval for r in rs.runs if r.label == lab and not r.eval.empty]
            end = min(e["at_episode"].max() for e in evs)
            last = [np.interp(end, e["at_episode"], e["success_rate"]) for e in evs]
            line = [x for x in r.stdout.splitlines() if x.startswith(lab + " ")]
            self.assertEqual(len(line), 1, r.stdout)
            self.assertIn("final success %.3f" % np.mean(last), line[0])

    def test_curves_single_file(self):
        out = os.path.join(self.tmp, "one")
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_curves.py"), self.files[0], "-o", out],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        check_png(self, out + ".png")

    def test_memory(self):
        p = self.recorded_file()
        run = rqlog.load(p)
        res = plot_memory.analyse(run, top=2)
        self.assertEqual(sum(len(v) for v in res["groups"].values()), len(run.episodes()))
        # the separation equals a direct computation from h5py for the top unit
        keys = list(res["groups"])
        if len(keys) >= 2:
            with h5py.File(p, "r") as f:
                ep = f["steps/episode"][()]
                t = f["steps/t"][()]
                hid = f["steps/hidden"][()].astype(float)
            tr = {k: [hid[ep == e][np.argsort(t[ep == e])] for e in res["groups"][k]] for k in keys[:2]}
            T = min(max(x.shape[0] for x in tr[k]) for k in keys[:2])
            m = [np.array([np.mean([x[j] for x in tr[k] if x.shape[0] > j], axis=0) for j in range(T)])
                 for k in keys[:2]]
            sep = np.abs(m[0] - m[1]).mean(axis=0)
            np.testing.assert_allclose(res["sep"]["h"], sep, rtol=1e-12)
            self.assertEqual(res["top"]["h"][0], int(np.argmax(sep)))
        out = os.path.join(self.tmp, "memory")
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_memory.py"), p, "-o", out],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        check_png(self, out + ".png")
        check_svg(self, out + ".svg")

    def test_help(self):
        for s in ("rqlog.py", "plot_curves.py", "plot_memory.py", "plot_sweep.py", "torch_check.py"):
            r = subprocess.run([PY, os.path.join(SCRIPTS, s), "--help"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, s)
            self.assertIn("usage:", r.stdout, s)


# ---------------------------------------------------------------------------
# sweeps: a synthetic `rql sweep` folder (sweep.json + minimal logs whose root
# attribute sweep holds the cell), 2 lengths x 2 cores x 2 agents x 3 seeds,
# one cell failed
# ---------------------------------------------------------------------------

def write_sweep_log(path, label, seed, cell, success):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w", libver="latest", track_order=True) as f:
        f.attrs["format"] = "rql-log"
        f.attrs["format_version"] = np.int32(rqlog.FORMAT_VERSION)
        f.attrs["seed"] = np.int64(seed)
        f.attrs["env"] = "tmaze"
        f.attrs["agent"] = "drqn" if label != "dqn" else "dqn"
        f.attrs["label"] = label
        f.attrs["config"] = CONFIG
        f.attrs["status"] = "complete"
        f.attrs["sweep"] = cell
        g = f.create_group(track_order=True, name="curves")
        put(g, "episode", np.arange(40, dtype=np.int64))
        g = f.create_group(track_order=True, name="eval")
        k = len(success)
        put(g, "at_episode", 10 * np.arange(1, k + 1, dtype=np.int64))
        put(g, "env_steps", 60 * np.arange(1, k + 1, dtype=np.int64))
        put(g, "return_mean", 4 * np.asarray(success, dtype=float) - 1)
        put(g, "success_rate", np.asarray(success, dtype=float))
        put(g, "episodes", np.full(k, 10, dtype=np.int32))


def write_sweep(d):
    """Returns {(length, core, label, seed): final success} of the runs with a log."""
    lengths, cores, labels, seeds = [4, 8], ["lstm", "gru"], ["dqn", "drqn"], [0, 1, 2]
    runs, want, i = [], {}, 0
    for L in lengths:
        for core in cores:
            cell_dir = "length=%d,core=%s" % (L, core)
            for lab in labels:
                for s in seeds:
                    log = "%s/%s/seed%d.h5" % (cell_dir, lab, s)
                    failed = L == 8 and core == "gru"
                    if failed:
                        status, err = "failed", "s.cfg:9: sweep agent.drqn.cell=\"gru\": boom"
                    else:
                        status, err = ("complete" if s else "skipped"), None
                        # drqn solves length 4 (seed 2 only at length 8); dqn never does
                        solved = lab == "drqn" and (L == 4 or s == 2)
                        succ = [0.5, 1.0] if solved else [0.5, 0.5 + 0.1 * s]
                        write_sweep_log(os.path.join(d, log), lab, s,
                                        "env.length = %d\nagent.drqn.cell = \"%s\"\n" % (L, core), succ)
                        want[(L, core, lab, s)] = succ[-1]
                    runs.append({"run": i, "cell": 0, "cell_dir": cell_dir,
                                 "values": {"env.length": L, "agent.drqn.cell": core}, "label": lab, "seed": s,
                                 "log": log, "status": status, "rank": i % 3, "wall_s": 0.5,
                                 "episodes": 40, "final_success": None, "final_return": None, "error": err})
                    i += 1
    j = {"format": "rql-sweep", "format_version": 1, "config": "s.cfg", "dir": d, "state": "finished",
         "keys": [{"key": "env.length", "name": "length", "values": lengths},
                  {"key": "agent.drqn.cell", "name": "core", "values": cores}],
         "agents": labels, "seeds": seeds, "runs": runs}
    with open(os.path.join(d, "sweep.json"), "w") as fh:
        json.dump(j, fh)
    return want


class TestSweep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rql_sweep_")
        cls.dir = os.path.join(cls.tmp, "sweep")
        os.makedirs(cls.dir)
        cls.want = write_sweep(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_sweep_values(self):
        self.assertEqual(rqlog.sweep_values('env.length = 8\nagent.drqn.cell = "g\\"ru"\nagent.*.lr = 1.0\n'),
                         {"env.length": 8, "agent.drqn.cell": 'g"ru', "agent.*.lr": 1.0})
        self.assertEqual(rqlog.short_names(["agent.a.hidden", "agent.b.hidden", "env.length"]),
                         {"agent.a.hidden": "agent.a.hidden", "agent.b.hidden": "agent.b.hidden",
                          "env.length": "length"})

    def test_load_sweep(self):
        df = rqlog.load_sweep(self.dir)
        self.assertEqual(len(df), 24)
        self.assertEqual(df.attrs["keys"], {"length": "env.length", "core": "agent.drqn.cell"})
        for c in ("length", "core", "label", "seed", "status", "final_success", "solved", "error", "log"):
            self.assertIn(c, df.columns)
        self.assertEqual(df["length"].dtype.kind, "i")       # typed from the summary
        ok = df[df["status"] != "failed"]
        self.assertEqual(len(ok), 18)
        for _, r in ok.iterrows():
            self.assertAlmostEqual(r["final_success"], self.want[(r["length"], r["core"], r["label"], r["seed"])])
            with h5py.File(r["log"], "r") as f:               # against h5py directly
                self.assertEqual(r["final_success"], f["eval/success_rate"][-1])
                sr = f["eval/success_rate"][()]
                hit = np.nonzero(sr >= 1.0)[0]
                self.assertEqual(bool(r["solved"]), len(hit) > 0)
                if len(hit):
                    self.assertEqual(r["solve_episode"], f["eval/at_episode"][hit[0]])
        bad = df[df["status"] == "failed"]
        self.assertEqual(len(bad), 6)
        self.assertTrue(bad["final_success"].isna().all())
        self.assertTrue(all("boom" in e for e in bad["error"]))
        # the logs alone (no sweep.json): the same values from their root attribute
        os.rename(os.path.join(self.dir, "sweep.json"), os.path.join(self.tmp, "sweep.json"))
        try:
            d2 = rqlog.load_sweep(self.dir)
        finally:
            os.rename(os.path.join(self.tmp, "sweep.json"), os.path.join(self.dir, "sweep.json"))
        self.assertEqual(len(d2), 18)
        self.assertEqual(d2.attrs["keys"], {"length": "env.length", "cell": "agent.drqn.cell"})
        a = ok.set_index(["length", "core", "label", "seed"])["final_success"].sort_index()
        b = d2.set_index(["length", "cell", "label", "seed"])["final_success"].sort_index()
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())

    def test_sweep_table(self):
        df = rqlog.load_sweep(self.dir)
        t = rqlog.sweep_table(df, "length")
        r = t[(t["length"] == 4) & (t["label"] == "drqn")].iloc[0]
        self.assertEqual((r["seeds"], r["solved"], r["failed"]), (6, 6, 0))
        r = t[(t["length"] == 8) & (t["label"] == "drqn")].iloc[0]
        self.assertEqual((r["seeds"], r["solved"], r["failed"]), (3, 1, 3))
        x = np.array([0.5, 0.6, 1.0])                         # drqn, length 8, lstm: seeds 0, 1, 2
        self.assertAlmostEqual(r["success_mean"], x.mean())
        self.assertAlmostEqual(r["success_ci"], 4.3027 * x.std(ddof=1) / math.sqrt(3), places=4)
        self.assertAlmostEqual(r["success_ci"], plot_curves.t_ppf(0.975, 2) * x.std(ddof=1) / math.sqrt(3),
                               places=3)

    def test_plot_sweep(self):
        out = os.path.join(self.tmp, "plots", "sweep")
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_sweep.py"), self.dir, "-o", out, "--metric", "solved"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        check_png(self, out + ".png")
        check_svg(self, out + ".svg")
        # x = length (the first key), one panel per core: 'lstm 8 drqn ... 1/3'
        lines = [x.split() for x in r.stdout.splitlines()]
        row = [x for x in lines if x[:3] == ["lstm", "8", "drqn"]]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertEqual(row[0][3:5], ["3", "1/3"])
        row = [x for x in lines if x[:3] == ["gru", "8", "drqn"]]
        self.assertEqual(row[0][3:6], ["0", "0/0", "3"])       # failed cell: counted, not plotted
        with open(out + ".svg") as fh:
            svg = fh.read()
        for lab in ("dqn", "drqn", "core=lstm", "core=gru"):
            self.assertIn(lab, svg)
        # categorical x, and a bad key named
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_sweep.py"), self.dir, "-o", out, "--x", "core"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([PY, os.path.join(SCRIPTS, "plot_sweep.py"), self.dir, "-o", out, "--x", "nope"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a swept key", r.stderr)

    def test_newer_sweep_refused(self):
        d = os.path.join(self.tmp, "newer")
        os.makedirs(d)
        with open(os.path.join(d, "sweep.json"), "w") as fh:
            json.dump({"format": "rql-sweep", "format_version": 99, "keys": [], "runs": []}, fh)
        with self.assertRaisesRegex(rqlog.LogError, "newer"):
            rqlog.load_sweep(d)


# ---------------------------------------------------------------------------
# rql suite's scorecard against numpy: synthetic memory_len logs (only the
# curves the scoring reads), bsuite's score() rewritten in numpy, rliable's
# IQM (scipy.stats.trim_mean) and stratified bootstrap in numpy
# ---------------------------------------------------------------------------

MEMORY_LEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 17, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100]


def rql_binary():
    for p in (os.path.join(os.path.dirname(HERE), "rql"), os.path.join(os.path.dirname(HERE), "build/rel/rql")):
        if os.path.exists(p):
            return p
    return None


def write_curve_log(path, label, seed, success, evals=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w", libver="latest", track_order=True) as f:
        f.attrs["format"] = "rql-log"
        f.attrs["format_version"] = np.int32(rqlog.FORMAT_VERSION)
        f.attrs["seed"] = np.int64(seed)
        f.attrs["env"] = "memory_chain"
        f.attrs["agent"] = "drqn"
        f.attrs["label"] = label
        f.attrs["status"] = "complete"
        g = f.create_group(track_order=True, name="curves")
        put(g, "episode", np.arange(len(success), dtype=np.int64))
        put(g, "success", np.asarray(success, dtype=np.int8), BOOL)
        put(g, "return", 2.0 * np.asarray(success, dtype=float) - 1)
        if evals is not None:                                 # greedy evaluations: /eval's return_mean
            e = f.create_group(track_order=True, name="eval")
            put(e, "at_episode", np.arange(1, len(evals) + 1, dtype=np.int64) * 100)
            put(e, "return_mean", np.asarray(evals, dtype=float))


def trim_mean(x, cut=0.25):
    x = np.sort(np.ravel(x))
    lo = int(cut * len(x))
    return x[lo:len(x) - lo].mean()


class TestSuiteScore(unittest.TestCase):
    """rql suite memory_len --score --json on logs written here."""

    @classmethod
    def setUpClass(cls):
        cls.rql = rql_binary()
        cls.tmp = tempfile.mkdtemp(prefix="rql_suite_")
        rng = np.random.default_rng(3)
        cls.succ = {}
        cls.evals = {}
        for L in MEMORY_LEN:
            for label in ("dqn-k1", "drqn-lstm"):
                for seed in range(3):
                    n = 10000
                    if L == 60 and seed == 2:
                        n = 7000                              # a partial run: the others decide the setting
                    if L == 70 and label == "dqn-k1":
                        n = 12000                             # longer than bsuite's 10,000
                    p = (0.5 if label == "dqn-k1" and L > 1 else
                         float(np.clip(1.02 - L / 120 + 0.05 * seed, 0.3, 1.0)))
                    s = (rng.random(n) < p).astype(np.int8)
                    if L == 80 and seed == 1 and label == "drqn-lstm":
                        continue                              # a missing log
                    cls.succ[(L, label, seed)] = s
                    ev = None
                    if label == "drqn-lstm" and seed != 1:    # greedy evaluations in some logs only
                        ev = rng.uniform(-1, 1, size=int(rng.integers(1, 6)))
                        cls.evals[(L, seed)] = ev
                    write_curve_log(os.path.join(cls.tmp, "memory_length=%d" % L, label, "seed%d.h5" % seed),
                                    label, seed, s, ev)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def card(self, reps):
        if not self.rql:
            self.skipTest("no rql binary")
        r = subprocess.run([self.rql, "suite", "memory_len", "--score", "--json", "-o", self.tmp, "--seeds", "0-2",
                            "--agents", "dqn-k1,drqn-lstm", "--reps", str(reps)], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def bsuite_score(self, label):
        """bsuite/experiments/memory_len/analysis.py score(), on the same curves."""
        ratios = []
        for L in MEMORY_LEN:
            runs = [self.succ[(L, label, s)] for s in range(3) if (L, label, s) in self.succ]
            max_eps = min(max(len(x) for x in runs), 10000)
            at = [(max_eps - x[:max_eps].sum()) / 0.5 / max_eps for x in runs if len(x) >= max_eps]
            ratios.append(np.mean(at))
        return np.array(ratios), np.mean(np.array(ratios) < 0.75)

    def test_bsuite_rule(self):
        j = self.card(200)
        self.assertEqual(j["rule"], "bsuite")
        self.assertEqual(j["settings"], [str(L) for L in MEMORY_LEN])
        for a in j["agents"]:
            ratios, score = self.bsuite_score(a["label"])
            np.testing.assert_allclose(np.array(a["setting_scores"], dtype=float), ratios, rtol=0, atol=1e-12)
            self.assertAlmostEqual(a["score"], score, places=12)
            self.assertEqual(a["learned"], int(round(score * len(MEMORY_LEN))))
        self.assertEqual(j["agents"][0]["learned"], 1)            # dqn-k1: L = 1 only
        self.assertEqual(j["agents"][1]["aggregate_settings"], 22)  # drqn-lstm: seed 1 lacks L = 80
        self.assertEqual(j["agents"][1]["aggregate_seeds"], 3)

    def test_greedy_best(self):
        """Each run's best greedy evaluation: the largest /eval return_mean, null without /eval."""
        j = self.card(10)
        for a in j["agents"]:
            for i, L in enumerate(MEMORY_LEN):
                for s in range(3):
                    got = a["greedy_best"][i][s]
                    if a["label"] == "drqn-lstm" and (L, s) in self.evals:
                        self.assertEqual(got, float(np.max(self.evals[(L, s)])))
                    else:
                        self.assertIsNone(got)

    def test_iqm_and_bootstrap_against_numpy(self):
        reps = 20000
        j = self.card(reps)
        mats = {}
        both = [L for L in MEMORY_LEN if all((L, lab, s) in self.succ for lab in ("dqn-k1", "drqn-lstm")
                                             for s in range(3))]
        for a in j["agents"]:
            # the aggregates take the settings where every seed has a log
            tasks = [L for L in MEMORY_LEN if all((L, a["label"], s) in self.succ for s in range(3))]
            def norm(L, s, lab=a["label"]):
                x = self.succ[(L, lab, s)]
                n = min(len(x), 10000)
                return 1 - (n - x[:n].sum()) / 0.5 / n
            m = np.array([[norm(L, s) for L in tasks] for s in range(3)])
            mats[a["label"]] = np.array([[norm(L, s) for L in both] for s in range(3)])
            self.assertAlmostEqual(a["iqm"]["point"], trim_mean(m), places=12)
            self.assertAlmostEqual(a["mean"]["point"], m.mean(axis=0).mean(), places=12)
            # rliable's StratifiedBootstrap: runs resampled within each task
            rng = np.random.default_rng(11)
            n, t = m.shape
            idx = rng.integers(0, n, size=(reps, n, t))
            boot = m[idx, np.arange(t)[None, None, :]]
            iq = np.array([trim_mean(b) for b in boot])
            lo, hi = np.percentile(iq, [2.5, 97.5])
            self.assertAlmostEqual(a["iqm"]["lo"], lo, delta=0.006)
            self.assertAlmostEqual(a["iqm"]["hi"], hi, delta=0.006)
            self.assertLessEqual(a["iqm"]["lo"], a["iqm"]["point"])
            self.assertGreaterEqual(a["iqm"]["hi"], a["iqm"]["point"])
            # performance profile: fraction of runs x tasks strictly above tau
            for k, tau in enumerate(j["tau"]):
                self.assertAlmostEqual(a["profile"][k]["point"], np.mean(m > tau), places=12)
        # probability of improvement: Mann-Whitney U / (nx ny) per task, averaged
        x, y = mats["drqn-lstm"], mats["dqn-k1"]
        p = np.mean([np.mean((x[:, None, k] > y[None, :, k]) + 0.5 * (x[:, None, k] == y[None, :, k]))
                     for k in range(x.shape[1])])
        self.assertAlmostEqual(j["agents"][1]["improvement"]["dqn-k1"]["point"], p, places=12)
        self.assertAlmostEqual(j["agents"][0]["improvement"]["drqn-lstm"]["point"], 1 - p, places=12)


if __name__ == "__main__":
    unittest.main(verbosity=2)
