#!/usr/bin/python3
"""`rql export --minari` read back the way Minari reads a dataset (stdlib unittest).

    RQL=build/rel/rql RQL_RUNDIR=DIR /usr/bin/python3 tests/test_minari.py

DIR holds run logs written by `rql train` (and `rql eval --record`) and their
checkpoints; tests/e2e_scripts.sh runs this on tests/data/tiny.cfg's runs.

Minari is not installable here (no PyPI), so `minari_load` below follows
Minari's own code path for `minari.load_dataset(id)` step by step, in h5py +
json + numpy only: the same paths, keys, dtypes, attribute reads, space
deserialisation and checks, in the same order. Each step names the Minari
file and function it mirrors (Farama-Foundation/Minari 0.5.x, the release
line with namespaced ids and `supported_dataset_versions`):

  minari/storage/local.py                load_dataset, list_local_datasets
  minari/storage/datasets_root_dir.py    get_dataset_path
  minari/dataset/minari_dataset.py       MinariDataset.__init__, parse_dataset_id,
                                         MinariDatasetSpec, iterate_episodes, total_steps
  minari/dataset/minari_storage.py       MinariStorage.read, read_raw_metadata, metadata
  minari/dataset/_storages/__init__.py   get_minari_storage("hdf5") -> HDF5Storage
  minari/dataset/_storages/hdf5_storage.py  HDF5Storage.__init__, get_episodes,
                                         _decode_space, _decode_info, get_episode_metadata
  minari/serialization.py                deserialize_space (Box, Discrete)
  minari/dataset/episode_data.py         EpisodeData
  minari/namespace.py                    NAMESPACE_REGEX, namespace_metadata.json
  minari/__init__.py                     supported_dataset_versions
"""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

RQL = os.environ.get("RQL", "build/rel/rql")
RUNDIR = os.environ.get("RQL_RUNDIR")

# ---------------------------------------------------------------------------
# Minari's reader, step by step
# ---------------------------------------------------------------------------

# minari/__init__.py (0.5.1): the dataset versions this Minari loads
SUPPORTED_DATASET_VERSIONS = {"0.4.0", "0.4.1", "0.4.2", "0.4.3", "0.5.0", "0.5.1"}

# minari/dataset/minari_dataset.py: VERSION_RE, DATASET_NAME_RE, NAMESPACE_RE, DATASET_ID_RE
VERSION_RE = r"(?:-v(?P<version>\d+))"
DATASET_NAME_RE = r"(?:(?P<dataset>[-_\w]+?))"
NAMESPACE_RE = r"(?:(?P<namespace>[-_\w][-_\w/]*[-_\w]+)\/)"
DATASET_ID_RE = re.compile(rf"^{NAMESPACE_RE}?{DATASET_NAME_RE}{VERSION_RE}?$")
# minari/namespace.py
NAMESPACE_REGEX = re.compile(r"[-_\w][-_\w/]*[-_\w]+")


def parse_dataset_id(dataset_id):
    """minari_dataset.parse_dataset_id: fullmatch, then int(version) (so a
    missing version raises, as int(None) does in Minari)."""
    match = DATASET_ID_RE.fullmatch(dataset_id)
    if not match:
        raise ValueError(f"Malformed dataset ID: {dataset_id}")
    namespace, dataset_name, version = match.group("namespace", "dataset", "version")
    version = int(version)
    if namespace == "":
        namespace = None
    return namespace, dataset_name, version


@dataclass
class Box:
    """gymnasium.spaces.Box as serialization._deserialize_box builds it."""
    low: np.ndarray
    high: np.ndarray
    shape: tuple
    dtype: np.dtype

    def contains(self, x):
        # gymnasium Box.contains: shape, dtype can be cast, bounds
        x = np.asarray(x)
        return (x.shape == self.shape and np.can_cast(x.dtype, self.dtype)
                and bool(np.all(x >= self.low)) and bool(np.all(x <= self.high)))


@dataclass
class Discrete:
    """gymnasium.spaces.Discrete as serialization._deserialize_discrete builds it."""
    n: int
    start: int
    dtype: np.dtype = np.dtype(np.int64)

    def contains(self, x):
        # gymnasium Discrete.contains: an integer scalar in [start, start + n)
        x = np.asarray(x)
        return (x.shape == () and np.issubdtype(x.dtype, np.integer)
                and self.start <= int(x) < self.start + self.n)


