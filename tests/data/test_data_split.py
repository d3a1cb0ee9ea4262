"""Deterministic train/validation split that keeps file order."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.data import Dataset, load_raw, load_splits, train_validation_indices
from backproplab.errors import ConfigError


def test_same_seed_same_split_different_seed_different_split() -> None:
    tr1, va1 = train_validation_indices(60000, 10000, seed=0)
    tr2, va2 = train_validation_indices(60000, 10000, seed=0)
    tr3, va3 = train_validation_indices(60000, 10000, seed=1)
    np.testing.assert_array_equal(tr1, tr2)
    np.testing.assert_array_equal(va1, va2)
    assert not np.array_equal(va1, va3)
    assert 1000 < len(np.intersect1d(va1, va3)) < 2500  # independent draws overlap in ~1/6 of the rows


def test_parts_are_disjoint_complete_and_in_file_order() -> None:
    tr, va = train_validation_indices(1000, 0.25, seed=5)
    assert len(tr) == 750 and len(va) == 250
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)
    np.testing.assert_array_equal(np.union1d(tr, va), np.arange(1000))
    assert not (va == np.arange(750, 1000)).all()  # random rows, not the last quarter of the file


@pytest.mark.parametrize("size", [0, 100, 150, -5, 0.0, 0.999])
def test_sizes_leaving_an_empty_part_are_rejected(size: float) -> None:
    with pytest.raises(ConfigError, match=r"validation_size: must leave both parts non-empty for 100 rows"):
        train_validation_indices(100, size, seed=0)


@pytest.mark.parametrize("size", [12.5, float("nan"), float("inf")])
def test_sizes_that_are_neither_counts_nor_fractions_are_rejected(size: float) -> None:
    with pytest.raises(ConfigError, match=r"validation_size: expected a count in \[1, 99\] or a fraction in \(0, 1\)"):
        train_validation_indices(100, size, seed=0)


def test_integral_counts_may_be_given_as_floats() -> None:
    assert len(train_validation_indices(100, 10.0, seed=0)[1]) == 10  # e.g. from a TOML file


def test_load_dataset_split_rows_are_the_indexed_file_rows(fashion_train: Dataset) -> None:
    raw = load_raw("fashion-mnist")
    tr, va = train_validation_indices(60000, 10000, seed=3)
    splits = load_splits("fashion-mnist", validation_size=10000, seed=3)
    np.testing.assert_array_equal(splits["train"].y, raw.train_y[tr])
    np.testing.assert_array_equal(splits["validation"].y, raw.train_y[va])
    np.testing.assert_allclose(splits["validation"].X[:50], raw.train_X[va[:50]] / 255.0, rtol=1e-6)
    assert splits["train"].split == "train" and splits["validation"].split == "validation"
    again = load_splits("fashion-mnist", validation_size=10000, seed=3)
    np.testing.assert_array_equal(again["validation"].X, splits["validation"].X)
