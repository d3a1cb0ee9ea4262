"""A damaged or hostile ``model.npz`` gives a `ModelFileError` naming the file and the problem, from `load_model`,
from ``model.init_from`` and from ``backproplab report``; its sizes and structure are checked before anything is
decompressed, so a zip bomb is refused unread, and a model too large for memory is refused before allocation."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab import _memory
from backproplab.cli.main import main
from backproplab.errors import ModelFileError, ResourceError
from backproplab.experiments.run.init_from import load_initial_weights
from backproplab.nn import load_model, mlp, save_model

NOT_A_MODEL = "not a readable backproplab model file"


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save_model(mlp([6, 5, 3], "sigmoid", seed=1), tmp_path / "model.npz")


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def rezip(source: Path, target: Path, **members: bytes | None) -> Path:
    """``source``'s members with some replaced (bytes), added, or removed (None), written to ``target``."""
    with zipfile.ZipFile(source) as archive:
        content = {name: archive.read(name) for name in archive.namelist()}
    for name, data in members.items():
        content.pop(f"{name}.npy", None) if data is None else content.__setitem__(f"{name}.npy", data)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return target


def test_truncated_and_bit_flipped_files(saved: Path, tmp_path: Path) -> None:
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as err:
        load_model(truncated)
    assert str(err.value) == f"{truncated}: {NOT_A_MODEL} (a damaged zip archive: BadZipFile: File is not a zip file)"
    flipped = tmp_path / "flipped.npz"
    with zipfile.ZipFile(saved) as archive:
        offset = archive.getinfo("0.weight.npy").header_offset + 30 + len("0.weight.npy") + 140
    flipped.write_bytes(data[:offset] + bytes([data[offset] ^ 0x10]) + data[offset + 1 :])
    with pytest.raises(
        ModelFileError,
        match=re.escape(
            f"{flipped}: {NOT_A_MODEL} (a damaged zip archive: BadZipFile: Bad CRC-32 for file '0.weight.npy')"
        ),
    ):
        load_model(flipped)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(saved: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.npz"
    n = 256 * 2**20 // 4  # 256 MiB of zeros: 256 KiB deflated
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (n,)})
    with zipfile.ZipFile(saved) as archive:
        architecture = archive.read("__architecture__.npy")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__architecture__.npy", architecture)
        with archive.open("0.weight.npy", "w") as member:
            member.write(header.getvalue())
            for _ in range(256):
                member.write(bytes(2**20))
    assert bomb.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(
            ModelFileError,
            match=re.escape(
                f"{bomb}: {NOT_A_MODEL}: the arrays do not match the "
                "architecture: missing ['0.bias', '2.bias', '2.weight']"
            ),
        ):
            load_model(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # nothing near the 256 MiB was decompressed


def test_declared_shapes_must_match_the_architecture(saved: Path, tmp_path: Path) -> None:
    # a weight of the right size in bytes but the wrong shape, and one that needs pickle
    target = rezip(saved, tmp_path / "shape.npz", **{"0.weight": npy(np.zeros((5, 6), np.float32))})
    with pytest.raises(
        ModelFileError,
        match=re.escape(
            f"{target}: {NOT_A_MODEL}: parameter 0.weight is float32 of "
            "shape (5, 6); the architecture needs float32 or float64 of "
            "shape (6, 5)"
        ),
    ):
        load_model(target)
    target = rezip(saved, tmp_path / "objects.npz", **{"2.bias": npy(np.array([None, 1, 2], object), True)})
    with pytest.raises(
        ModelFileError,
        match=re.escape(
            f"{target}: {NOT_A_MODEL}: parameter 2.bias: holds Python "
            "objects (dtype object), which would need pickle to load"
        ),
    ):
        load_model(target)


def test_architecture_must_describe_a_chain_of_layers(saved: Path, tmp_path: Path) -> None:
    layers = [
        {"type": "Dense", "in_features": 6, "out_features": 5, "bias": True},
        {"type": "Sigmoid"},
        {"type": "Dense", "in_features": 4, "out_features": 3, "bias": True},
    ]
    target = rezip(saved, tmp_path / "chain.npz", __architecture__=npy(np.array(json.dumps(layers))))
    with pytest.raises(
        ModelFileError,
        match=re.escape(f"{target}: {NOT_A_MODEL}: layer 2 (Dense) takes 4 inputs but the layer before gives 5"),
    ):
        load_model(target)
    layers[2] = {"type": "Dense", "in_features": 5, "out_features": 10**12, "bias": True}
    target = rezip(saved, tmp_path / "huge.npz", __architecture__=npy(np.array(json.dumps(layers))))
    with pytest.raises(
        ModelFileError,
        match=re.escape(
            "parameter 2.weight is float32 of shape (5, 3); the "
            "architecture needs float32 or float64 of shape "
            "(5, 1000000000000)"
        ),
    ):
        load_model(target)
    target = rezip(saved, tmp_path / "deep.npz", __architecture__=npy(np.array("[" * 100000 + "]" * 100000)))
    with pytest.raises(
        ModelFileError, match=re.escape(f"{target}: {NOT_A_MODEL}: the architecture record is not valid JSON")
    ):
        load_model(target)
    layers[2] = {"type": "Conv2d", "kernel": 3}
    target = rezip(
        saved,
        tmp_path / "unknown.npz",
        __architecture__=npy(np.array(json.dumps(layers))),
        **{"2.weight": None, "2.bias": None},
    )
    with pytest.raises(
        ModelFileError,
        match=re.escape(f"{target}: layer 2 (Conv2d) cannot be rebuilt: unknown layer type 'Conv2d' in saved model"),
    ):
        load_model(target)


def test_a_model_larger_than_memory_is_refused_before_allocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = save_model(mlp([6, 50, 3], seed=0), tmp_path / "model.npz")
    monkeypatch.setattr(_memory, "available_bytes", lambda: 1000)
    # 6*50 + 50 + 50*3 + 3 = 503 float32 parameters: 2012 bytes, times 3 (read, the model's copy, its gradients)
    with pytest.raises(ResourceError) as err:
        load_model(saved)
    assert str(err.value) == (
        f"the model in {saved} (503 parameters) needs 5.9 KiB of memory; this machine has 1000 bytes available"
    )
    with pytest.raises(
        ResourceError,
        match=re.escape(
            "model 784-100000-10 (79,500,010 parameters of 4 bytes, and as many gradients) needs 606.5 MiB of memory"
        ),
    ):
        mlp([784, 100000, 10])


@pytest.mark.needs_data("fashion-mnist")
def test_init_from_and_report_name_the_damaged_file(saved: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(saved.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match=re.escape(f"{broken}: {NOT_A_MODEL} (a damaged zip archive")):
        load_initial_weights(mlp([6, 5, 3]), broken)
    cli = CliRunner()
    runs = tmp_path / "runs"
    result = cli.invoke(
        main,
        [
            "train",
            "--dataset",
            "toy",
            "--hidden",
            "5",
            "--epochs",
            "1",
            "--runs-dir",
            str(runs),
            "--set",
            f"model.init_from={json.dumps(str(broken))}",
            "--no-report",
            "-q",
        ],
    )
    assert result.exit_code == 1, result.output
    assert (
        result.output == f"Error: {broken}: {NOT_A_MODEL} (a damaged zip archive: BadZipFile: File is not a zip file)\n"
    )
    result = cli.invoke(
        main,
        [
            "train",
            "--dataset",
            "fashion-mnist",
            "--limit-train",
            "100",
            "--limit-test",
            "50",
            "--hidden",
            "4",
            "--epochs",
            "1",
            "--runs-dir",
            str(runs),
            "--no-report",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    (run,) = runs.iterdir()
    model = run / "model.npz"
    model.write_bytes(model.read_bytes()[:300])
    result = cli.invoke(main, ["report", str(run)])
    assert result.exit_code == 1
    assert (
        result.output == f"Error: {model}: {NOT_A_MODEL} (a damaged zip archive: BadZipFile: File is not a zip file)\n"
    )