def deserialize_space(space_dict):
    """serialization.deserialize_space: type_value_dispatch.__call__ does
    json.loads on a str, asserts a dict, dispatches on "type"."""
    if not isinstance(space_dict, dict):
        space_dict = json.loads(space_dict)
    assert isinstance(space_dict, dict)
    t = space_dict["type"]
    if t == "Box":      # _deserialize_box
        assert space_dict["type"] == "Box"
        shape = tuple(space_dict["shape"])
        low = np.array(space_dict["low"])
        high = np.array(space_dict["high"])
        dtype = np.dtype(space_dict["dtype"])
        # gymnasium Box(low=low, high=high, shape=shape, dtype=dtype): low and
        # high must broadcast to shape; they are cast to dtype
        assert low.shape in ((), shape) and high.shape in ((), shape), (low.shape, high.shape, shape)
        return Box(np.broadcast_to(low, shape).astype(dtype), np.broadcast_to(high, shape).astype(dtype),
                   shape, dtype)
    if t == "Discrete":  # _deserialize_discrete
        assert space_dict["type"] == "Discrete"
        n = space_dict["n"]
        start = space_dict["start"]
        assert isinstance(n, int) and n > 0 and isinstance(start, int)  # gymnasium Discrete asserts
        return Discrete(n=n, start=start)
    raise NotImplementedError(f"No deserialization method available for {t}")


def get_dataset_path(root, dataset_id):
    """datasets_root_dir.get_dataset_path with MINARI_DATASETS_PATH = root."""
    return os.path.join(root, dataset_id)


def read_raw_metadata(data_path):
    """MinariStorage.read_raw_metadata."""
    if not os.path.isdir(data_path):
        raise ValueError(f"The data path {data_path} doesn't exist")
    metadata_file_path = os.path.join(data_path, "metadata.json")
    if not os.path.exists(metadata_file_path):
        raise ValueError(f"No data found in data path {data_path}")
    with open(metadata_file_path) as file:
        return json.load(file)


class HDF5Storage:
    """minari/dataset/_storages/hdf5_storage.py HDF5Storage (reading side)."""
    FORMAT = "hdf5"

    def __init__(self, data_path, observation_space, action_space):
        self.data_path = data_path
        self.observation_space = observation_space
        self.action_space = action_space
        file_path = os.path.join(data_path, "main_data.hdf5")   # _MAIN_FILE_NAME
        if not os.path.exists(file_path):
            raise ValueError(f"No data found in data path {data_path}")
        self._file_path = file_path

    # MinariStorage.metadata: raw metadata with the spaces as objects, author sets
    @property
    def metadata(self):
        metadata = read_raw_metadata(self.data_path)
        metadata["observation_space"] = self.observation_space
        metadata["action_space"] = self.action_space
        if "author" in metadata:
            metadata["author"] = set(metadata["author"])
        if "author_email" in metadata:
            metadata["author_email"] = set(metadata["author_email"])
        return metadata

    @property
    def total_episodes(self):   # MinariStorage.total_episodes
        return self.metadata["total_episodes"]

    @property
    def total_steps(self):      # MinariStorage.total_steps
        return self.metadata["total_steps"]

    def _decode_space(self, hdf_ref, space):
        """HDF5Storage._decode_space for a Box or Discrete: a Dataset read whole."""
        assert not isinstance(hdf_ref, h5py.Datatype)
        assert isinstance(hdf_ref, h5py.Dataset)
        return hdf_ref[()]

    def get_episodes(self, episode_indices):
        """HDF5Storage.get_episodes."""
        with h5py.File(self._file_path, "r") as file:
            for ep_idx in episode_indices:
                ep_group = file[f"episode_{ep_idx}"]
                assert isinstance(ep_group, h5py.Group)
                infos = None
                if "infos" in ep_group:
                    info_group = ep_group["infos"]
                    assert isinstance(info_group, h5py.Group)   # 0.5.1 requires a group
                    infos = _decode_info(info_group)
                ep_dict = {
                    "id": ep_idx,
                    "observations": self._decode_space(ep_group["observations"], self.observation_space),
                    "actions": self._decode_space(ep_group["actions"], self.action_space),
                    "infos": infos,
                }
                for key in {"rewards", "terminations", "truncations"}:
                    group_value = ep_group[key]
                    assert isinstance(group_value, h5py.Dataset)
                    ep_dict[key] = group_value[:]
                yield ep_dict

    def get_episode_metadata(self, episode_indices):
        """HDF5Storage.get_episode_metadata: the group's attributes, unflattened."""
        with h5py.File(self._file_path, "r") as file:
            for ep_idx in episode_indices:
                ep_group = file[f"episode_{ep_idx}"]
                assert isinstance(ep_group, h5py.Group)
                metadata = unflatten_dict(dict(ep_group.attrs))
                if metadata.get("seed") is not None:
                    metadata["seed"] = int(metadata["seed"])
                yield metadata


