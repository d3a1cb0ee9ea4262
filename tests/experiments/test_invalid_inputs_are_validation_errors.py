"""Non-finite rates, negative seeds, non-UTF-8 text files and models too large for memory are validation errors:
a message naming the key (or file), what is allowed and what was given; on the command line one line and exit
status 2 for invalid input, 1 for a request the machine cannot serve. Never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.errors import ConfigError, ResourceError
from backproplab.experiments.config import load_config, parse_config
from backproplab.experiments.sweep import load_sweep
from backproplab.nn import mlp
from backproplab.optim import SGD

TOY = ["train", "--dataset", "toy", "--epochs", "1", "--no-report", "-q"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"optimizer": {"lr": float("inf")}}, "optimizer.lr: Input should be a finite number; got inf"),
        ({"optimizer": {"lr": float("nan")}}, "optimizer.lr: Input should be a finite number; got nan"),
        ({"optimizer": {"momentum": float("nan")}}, "optimizer.momentum: Input should be a finite number; got nan"),
        ({"regularization": {"l2": float("inf")}}, "regularization.l2: Input should be a finite number; got inf"),
        ({"model": {"seed": -1}}, "model.seed: Input should be greater than or equal to 0; got -1"),
        (
            {"training": {"seed": 2**32}},
            "training.seed: Input should be less than or equal to 4294967295; got 4294967296",
        ),
        ({"data": {"split_seed": -5}}, "data.split_seed: Input should be greater than or equal to 0; got -5"),
    ],
)
def test_config_values(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert str(err.value) == f"invalid configuration: {message}"


def test_config_file_in_toml_with_inf_and_a_negative_seed(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("[optimizer]\nlr = inf\n[model]\nseed = -3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (
        f"invalid configuration in {path}:\n  model.seed: Input should be greater than or equal "
        "to 0; got -3\n  optimizer.lr: Input should be a finite number; got inf"
    )


def test_sweep_seeds_must_not_be_negative(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(
        '[search]\nmethod = "random"\nnum_trials = 2\nseed = -1\n[search.space]\n'
        '"optimizer.lr" = { log_uniform = [0.001, 0.1] }\n'
    )
    with pytest.raises(
        ConfigError,
        match=re.escape(f"invalid sweep in {path}: search.seed: Input should be greater than or equal to 0; got -1"),
    ):
        load_sweep(path)
    path.write_text('[search.space]\n"optimizer.lr" = [0.1]\n[selection]\nseeds = [0, -2]\n')
    with pytest.raises(
        ConfigError, match=re.escape("selection.seeds.1: Input should be greater than or equal to 0; got -2")
    ):
        load_sweep(path)


def test_optimizer_refuses_a_non_finite_rate() -> None:
    with pytest.raises(ConfigError, match=r"learning rate must be a finite number > 0; got inf"):
        SGD(mlp([2, 2]).parameters(), lr=float("inf"))


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["--lr", "inf"], "Error: invalid configuration: optimizer.lr: Input should be a finite number; got inf\n"),
        (["--lr", "nan"], "Error: invalid configuration: optimizer.lr: Input should be a finite number; got nan\n"),
        (
            ["--set", "model.seed=-1"],
            "Error: invalid configuration: model.seed: Input should be greater than or equal to 0; got -1\n",
        ),
    ],
)
def test_cli_shows_one_line_and_exits_2(tmp_path: Path, args: list[str], output: str) -> None:
    result = CliRunner().invoke(main, [*TOY, "--runs-dir", str(tmp_path / "runs"), *args])
    assert (result.exit_code, result.output) == (2, output)
    assert not (tmp_path / "runs").exists()


def test_cli_seed_flag_is_checked_by_its_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*TOY, "--runs-dir", str(tmp_path / "runs"), "--seed", "-1"])
    assert result.exit_code == 2
    assert (
        result.output.splitlines()[-1] == "Error: Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295."
    )
    result = CliRunner().invoke(main, ["explain", "hw-643", "--lr", "inf"])
    assert (result.exit_code, result.output) == (2, "Error: learning rate must be a finite number > 0; got inf\n")


def test_cli_refuses_a_model_larger_than_memory_before_allocating(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*TOY, "--runs-dir", str(tmp_path / "runs"), "--hidden", "1000000000"])
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: model 4-1000000000-3 \(8,000,000,003 parameters of 4 bytes, and as many gradients\) "
        r"needs 59\.6 GiB of memory; this machine has [0-9.]+ [KMG]iB available\n",
        result.output,
    )
    with pytest.raises(ResourceError, match=r"model 4-1000000000000-3 .* needs 58\.2 TiB of memory"):
        mlp([4, 10**12, 3])


@pytest.mark.parametrize(
    ("command", "name", "content", "output", "status"),
    [
        (
            ["train", "--config"],
            "run.toml",
            b'name = "caf\xe9"\n',
            "{path}: not UTF-8 text (byte 0xe9 at offset 11); save the config file as UTF-8",
            2,
        ),
        (
            ["sweep"],
            "sweep.toml",
            b"[search.space]\n# \xff\n",
            "{path}: not UTF-8 text (byte 0xff at offset 17); save the config file as UTF-8",
            2,
        ),
        (
            ["explain"],
            "problem.toml",
            b"sizes = [2, 2]\n\x80",
            "{path}: not UTF-8 text (byte 0x80 at offset 15); save the problem file as UTF-8",
            2,
        ),
        (
            ["explain"],
            "table.csv",
            b"a,b\n\xe9t\xe9,1\n",
            "{path}: not UTF-8 text (byte 0xe9 at offset 4); save the file as UTF-8",
            1,
        ),
    ],
)
def test_non_utf8_text_files(
    tmp_path: Path, command: list[str], name: str, content: bytes, output: str, status: int
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = CliRunner().invoke(
        main,
        [*command, str(path), "--runs-dir", str(tmp_path / "runs")]
        if command[0] != "explain"
        else [*command, str(path)],
    )
    assert (result.exit_code, result.output) == (status, "Error: " + output.format(path=path) + "\n")
