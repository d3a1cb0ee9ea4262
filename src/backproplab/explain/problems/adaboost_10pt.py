"""``adaboost-10pt``: two rounds of AdaBoost on section C's ten points with linear-threshold stumps.

Round 1 chooses among the candidates (a) x2 <= 0.5, (b) -x1 + x2 <= -0.5, (c) -x1 + x2 <= 0.5 (least weighted
error; (b) misclassifies exactly points 5 and 9). Round 2 uses 1.5 x1 + x2 < 0.5 with the strict inequality
(point 9 lies on the line 1.5 x1 + x2 = 0.5). Shown in the course's base-2 form and checked against the
natural-log form, which gives the same weights and signs.
"""

from __future__ import annotations

import numpy as np

from ...classic.adaboost import AdaBoostResult, LinearStump, adaboost
from ..document import Derivation

POINTS = np.array(
    [(-1, 1), (0, 1), (1, 1), (-1, 0), (0, 0), (1, 0), (-1, -1), (0, -1), (1, -1), (1, -2)], dtype=np.float64
)
LABELS = np.array([-1, -1, -1, -1, 1, 1, -1, 1, -1, 1])
CANDIDATES = {"a": "x2 <= 0.5", "b": "-x1 + x2 <= -0.5", "c": "-x1 + x2 <= 0.5"}
SECOND = "1.5 x1 + x2 < 0.5"
ROUNDS = [list(CANDIDATES.values()), SECOND]


def _points(idx: np.ndarray) -> list[int]:
    return [int(i) + 1 for i in idx]


def run(base: str | int = 2) -> AdaBoostResult:
    return adaboost(POINTS, LABELS, ROUNDS, base=base)


def build() -> Derivation:
    res2, rese = run(2), run("e")
    d = Derivation(
        "adaboost-10pt",
        "AdaBoost on ten points with linear stumps (base-2 form)",
        "Section C. Each stump predicts +1 where its inequality holds, else -1. Base-2 form: "
        "beta_t = 1/2 log2((1 - eps_t) / eps_t), w_{t+1}(n) proportional to w_t(n) 2^(-beta_t y_n "
        "h_t(x_n)), normalised; H(x) = sign(sum_t beta_t h_t(x)). Points are numbered from 1.",
    )
    given = d.section("Given")
    given.table(
        "points",
        ["n", "x1", "x2", "y"],
        [[i + 1, int(p[0]), int(p[1]), int(y)] for i, (p, y) in enumerate(zip(POINTS, LABELS, strict=True))],
    )
    letters = {v: k for k, v in CANDIDATES.items()}
    for r in res2.rounds:
        sec = d.section(f"Round {r.t}")
        t = r.t
        if t == 1:  # later rounds start from the previous round's w_{t+1}
            sec.quantity(f"w{t}", r.weights, note="uniform: 1/N each")
        if len(r.candidates) > 1:
            sec.table(
                f"round {t} candidates",
                ["stump", "inequality", "misclassified points", "weighted error"],
                [
                    [f"({letters.get(s.text, '?')})", s.text, " ".join(map(str, _points(np.flatnonzero(m)))), e]
                    for s, e, m in r.candidates
                ],
                title="candidates (the least weighted error is used; ties: the first)",
            )
        sec.quantity(f"h{t}", r.stump.text, note="predicts +1 where the inequality holds, else -1")
        sec.quantity(f"h{t}(x)", r.predictions, note="points n = 1..10")
        sec.quantity(f"misclassified in round {t}", _points(r.misclassified), f"{{n : h{t}(x_n) != y_n}}")
        sec.quantity(f"eps{t}", r.error, f"sum of w{t}(n) over the misclassified n")
        sec.quantity(f"beta{t}", r.beta, f"1/2 log2((1 - eps{t}) / eps{t})")
        sec.table(
            f"round {t} weights",
            ["n", "y", "h(x)", "w", "2^(-beta y h)", "w * 2^(-beta y h)", "new w"],
            [
                [
                    i + 1,
                    int(LABELS[i]),
                    int(r.predictions[i]),
                    r.weights[i],
                    r.factors[i],
                    r.unnormalised[i],
                    r.new_weights[i],
                ]
                for i in range(len(LABELS))
            ],
        )
        sec.quantity(f"Z{t}", r.z, f"sum_n w{t}(n) 2^(-beta{t} y_n h{t}(x_n))", note="the normaliser")
        sec.quantity(f"w{t + 1}", r.new_weights, f"w{t}(n) 2^(-beta{t} y_n h{t}(x_n)) / Z{t}")
        sec.quantity(f"sum w{t + 1}", float(r.new_weights.sum()), f"sum_n w{t + 1}(n)", note="normalised: 1")

    comb = d.section("Combined classifier")
    scores, pred = res2.scores(), res2.predict()
    comb.table(
        "combined",
        ["n", "y", *[f"h{r.t}(x)" for r in res2.rounds], "sum_t beta_t h_t(x)", "H(x)", "correct"],
        [
            [
                i + 1,
                int(LABELS[i]),
                *[int(r.predictions[i]) for r in res2.rounds],
                float(scores[i]),
                int(pred[i]),
                "yes" if pred[i] == LABELS[i] else "no",
            ]
            for i in range(len(LABELS))
        ],
    )
    comb.quantity("misclassified by H", _points(np.flatnonzero(pred != LABELS)), "{n : H(x_n) != y_n}")
    comb.quantity("training error of H", res2.training_error, "|{n : H(x_n) != y_n}| / N")

    nat = d.section("Natural-log form")
    nat.quantity("alphas (ln)", rese.betas, "1/2 ln((1 - eps_t) / eps_t)")
    nat.quantity("beta / alpha", res2.betas / rese.betas, "beta_t / alpha_t", note="1 / ln 2 in every round")
    diff = max(
        float(np.abs(a.new_weights - b.new_weights).max()) for a, b in zip(res2.rounds, rese.rounds, strict=True)
    )
    nat.quantity(
        "max weight difference",
        diff,
        "max_(t,n) |w_t(n) base 2 - w_t(n) natural|",
        note="the two forms give the same weights, up to rounding",
    )
    nat.quantity(
        "same predictions",
        bool(np.array_equal(rese.predict(), pred)),
        "sign(sum_t alpha_t h_t(x)) == sign(sum_t beta_t h_t(x)) for every point",
    )

    strict = d.section("Why the second stump's inequality is strict")
    loose = adaboost(POINTS, LABELS, [ROUNDS[0], SECOND.replace("<", "<=")], base=2).rounds[1]
    strict.quantity(
        "1.5 x1 + x2 at point 9",
        float(LinearStump.parse(SECOND).decision(POINTS[8:9])[0]),
        "1.5 * 1 + (-1)",
        note="exactly the threshold 0.5",
    )
    strict.quantity(
        "eps2 with <=",
        loose.error,
        "sum of w2(n) over the misclassified n",
        note=f"point 9 becomes misclassified too: {' '.join(map(str, _points(loose.misclassified)))}",
    )
    strict.quantity("beta2 with <=", loose.beta, "1/2 log2((1 - eps2) / eps2)", note="the stump would get no say")
    return d