def _decode_info(info_group):
    """hdf5_storage._decode_info."""
    result = {}
    for key, value in info_group.items():
        if isinstance(value, h5py.Group):
            result[key] = _decode_info(value)
        elif isinstance(value, h5py.Dataset):
            result[key] = value[()]
        else:
            raise ValueError("Infos are in an unsupported format")
    return result


def unflatten_dict(d):
    """hdf5_storage.unflatten_dict."""
    result = {}
    for k, v in d.items():
        keys = k.split("/")
        current = result
        for key in keys[:-1]:
            current = current.setdefault(key, {})
        current[keys[-1]] = v
    return result


def storage_read(data_path):
    """MinariStorage.read: the spaces from metadata (no env_spec needed when
    both are there), then get_minari_storage(metadata["data_format"])."""
    metadata = read_raw_metadata(data_path)
    observation_space = action_space = None
    if "observation_space" in metadata.keys():
        serialized_space = metadata["observation_space"]
        assert isinstance(serialized_space, str)
        observation_space = deserialize_space(serialized_space)
    if "action_space" in metadata.keys():
        serialized_space = metadata["action_space"]
        assert isinstance(serialized_space, str)
        action_space = deserialize_space(serialized_space)
    # Minari falls back to gym.make(EnvSpec.from_json(metadata["env_spec"])) here;
    # rql's export must never need that (no Gymnasium env behind it)
    assert action_space is not None and observation_space is not None, "spaces missing: Minari needs env_spec"
    registry = {"hdf5": HDF5Storage}       # _storages.get_minari_storage
    return registry[metadata["data_format"]](data_path, observation_space, action_space)


@dataclass(frozen=True)
class EpisodeData:
    """minari/dataset/episode_data.py EpisodeData (constructed as EpisodeData(**ep_dict))."""
    id: int
    observations: Any
    actions: Any
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    infos: Any

    def __len__(self):
        return len(self.rewards)


class MinariDataset:
    """minari/dataset/minari_dataset.py MinariDataset.__init__ and readers."""

    def __init__(self, data_path):
        self._data = storage_read(data_path)
        self._episode_indices = np.arange(self._data.total_episodes)
        self._total_steps = self._data.total_steps
        metadata = self._data.metadata
        env_spec = metadata.get("env_spec")
        # Minari: EnvSpec.from_json(env_spec) when present
        assert env_spec is None or isinstance(env_spec, str)
        self._env_spec = env_spec
        eval_env_spec = metadata.get("eval_env_spec")
        assert eval_env_spec is None or isinstance(eval_env_spec, str)
        dataset_id = metadata["dataset_id"]
        assert isinstance(dataset_id, str)
        self._dataset_id = dataset_id
        minari_version = metadata["minari_version"]
        assert isinstance(minari_version, str)
        if minari_version not in SUPPORTED_DATASET_VERSIONS:
            raise ValueError(f"Minari does not support the dataset generated by Minari {minari_version}")
        self._minari_version = minari_version
        self._combined_datasets = metadata.get("combined_datasets", [])
        self._observation_space = metadata["observation_space"]
        self._action_space = metadata["action_space"]
        assert isinstance(self._observation_space, (Box, Discrete))
        assert isinstance(self._action_space, (Box, Discrete))
        self.metadata = metadata

    @property
    def total_episodes(self):
        return len(self._episode_indices)

    @property
    def total_steps(self):
        return int(self._total_steps)

    def total_steps_from_episodes(self):
        """MinariDataset.total_steps when _total_steps is None (a filtered or
        split dataset): the sum of the episodes' total_steps attributes."""
        return int(sum(m["total_steps"] for m in self._data.get_episode_metadata(self._episode_indices)))

    def iterate_episodes(self, episode_indices=None):
        if episode_indices is None:
            assert self._episode_indices.ndim == 1
            episode_indices = self._episode_indices
        return map(lambda data: EpisodeData(**data), self._data.get_episodes(episode_indices))

    def spec_ids(self):
        """MinariDatasetSpec.__post_init__: parse_dataset_id(dataset_id)."""
        return parse_dataset_id(self._dataset_id)


