"""Benchmark: samples/s of one training epoch for backproplab and its peers, plus `backproplab run fashion-sgd`.

    python -m benchmarks.run [--repeats 3] [--batch-sizes 1,32,128] [--skip-run] [--quick] [--out PATH]
    python -m benchmarks.run --device cuda   # the torch backend against PyTorch autograd on a GPU, batch 128-4096

Prints a table and writes JSON (machine, every repeat's time, medians, ratios, targets). See
docs/performance.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from .cli_run import time_run
from .floor import fast_engine_epoch, measure_floor
from .machine import limit_blas_threads, machine_info, numpy_threads
from .measure import SANITY_ROWS, measure_batch
from .peers import GPU_PEERS, PEER_KEYS
from .problem import LR, glorot_params, load_fashion
from .report import ratio_table, speed_table, target_table
from .targets import check_targets, ratios

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"
GPU_BATCH_SIZES = "128,256,512,1024,2048,4096"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per peer and batch size (median reported)")
    p.add_argument(
        "--batch-sizes",
        default=None,
        help="comma-separated batch sizes (default 1,32,128; with --device cuda 128,256,...,4096)",
    )
    p.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda"],
        help="cuda: time the torch peers (backproplab's torch backend, PyTorch autograd) on a GPU "
        "(default peers torch,torch-backend, no `backproplab run`)",
    )
    p.add_argument("--samples-batch1", type=int, default=10_000, help="rows of the training set used at batch 1")
    p.add_argument("--samples", type=int, default=60_000, help="rows used at the larger batch sizes")
    p.add_argument("--warmup-samples", type=int, default=1_000, help="rows of the untimed warm-up epoch")
    p.add_argument(
        "--peers",
        default=None,
        help=f"comma-separated subset of {','.join(PEER_KEYS)} (default: all; with --device cuda: "
        f"{','.join(GPU_PEERS)})",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for NumPy's BLAS (through threadpoolctl), torch and the `backproplab run` "
        "subprocess (OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS); 0 leaves NumPy's BLAS as it is and "
        "gives torch as many (default 1: on a busy shared machine multi-threaded BLAS stalls)",
    )
    p.add_argument("--skip-run", action="store_true", help="do not time `backproplab run fashion-sgd`")
    p.add_argument("--skip-floor", action="store_true", help="do not measure the batch-1 floor")
    p.add_argument(
        "--run-timeout",
        type=float,
        default=600.0,
        help="seconds before the timed `backproplab run` is abandoned (and FAILs)",
    )
    p.add_argument(
        "--quick", action="store_true", help="a smoke test of the harness: 500 rows, 1 repeat, 100 warm-up rows, no run"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    p.add_argument("--strict", action="store_true", help="exit with status 1 if a target FAILs")
    args = p.parse_args(argv)
    gpu = args.device == "cuda"
    if args.batch_sizes is None:
        args.batch_sizes = GPU_BATCH_SIZES if gpu else "1,32,128"
    if args.peers is None:
        args.peers = ",".join(GPU_PEERS if gpu else PEER_KEYS)
    if args.quick:
        args.samples_batch1 = args.samples = 500
        args.repeats, args.warmup_samples, args.skip_run = 1, 100, True
    if gpu:
        args.skip_run = True
        _require_cuda(p)
    try:
        args.batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    except ValueError:
        p.error(f"--batch-sizes: expected comma-separated integers such as 1,32,128; got {args.batch_sizes!r}")
    args.peers = [k.strip() for k in str(args.peers).split(",") if k.strip()]
    unknown = [k for k in args.peers if k not in PEER_KEYS]
    if unknown:
        p.error(f"--peers: unknown {unknown}; expected a subset of {list(PEER_KEYS)}")
    if gpu and set(args.peers) - set(GPU_PEERS):
        p.error(f"--device cuda times the torch peers only ({', '.join(GPU_PEERS)}); got --peers {args.peers}")
    if args.threads < 0:
        p.error(f"--threads must be >= 0; got {args.threads}")
    if args.repeats < 1 or any(b < 1 for b in args.batch_sizes) or min(args.samples, args.samples_batch1) < 1:
        p.error("--repeats, --batch-sizes, --samples and --samples-batch1 must be positive")
    if args.samples > 60_000 or args.samples_batch1 > 60_000:
        p.error("Fashion-MNIST has 60,000 training rows: --samples and --samples-batch1 must be <= 60000")
    return args


def _require_cuda(p: argparse.ArgumentParser) -> None:
    try:
        import torch
    except ImportError:
        p.error("--device cuda needs torch with CUDA (pip install torch==2.13.0 built for your CUDA)")
    if not torch.cuda.is_available():
        p.error(f"--device cuda: torch {torch.__version__} sees no CUDA GPU here (torch.cuda.is_available() is False)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.threads:
            stack.enter_context(limit_blas_threads(args.threads))
        return _main(args, argv)


def _main(args: argparse.Namespace, argv: list[str] | None) -> int:
    from backproplab._io import atomic_write_text

    threads = args.threads or numpy_threads()
    started = time.time()
    machine = machine_info(threads)
    print(
        f"backproplab benchmark  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {machine['cpu_count']} CPUs "
        f"({machine['processor']}), load average {machine['load_average']}"
    )
    print(
        f"versions: {machine['versions']}; NumPy BLAS threads {machine['numpy_blas_threads']}, torch threads "
        f"{threads}, numba threads {machine['numba_threads']}"
    )
    print(
        f"Fashion-MNIST train [0, 1] float32, 784-256-10 sigmoid, softmax-CE, SGD lr 0.01, one epoch in file "
        f"order; median of {args.repeats} repeat(s) after an untimed warm-up epoch on {args.warmup_samples} rows "
        f"(numba compilation, torch start-up excluded); batch 1 on the first {args.samples_batch1:,} rows, "
        f"larger batches on the first {args.samples:,}."
    )
    full = load_fashion(max(args.samples, args.samples_batch1 if 1 in args.batch_sizes else 1))
    batches: list[dict[str, Any]] = []
    for b in args.batch_sizes:
        data = full.head(args.samples_batch1 if b == 1 else args.samples)
        print(f"batch size {b}: {len(data):,} samples")
        batches.append(
            measure_batch(
                data,
                b,
                args.peers,
                args.repeats,
                threads,
                args.warmup_samples,
                log=lambda msg: print(msg, flush=True),
                device=args.device,
            )
        )
    floor: dict[str, Any] = {"skipped": True}
    if 1 in args.batch_sizes and not args.skip_floor and "fast" in args.peers:
        print("measuring the batch-1 floor (benchmarks/floor.py) beside the fast engine's kernel ...", flush=True)
        floor = _floor(full.head(args.samples_batch1), args.repeats)
    run: dict[str, Any] = {"skipped": True}
    if not args.skip_run:
        print("timing `backproplab run fashion-sgd` (15 epochs, per-epoch evaluation, report) ...", flush=True)
        run = time_run("fashion-sgd", timeout=args.run_timeout, threads=args.threads or None)
    r = ratios(batches)
    r_cpu = ratios(batches, "samples_per_cpu_second")
    targets = check_targets(batches, run, floor, args.device)

    print()
    print(
        f"samples/s: wall time, median of {args.repeats}; samples/CPU-s: this process's CPU time (less disturbed "
        f"by other users' load); loss on the first {SANITY_ROWS:,} rows of the slice before -> after the timed "
        "epoch; max|dW|: largest parameter difference from the plain loop's"
    )
    print(speed_table(batches))
    print()
    print("ratios of samples/s (\"backproplab\" = the engine fit(engine='auto') picks at that batch size)")
    print(ratio_table(r, batches))
    print()
    print("the same ratios on CPU time (samples per CPU-second of this process)")
    print(ratio_table(r_cpu, batches))
    if floor.get("floor_us_per_step"):
        f = floor
        print()
        print(
            f"batch-1 floor: {f['floor_us_per_step']:.2f} us per step ({f['floor_cpu_us_per_step']:.2f} CPU-us; "
            f"{f['mean_nonzero_pixels']:.0f} nonzero pixels x {f['hidden']} weights read and rewritten); fast "
            f"engine kernel {f['engine_us_per_step']:.2f} us ({f['engine_cpu_us_per_step']:.2f} CPU-us): "
            f"{f['engine_over_floor']:.3f}x the floor ({f['engine_over_floor_cpu']:.3f}x on CPU time, "
            f"{f['engine_over_floor_best']:.3f}x fastest repeat over fastest repeat)"
        )
    if not run.get("skipped"):
        print()
        final = run.get("final", {})
        print(
            f"backproplab run fashion-sgd: {run.get('wall_seconds') or float('nan'):.1f} s wall, "
            f"{run.get('cpu_seconds') or float('nan'):.1f} s CPU "
            f"(exit {run.get('returncode')}, engine {run.get('engine')}, {run.get('epochs')} epochs, "
            f"training {run.get('train_seconds') or float('nan'):.1f} s, training + evaluation "
            f"{run.get('epoch_seconds') or float('nan'):.1f} s; final {final})"
        )
    print()
    print("targets: PASS/FAIL judged on wall time; the same ratio on CPU time shown for comparison")
    print(target_table(targets))

    machine["load_average_end"] = _loadavg()
    print(f"load average at the end: {machine['load_average_end']}")
    result = {
        "schema": 1,
        "date": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "command": ["python", "-m", "benchmarks.run", *(argv if argv is not None else sys.argv[1:])],
        "settings": {
            "repeats": args.repeats,
            "batch_sizes": args.batch_sizes,
            "device": args.device,
            "samples": args.samples,
            "samples_batch1": args.samples_batch1,
            "warmup_samples": args.warmup_samples,
            "peers": args.peers,
            "quick": args.quick,
            "sanity_rows": SANITY_ROWS,
            "network": "784-256-10 sigmoid, softmax-CE, Glorot-uniform, SGD lr 0.01, float32",
        },
        "machine": machine,
        "batches": batches,
        "ratios": r,
        "ratios_cpu": r_cpu,
        "floor": floor,
        "run_fashion_sgd": run,
        "targets": targets,
        "total_seconds": time.time() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 1 if args.strict and any(t["status"] == "FAIL" for t in targets) else 0


def _floor(data: Any, repeats: int) -> dict[str, Any]:
    try:
        init = glorot_params(0)
        return measure_floor(
            data.X, init[0], lr=LR, repeats=max(repeats, 5), engine_epoch=fast_engine_epoch(data.X, data.y, init, LR)
        )
    except ImportError as exc:  # numba missing: no fast engine, no floor
        return {"error": f"{type(exc).__name__}: {exc}"}


def _loadavg() -> list[float] | None:
    import os

    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


if __name__ == "__main__":
    sys.exit(main())
