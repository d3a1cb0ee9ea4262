"""Time to accuracy: how fast backproplab, PyTorch and scikit-learn reach each best preset's target test accuracy.

    python -m benchmarks.time_to_accuracy [--presets fashion-best,mnist-best] [--threads 1,2] [--seeds 0,1,2]
        [--peers backproplab,torch,sklearn] [--runs-seeds 0,1,2] [--quick] [--out PATH]

Two parts, each measured in this one process run (docs/performance.md explains the method):

1. ``backproplab run PRESET`` end to end, once per seed of ``--runs-seeds`` (model.seed = training.seed = s),
   in a subprocess with the default ``--threads auto``: wall time, the thread count chosen, the final test
   accuracy (the preset's 3-seed accuracy and spread), and the time to the target from the run's own metrics.
2. For every thread count of ``--threads`` and every seed of ``--seeds``, the peers take turns (see
   `benchmarks.tta_peers`) training the preset's recipe in this process until the test accuracy first reaches
   the target; the wall time from the start of training to the end of that epoch's evaluation is the time to
   accuracy. The ratios peer / backproplab of the median times are the speed-ups (> 1: backproplab faster); a
   peer that never gets there reports the best accuracy it reached and when.
3. For every thread count of ``--speed-threads`` (measured before part 2), one epoch of each peer (training and
   the test evaluation), in turns, ``--speed-repeats`` times: seconds per epoch side by side, a cheap stand-in
   for part 2 where a full time-to-accuracy run at that thread count would take too long (e.g. two threads on a
   loaded machine).

The JSON is rewritten after every part (``"complete": false`` until the end), so a run stopped early keeps what
it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from .cli_run import time_run
from .machine import limit_blas_threads, machine_info
from .tta_peers import Recipe, train_backproplab, train_sklearn, train_torch

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "time_to_accuracy.json"
PEERS = ("backproplab", "torch", "sklearn")
LABELS = {"backproplab": "backproplab", "torch": "PyTorch CPU", "sklearn": "scikit-learn MLPClassifier"}
TARGET_SPEEDUP = {"torch": 1.2, "sklearn": 1.0}  # backproplab's time to accuracy must beat these ratios
RUN_SECONDS = 180.0


def _ints(text: str, what: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"--{what}: expected comma-separated integers; got {text!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.time_to_accuracy", description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="fashion-best,mnist-best")
    p.add_argument("--threads", default="1,2", help="BLAS/torch thread counts, each measured in turn")
    p.add_argument("--seeds", default="0,1,2", help="seeds of the time-to-accuracy runs (each peer, each seed)")
    p.add_argument("--runs-seeds", default="0,1,2", help="seeds of the end-to-end `backproplab run` (empty: skip)")
    p.add_argument("--peers", default=",".join(PEERS), help=f"subset of {','.join(PEERS)}")
    p.add_argument("--speed-threads", default="1,2", help="thread counts of the seconds-per-epoch part (empty: skip)")
    p.add_argument("--speed-repeats", type=int, default=3)
    p.add_argument("--full", action="store_true", help="train every epoch instead of stopping at the target")
    p.add_argument(
        "--quick",
        action="store_true",
        help="harness smoke test: 2 epochs on 2,000 rows, one seed, one thread, target 0, no end-to-end runs",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    args.presets = [s.strip() for s in args.presets.split(",") if s.strip()]
    args.threads = _ints(args.threads, "threads")
    args.seeds = _ints(args.seeds, "seeds")
    args.runs_seeds = _ints(args.runs_seeds, "runs-seeds")
    args.speed_threads = _ints(args.speed_threads, "speed-threads")
    args.peers = [s.strip() for s in args.peers.split(",") if s.strip()]
    unknown = [k for k in args.peers if k not in PEERS]
    if unknown:
        p.error(f"--peers: unknown {unknown}; expected a subset of {list(PEERS)}")
    if any(t < 1 for t in args.threads) or not args.seeds:
        p.error("--threads must be positive and --seeds not empty")
    if args.quick:
        args.threads, args.seeds, args.runs_seeds, args.speed_threads, args.speed_repeats = [1], [0], [], [1], 1
    return args


def load_recipe(name: str, quick: bool) -> tuple[Any, Recipe, Any, Any]:
    from backproplab.experiments import apply_quick, load_preset
    from backproplab.experiments.run.build import build_datasets

    config = load_preset(name)
    target = next(p.value for p in config.published if p.metric == "test_acc" and p.at_least)
    if quick:
        config, target = apply_quick(config), 0.0
    data = build_datasets(config)
    return config, Recipe.from_config(config, target), data["train"], data["test"]


def run_peer(
    key: str, config: Any, recipe: Recipe, train: Any, test: Any, seed: int, threads: int, stop: bool
) -> dict[str, Any]:
    with limit_blas_threads(threads):
        if key == "backproplab":
            return train_backproplab(config, recipe, train, test, seed, threads, stop)
        if key == "torch":
            return train_torch(recipe, train, test, seed, threads, stop)
        return train_sklearn(recipe, train, test, seed, threads, stop)


def warm_up(keys: list[str], config: Any, recipe: Recipe, train: Any, test: Any, threads: int) -> None:
    """One untimed epoch of every peer on 1,024 rows: numba compiles (or loads its cache), torch and scikit-learn
    initialise, so that none of it is counted in the first timed run."""
    from dataclasses import replace

    from backproplab.experiments.config import with_overrides

    short = with_overrides(config, {"training": {"epochs": 1}, "optimizer": {"warmup_epochs": 0}})
    for key in keys:
        with contextlib.suppress(ImportError):
            run_peer(
                key, short, replace(recipe, epochs=1, warmup=0), train.take(1024), test.take(256), 0, threads, False
            )


def epoch_speed(args: argparse.Namespace, config: Any, recipe: Recipe, train: Any, test: Any) -> dict[str, Any]:
    """Median seconds of one epoch (training + test evaluation) per thread count and peer, peers in turns."""
    from dataclasses import replace

    from backproplab.experiments.config import with_overrides

    one = with_overrides(config, {"training": {"epochs": 1}, "optimizer": {"warmup_epochs": 0}})
    short = replace(recipe, epochs=1, warmup=0)
    out: dict[str, Any] = {}
    for threads in args.speed_threads:
        warm_up(args.peers, config, recipe, train, test, threads)
        times: dict[str, list[float]] = {k: [] for k in args.peers}
        for r in range(args.speed_repeats):
            for key in args.peers[r % len(args.peers) :] + args.peers[: r % len(args.peers)]:
                with contextlib.suppress(ImportError):
                    times[key].append(run_peer(key, one, short, train, test, r, threads, False)["seconds"])
        med = {k: statistics.median(v) for k, v in times.items() if v}
        out[str(threads)] = {
            "seconds": times,
            "median": med,
            "speedup": {
                k: v / med["backproplab"] for k, v in med.items() if k != "backproplab" and "backproplab" in med
            },
        }
        print(
            f"  one epoch at {threads} thread(s): " + ", ".join(f"{LABELS[k]} {v:.1f} s" for k, v in med.items()),
            flush=True,
        )
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median time to target over the seeds that reached it, and how many did."""
    times = [r["time_to_target"] for r in rows if r.get("time_to_target") is not None]
    per_epoch = [r["seconds_per_epoch"] for r in rows if r.get("seconds_per_epoch")]
    best = max(rows, key=lambda r: r.get("best_acc", -1.0)) if rows else {}
    return {
        "reached": f"{len(times)}/{len(rows)}",
        "median_time_to_target": statistics.median(times) if times else None,
        "median_epoch_seconds": statistics.median(per_epoch) if per_epoch else None,
        "best_acc": best.get("best_acc"),
        "best_seconds": best.get("best_seconds"),
        "epochs_at_target": [r.get("epoch_at_target") for r in rows],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    machine = machine_info(max(args.threads))
    print(
        f"time to accuracy  {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  {machine['cpu_count']} CPUs "
        f"({machine['processor']}), load average {machine['load_average']}; versions {machine['versions']}",
        flush=True,
    )
    results: dict[str, Any] = {}
    command = ["python", "-m", "benchmarks.time_to_accuracy", *(argv if argv is not None else sys.argv[1:])]

    def save(done: bool) -> None:  # after every part, so that a benchmark stopped early keeps what it measured
        from backproplab._io import atomic_write_text

        machine["load_average_end"] = list(os.getloadavg())
        out = {
            "schema": 1,
            "date": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
            "command": command,
            "complete": done,
            "machine": machine,
            "presets": results,
            "targets": check_targets(results),
            "total_seconds": time.time() - started,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps(out, indent=2) + "\n")

    for name in args.presets:
        config, recipe, train, test = load_recipe(name, args.quick)
        print(
            f"\n== {name}: {recipe.dataset}, hidden {list(recipe.hidden)}, batch {recipe.batch_size}, "
            f"{recipe.epochs} epochs, target test accuracy {recipe.target:.4f}",
            flush=True,
        )
        entry: dict[str, Any] = {"recipe": recipe.__dict__, "runs": [], "tta": {}}
        results[name] = entry
        for seed in args.runs_seeds:
            run = time_run(
                name,
                ["--set", f"model.seed={seed}", "--set", f"training.seed={seed}", "--tracker", "none", "--no-report"],
                timeout=3600.0,
            )
            run["seed"] = seed
            entry["runs"].append(run)
            print(
                f"  backproplab run {name} (seed {seed}): {run.get('wall_seconds') or float('nan'):.1f} s end to "
                f"end ({run.get('cpu_seconds') or float('nan'):.1f} s CPU), threads {run.get('threads')}, final "
                f"test accuracy {run.get('final', {}).get('test_acc')}, load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            save(False)
        entry["epoch_seconds"] = epoch_speed(args, config, recipe, train, test)
        save(False)
        for threads in args.threads:
            warm_up(args.peers, config, recipe, train, test, threads)
            per_peer: dict[str, list[dict[str, Any]]] = {k: [] for k in args.peers}
            for i, seed in enumerate(args.seeds):
                order = args.peers[i % len(args.peers) :] + args.peers[: i % len(args.peers)]  # take turns
                for key in order:
                    try:
                        row = run_peer(key, config, recipe, train, test, seed, threads, not args.full)
                    except ImportError as exc:
                        row = {"error": f"unavailable: {exc}"}
                    row["seed"] = seed
                    per_peer[key].append(row)
                    reached = (
                        f"{row['time_to_target']:.1f} s (epoch {row['epoch_at_target']})"
                        if row.get("time_to_target") is not None
                        else "not reached"
                    )
                    print(
                        f"  {threads} thread(s), seed {seed}, {LABELS[key]:<26} time to {recipe.target:.4f}: "
                        f"{reached}; best {row.get('best_acc')}, {row.get('seconds_per_epoch', float('nan')):.2f} "
                        f"s per epoch, load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            summary = {k: summarize([r for r in rows if "error" not in r]) for k, rows in per_peer.items()}
            base = summary.get("backproplab", {}).get("median_time_to_target")
            speedups = {
                k: (s["median_time_to_target"] / base if base and s["median_time_to_target"] else None)
                for k, s in summary.items()
                if k != "backproplab"
            }
            entry["tta"][str(threads)] = {"rows": per_peer, "summary": summary, "speedup": speedups}
            save(False)
    save(True)
    print("\n" + report(results, check_targets(results)))
    print(f"\nwrote {args.out}  (load average at the end {list(os.getloadavg())})")
    return 0


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, entry in results.items():
        runs = [r for r in entry["runs"] if r.get("returncode") == 0]
        accs = [r["final"]["test_acc"] for r in runs if "test_acc" in r.get("final", {})]
        if accs:
            target = entry["recipe"]["target"]
            mean = statistics.mean(accs)
            out.append(
                {
                    "target": f"{name}: mean test accuracy of {len(accs)} seeds >= {target:.3f}",
                    "value": mean,
                    "status": "PASS" if mean >= target else "FAIL",
                    "note": f"seeds {[round(a, 4) for a in accs]}, spread {max(accs) - min(accs):.4f}",
                }
            )
            slowest = max(r["wall_seconds"] for r in runs)
            out.append(
                {
                    "target": f"{name}: `backproplab run` end to end <= {RUN_SECONDS:g} s",
                    "value": slowest,
                    "status": "PASS" if slowest <= RUN_SECONDS else "FAIL",
                    "note": "slowest seed, on this machine's load (the target is for a quiet machine); CPU "
                    f"seconds {[round(r.get('cpu_seconds') or 0.0, 1) for r in runs]}",
                }
            )
        for threads, tta in entry["tta"].items():
            for peer, minimum in TARGET_SPEEDUP.items():
                if peer not in tta["speedup"]:
                    continue
                value = tta["speedup"][peer]
                label = f"{name}, {threads} thread(s): backproplab >= {minimum:g}x {LABELS[peer]}'s speed to accuracy"
                if value is None:
                    reached = tta["summary"].get(peer, {}).get("reached")
                    mine = tta["summary"].get("backproplab", {}).get("reached")
                    ok = mine not in (None, "") and not mine.startswith("0/") and reached and reached.startswith("0/")
                    out.append(
                        {
                            "target": label,
                            "value": None,
                            "status": "PASS" if ok else "n/a",
                            "note": f"backproplab reached the target in {mine} seeds, {LABELS[peer]} in {reached}",
                        }
                    )
                else:
                    out.append(
                        {
                            "target": label,
                            "value": value,
                            "status": "PASS" if value >= minimum else "FAIL",
                            "note": None,
                        }
                    )
    return out


def report(results: dict[str, Any], targets: list[dict[str, Any]]) -> str:
    lines = []
    for name, entry in results.items():
        for threads, tta in entry["tta"].items():
            lines.append(f"{name}, {threads} thread(s): median time to {entry['recipe']['target']:.4f} test accuracy")
            for peer, s in tta["summary"].items():
                t = s["median_time_to_target"]
                speed = tta["speedup"].get(peer)
                faster = "" if speed is None else f"  backproplab {speed:.2f}x faster"
                lines.append(
                    f"  {LABELS[peer]:<28} {'-' if t is None else f'{t:8.1f} s'}  reached {s['reached']:<5} "
                    f"epochs {s['epochs_at_target']}  {s['median_epoch_seconds'] or float('nan'):.2f} s/epoch"
                    f"  best {s['best_acc']}{faster}"
                )
        for threads, sp in entry.get("epoch_seconds", {}).items():
            parts = [f"{LABELS[k]} {v:.2f} s" for k, v in sp["median"].items()]
            ratio = [f"{LABELS[k]} / backproplab {v:.2f}x" for k, v in sp["speedup"].items()]
            lines.append(f"{name}: one epoch at {threads} thread(s): " + ", ".join(parts) + "; " + ", ".join(ratio))
    lines.append("targets:")
    for t in targets:
        value = "-" if t["value"] is None else (f"{t['value']:.4f}" if t["value"] < 1.0 else f"{t['value']:.2f}")
        lines.append(f"  {t['status']:<5} {t['target']}: {value}" + (f"  ({t['note']})" if t.get("note") else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