def minari_load(root, dataset_id):
    """minari.load_dataset(dataset_id) with MINARI_DATASETS_PATH = root
    (storage/local.py load_dataset)."""
    file_path = get_dataset_path(root, dataset_id)
    data_path = os.path.join(file_path, "data")
    if not os.path.exists(data_path):
        raise FileNotFoundError(f"Dataset {dataset_id} not found locally at {file_path}")
    return MinariDataset(data_path)


def list_local_datasets(root):
    """storage/local.py list_local_datasets: folders holding "data" are
    datasets, and their metadata dataset_id must equal the folder path."""
    ids = []

    def recurse(base, namespace):
        parent = os.path.join(base, namespace)
        for d in os.scandir(parent):
            if d.is_dir() and not d.name.startswith("."):
                name = os.path.join(namespace, d.name)
                if "data" in os.listdir(os.path.join(parent, d.name)):
                    ids.append(name)
                else:
                    recurse(base, name)

    recurse(root, "")
    out = {}
    for dst_id in ids:
        metadata = storage_read(os.path.join(root, dst_id, "data")).metadata
        if dst_id != metadata["dataset_id"]:
            raise ValueError(f"Namespace location '{dst_id}' does not match id '{metadata['dataset_id']}'.")
        parse_dataset_id(dst_id)   # dataset_id_sort_key
        out[dst_id] = metadata
    return out


# ---------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------

