"""BLAS threads on a shared machine: training speed with 1 and 2 OpenBLAS threads, with OpenBLAS's default
spin-waiting and with ``OPENBLAS_THREAD_TIMEOUT`` cutting it short, and what ``threads="auto"`` picks.

    python -m benchmarks.threads [--repeats 5] [--out PATH]

Each setting runs in its own subprocess (OpenBLAS reads its variables when it is loaded) and times, in turns
with the other thread count, two training loops of `backproplab.fit` on Fashion-MNIST: the course network
(784-256-10 sigmoid, plain SGD, batch 32, NumPy engine) and fashion-best's (784-1024-1024-10 with BatchNorm and
dropout, batch 128, the compiled LayerTrainer). The load average of the machine is recorded with every figure:
what the thread count buys depends on how many other processes want the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "threads.json"
# OPENBLAS_THREAD_TIMEOUT=n: an idle OpenBLAS thread spins for about 2^n cycles before it sleeps (OpenBLAS
# clamps n to [4, 30]; unset, the library default applies)
SETTINGS = {"default": {}, "timeout-4": {"OPENBLAS_THREAD_TIMEOUT": "4"}}
LOOPS = {
    "course-b32": ([784, 256, 10], "sigmoid", False, 0.0, 32, 6400),
    "best-b128": ([784, 1024, 1024, 10], "relu", True, 0.2, 128, 3840),
}


def _child(repeats: int) -> dict[str, Any]:
    """Runs inside the subprocess: samples/s of each loop at 1 and 2 threads, and the auto choice."""
    import numpy as np

    from backproplab import nn
    from backproplab.data import load_dataset
    from backproplab.optim import SGD
    from backproplab.train import TerminateOnDivergence, fit
    from backproplab.train.threads import blas_threads, largest_product, measure_fastest

    data = load_dataset("fashion-mnist", split="train", limit=max(v[5] for v in LOOPS.values()))
    out: dict[str, Any] = {}
    for name, (sizes, act, bn, dropout, batch, rows) in LOOPS.items():
        base = nn.mlp(sizes, act, batch_norm=bn, dropout=dropout, seed=0)
        X, y = data.X[:rows], data.y[:rows]
        times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        for r in range(repeats + 1):
            for threads in (1, 2) if r % 2 == 0 else (2, 1):
                model = nn.mlp(sizes, act, batch_norm=bn, dropout=dropout, seed=0)
                model.load_state_dict(base.state_dict())
                opt = SGD(model.parameters(), lr=0.01, momentum=0.9 if bn else 0.0)
                with blas_threads(threads):
                    started, cpu = time.perf_counter(), time.process_time()
                    fit(
                        model,
                        nn.SoftmaxCrossEntropy(),
                        opt,
                        (X, y),
                        epochs=1,
                        batch_size=batch,
                        eval_train=False,
                        verbose=0,
                        callbacks=[TerminateOnDivergence(None)],
                    )
                    if r:  # the first round warms up (numba cache, BLAS threads)
                        times[threads].append((time.perf_counter() - started, time.process_time() - cpu))
        params = base.parameters()
        out[name] = {
            "rows": rows,
            "batch_size": batch,
            **{f"samples_per_s_{t}": rows / statistics.median(w for w, _ in v) for t, v in times.items()},
            **{f"samples_per_cpu_s_{t}": rows / statistics.median(c for _, c in v) for t, v in times.items()},
            "auto_picks": measure_fastest(*largest_product(params, batch), np.float32),
            "load_average": os.getloadavg()[0],
        }
        out[name]["two_over_one"] = out[name]["samples_per_s_2"] / out[name]["samples_per_s_1"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.repeats)))
        return 0
    from backproplab._io import atomic_write_text

    results: dict[str, Any] = {"load_average_start": os.getloadavg(), "settings": {}}
    print(
        f"load average {os.getloadavg()[0]:.1f}; environment OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}",
        flush=True,
    )
    for name, env in SETTINGS.items():
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.threads", "--child", "--repeats", str(args.repeats)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=3600,
            cwd=Path(__file__).resolve().parents[1],
            check=False,
        )
        if proc.returncode != 0:
            results["settings"][name] = {"error": proc.stderr[-2000:]}
            print(f"{name}: failed\n{proc.stderr[-2000:]}")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results["settings"][name] = {"env": env, **res}
        for loop, r in res.items():
            print(
                f"{name:<10} {loop:<11} 1 thread {r['samples_per_s_1']:>9,.0f}/s  2 threads "
                f"{r['samples_per_s_2']:>9,.0f}/s  ({r['two_over_one']:.2f}x; CPU-time "
                f"{r['samples_per_cpu_s_1']:,.0f} / {r['samples_per_cpu_s_2']:,.0f})  auto picks {r['auto_picks']}  "
                f"load {r['load_average']:.1f}",
                flush=True,
            )
    results["load_average_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
