"""Time every peer at one batch size: warm-up, then ``repeats`` rounds in which the peers take turns.

In each round every available peer starts from the same initial weights and trains one epoch over the same
rows in file order; the epoch is timed with ``time.perf_counter`` (setup, weight loading and the sanity
evaluation are outside the timed region). Taking turns round by round spreads slow spells of a shared
machine over all peers instead of one. The process's CPU time (``time.process_time``, all threads) is
recorded beside the wall time: it is much less disturbed by other users' load. The warm-up epoch (numba
compilation or cache load, torch's first kernels, sklearn's initialisation) runs on a short slice before the
first round and is not counted.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from .peers import Peer, Unavailable, auto_engine, label, make_peer
from .problem import Problem, glorot_params, loss_and_accuracy, max_abs_diff

SANITY_ROWS = 5000  # the loss before/after is measured on the first rows of the timed slice


def measure_batch(
    data: Problem,
    batch_size: int,
    peer_keys: list[str],
    repeats: int,
    threads: int,
    warmup_samples: int,
    seed: int = 0,
    log: Any = print,
    device: str = "cpu",
) -> dict[str, Any]:
    init = glorot_params(seed)
    sanity = data.head(min(len(data), SANITY_ROWS))
    loss_before, acc_before = loss_and_accuracy(init, sanity.X, sanity.y)
    warm = data.head(min(len(data), max(warmup_samples, 2 * batch_size)))
    rows: dict[str, dict[str, Any]] = {}
    peers: dict[str, Peer] = {}
    for key in peer_keys:
        row: dict[str, Any] = {
            "peer": key,
            "label": label(key, device),
            "status": "ok",
            "reason": None,
            "seconds": [],
            "cpu_seconds": [],
            "loss_after": [],
            "acc_after": [],
            "max_abs_diff_vs_plain": [],
        }
        rows[key] = row
        try:
            peer = make_peer(key, threads, device)
            peer.setup(warm, batch_size)
            peer.load(init)
            t0 = time.perf_counter()
            peer.epoch()
            row["warmup_seconds"] = time.perf_counter() - t0
            row["warmup_samples"] = len(warm)
            peer.setup(data, batch_size)
            peers[key] = peer
        except Unavailable as exc:
            row["status"], row["reason"] = "unavailable", str(exc)
        except Exception as exc:  # a peer that breaks must not take the others down
            row["status"], row["reason"] = "error", f"{type(exc).__name__}: {exc}"
        if row["status"] != "ok":
            log(f"  batch {batch_size}: {row['label']}: {row['status']} ({row['reason']})")
    for r in range(repeats):
        order = list(peers)
        order = order[r % len(order) :] + order[: r % len(order)] if order else order
        finals = {}
        for key in order:
            peer, row = peers[key], rows[key]
            if row["status"] != "ok":
                continue
            try:
                peer.load(init)
                gc.collect()
                t0, c0 = time.perf_counter(), time.process_time()
                peer.epoch()
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            except Unavailable as exc:
                row["status"], row["reason"] = "unavailable", str(exc)
                continue
            except Exception as exc:
                row["status"], row["reason"] = "error", f"{type(exc).__name__}: {exc}"
                continue
            finals[key] = peer.params()
            loss, acc = loss_and_accuracy(finals[key], sanity.X, sanity.y)
            row["seconds"].append(seconds)
            row["cpu_seconds"].append(cpu)
            row["loss_after"].append(loss)
            row["acc_after"].append(acc)
            log(
                f"  batch {batch_size:>3}  round {r + 1}/{repeats}  {row['label']:<28} {seconds:8.3f} s  "
                f"{len(data) / seconds:>10,.0f} samples/s  loss {loss_before:.4f} -> {loss:.4f}"
            )
        for key, params in finals.items():
            rows[key]["max_abs_diff_vs_plain"].append(
                max_abs_diff(params, finals["plain"]) if "plain" in finals else None
            )
    for key, row in rows.items():
        if row["status"] == "ok" and row["seconds"]:
            med = statistics.median(row["seconds"])
            row["median_seconds"] = med
            row["samples_per_second"] = len(data) / med
            # CPU time of this process (all its threads): less sensitive than wall time to other users' load
            row["samples_per_cpu_second"] = len(data) / max(statistics.median(row["cpu_seconds"]), 1e-9)
            row["median_loss_after"] = statistics.median(row["loss_after"])
            row["trains"] = all(loss < loss_before for loss in row["loss_after"])
            if not row["trains"]:
                row["status"] = "broken"
                row["reason"] = f"loss did not decrease ({loss_before:.4f} -> {row['median_loss_after']:.4f})"
            if key in peers:
                row.update(peers[key].describe())
        elif row["status"] == "ok":
            row["status"], row["reason"] = "error", "no repeat finished"
    try:  # (a GPU run times the torch peers only: no NumPy engine to pick)
        auto = auto_engine(data.head(min(len(data), 4 * batch_size)), batch_size) if device == "cpu" else "-"
    except Exception as exc:
        auto = f"error: {type(exc).__name__}: {exc}"
    return {
        "batch_size": batch_size,
        "samples": len(data),
        "repeats": repeats,
        "auto_engine": auto,
        "sanity_rows": len(sanity),
        "loss_before": loss_before,
        "acc_before": acc_before,
        "rows": [rows[k] for k in peer_keys],
    }
