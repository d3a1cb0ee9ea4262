"""`FastTrainer`: runs epochs of SGD through the compiled kernels (batch size 1, or mini-batches), in the NumPy
engine's order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..nn.losses import Loss, one_hot
from ..nn.module import Module
from ..nn.regularization import Regularizer
from ..optim.sgd import SGD
from .aligned import aligned_zeros
from .codes import LOSS_SOFTMAX_CE
from .kernel_args import BatchWork, ExampleWork, TrainData, sgd_hyper
from .plan import LOSS_CODES, Plan, penalty_codes


class FastTrainer:
    """Holds the packed layout, the training data in the kernel's form and the work buffers of one `fit`.

    ``X`` ``(N, D)`` is converted (once) to the parameters' dtype; integer labels ``(N,)`` stay labels for
    softmax cross-entropy and become one-hot rows for MSE; ``(N, K)`` target rows are used as they are.
    ``batch_size`` 1 trains with `example_kernel.sgd_epoch`, larger sizes with
    `minibatch_kernel.sgd_epoch_batches`.
    """

    def __init__(
        self,
        model: Module,
        loss: Loss,
        optimizer: SGD,
        regularizers: Sequence[Regularizer],
        X: Any,
        y: Any,
        batch_size: int = 1,
    ) -> None:
        from .example_kernel import sgd_epoch  # numba is imported only when the fast engine actually runs

        self._kernel = sgd_epoch
        self.batch_size = batch_size = int(batch_size)
        self.plan = plan = Plan.build(model, loss, transpose_later=batch_size == 1)
        self.optimizer = optimizer
        dtype = plan.dtype
        X = np.ascontiguousarray(X, dtype=dtype)
        y = np.asarray(y)
        k = int(plan.n_out[-1])
        if y.ndim == 1 and LOSS_CODES[type(loss)] == LOSS_SOFTMAX_CE:
            self.data = TrainData(
                X=X, labels=np.ascontiguousarray(y, dtype=np.int64), rows=np.zeros((1, k), dtype=dtype), use_rows=False
            )
        else:
            rows = one_hot(y, k, dtype) if y.ndim == 1 else np.ascontiguousarray(y, dtype=dtype)
            self.data = TrainData(X=X, labels=np.zeros(1, dtype=np.int64), rows=rows, use_rows=True)
        self.X = X
        self.reg_code, self.reg_c = penalty_codes(regularizers, dtype)
        self.net, self.loss_spec = plan.network(), plan.loss_spec()
        size, d = int(plan.a_off[-1]), X.shape[1]
        self._file_order = np.arange(len(X), dtype=np.int64)
        # the batch loss of each step of the current pass (written by the kernels)
        self.losses = np.zeros(-(-len(X) // batch_size), dtype=np.float64)
        grow = aligned_zeros(int(max(plan.n_out.max(), plan.n_in.max())), dtype)  # a weight row, either layout
        if batch_size == 1:
            self.work: ExampleWork | BatchWork = ExampleWork(
                z=aligned_zeros(size, dtype),
                a=aligned_zeros(size, dtype),
                g=aligned_zeros(size, dtype),
                grow=grow,
                nz=aligned_zeros(d, np.int64),
                nzval=aligned_zeros(d, dtype),
                prod=aligned_zeros(int(plan.n_in.max()), dtype),
            )
        else:
            from .minibatch_kernel import sgd_epoch_batches

            self._batch_kernel = sgd_epoch_batches
            self._block = b = min(batch_size, len(X))  # rows per layer block of Z, A, G (the batch size, or N)
            self.work = BatchWork(
                Z=aligned_zeros(b * size, dtype),
                A=aligned_zeros(b * size, dtype),
                G=aligned_zeros(b * size, dtype),
                gw=aligned_zeros(int((plan.n_in * plan.n_out).max()), dtype),
                grow=grow,
                nzidx=np.zeros((b, d), dtype=np.int64),
                nzval=aligned_zeros((b, d), dtype),
                nzcnt=np.zeros(b, dtype=np.int64),
                colptr=np.zeros(d + 1, dtype=np.int64),
                colrow=np.zeros(b * d, dtype=np.int64),
                colval=aligned_zeros(b * d, dtype),
                batch_rows=np.zeros(b, dtype=np.int64),
            )

    def run_epoch(
        self,
        order: np.ndarray | None,
        chunk: int | None = None,
        on_chunk: Callable[[int, float], None] | None = None,
        *,
        start: int = 0,
        total: float = 0.0,
        should_stop: Callable[[], Any] | None = None,
        stop: int | None = None,
    ) -> tuple[float, int, int | None, int | None]:
        """Steps ``start, start + 1, ...`` (up to ``stop``, default the whole pass) of one pass over the data in
        ``order`` (None: file order) at the optimizer's current ``lr``, in chunks of ``chunk`` steps (default:
        the whole pass). Step t's batch loss is written to ``self.losses[t]``.

        Returns ``(loss_sum, steps, bad, stopped)``: ``total`` plus the per-step (per-batch) losses, added chunk
        by chunk; the number of steps taken; if a loss was NaN or infinite, the 1-based step at which training
        stopped (before that step's update), else None; and if ``should_stop()`` was true before a chunk, the
        step (0-based, a multiple of ``chunk``) at which the pass stopped, else None. Continuing that pass
        later with ``start=stopped`` and ``total=loss_sum`` adds the same numbers in the same order as one
        uninterrupted pass. ``on_chunk(steps, mean_loss)`` is called after every chunk (for a progress bar).
        A step is one example at batch size 1, one batch of ``batch_size`` rows otherwise.
        """
        p = self.plan
        opt = self.optimizer
        order = self._file_order if order is None else np.ascontiguousarray(order, dtype=np.int64)
        rows_total = len(order)
        n = -(-rows_total // self.batch_size)  # steps
        if stop is not None:
            n = min(n, int(stop))
        if n > len(self.losses):
            self.losses = np.zeros(n, dtype=np.float64)
        if rows_total and (order.min() < 0 or order.max() >= len(self.X)):  # the kernel does not bounds-check
            raise IndexError(f"order holds indices outside [0, {len(self.X) - 1}]")
        chunk = n if not chunk or chunk < 1 else int(chunk)
        p.pack(opt)
        hyper = sgd_hyper(opt, self.reg_code, self.reg_c, p.dtype)
        steps, bad, stopped = 0, None, None
        try:
            for first in range(int(start), n, chunk):
                if should_stop is not None and should_stop():
                    stopped = first
                    break
                end = min(n, first + chunk)
                if self.batch_size > 1:
                    s, k, b = self._batch_kernel(
                        self.data,
                        order,
                        self._block,
                        first,
                        end,
                        self.net,
                        self.loss_spec,
                        hyper,
                        self.work,
                        self.losses,
                    )
                else:
                    s, k, b = self._kernel(
                        self.data, order, first, end, self.net, self.loss_spec, hyper, self.work, self.losses
                    )
                total += s
                steps += k
                if b >= 0:
                    bad = first + b + 1
                    break
                if on_chunk is not None:
                    on_chunk(end - first, s / max(k, 1))
        finally:
            opt.steps += steps
            p.unpack(opt)
        return total, steps, bad, stopped
