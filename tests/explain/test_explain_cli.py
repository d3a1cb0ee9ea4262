"""`backproplab explain`: every problem in every format, options, errors; rendering rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backproplab.cli.main import main
from backproplab.explain import PROBLEMS, Derivation, build_problem
from cli_errors import assert_cli_error

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_problem_in_every_format(cli: CliRunner, name: str, fmt: str) -> None:
    result = cli.invoke(main, ["explain", name, "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        doc = json.loads(result.output)
        assert doc["problem"] == name and doc["sections"] and doc["values"]
        assert doc["values"] == json.loads(json.dumps(build_problem(name).to_dict()))["values"]
    elif fmt == "markdown":
        assert result.output.startswith("## ") and "### " in result.output
    else:
        title = build_problem(name).title
        assert result.output.startswith(f"{title}\n{'=' * len(title)}\n")
    assert "-0.0000" not in result.output


def test_list_and_no_argument_list_the_problems(cli: CliRunner) -> None:
    for args in (["explain", "--list"], ["explain"]):
        result = cli.invoke(main, args)
        assert result.exit_code == 0
        for name in PROBLEMS:
            assert name in result.output
    assert "explain" in cli.invoke(main, ["--help"]).output


def test_precision_changes_only_the_display(cli: CliRunner) -> None:
    two = cli.invoke(main, ["explain", "hw-643", "--precision", "2"]).output
    six = cli.invoke(main, ["explain", "hw-643", "--precision", "6"]).output
    loss = build_problem("hw-643").values()["l"]
    assert f"l = -sum_k y_k log y_hat_k = {loss:.2f}\n" in two
    assert f"l = -sum_k y_k log y_hat_k = {loss:.6f}\n" in six
    full = json.loads(cli.invoke(main, ["explain", "hw-643", "--format", "json", "--precision", "2"]).output)
    assert full["values"]["l"] == loss  # JSON keeps full precision


def test_shapes_are_shown(cli: CliRunner) -> None:
    out = cli.invoke(main, ["explain", "hw-643"]).output
    assert re.search(r"^  a \(4,\) = alpha x", out, re.M)
    assert re.search(r"^  dl/dbeta \(3, 5\) = dl/db z\^T", out, re.M)
    md = cli.invoke(main, ["explain", "mazur-222", "--format", "markdown"]).output
    assert "- `dC/dW2` (2, 2) = `out_h^T dC/dnet_o`" in md and "dC/dw5 = " in md


def test_lr_and_cost_options(cli: CliRunner) -> None:
    out = cli.invoke(main, ["explain", "hw-643", "--lr", "0.5", "--format", "json"]).output
    values = json.loads(out)["values"]
    np.testing.assert_allclose(values["alpha'"], np.array(values["alpha"]) - 0.5 * np.array(values["dl/dalpha"]))
    sq = json.loads(cli.invoke(main, ["explain", "mazur-222", "--cost", "squared", "--format", "json"]).output)
    assert "E" in sq["values"] and "C" not in sq["values"]


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["explain", "no-such-problem"], 2, "unknown problem 'no-such-problem'; built-in problems: hw-643"),
        (["explain", "relu-max-graph", "--lr", "1"], 2, "relu-max-graph does not take --lr"),
        (["explain", "hw-643", "--cost", "squared"], 2, "--cost applies to mazur-222"),
        (["explain", "hw-643", "--plots", "x"], 2, "--plots applies to knn-dimensionality"),
        (["explain", "hw-643", "--lr", "0"], 2, "not in the range x>0"),
        (["explain", "hw-643", "--format", "html"], 2, "'html' is not one of"),
        (["explain", "missing.toml"], 2, "missing.toml: problem file not found"),  # a problem file: input
        (["explain", "missing.csv"], 1, "missing.csv: file not found"),  # a table: a data file
        (["explain", "hw-643", "--target", "y"], 2, "--target applies to CSV tables"),
    ],
)
def test_errors_are_clear(cli: CliRunner, args: list[str], status: int, message: str) -> None:
    assert_cli_error(cli.invoke(main, args), status, message)


def test_plots_and_output_file(cli: CliRunner, tmp_path: Path) -> None:
    for name in ("knn-dimensionality", "id3-phone-usage", "forest-sickness"):
        result = cli.invoke(main, ["explain", name, "--plots", str(tmp_path / "plots")])
        assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert pngs == [
        "forest-sickness-AH.png",
        "forest-sickness-AS.png",
        "forest-sickness-SH.png",
        "id3-phone-usage.png",
        "knn-dimensionality.png",
    ]
    assert all((tmp_path / "plots" / p).read_bytes()[:8] == PNG for p in pngs)
    out = tmp_path / "hw.md"
    result = cli.invoke(main, ["explain", "hw-643", "--format", "markdown", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text().startswith("## HW3 written part")


def test_toml_file_through_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(
        'sizes = [2, 1]\nlayout = "in_out"\nloss = "mse"\ninput = [1.0, 2.0]\ntarget = [1.0]\n'
        '[[layers]]\nactivation = "identity"\nweights = [[0.5], [0.25]]\nbias = [0.0]\n'
    )
    result = cli.invoke(main, ["explain", str(path), "--lr", "0.1", "--format", "json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)["values"]
    # y = 0.5 + 0.5 = 1.0 = target: zero loss and zero gradients
    assert values["L"] == 0.0 and values["dL/dW1"] == [[0.0], [0.0]]
    bad = cli.invoke(main, ["explain", str(path), "--cost", "squared"])
    assert_cli_error(bad, 2, "--cost: not used by TOML problems")


def test_rendering_rules() -> None:
    d = Derivation("t", "Title")
    s = d.section("S")
    s.quantity("tiny", 3e-9)
    s.quantity("negzero", -1e-9 * 0)
    s.quantity("round", -0.000049)
    s.quantity("int", np.int64(7))
    s.quantity("flag", np.bool_(True))
    s.quantity("m", np.arange(6.0).reshape(2, 3), "formula")
    s.quantity("v", np.array([0.5, 1.5]))
    s.table("tab", ["a", "b"], [["x", 1.25], ["yy", np.inf]])
    text = d.render("text", precision=3)
    assert "tiny = 3.00e-09" in text
    assert "negzero = 0.000" in text and "round = -4.90e-05" in text
    assert "int = 7" in text and "flag = true" in text
    assert "m (2, 3) = formula\n      [[0.000  1.000  2.000]\n       [3.000  4.000  5.000]]" in text
    assert "v (2,) = [0.500, 1.500]" in text
    doc = json.loads(d.render("json"))
    assert doc["values"]["tab"] == [{"a": "x", "b": 1.25}, {"a": "yy", "b": None}]  # inf is not JSON
    assert doc["values"]["tiny"] == 3e-9
    with pytest.raises(ValueError, match="format: expected one of text, markdown, json"):
        d.render("html")
    s.quantity("m", 1.0)
    with pytest.raises(ValueError, match="key 'm' is used twice"):
        d.values()


def test_csv_table_through_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "play.csv"
    path.write_text(
        "Outlook,Wind,Play\nsunny,weak,no\nsunny,strong,no\nrain,weak,yes\nrain,strong,no\novercast,weak,yes\n"
    )
    result = cli.invoke(main, ["explain", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)["values"]
    # H(Play) = H(3/5, 2/5); Outlook leaves only the rain rows mixed (1/1): IG = H - 2/5 * 1
    h = -(0.6 * np.log2(0.6) + 0.4 * np.log2(0.4))
    assert values["root: H(Play)"] == pytest.approx(h, abs=1e-12)
    gains = {row["feature"]: row["information gain"] for row in values["root: gains"]}
    assert gains["Outlook"] == pytest.approx(h - 0.4, abs=1e-12)
    assert values["root: split"] == "Outlook" and values["Outlook = rain: split"] == "Wind"
    other = cli.invoke(main, ["explain", str(path), "--target", "Wind", "--format", "json"])
    assert json.loads(other.output)["values"]["root: H(Wind)"] == pytest.approx(
        -(0.6 * np.log2(0.6) + 0.4 * np.log2(0.4)), abs=1e-12
    )
    bad = cli.invoke(main, ["explain", str(path), "--lr", "0.1"])
    assert_cli_error(bad, 2, "--lr: not used by CSV tables")
