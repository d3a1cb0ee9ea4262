"""A fuzzer of the loaders: valid data and model files made malformed by hypothesis, and the one rule they must obey.

Four formats, each from small valid seed files:
- ``idx``: the four Fashion-MNIST IDX files (slices of the real t10k files), gzipped or raw;
- ``npy``: the WPI course layout ``fashion_mnist_{train,test}_{images,labels}.npy`` (and ``classes.txt``);
- ``cifar10``: a ``cifar-10-batches-py`` directory of Python 2 pickles (as the official files are written);
- ``model``: ``model.npz`` files written by `save_model`.

A case changes the files three ways: byte edits (bit flips, overwrites, truncation, insertion, deletion), edits of
the format's structure (IDX header fields, ``.npy`` headers and arrays, pickled contents, zip members and the
architecture JSON), and well-formed files holding bad values (float or out-of-range labels, mixed scales, NaN).

The rule (`run_case`): loading either succeeds with valid results (finite features, labels in [0, K), a model
that runs forward) or raises one of backproplab's own errors (`BackproplabError`), within `CASE_SECONDS`.
Used by tests/data/test_loaders_never_crash.py (CI) and scripts/fuzz_loaders.py (20,000 cases).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import itertools
import json
import pickle
import shutil
import signal
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backproplab.data import load_splits
from backproplab.data.locations import FASHION_MNIST_DEFAULT
from backproplab.errors import BackproplabError
from backproplab.experiments.run.init_from import load_initial_weights
from backproplab.nn import Dense, load_model, mlp, save_model
from cifar10_files import py2_pickle

FORMATS = ("idx", "npy", "cifar10", "model")
CASE_SECONDS = 20.0  # far above any case's real time (milliseconds): only a hang reaches it
SETTINGS = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPY_NAMES = {part: f"fashion_mnist_{part}.npy" for part in IDX_NAMES}
CIFAR_NAMES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")
SEED_MODELS = {
    "sigmoid": ([6, 5, 3], "sigmoid", 0.0),
    "elu-dropout": ([6, 4, 4, 3], "elu", 0.25),
    "relu-f64": ([6, 3], "relu", 0.0),
}
INTERESTING_INTS = [0, 1, 2, 3, 9, 10, 11, 20, 28, 40, 255, 256, 3072, -1, -2, 2**31 - 1, -(2**31), 2**16, 10**9]


class CaseTimeout(BaseException):  # a BaseException: no `except Exception` in the code under test swallows it
    pass


@dataclass
class Outcome:
    kind: str  # "loaded", "library error" or "bug"
    error: str = ""  # the exception's type name (and message for bugs)


# ---------------------------------------------------------------------------------------------- seed files
def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    return bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()


def _npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@cache
def seeds() -> dict[str, Any]:
    """Valid arrays and files of every format, built once per process (the images are real Fashion-MNIST)."""

    def read(name: str, offset: int, count: int, row: int) -> np.ndarray:
        raw = gzip.decompress((FASHION_MNIST_DEFAULT / f"{name}.gz").read_bytes())
        return np.frombuffer(raw, np.uint8, count * row, offset).reshape(count, -1)

    images = read(IDX_NAMES["test_images"], 16, 60, 784)
    labels = read(IDX_NAMES["test_labels"], 8, 60, 1)[:, 0]
    arrays = {
        "train_images": images[:40].reshape(40, 28, 28),
        "train_labels": labels[:40],
        "test_images": images[40:].reshape(20, 28, 28),
        "test_labels": labels[40:],
    }
    rng = np.random.default_rng(7)
    cifar = {
        name: {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, 4)],
        }
        for name in CIFAR_NAMES
    }
    meta = {
        b"label_names": [
            b"airplane",
            b"automobile",
            b"bird",
            b"cat",
            b"deer",
            b"dog",
            b"frog",
            b"horse",
            b"ship",
            b"truck",
        ],
        b"num_cases_per_batch": 4,
    }
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (sizes, act, dropout) in SEED_MODELS.items():
            dtype = np.float64 if name.endswith("f64") else np.float32
            path = save_model(mlp(sizes, act, dropout=dropout, seed=1, dtype=dtype), Path(tmp) / f"{name}.npz")
            models[name] = path.read_bytes()
    return {"idx": arrays, "cifar": cifar, "meta": meta, "models": models}


# ---------------------------------------------------------------------------------------------- byte edits
EDIT_KINDS = ("flip", "set", "truncate", "insert", "delete", "zeros", "ones")
positions = st.one_of(st.integers(0, 48), st.integers(0, 1 << 24), st.integers(-48, -1))
edits = st.lists(
    st.tuples(st.sampled_from(EDIT_KINDS), positions, st.binary(min_size=1, max_size=8), st.integers(1, 4096)),
    min_size=1,
    max_size=4,
)


def apply_edits(data: bytes, changes: list[tuple[str, int, bytes, int]]) -> bytes:
    out = bytearray(data)
    for kind, pos, blob, length in changes:
        pos = pos % (len(out) + 1)
        if kind == "flip" and pos < len(out):
            out[pos] ^= 1 << (length % 8)
        elif kind == "set":
            out[pos : pos + len(blob)] = blob
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out[pos:pos] = blob * (1 + length // 512)
        elif kind == "delete":
            del out[pos : pos + length]
        else:
            out[pos : pos + length] = (b"\x00" if kind == "zeros" else b"\xff") * min(length, len(out) - pos)
    return bytes(out)


@st.composite
def edited(draw: st.DrawFn, data: bytes) -> bytes:
    return apply_edits(data, draw(edits))


# ---------------------------------------------------------------------------------------------- idx
@st.composite
def idx_cases(draw: st.DrawFn) -> dict[str, bytes]:
    arrays = seeds()["idx"]
    compress = draw(st.booleans())
    files = {part: _idx_bytes(a) for part, a in arrays.items()}
    for part in draw(st.lists(st.sampled_from(list(IDX_NAMES)), min_size=1, max_size=2, unique=True)):
        how = draw(st.sampled_from(["bytes", "header", "values", "gzip bytes", "type"]))
        if how == "bytes":
            files[part] = draw(edited(files[part]))
        elif how == "header":
            ndim = draw(st.sampled_from([0, 1, 2, 3, 4, arrays[part].ndim]))
            dims = draw(
                st.lists(st.sampled_from(INTERESTING_INTS + list(arrays[part].shape)), min_size=ndim, max_size=ndim)
            )
            body = arrays[part].tobytes()
            body = body[: draw(st.integers(0, len(body) + 8))] if draw(st.booleans()) else body
            files[part] = (
                bytes([0, 0, draw(st.sampled_from([8, 9, 11, 12, 13, 14, 7, 0])), ndim])
                + struct.pack(f">{ndim}i", *dims)
                + body
            )
        elif how == "values":  # well-formed, bad values: labels >= 10, or wrong dtypes
            values = arrays[part].copy()
            flat = values.reshape(-1)
            for _ in range(draw(st.integers(1, 3))):
                flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from([9, 10, 11, 127, 255]))
            files[part] = _idx_bytes(values)
        elif how == "type":  # the same values stored as another IDX type (floats: labels must be refused)
            code, dtype = draw(
                st.sampled_from([(0x09, ">i1"), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")])
            )
            values = arrays[part].astype(dtype)
            if dtype.startswith(">f") and draw(st.booleans()):
                values = values + draw(st.sampled_from([0.5, -1.0, np.nan, np.inf, 1e30]))
            files[part] = _idx_bytes(values.astype(dtype), code)
        else:
            files[part] = draw(edited(gzip.compress(files[part], compresslevel=1)))
            continue
        if compress:
            files[part] = gzip.compress(files[part], compresslevel=1)
    for part in files:
        if compress and not files[part].startswith(b"\x1f\x8b") and draw(st.integers(0, 9)) > 0:
            files[part] = gzip.compress(files[part], compresslevel=1)
    return {
        IDX_NAMES[part] + (".gz" if files[part].startswith(b"\x1f\x8b") else ""): data for part, data in files.items()
    }


# ---------------------------------------------------------------------------------------------- npy
DESCRS = [
    "|u1",
    "<i8",
    ">i4",
    "<f4",
    "<f8",
    ">f8",
    "<f2",
    "|b1",
    "|O",
    "<U3",
    "|S4",
    "<c16",
    "<M8[s]",
    "<m8[D]",
    [("a", "<i4")],
    "<f16",
    "'<i8'",
    "<i4",
    "V8",
]
bad_floats = st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 0.5, 1.5, 254.5, 256.0, 1e30])


def npy_header(shape: Any, descr: Any, fortran: Any = False, version: tuple[int, int] = (1, 0)) -> bytes:
    text = repr({"descr": descr, "fortran_order": fortran, "shape": shape})
    text += " " * ((64 - (len(text) + 11) % 64) % 64) + "\n"
    size = struct.pack("<H" if version == (1, 0) else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + size + text.encode("latin1")


@st.composite
def npy_array_changes(draw: st.DrawFn, part: str, array: np.ndarray) -> bytes:
    how = draw(st.sampled_from(["label values", "scale", "dtype", "shape", "random array", "one-hot", "objects"]))
    if how == "label values" and part.endswith("labels"):
        values = array.astype(draw(st.sampled_from([np.int64, np.uint8, np.int8, np.float64, np.uint64])))
        for _ in range(draw(st.integers(1, 3))):
            value = draw(
                st.sampled_from([10, 11, 160, 255, 10**8] if values.dtype.kind in "iu" else [0.5, 3.0, 1e8, np.nan])
            )
            values[draw(st.integers(0, len(values) - 1))] = np.array(value).astype(values.dtype)
        return _npy_bytes(values)
    if how == "scale" and part.endswith("images"):
        values = array.astype(np.float64) / draw(st.sampled_from([255.0, 1.0, 0.5, -255.0]))
        if draw(st.booleans()):
            values.reshape(-1)[draw(st.integers(0, values.size - 1))] = draw(bad_floats)
        with np.errstate(over="ignore"):  # 1e30 as float16 is inf: a case, not a problem
            return _npy_bytes(values.astype(draw(st.sampled_from([np.float32, np.float64, np.float16]))))
    if how == "dtype":
        dtype = draw(
            st.sampled_from(
                [np.int16, np.int64, np.uint16, np.float32, np.bool_, np.complex64, "U2", "S2", "datetime64[s]", ">f8"]
            )
        )
        return _npy_bytes(array.astype(dtype))
    if how == "shape":
        shape = draw(
            st.sampled_from(
                [
                    (),
                    (0,),
                    (10,),
                    (20,),
                    (40,),
                    (40, 1),
                    (20, 784),
                    (40, 784),
                    (40, 28, 28),
                    (20, 28, 28),
                    (40, 783),
                    (40, 2, 392),
                    (784,),
                    (1, 40),
                    (40, 28, 28, 1),
                    (0, 784),
                    (40, 0),
                    (40, 10),
                ]
            )
        )
        flat = np.resize(array.reshape(-1), int(np.prod(shape)))
        return _npy_bytes(flat.reshape(shape))
    if how == "random array":
        return _npy_bytes(
            draw(
                hnp.arrays(
                    draw(st.sampled_from([np.uint8, np.int64, np.float32, np.float64])),
                    hnp.array_shapes(min_dims=1, max_dims=3, max_side=12),
                )
            )
        )
    if how == "one-hot":
        k = draw(st.sampled_from([10, 9, 11, 2]))
        one_hot = np.eye(k, dtype=draw(st.sampled_from([np.float32, np.uint8, np.int64])))[array.reshape(-1) % k]
        if draw(st.booleans()):
            one_hot[draw(st.integers(0, len(one_hot) - 1)), draw(st.integers(0, k - 1))] = draw(
                st.sampled_from([0, 1, 2])
            )
        return _npy_bytes(one_hot)
    return _npy_bytes(np.array([{"label": 1}, None], dtype=object), allow_pickle=True)


@st.composite
def npy_cases(draw: st.DrawFn) -> dict[str, bytes]:
    arrays = {
        part: (a.reshape(len(a), -1) if a.ndim == 3 and draw(st.booleans()) else a)
        for part, a in seeds()["idx"].items()
    }
    files = {NPY_NAMES[part]: _npy_bytes(a) for part, a in arrays.items()}
    for part in draw(st.lists(st.sampled_from(list(NPY_NAMES)), min_size=1, max_size=2, unique=True)):
        name, array = NPY_NAMES[part], arrays[part]
        how = draw(st.sampled_from(["bytes", "header", "array"]))
        if how == "bytes":
            files[name] = draw(edited(files[name]))
        elif how == "header":
            shape = draw(
                st.one_of(
                    st.just(array.shape),
                    st.lists(st.sampled_from(INTERESTING_INTS), max_size=4).map(tuple),
                    st.sampled_from(["(3,)", [3], (True,), (2.5,), None]),
                )
            )
            body = array.tobytes()
            body = body[: draw(st.integers(0, len(body)))] if draw(st.booleans()) else body
            files[name] = (
                npy_header(
                    shape,
                    draw(st.sampled_from(DESCRS)),
                    draw(st.sampled_from([False, True, 1])),
                    draw(st.sampled_from([(1, 0), (2, 0), (3, 0), (9, 9)])),
                )
                + body
            )
        else:
            files[name] = draw(npy_array_changes(part, array))
    classes = draw(st.sampled_from([None, None, None, "ten", "three", "empty", "latin1"]))
    if classes is not None:
        files["classes.txt"] = {
            "ten": "\n".join(f"c{i}" for i in range(10)).encode(),
            "three": b"a\nb\nc\n",
            "empty": b"\n \n",
            "latin1": "caf\xe9\n".encode("latin1"),
        }[classes]
    return files


# ---------------------------------------------------------------------------------------------- cifar10
EVIL_PICKLES = [
    b"cos\nsystem\n(S'true'\ntR.",
    b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.",
    b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06getcwd\x94\x93)R.",
    b"(" * 5000 + b".",
    b"\x80\x02]" + b"q\x00" * 20 + b".",
    b"\x80\x05\x96" + b"\xff" * 8 + b".",
    b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\nK\x00\x85U\x01b\x87R.",
]

label_lists = st.one_of(
    st.lists(st.integers(-3, 12), min_size=4, max_size=4),
    st.lists(st.integers(0, 9), max_size=6),
    st.lists(st.floats(allow_nan=True), min_size=4, max_size=4),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.lists(st.integers(2**62, 2**70), min_size=4, max_size=4),
    st.lists(st.text(max_size=2), max_size=4),
    st.lists(st.lists(st.integers(0, 9), max_size=2), max_size=4),
    st.none(),
    st.integers(),
    st.binary(max_size=4),
    hnp.arrays(st.sampled_from([np.int64, np.uint8, np.float32, np.int8]), st.integers(0, 5)),
)
data_values = st.one_of(
    hnp.arrays(
        st.sampled_from([np.uint8, np.float32, np.int64, np.uint16]),
        st.sampled_from([(4, 3072), (3, 3072), (4, 3071), (4,), (0, 3072), (2, 2, 3072), ()]),
    ),
    st.lists(st.integers(0, 255), max_size=4),
    st.binary(max_size=8),
    st.none(),
    st.text(max_size=4),
)


@st.composite
def cifar_contents(draw: st.DrawFn, batch: dict[bytes, Any]) -> Any:
    content: Any = dict(batch)
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.sampled_from(["labels", "data", "drop key", "str keys", "odd key", "not a dict"]))
        if not isinstance(content, dict):
            break
        if change == "labels":
            content[b"labels"] = draw(label_lists)
        elif change == "data":
            content[b"data"] = draw(data_values)
        elif change == "drop key":
            content.pop(draw(st.sampled_from([b"labels", b"data"])), None)
        elif change == "str keys":
            content = {(k.decode("latin-1") if isinstance(k, bytes) else k): v for k, v in content.items()}
        elif change == "odd key":
            content[draw(st.sampled_from([1, (1, 2), b"\xff\xfe", None]))] = draw(st.integers())
        else:
            content = draw(st.sampled_from([[batch[b"data"], batch[b"labels"]], None, 3, "data", (1, 2)]))
    return content


def _pickled(content: Any, protocol: int | None) -> bytes:
    if protocol is None:
        return py2_pickle(content)
    return pickle.dumps(content, protocol=protocol)


@st.composite
def cifar_cases(draw: st.DrawFn) -> dict[str, bytes]:
    s = seeds()
    files = {name: py2_pickle(batch) for name, batch in s["cifar"].items()}
    files["batches.meta"] = py2_pickle(s["meta"])
    for name in draw(st.lists(st.sampled_from([*CIFAR_NAMES, "batches.meta"]), min_size=1, max_size=2, unique=True)):
        how = draw(st.sampled_from(["bytes", "content", "content", "evil", "gzip", "missing"]))
        if how == "bytes":
            files[name] = draw(edited(files[name]))
        elif how == "content":
            if name == "batches.meta":
                content: Any = {
                    b"label_names": draw(st.one_of(label_lists, st.lists(st.binary(max_size=3), max_size=11)))
                }
            else:
                content = draw(cifar_contents(s["cifar"][name]))
            try:
                files[name] = _pickled(content, draw(st.sampled_from([None, 0, 2, 4, 5])))
            except Exception:  # some contents cannot be written as a Python 2 pickle: not a case
                assume(False)
        elif how == "evil":
            files[name] = draw(st.sampled_from(EVIL_PICKLES))
        elif how == "gzip":
            files[name] = draw(st.sampled_from([gzip.compress(files[name]), draw(edited(gzip.compress(files[name])))]))
        else:
            del files[name]
    return files


# ---------------------------------------------------------------------------------------------- model
LAYER_TYPES = [
    "Dense",
    "Dense",
    "Dense",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "ELU",
    "LeakyReLU",
    "Dropout",
    "Softmax",
    "Identity",
    "Conv2d",
    "",
    "dense",
]
json_numbers = st.one_of(
    st.sampled_from(INTERESTING_INTS + [6, 5, 4]),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
    st.just([1, 2]),
)


@st.composite
def architectures(draw: st.DrawFn) -> str:
    how = draw(st.sampled_from(["layers", "layers", "text", "deep", "not a list"]))
    if how == "text":
        return draw(st.text(max_size=40))
    if how == "deep":
        depth = draw(st.sampled_from([10, 5000, 100000]))
        return "[" * depth + "]" * depth
    if how == "not a list":
        return json.dumps(draw(st.one_of(st.integers(), st.dictionaries(st.text(max_size=3), st.integers()))))
    layers = []
    width = 6
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(LAYER_TYPES))
        layer: dict[str, Any] = {"type": kind}
        if kind == "Dense":
            out = draw(st.sampled_from([3, 4, 5, 1, 0, -1, 10**12, 2.5, True, "4"]))
            layer.update(
                in_features=width if draw(st.integers(0, 4)) else draw(json_numbers),
                out_features=out,
                bias=draw(st.sampled_from([True, False, 1, None])),
            )
            width = out
        elif kind in ("ELU", "LeakyReLU", "Dropout"):
            layer[{"ELU": "alpha", "LeakyReLU": "slope", "Dropout": "p"}[kind]] = draw(json_numbers)
        if draw(st.integers(0, 9)) == 0:
            layer[draw(st.text(max_size=4))] = draw(json_numbers)
        layers.append(layer)
    return json.dumps(layers, allow_nan=True)


def _parameter_members(architecture: str, dtype: Any) -> dict[str, np.ndarray]:
    """Arrays that fit ``architecture`` (when it is a list of well-formed Dense descriptions), else none."""
    try:
        layers = json.loads(architecture)
        out = {}
        for i, layer in enumerate(layers):
            if layer.get("type") == "Dense":
                n_in, n_out = int(layer["in_features"]), int(layer["out_features"])
                if not (0 < n_in <= 1024 and 0 < n_out <= 1024):
                    return {}
                out[f"{i}.weight"] = np.full((n_in, n_out), 0.5, dtype=dtype)
                if layer.get("bias"):
                    out[f"{i}.bias"] = np.zeros(n_out, dtype=dtype)
        return out
    except Exception:
        return {}


def _zip(members: dict[str, bytes], compression: int) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": a case on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members.items():
                archive.writestr(name.split("#")[0], data)  # "#k" suffixes make duplicate names
    return buffer.getvalue()


@st.composite
def model_cases(draw: st.DrawFn) -> dict[str, bytes]:
    seed_name = draw(st.sampled_from(list(SEED_MODELS)))
    data = seeds()["models"][seed_name]
    how = draw(st.sampled_from(["bytes", "members", "architecture", "architecture"]))
    if how == "bytes":
        return {"model.npz": draw(edited(data))}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if how == "architecture":
        arch = draw(architectures())
        members = {"__architecture__.npy": _npy_bytes(np.array(arch))}
        dtype = draw(st.sampled_from([np.float32, np.float64, np.float16, np.int32, ">f4"]))
        members.update({f"{k}.npy": _npy_bytes(v) for k, v in _parameter_members(arch, dtype).items()})
    for _ in range(draw(st.integers(0 if how == "architecture" else 1, 3))):
        names = sorted(members)
        change = draw(
            st.sampled_from(
                ["drop", "extra", "rename", "duplicate", "edit member", "objects", "reshape", "text architecture"]
            )
        )
        if not names:
            break
        name = draw(st.sampled_from(names))
        if change == "drop":
            del members[name]
        elif change == "extra":
            members[draw(st.sampled_from(["9.weight.npy", "x.txt", "../up.npy", "0.bias.npy"]))] = _npy_bytes(
                np.ones(3, np.float32)
            )
        elif change == "rename":
            members[draw(st.sampled_from(["weights.npy", "0.weight", "__architecture__.npy"]))] = members.pop(name)
        elif change == "duplicate":
            members[name + "#2"] = draw(edited(members[name]))
        elif change == "edit member":
            members[name] = draw(edited(members[name]))
        elif change == "objects":
            members[name] = _npy_bytes(np.array([None, {"a": 1}], dtype=object), allow_pickle=True)
        elif change == "reshape":
            members[name] = _npy_bytes(draw(hnp.arrays(np.float32, hnp.array_shapes(max_dims=3, max_side=7))))
        else:
            members["__architecture__.npy"] = _npy_bytes(np.array([draw(architectures())]))
    compression = draw(
        st.sampled_from(
            [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
        )
    )
    zipped = _zip(members, compression)
    return {"model.npz": draw(edited(zipped)) if draw(st.integers(0, 4)) == 0 else zipped}


STRATEGIES = {"idx": idx_cases, "npy": npy_cases, "cifar10": cifar_cases, "model": model_cases}
SCALES = ("unit", "centered", "mean", "standardize", "none")
cases = {
    fmt: st.tuples(strategy(), st.sampled_from(SCALES), st.sampled_from([None, None, 5, 0.5, 60]))
    for fmt, strategy in STRATEGIES.items()
}


# ---------------------------------------------------------------------------------------------- the rule
_counter = itertools.count()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `CaseTimeout` in the main thread after ``seconds`` (SIGALRM)."""

    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"case took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _load(fmt: str, root: Path, scale: str, validation_size: Any) -> None:
    """Load the case's files and check what loaded; raises whatever the loader raises."""
    if fmt == "model":
        model = load_model(root / "model.npz")
        dense = [m for m in model.layers if isinstance(m, Dense)]
        if dense:
            out = model.forward(np.zeros((2, dense[0].in_features), dense[0].weight.value.dtype))
            assert out.shape == (2, dense[-1].out_features), out.shape
            # init_from copies the weights into a model of the same sizes
            load_initial_weights(
                mlp([dense[0].in_features, *(d.out_features for d in dense)], seed=0), root / "model.npz"
            )
        return
    dataset = {"idx": "fashion-mnist", "npy": "npy", "cifar10": "cifar10"}[fmt]
    splits = load_splits(dataset, root=root, scale=scale, validation_size=validation_size)
    widths = {ds.X.shape[1] for ds in splits.values()}
    assert len(widths) == 1, f"splits differ in width: {widths}"
    for ds in splits.values():
        assert ds.X.dtype == np.float32 and np.isfinite(ds.X).all(), "features must be finite float32"
        assert ds.y.dtype == np.int64 and ((ds.y >= 0) & (ds.y < ds.num_classes)).all(), "labels out of range"


