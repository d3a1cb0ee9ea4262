"""examples/quickstart.ipynb runs top to bottom in a fresh Jupyter kernel (nbclient), so the notebook cannot rot:
every cell without an error, the learning curves drawn, the results shown by their short reprs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip(
    "nbclient",
    reason="the notebook test needs nbclient, nbformat and ipykernel (the "
    "'test' extra: bash scripts/test.sh installs them)",
)
nbformat = pytest.importorskip("nbformat", reason="needs nbformat (the 'test' extra)")
pytest.importorskip("ipykernel", reason="needs ipykernel (the 'test' extra)")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
KERNEL = "backproplab-test"


def text_of(cell: dict) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", ""))
        out.append(o.get("data", {}).get("text/plain", ""))
    return "".join(out)


@pytest.mark.needs_data("fashion-mnist")
@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a kernel of this very interpreter (a system-wide "python3" kernel may be another Python without backproplab)
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "backproplab tests",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    work = tmp_path / "work"
    work.mkdir()
    notebook = nbformat.read(EXAMPLE, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name=KERNEL, resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails

    cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(o.get("output_type") != "error" for c in cells for o in c.get("outputs", []))
    by_source = {c.source.splitlines()[0]: c for c in cells}
    history = next(c for s, c in by_source.items() if s.startswith("model = mlp"))
    assert re.search(
        r"History\(epochs=4, engine='numpy', last: train_loss=[\d.]+, train_acc=[\d.]+, "
        r"val_loss=[\d.]+, val_acc=[\d.]+, test_loss=[\d.]+, test_acc=[\d.]+\)",
        text_of(history),
    )
    assert "Epoch 4/4, Train Loss:" in text_of(history)
    plots = [c for s, c in by_source.items() if ".plot(" in s]
    assert len(plots) == 2 and all(any("image/png" in o.get("data", {}) for o in c.outputs) for c in plots)
    check = text_of(next(c for s, c in by_source.items() if s.startswith("report = bp.gradcheck")))
    assert re.search(
        r"GradcheckReport\(max_error=[\d.e-]+ in '[\w.]+', 5 tensors, 130 entries checked; "
        r"print\(\) it for the table\)",
        check,
    )
    assert len(check) < 2000  # the short repr, not the arrays
    run = text_of(next(c for s, c in by_source.items() if s.startswith("import tempfile")))
    assert "QUICK RUN (--quick): 2 epoch(s)" in run and re.search(r"RunResult\(complete, \S+fashion-sgd; ", run)
    assert list(work.iterdir()) == []  # nothing written where the notebook ran
