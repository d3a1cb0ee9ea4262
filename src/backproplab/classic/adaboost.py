"""AdaBoost with given linear-threshold stumps, in the natural-log form and the courses' base-2 form.

A stump is an inequality such as ``-x1 + x2 <= -0.5``: it predicts +1 where the inequality holds, else -1.
Round t (weights w_t summing to 1; candidates: the stumps given for the round, the one of least weighted error
is used, ties to the first):

- error     eps_t = sum of w_t(n) over the misclassified points
- natural:  beta_t = 1/2 ln((1 - eps_t) / eps_t),   w_{t+1}(n) ∝ w_t(n) exp(-beta_t y_n h_t(x_n))
- base 2:   beta_t = 1/2 log2((1 - eps_t) / eps_t), w_{t+1}(n) ∝ w_t(n) 2^(-beta_t y_n h_t(x_n))
- combined: H(x) = sign(sum_t beta_t h_t(x)); a score of exactly 0 is reported as 0 (undecided).

Both forms give the same weights and the same combined signs: base^(beta) with beta = 1/2 log_base(r) is
sqrt(r) in either base, so the base-2 betas are the natural ones divided by ln 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_OPERATORS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TERM = re.compile(rf"\s*(?P<sign>[+-])?\s*(?P<coef>{_NUMBER})?\s*(?P<star>\*)?\s*(?:x_?(?P<var>\d+))?\s*")


def _linear(text: str, where: str) -> tuple[dict[int, float], float]:
    """Parse ``a1 x1 + a2 x2 + ... + c`` into ({variable index from 1: coefficient}, constant)."""
    coefs: dict[int, float] = {}
    const = 0.0
    pos, first = 0, True
    text = text.strip()
    if not text:
        raise ValueError(f"the {where} of the inequality is empty")
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos or (m.group("coef") is None and m.group("var") is None):
            raise ValueError(
                f"cannot read the {where} {text!r} at {text[pos:]!r}; write terms like '1.5 x1', '- x2', '0.5'"
            )
        if not first and m.group("sign") is None:
            raise ValueError(f"terms of the {where} {text!r} must be joined by + or -")
        if m.group("star") and (m.group("coef") is None or m.group("var") is None):
            raise ValueError(f"misplaced '*' in {text!r}")
        sign = -1.0 if m.group("sign") == "-" else 1.0
        value = sign * (float(m.group("coef")) if m.group("coef") is not None else 1.0)
        if m.group("var") is not None:
            idx = int(m.group("var"))
            if idx < 1:
                raise ValueError(f"variables are x1, x2, ... (from 1); got x{idx} in {text!r}")
            coefs[idx] = coefs.get(idx, 0.0) + value
        else:
            const += value
        pos, first = m.end(), False
    return coefs, const


@dataclass(frozen=True)
class LinearStump:
    """Predict +1 where ``coef . x  op  threshold`` holds, else -1 (``op`` one of <=, <, >=, >)."""

    coef: tuple[float, ...]
    op: str
    threshold: float
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> LinearStump:
        """From an inequality such as ``"-x1 + x2 <= -0.5"`` or ``"1.5*x1 + x2 < 0.5"``."""
        m = re.search(r"<=|>=|<|>|=<|=>", text)
        if m is None or m.group() in ("=<", "=>"):
            raise ValueError(f"stump {text!r}: expected an inequality with one of <=, <, >=, >")
        if re.search(r"<=|>=|<|>", text[m.end() :]):
            raise ValueError(f"stump {text!r}: expected exactly one inequality sign")
        left, lc = _linear(text[: m.start()], "left-hand side")
        right, rc = _linear(text[m.end() :], "right-hand side")
        n = max([*left, *right, 1])
        coef = tuple(left.get(i, 0.0) - right.get(i, 0.0) for i in range(1, n + 1))
        return cls(coef, m.group(), rc - lc, text.strip())

    def decision(self, X: Any) -> np.ndarray:
        """``coef . x`` for each row of ``X`` ``(N, D)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < len(self.coef):
            raise ValueError(f"stump {self}: points must be (N, D) with D >= {len(self.coef)}; got {X.shape}")
        return X[:, : len(self.coef)] @ np.asarray(self.coef)

    def predict(self, X: Any) -> np.ndarray:
        """+1 where the inequality holds, else -1 (int64 ``(N,)``)."""
        holds = _OPERATORS[self.op](self.decision(X), self.threshold)
        return np.where(holds, 1, -1).astype(np.int64)

    def __str__(self) -> str:
        if self.text:
            return self.text
        terms = " + ".join(f"{c:g} x{i}" for i, c in enumerate(self.coef, start=1) if c)
        return f"{terms or '0'} {self.op} {self.threshold:g}"