def run_case(
    fmt: str,
    files: dict[str, bytes],
    scale: str,
    validation_size: Any,
    workdir: Path,
    keep_failures: Path | None = None,
) -> Outcome:
    """Write ``files`` into a fresh directory, load them, and classify what happened."""
    case_dir = workdir / f"case-{next(_counter)}"
    root = case_dir / "cifar-10-batches-py" if fmt == "cifar10" else case_dir
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    try:
        with time_limit(CASE_SECONDS), warnings.catch_warnings():
            warnings.filterwarnings("error", category=RuntimeWarning, module="backproplab")
            _load(fmt, root, scale, validation_size)
        outcome = Outcome("loaded")
    except BackproplabError as exc:
        outcome = Outcome("library error", type(exc).__name__)
    except (Exception, CaseTimeout) as exc:
        outcome = Outcome("bug", f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    if outcome.kind == "bug" and keep_failures is not None:
        shutil.copytree(case_dir, keep_failures / case_dir.name)
        (keep_failures / case_dir.name / "error.txt").write_text(
            f"{fmt} scale={scale} validation_size={validation_size}\n{outcome.error}\n"
        )
    shutil.rmtree(case_dir)
    return outcome


def fuzz_settings(max_examples: int, **options: Any) -> settings:
    return settings(max_examples=max_examples, **{**SETTINGS, **options})
