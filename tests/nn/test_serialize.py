"""save_model / load_model: a round trip through .npz without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from backproplab import nn
from backproplab.errors import BackproplabError


def test_round_trip_keeps_architecture_weights_and_outputs(tmp_path: Path, rng: np.random.Generator) -> None:
    model = nn.Sequential(
        nn.Dense(6, 5, rng=1),
        nn.ELU(0.9),
        nn.Dropout(0.25),
        nn.Dense(5, 4, bias=False, rng=2),
        nn.LeakyReLU(0.2),
        nn.Dense(4, 4, rng=3),
        nn.Tanh(),
        nn.Dense(4, 3, rng=4),
        nn.Softmax(),
    )
    for p in model.parameters():
        p.value[...] = rng.standard_normal(p.shape)
    path = nn.save_model(model, tmp_path / "model.npz")
    loaded = nn.load_model(path)
    assert [repr(m) for m in loaded] == [repr(m) for m in model]
    for (name, p), (name2, q) in zip(model.named_parameters(), loaded.named_parameters(), strict=True):
        assert name == name2
        assert q.dtype == p.dtype
        np.testing.assert_array_equal(p.value, q.value)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))


def test_file_is_plain_npz_readable_without_pickle(tmp_path: Path) -> None:
    model = nn.mlp([4, 3, 2], "sigmoid", seed=0)
    path = nn.save_model(model, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert set(arrays) == {"0.weight", "0.bias", "2.weight", "2.bias", "__architecture__"}
    np.testing.assert_array_equal(arrays["2.weight"], model[2].weight.value)
    layers = json.loads(str(arrays["__architecture__"]))
    assert layers == [
        {"type": "Dense", "in_features": 4, "out_features": 3, "bias": True},
        {"type": "Sigmoid"},
        {"type": "Dense", "in_features": 3, "out_features": 2, "bias": True},
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


def test_float64_models_stay_float64(tmp_path: Path) -> None:
    model = nn.mlp([3, 2], seed=0, dtype=np.float64)
    loaded = nn.load_model(nn.save_model(model, tmp_path / "m.npz"))
    assert loaded.dtype == np.float64


def test_save_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    nn.save_model(nn.mlp([3, 2], seed=0), path)
    second = nn.mlp([3, 5, 2], seed=1)
    nn.save_model(second, path)
    np.testing.assert_array_equal(nn.load_model(path)[2].weight.value, second[2].weight.value)


def test_load_rejects_files_that_are_not_models(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(BackproplabError, match="garbage.npz: not a readable backproplab model file"):
        nn.load_model(garbage)
    plain = tmp_path / "plain.npz"
    np.savez(plain, w=np.ones(3))
    with pytest.raises(BackproplabError, match="plain.npz: no architecture record"):
        nn.load_model(plain)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{"0.weight": np.array([object()], dtype=object), "__architecture__": np.array("[]")})
    with pytest.raises(BackproplabError, match="pickled.npz: not a readable backproplab model file"):
        nn.load_model(pickled)
