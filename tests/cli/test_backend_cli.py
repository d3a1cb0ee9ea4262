"""--backend and --device on `train`, `run` and `sweep`: runs on torch record where they ran and agree with NumPy;
a backend or device that cannot be had is a one-line error before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.experiments.config import parse_config
from backproplab.nn import load_model
from needs import import_torch

pytestmark = pytest.mark.needs_torch

torch = import_torch()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRAIN = [
    "train",
    "--limit-train",
    "300",
    "--limit-test",
    "200",
    "--hidden",
    "16",
    "--epochs",
    "2",
    "--batch-size",
    "10",
    "--dtype",
    "float64",
    "--no-report",
    "-q",
]


def summary_of(runs: Path) -> tuple[Path, dict]:
    (run,) = [d for d in runs.iterdir() if d.is_dir()]
    return run, json.loads((run / "summary.json").read_text())


def test_train_on_torch_records_backend_device_and_torch_version_and_agrees_with_numpy(tmp_path: Path) -> None:
    cli = CliRunner()
    finals = {}
    for backend in ("numpy", "torch"):
        runs = tmp_path / backend
        result = cli.invoke(main, [*TRAIN, "--backend", backend, "--device", "cpu", "--runs-dir", str(runs)])
        assert result.exit_code == 0, result.output
        run, summary = summary_of(runs)
        assert summary["model"]["backend"] == backend and summary["model"]["device"] == "cpu"
        assert summary["engine"] == ("torch" if backend == "torch" else "numpy")
        assert (
            summary["environment"]["torch"] == torch.__version__.split("+")[0]
            or summary["environment"]["torch"] == torch.__version__
        )
        assert load_model(run / "model.npz").backend == "numpy"  # the same file format on every backend
        finals[backend] = summary["final"]
    for key, value in finals["numpy"].items():
        assert abs(value - finals["torch"][key]) < 1e-9, key


def test_a_device_that_is_not_there_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    cli = CliRunner()
    runs = tmp_path / "runs"
    result = cli.invoke(main, [*TRAIN, "--backend", "numpy", "--device", "cuda", "--runs-dir", str(runs)])
    assert result.exit_code == 2  # an invalid configuration (usage error); a missing GPU below is an environment error
    assert "model.device = 'cuda' needs model.backend = 'torch' (NumPy computes on the CPU)" in result.output
    if not torch.cuda.is_available():
        result = cli.invoke(
            main,
            [
                "run",
                "fashion-sgd",
                "--quick",
                "--backend",
                "torch",
                "--device",
                "cuda",
                "--runs-dir",
                str(runs),
                "--no-report",
            ],
        )
        assert result.exit_code == 1
        assert result.output.startswith("Error: device 'cuda' needs a CUDA GPU, but torch ")
        assert result.output.count("\n") == 1
    assert not runs.exists() or not any(runs.iterdir())


def test_sweep_takes_backend_and_device_for_every_trial(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(EXAMPLES / "sweep-spiral.toml"),
            "--quick",
            "--executor",
            "serial",
            "--backend",
            "torch",
            "--device",
            "cpu",
            "--runs-dir",
            str(tmp_path),
            "--no-report",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    summaries = [*tmp_path.glob("*-sweep/trials/*/summary.json"), *tmp_path.glob("*-sweep/retrain/summary.json")]
    assert len(summaries) == 5  # 4 quick trials and the retrain
    for path in summaries:
        summary = json.loads(path.read_text())
        assert summary["model"]["backend"] == "torch" and summary["engine"] == "torch"


def test_config_keys_are_validated_with_the_key_named() -> None:
    config = parse_config({"model": {"backend": "torch", "device": "cuda:1"}})
    assert (config.model.backend, config.model.device) == ("torch", "cuda:1")
    assert parse_config({}).model.backend == "numpy" and parse_config({}).model.device == "auto"
    for data, message in [
        ({"model": {"device": "gpu"}}, "model.device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'"),
        ({"model": {"backend": "jax"}}, "model.backend: expected 'numpy' or 'torch'; got 'jax'"),
        (
            {"model": {"backend": "torch"}, "training": {"engine": "fast"}},
            "training.engine = 'fast' cannot train model.backend = 'torch'",
        ),
    ]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_config(data)
    assert np.dtype(parse_config({"model": {"backend": "torch"}}).model.dtype) == np.float32