@dataclass
class Round:
    """One boosting round. Arrays are over the N points; ``weights`` are w_t (before), ``factors`` are
    base^(-beta y h), ``unnormalised`` = weights * factors, ``z`` their sum, ``new_weights`` = unnormalised / z."""

    t: int
    candidates: list[tuple[LinearStump, float, np.ndarray]]  # (stump, weighted error, misclassified mask)
    stump: LinearStump
    predictions: np.ndarray
    misclassified: np.ndarray  # 0-based indices
    error: float
    beta: float
    weights: np.ndarray
    factors: np.ndarray
    unnormalised: np.ndarray
    z: float
    new_weights: np.ndarray


@dataclass
class AdaBoostResult:
    base: str  # "e" or "2"
    X: np.ndarray
    y: np.ndarray
    rounds: list[Round]

    @property
    def betas(self) -> np.ndarray:
        return np.array([r.beta for r in self.rounds])

    def __repr__(self) -> str:
        betas = ", ".join(f"{b:.4g}" for b in self.betas)
        wrong = int(np.sum(self.predict() != self.y))
        return (
            f"AdaBoostResult(base {self.base}, {len(self.rounds)} rounds, betas [{betas}], "
            f"{wrong} of {len(self.y)} training points misclassified)"
        )

    def scores(self, X: Any | None = None) -> np.ndarray:
        """sum_t beta_t h_t(x) per point (the training points by default)."""
        X = self.X if X is None else np.asarray(X, dtype=np.float64)
        return sum(r.beta * r.stump.predict(X) for r in self.rounds)  # type: ignore[return-value]

    def predict(self, X: Any | None = None) -> np.ndarray:
        """sign of the score: +1, -1, or 0 where the weighted vote is even.

        A vote counts as even when |score| <= 1e-12 * sum_t |beta_t|: betas that balance exactly in theory
        (e.g. beta_1 = beta_2 + beta_3) leave a rounding residue whose sign differs between the base-2 and
        natural-log forms, and a tie must not be decided by rounding.
        """
        scores = self.scores(X)
        tol = 1e-12 * float(np.abs(self.betas).sum())
        return np.where(np.abs(scores) <= tol, 0, np.sign(scores)).astype(np.int64)

    @property
    def training_error(self) -> float:
        """Fraction of training points the combined classifier gets wrong (a 0 score counts as wrong)."""
        return float(np.mean(self.predict() != self.y))


def _log(base: str) -> Any:
    return {"e": math.log, "2": math.log2}[base]


def adaboost(
    X: Any,
    y: Any,
    rounds: Sequence[LinearStump | str | Sequence[LinearStump | str]],
    *,
    base: str | int = "e",
    weights: Any = None,
) -> AdaBoostResult:
    """Run AdaBoost for ``len(rounds)`` rounds with the given stumps.

    Args:
        X: points ``(N, D)``; y: labels ``(N,)`` in {-1, +1}.
        rounds: per round, a stump (or inequality text) or a list of candidates to choose from.
        base: ``"e"`` (natural log, exp weights) or ``2`` (the courses' log2 / 2^(-beta y h) form).
        weights: initial weights (default uniform 1/N); normalised to sum 1.
    """
    base = str(base)
    if base not in ("e", "2"):
        raise ValueError(f"base: expected 'e' or 2; got {base!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (N, D) and y (N,); got {X.shape} and {y.shape}")
    if not np.all(np.isin(y, (-1, 1))):
        raise ValueError(f"labels must be -1 or +1; got {sorted(set(y.tolist()))}")
    y = y.astype(np.int64)
    w = np.full(X.shape[0], 1.0 / X.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != y.shape or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be {y.shape} non-negative numbers with a positive sum")
    w = w / w.sum()
    log = _log(base)
    b = math.e if base == "e" else 2.0
    out: list[Round] = []
    for t, spec in enumerate(rounds, start=1):
        options = [spec] if isinstance(spec, LinearStump | str) else list(spec)
        if not options:
            raise ValueError(f"round {t}: no stump given")
        stumps = [s if isinstance(s, LinearStump) else LinearStump.parse(s) for s in options]
        candidates = []
        for s in stumps:
            wrong = s.predict(X) != y
            candidates.append((s, float(w[wrong].sum()), wrong))
        stump, eps, wrong = min(candidates, key=lambda c: c[1])  # min() keeps the first of equal errors
        if eps <= 0.0:
            raise ValueError(
                f"round {t}: stump {stump} classifies every point correctly (weighted error 0), "
                "so its beta would be infinite; boosting stops before this round"
            )
        if eps >= 1.0:
            raise ValueError(f"round {t}: stump {stump} misclassifies every point (error 1); flip its inequality")
        beta = 0.5 * log((1.0 - eps) / eps)
        h = stump.predict(X)
        factors = b ** (-beta * y * h)
        unnorm = w * factors
        z = float(unnorm.sum())
        new_w = unnorm / z
        out.append(Round(t, candidates, stump, h, np.flatnonzero(wrong), eps, beta, w, factors, unnorm, z, new_w))
        w = new_w
    return AdaBoostResult(base, X, y, out)
