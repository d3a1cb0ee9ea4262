"""Run reports: first-layer weight tiles for image models, config and published tables, labelled plots."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.experiments import parse_config, run_experiment
from backproplab.nn import load_model
from backproplab.report import write_run_report
from backproplab.report.weights import first_layer_weights, weight_tiles

FASHION = {
    "name": "tiles",
    "data": {"dataset": "fashion-mnist", "limit_train": 500, "limit_test": 200},
    "model": {"hidden": [12]},
    "optimizer": {"lr": 0.1},
    "training": {"epochs": 2, "batch_size": 10},
    "published": [{"epoch": 1, "metric": "test_acc", "value": 0.8315, "source": "HW3 handout"}],
}


@pytest.mark.needs_data("fashion-mnist")
def test_image_model_report_has_weight_tiles_config_and_published_tables(tmp_path) -> None:
    run = run_experiment(parse_config(FASHION), runs_dir=tmp_path, verbose=0).run_dir
    html = write_run_report(run).read_text()
    assert (run / "weights.png").is_file() and "First-layer weights" in html
    assert "Published vs this run" in html and "83.15%" in html
    assert "<code>[12]</code>" in html and "model.hidden" in html  # the config table, one row per key
    model = load_model(run / "model.npz")
    np.testing.assert_array_equal(first_layer_weights(run / "model.npz"), model.layers[0].weight.value)


def test_spiral_report_has_no_weight_tiles(tmp_path) -> None:
    config = parse_config(
        {"data": {"dataset": "spiral"}, "model": {"hidden": [8]}, "training": {"epochs": 1, "batch_size": 30}}
    )
    run = run_experiment(config, runs_dir=tmp_path, verbose=0).run_dir
    html = write_run_report(run).read_text()
    assert not (run / "weights.png").exists() and "First-layer weights" not in html
    assert not (run / "misclassified.png").exists()  # 2-D points are not images
    assert (run / "loss.png").is_file() and (run / "confusion_test.png").is_file()


def test_weight_tiles_grey_and_colour() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(784, 5))
    tiles = weight_tiles(w, (28, 28))
    assert tiles.shape == (5, 28, 28)
    for j in range(5):  # unit j's 784 input weights as a 28x28 image, scaled by its own max |w|
        np.testing.assert_allclose(tiles[j], w[:, j].reshape(28, 28) / np.abs(w[:, j]).max())
    c = rng.normal(size=(3072, 3))
    tiles = weight_tiles(c, (3, 32, 32), max_tiles=2)
    assert tiles.shape == (2, 32, 32, 3)
    img = c[:, 1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_allclose(tiles[1], (img - img.min()) / (img.max() - img.min()))
    with pytest.raises(ValueError, match="not an image of shape"):
        weight_tiles(rng.normal(size=(50, 4)), (28, 28))


@pytest.mark.needs_data("fashion-mnist")
def test_softmax_regression_tiles_are_named_by_class(tmp_path, monkeypatch) -> None:
    import backproplab.report.run_report as run_report

    seen = {}
    original = run_report.plot_weight_tiles

    def spy(weights, shape, path, **kwargs):
        seen.update(kwargs, shape=shape, columns=weights.shape[1])
        return original(weights, shape, path, **kwargs)

    monkeypatch.setattr(run_report, "plot_weight_tiles", spy)
    config = parse_config(
        {
            "data": {"dataset": "fashion-mnist", "limit_train": 300, "limit_test": 100},
            "model": {"hidden": []},
            "training": {"epochs": 1, "batch_size": 30},
        }
    )
    run = run_experiment(config, runs_dir=tmp_path, verbose=0).run_dir
    write_run_report(run)
    assert (run / "weights.png").is_file()
    assert seen["shape"] == (28, 28) and seen["columns"] == 10
    assert seen["labels"][:2] == ["T-shirt/top", "Trouser"] and len(seen["labels"]) == 10
