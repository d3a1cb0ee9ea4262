"""The header a run prints names the model as it is: no activation for a model without hidden layers."""

from __future__ import annotations

from pathlib import Path

from backproplab.experiments import load_preset, run_experiment
from backproplab.experiments.config import parse_config


def header(config_data: dict, tmp_path: Path) -> str:
    lines: list[str] = []
    run_experiment(parse_config(config_data), runs_dir=tmp_path, say=lines.append)
    return lines[0]


def test_softmax_regression_header_has_no_activation(tmp_path: Path) -> None:
    data = {
        "name": "toy-softmax-regression",
        "data": {"dataset": "toy", "scale": "none"},
        "model": {"hidden": [], "activation": "sigmoid"},
        "optimizer": {"name": "sgd", "lr": 0.1},
        "training": {"epochs": 1, "batch_size": 5},
    }
    assert "  model 4 -> 3, no hidden layer, init glorot_uniform, float32, numpy (cpu)\n" in header(data, tmp_path)


def test_hidden_layer_header_names_its_activation(tmp_path: Path) -> None:
    data = load_preset("toy-two-layer").model_dump(mode="json", exclude={"quick", "published", "check"})
    data["training"]["epochs"] = 1
    assert "  model 4 -> 10 -> 3, relu, init normal, float64, numpy (cpu)\n" in header(data, tmp_path)