def rql(*args):
    p = subprocess.run([RQL, *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def log_steps(path):
    """The log's /steps grouped by episode (ordered by t): {id: rows}."""
    with h5py.File(path, "r", swmr=True) as f:
        s = {k: f["steps/" + k][()] for k in ("episode", "t", "observations", "next_observations", "actions",
                                              "rewards", "terminations", "truncations")}
        attrs = dict(f.attrs)
    n = min(len(v) for v in s.values())
    s = {k: v[:n] for k, v in s.items()}
    eps = {}
    for e in np.unique(s["episode"]):
        rows = np.where(s["episode"] == e)[0]
        eps[int(e)] = rows[np.argsort(s["t"][rows], kind="stable")]
    return s, eps, attrs


def find_logs():
    logs = sorted(p for p in glob.glob(os.path.join(RUNDIR, "**", "*.h5"), recursive=True))
    with_steps = []
    for p in logs:
        with h5py.File(p, "r", swmr=True) as f:
            if f.attrs.get("format") == "rql-log" and len(f["steps/episode"]) > 0:
                with_steps.append(p)
    return with_steps


@unittest.skipUnless(RUNDIR, "RQL_RUNDIR not set (tests/e2e_scripts.sh sets it)")
class TestMinariExport(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rql_minari.")
        self.logs = find_logs()
        self.assertGreaterEqual(len(self.logs), 2, f"fewer than 2 logs with recorded steps under {RUNDIR}")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check_dataset(self, root, dataset_id, log):
        s, eps, attrs = log_steps(log)
        ds = minari_load(root, dataset_id)
        self.assertEqual(ds.spec_ids()[2], int(dataset_id.rsplit("-v", 1)[1]))
        # the metadata Minari wrote for create_dataset_from_buffers(env=None)
        md = read_raw_metadata(os.path.join(root, dataset_id, "data"))
        for key in ("total_episodes", "total_steps", "data_format", "observation_space", "action_space",
                    "dataset_id", "minari_version", "dataset_size"):
            self.assertIn(key, md)
        self.assertNotIn("env_spec", md)          # Minari writes none when env_spec is None
        self.assertEqual(md["data_format"], "hdf5")
        self.assertEqual(md["dataset_id"], dataset_id)
        self.assertIsInstance(md["total_episodes"], int)
        self.assertIsInstance(md["total_steps"], int)
        self.assertIsInstance(md["dataset_size"], float)
        # spaces exactly as serialization._serialize_box / _serialize_discrete write them
        obs = s["observations"].shape[1]
        self.assertEqual(md["observation_space"], json.dumps(
            {"type": "Box", "dtype": "float32", "shape": [obs], "low": [-np.inf] * obs, "high": [np.inf] * obs}))
        self.assertEqual(md["action_space"], json.dumps(
            {"type": "Discrete", "dtype": "int64", "start": 0, "n": int(attrs["n_actions"])}))
        # the file is ASCII, as json.dump (ensure_ascii) writes it
        with open(os.path.join(root, dataset_id, "data", "metadata.json"), "rb") as f:
            f.read().decode("ascii")

        self.assertEqual(ds.total_episodes, len(eps))
        self.assertEqual(ds.total_steps, len(s["episode"]))
        self.assertEqual(ds.total_steps_from_episodes(), len(s["episode"]))
        box, disc = ds.metadata["observation_space"], ds.metadata["action_space"]
        self.assertEqual((box.shape, box.dtype), ((obs,), np.float32))
        self.assertEqual((disc.n, disc.start), (int(attrs["n_actions"]), 0))

        ids = sorted(eps)
        n = 0
        for i, ep in enumerate(ds.iterate_episodes()):
            rows = eps[ids[i]]
            T = len(rows)
            self.assertEqual(ep.id, i)
            self.assertEqual(len(ep), T)
            self.assertEqual((ep.observations.dtype, ep.observations.shape), (np.float32, (T + 1, obs)))
            self.assertEqual((ep.actions.dtype, ep.actions.shape), (np.int64, (T,)))
            self.assertEqual((ep.rewards.dtype, ep.rewards.shape), (np.float64, (T,)))
            self.assertEqual((ep.terminations.dtype, ep.terminations.shape), (np.bool_, (T,)))
            self.assertEqual((ep.truncations.dtype, ep.truncations.shape), (np.bool_, (T,)))
            self.assertEqual(ep.infos, {})       # record_infos=False: an empty infos group
            # the per-step data is the log's /steps rows
            np.testing.assert_array_equal(ep.observations[:T], s["observations"][rows])
            np.testing.assert_array_equal(ep.observations[T], s["next_observations"][rows[-1]])
            np.testing.assert_array_equal(ep.actions, s["actions"][rows])
            np.testing.assert_array_equal(ep.rewards, s["rewards"][rows].astype(np.float64))
            np.testing.assert_array_equal(ep.terminations, s["terminations"][rows])
            np.testing.assert_array_equal(ep.truncations, s["truncations"][rows])
            self.assertTrue(ep.terminations[-1] or ep.truncations[-1])
            for o in ep.observations:
                self.assertTrue(box.contains(o))
            for a in ep.actions:
                self.assertTrue(disc.contains(a))
            n += T
        self.assertEqual(n, ds.total_steps)
        # per-episode metadata (get_episode_metadata), as update_episodes and
        # the DataCollector's EpisodeMetadataCallback write it
        for i, m in enumerate(ds._data.get_episode_metadata(range(ds.total_episodes))):
            rew = s["rewards"][eps[ids[i]]].astype(np.float64)
            self.assertEqual((m["id"], m["total_steps"], m["rql_episode"]), (i, len(rew), ids[i]))
            for k, v in (("rewards_sum", rew.sum()), ("rewards_mean", rew.mean()), ("rewards_std", rew.std()),
                         ("rewards_max", rew.max()), ("rewards_min", rew.min())):
                self.assertTrue(np.isclose(m[k], v, rtol=1e-12, atol=1e-12), (k, m[k], v))
                self.assertIsInstance(m[k], np.float64)
            self.assertIsInstance(m["id"], np.int64)
        with h5py.File(os.path.join(root, dataset_id, "data", "main_data.hdf5"), "r") as f:
            # Minari counts episodes as len(file.keys()) when it appends
            self.assertEqual(len(f.keys()), ds.total_episodes)
            for k in ("observations", "actions", "rewards", "terminations", "truncations"):
                self.assertEqual(f["episode_0"][k].maxshape[0], None)   # chunks=True, maxshape=(None, ...)
        return ds

    def test_export_reads_as_minari(self):
        for k, log in enumerate(self.logs):
            root = os.path.join(self.tmp, "ds%d" % k)
            before = sha(log)
            rc, out = rql("export", log, "--minari", root)
            self.assertEqual(rc, 0, out)
            with h5py.File(log, "r", swmr=True) as f:
                a = dict(f.attrs)
            ident = "rql/%s-%s-seed%d-v0" % (a["env"], a["label"], a["seed"])
            self.assertIn("%s/%s: " % (root, ident), out)
            _, eps, _ = log_steps(log)
            self.assertIn("%d episodes" % len(eps), out)
            self.check_dataset(root, ident, log)
            # the namespace as DataCollector.create_dataset leaves it
            with open(os.path.join(root, "rql", "namespace_metadata.json")) as f:
                self.assertEqual(json.load(f), {})
            self.assertTrue(NAMESPACE_REGEX.fullmatch("rql"))
            self.assertEqual(list(list_local_datasets(root)), [ident])
            self.assertEqual(sha(log), before, "the export changed its input")

    def test_dataset_id_and_force(self):
        log = self.logs[0]
        root = os.path.join(self.tmp, "root")
        rc, out = rql("export", log, "--minari", root, "--dataset-id", "tmaze-v3")
        self.assertEqual(rc, 0, out)
        self.check_dataset(root, "tmaze-v3", log)
        self.assertFalse(os.path.exists(os.path.join(root, "namespace_metadata.json")))
        rc, out = rql("export", log, "--minari", root, "--dataset-id", "lab/rql/tmaze-memory_1-v12")
        self.assertEqual(rc, 0, out)
        self.check_dataset(root, "lab/rql/tmaze-memory_1-v12", log)
        self.assertEqual(sorted(list_local_datasets(root)), ["lab/rql/tmaze-memory_1-v12", "tmaze-v3"])
        # again: refused without --force, replaced with it (by another log's data)
        rc, out = rql("export", self.logs[1], "--minari", root, "--dataset-id", "tmaze-v3")
        self.assertEqual(rc, 2, out)
        self.assertIn("main_data.hdf5 exists (--force replaces an earlier rql export)", out)
        self.check_dataset(root, "tmaze-v3", log)
        rc, out = rql("export", self.logs[1], "--minari", root, "--dataset-id", "tmaze-v3", "--force")
        self.assertEqual(rc, 0, out)
        self.check_dataset(root, "tmaze-v3", self.logs[1])
        self.assertEqual(sorted(os.listdir(os.path.join(root, "tmaze-v3", "data"))),
                         ["main_data.hdf5", "metadata.json"])     # no temporary files left
        for bad, why in (("tmaze", "must end in -vN"), ("tmaze-v", "must end in -vN"), ("tmaze-vx", "must end in -vN"),
                         ("-v0", "no dataset name"), ("a/tmaze-v0", "namespace"), ("/abs/tmaze-v0", "namespace"),
                         ("ns//tmaze-v0", "'//'"), ("../tmaze-v0", "has '.'"), ("ns/tm aze-v0", "has ' '"),
                         ("ns/-v0", "no dataset name")):
            rc, out = rql("export", log, "--minari", root, "--dataset-id", bad)
            self.assertEqual(rc, 2, (bad, out))
            self.assertIn("--dataset-id '%s'" % bad, out)
            self.assertIn(why, out)
            # Minari refuses the same ids (parse_dataset_id)
            with self.assertRaises((ValueError, TypeError)):
                parse_dataset_id(bad)

    def test_never_writes_over_logs_or_checkpoints(self):
        log = self.logs[0]
        ckpts = sorted(glob.glob(os.path.join(RUNDIR, "**", "*.ckpt"), recursive=True))
        self.assertTrue(ckpts, f"no checkpoint under {RUNDIR}")
        ckpt = ckpts[0]
        keep = {p: sha(p) for p in (log, self.logs[1], ckpt)}
        root = os.path.join(self.tmp, "root")
        data = os.path.join(root, "x-v0", "data")
        # a checkpoint as the input: refused, naming it
        rc, out = rql("export", ckpt, "--minari", root, "--force")
        self.assertEqual(rc, 2, out)
        self.assertIn(ckpt + ": not an rql run log", out)
        # a checkpoint (or the log) as the root: a file, not a folder
        for p in (ckpt, log):
            rc, out = rql("export", log, "--minari", p, "--force")
            self.assertEqual(rc, 2, out)
            self.assertIn("--minari %s is a file, not a folder" % p, out)
        # the log, a checkpoint, a foreign HDF5 file where main_data.hdf5 goes
        os.makedirs(data)
        target = os.path.join(data, "main_data.hdf5")
        for what, make, want in (
                ("the input itself (hard link)", lambda: os.link(log, target), "is the run log being exported"),
                ("the input itself (symlink)", lambda: os.symlink(os.path.abspath(log), target),
                 "is the run log being exported"),
                ("another run log (symlink)", lambda: os.symlink(os.path.abspath(self.logs[1]), target),
                 "is an rql run log: not replaced, even with --force"),
                ("a checkpoint (symlink)", lambda: os.symlink(os.path.abspath(ckpt), target),
                 "is an rql checkpoint: not replaced, even with --force"),
                ("a checkpoint (copy)", lambda: shutil.copy(ckpt, target),
                 "is an rql checkpoint: not replaced, even with --force"),
                ("an HDF5 file of someone else", lambda: h5py.File(target, "w").close(),
                 "an HDF5 file that rql export did not write"),
                ("a text file", lambda: write_text(target, "hello"), "is not an HDF5 file")):
            make()
            before = sha(target)
            for force in ([], ["--force"]):
                rc, out = rql("export", log, "--minari", root, "--dataset-id", "x-v0", *force)
                self.assertEqual(rc, 2, (what, out))
                self.assertIn(target, out)
                if force:
                    self.assertIn(want, out, what)
                self.assertEqual(sha(target), before, what)
            os.unlink(target)
        # metadata.json alone (no main_data.hdf5): not an earlier export either
        with open(os.path.join(data, "metadata.json"), "w") as f:
            f.write("{}")
        rc, out = rql("export", log, "--minari", root, "--dataset-id", "x-v0", "--force")
        self.assertEqual(rc, 2, out)
        self.assertIn("metadata.json exists without main_data.hdf5", out)
        for p, h in keep.items():
            self.assertEqual(sha(p), h, p)

    def test_bad_input(self):
        root = os.path.join(self.tmp, "root")
        missing = os.path.join(self.tmp, "missing.h5")
        rc, out = rql("export", missing, "--minari", root)
        self.assertEqual((rc, missing in out), (2, True), out)
        text = os.path.join(self.tmp, "text.h5")
        with open(text, "w") as f:
            f.write("not hdf5")
        rc, out = rql("export", text, "--minari", root)
        self.assertEqual(rc, 2, out)
        self.assertIn(text + ": not an HDF5 file", out)
        rc, out = rql("export", self.logs[0])
        self.assertEqual(rc, 2, out)
        self.assertIn("--minari ROOT", out)
        # a recorded episode with a gap in t is refused, naming the log and the episode
        gap = os.path.join(self.tmp, "gap.h5")
        shutil.copy(self.logs[0], gap)
        _, eps, _ = log_steps(gap)
        e0 = sorted(eps)[0]
        with h5py.File(gap, "r+") as f:
            t = f["steps/t"][()]
            t[eps[e0][1]] = 7
            f["steps/t"][...] = t
        rc, out = rql("export", gap, "--minari", root)
        self.assertEqual(rc, 2, out)
        self.assertIn("%s: recorded episode %d has no step t = " % (gap, e0), out)
        self.assertEqual(glob.glob(os.path.join(root, "**", "main_data.hdf5"), recursive=True), [])

    def test_cut_episode_is_truncated(self):
        """An episode whose last step has neither flag (a log cut by a kill)
        is marked truncated at its end, as DataCollector._flush_to_storage does."""
        cut = os.path.join(self.tmp, "cut.h5")
        shutil.copy(self.logs[0], cut)
        s, eps, _ = log_steps(cut)
        e_last = sorted(eps)[-1]
        last_row = eps[e_last][-1]
        with h5py.File(cut, "r+") as f:
            for k in ("terminations", "truncations"):
                v = f["steps/" + k][()]
                v[last_row] = False
                f["steps/" + k][...] = v
        root = os.path.join(self.tmp, "root")
        rc, out = rql("export", cut, "--minari", root, "--dataset-id", "cut-v0")
        self.assertEqual(rc, 0, out)
        self.assertIn("1 episode ended with neither termination nor truncation", out)
        ds = minari_load(root, "cut-v0")
        eps_read = list(ds.iterate_episodes())
        self.assertEqual(len(eps_read), len(eps))
        last = eps_read[-1]
        self.assertFalse(last.terminations[-1])
        self.assertTrue(last.truncations[-1])
        np.testing.assert_array_equal(last.observations[:-1], s["observations"][eps[e_last]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
