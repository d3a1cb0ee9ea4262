"""The floor: a minimal NumPy training loop, no framework, every buffer preallocated, updates in place.

Per batch of m rows x (m, 784), labels t:
    h = sigmoid(x W1 + b1)                      (m, 256)
    G = (softmax(h W2 + b2) - onehot(t)) / m    (m, 10)   = dL/dlogits of the mean cross-entropy
    dW2 = h^T G, db2 = sum G;  D = (G W2^T) * h * (1 - h);  dW1 = x^T D, db1 = sum D
    W -= lr dW for every parameter.
"""

from __future__ import annotations

import numpy as np

from ..problem import LR, SIZES, Params, Problem, copy_params
from .base import Peer


class PlainNumpyLoop(Peer):
    key = "plain"
    label = "plain NumPy loop"

    def setup(self, data: Problem, batch_size: int) -> None:
        self.X, self.y, self.b = data.X, data.y, batch_size
        d, h, k = SIZES
        b = batch_size
        f = np.float32
        self.h, self.t = np.empty((b, h), f), np.empty((b, h), f)
        self.z, self.zmax, self.zsum = np.empty((b, k), f), np.empty(b, f), np.empty(b, f)
        self.gh = np.empty((b, h), f)
        self.gW1, self.gb1 = np.empty((d, h), f), np.empty(h, f)
        self.gW2, self.gb2 = np.empty((h, k), f), np.empty(k, f)
        self.rows = np.arange(b)

    def load(self, params: Params) -> None:
        self.W1, self.b1, self.W2, self.b2 = copy_params(params)

    def epoch(self) -> None:
        X, y, B = self.X, self.y, self.b
        W1, b1, W2, b2 = self.W1, self.b1, self.W2, self.b2
        gW1, gb1, gW2, gb2 = self.gW1, self.gb1, self.gW2, self.gb2
        lr = np.float32(LR)
        with np.errstate(over="ignore"):
            for s in range(0, len(X), B):
                xb, yb = X[s : s + B], y[s : s + B]
                m = len(xb)
                h, t, z, gh = self.h[:m], self.t[:m], self.z[:m], self.gh[:m]
                zmax, zsum = self.zmax[:m, None], self.zsum[:m, None]
                np.matmul(xb, W1, out=h)
                h += b1
                np.negative(h, out=h)
                np.exp(h, out=h)
                h += 1
                np.reciprocal(h, out=h)
                np.matmul(h, W2, out=z)
                z += b2
                np.max(z, axis=1, keepdims=True, out=zmax)
                z -= zmax
                np.exp(z, out=z)
                np.sum(z, axis=1, keepdims=True, out=zsum)
                z /= zsum
                z[self.rows[:m], yb] -= 1
                z *= np.float32(1.0 / m)
                np.matmul(z, W2.T, out=gh)
                gh *= h
                np.subtract(1, h, out=t)
                gh *= t
                np.matmul(h.T, z, out=gW2)
                np.sum(z, axis=0, out=gb2)
                np.matmul(xb.T, gh, out=gW1)
                np.sum(gh, axis=0, out=gb1)
                for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
                    g *= lr
                    p -= g

    def params(self) -> Params:
        return copy_params((self.W1, self.b1, self.W2, self.b2))
