"""Classic models: entropy/ID3/forest, k-NN, the dimensionality calculator and AdaBoost, each checked against
an independent computation written here (and hypothesis properties)."""

from __future__ import annotations

import math
from collections import Counter
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.classic import (
    KNNClassifier,
    LinearStump,
    adaboost,
    builtin_table,
    conditional_entropy,
    curse_of_dimensionality,
    draw_tree,
    entropy,
    forest_vote,
    grow_forest,
    id3,
    information_gain,
    parse_csv,
    plot_dimensionality,
    random_feature_subsets,
    read_csv,
)
from backproplab.errors import DatasetError
from backproplab.explain import build_problem

PNG = b"\x89PNG\r\n\x1a\n"


# -- an independent ID3, written from the textbook definition ----------------------------------------------------
def H(labels: list[str]) -> float:
    n = len(labels)
    return float(-sum(c / n * np.log2(c / n) for c in Counter(labels).values()))


def gain(rows: list[dict], feature: str, target: str) -> float:
    ys = [r[target] for r in rows]
    rest = 0.0
    for v in {r[feature] for r in rows}:
        sub = [r[target] for r in rows if r[feature] == v]
        rest += len(sub) / len(rows) * H(sub)
    return H(ys) - rest


def ref_id3(rows: list[dict], features: list[str], target: str):
    ys = [r[target] for r in rows]
    counts = Counter(ys)
    top = max(counts.values())
    first_order = [r[target] for r in rows]
    majority = next(c for c in first_order if counts[c] == top)
    if len(counts) == 1 or not features:
        return majority
    gains = [gain(rows, f, target) for f in features]
    if max(gains) <= 1e-12:
        return majority
    best = features[int(np.argmax(gains))]
    rest = [f for f in features if f != best]
    return (
        best,
        majority,
        {v: ref_id3([r for r in rows if r[best] == v], rest, target) for v in {r[best] for r in rows}},
    )


def ref_predict(tree, query: dict) -> str:
    while isinstance(tree, tuple):
        feature, majority, children = tree
        if query[feature] not in children:
            return majority
        tree = children[query[feature]]
    return tree


def table_rows(table) -> list[dict]:
    return [dict(zip(table.columns, r, strict=True)) for r in table.rows]


def test_entropy_by_hand() -> None:
    assert entropy(["a"] * 4) == 0.0 and str(entropy(["a"])) == "0.0"
    assert entropy(["a", "b"]) == 1.0
    assert entropy(["a", "b", "c", "d"]) == 2.0
    assert entropy(list("aaab")) == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25)))
    assert conditional_entropy(list("xxyy"), list("abab")) == 1.0
    assert information_gain(list("xxyy"), list("aabb")) == 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("pqr"), st.sampled_from("abc")), min_size=1, max_size=40))
def test_information_gain_is_non_negative_and_conditional_entropy_bounded(pairs) -> None:
    feature, labels = [p[0] for p in pairs], [p[1] for p in pairs]
    ig = information_gain(feature, labels)
    assert ig >= 0.0
    assert conditional_entropy(feature, labels) <= entropy(labels) + 1e-12
    assert ig <= entropy(feature) + 1e-12  # IG = I(X; Y) <= H(X)
    assert ig == pytest.approx(gain([{"x": f, "y": y} for f, y in pairs], "x", "y"), abs=1e-12)


def test_builtin_tables_are_the_spec_tables() -> None:
    phone, sick = builtin_table("phone-usage"), builtin_table("sickness")
    assert (
        len(phone) == 15
        and phone.target == "Usage"
        and phone.features == ("Relationship", "Age", "Education", "Income")
    )
    assert Counter(phone.labels) == {"Low": 7, "Medium": 5, "High": 3}
    assert len(sick) == 8 and sick.target == "Getting sick" and Counter(sick.labels) == {"No": 4, "Yes": 4}


def test_id3_phone_usage_matches_an_independent_id3() -> None:
    table = builtin_table("phone-usage")
    rows = table_rows(table)
    tree = id3(table)
    # every gain at the root
    root = {s.feature: s.gain for s in tree.root.scores}
    for f in table.features:
        assert root[f] == pytest.approx(gain(rows, f, "Usage"), abs=1e-12)
    assert tree.root.entropy == pytest.approx(H(table.labels), abs=1e-15)
    ref = ref_id3(rows, list(table.features), "Usage")
    assert tree.root.split == ref[0] == "Education"
    # same predictions on every combination of feature values (including unseen ones)
    for combo in product(*[table.values(f) for f in table.features]):
        query = dict(zip(table.features, combo, strict=True))
        assert tree.predict(query) == ref_predict(ref, query), query
    # a grown ID3 tree on consistent data classifies its training rows perfectly
    assert all(tree.predict(r) == r["Usage"] for r in rows)
    # every gain at every node equals the independent computation on that node's rows
    for node in tree.nodes():
        sub = [rows[i] for i in node.rows]
        for s in node.scores:
            assert s.gain == pytest.approx(gain(sub, s.feature, "Usage"), abs=1e-12)


def test_id3_ties_stopping_and_majority_votes() -> None:
    # f and g carry the same information: equal gains go to the first feature; below it g gains nothing.
    table = parse_csv("f,g,y\na,x,1\na,x,0\nb,y,1\nb,y,0\na,x,1\n", name="t")
    tree = id3(table)
    gains = {s.feature: s.gain for s in tree.root.scores}
    assert gains["f"] == gains["g"] == pytest.approx(gain(table_rows(table), "f", "y")) and gains["f"] > 0
    assert tree.root.split == "f"
    a, b = tree.root.children["a"], tree.root.children["b"]
    assert a.stop_reason == b.stop_reason == "no split gains"
    assert (a.prediction, a.tie) == ("1", False)  # 2 votes to 1
    assert (b.prediction, b.tie) == ("1", True)  # 1 to 1: the class seen first in the table
    assert tree.predict({"f": "c", "g": "x"}) == tree.root.prediction  # unseen value: the node's majority


def test_forest_sickness_trees_and_votes_match_independent_trees() -> None:
    table = builtin_table("sickness")
    rows = table_rows(table)
    subsets = [("Age", "Social distancing"), ("Age", "Hand washing"), ("Social distancing", "Hand washing")]
    trees = grow_forest(table, subsets)
    query = {"Age": "Old", "Social distancing": "Yes", "Hand washing": "No"}
    refs = [ref_id3(rows, list(s), "Getting sick") for s in subsets]
    for tree, ref in zip(trees, refs, strict=True):
        for combo in product(*[table.values(f) for f in table.features]):
            q = dict(zip(table.features, combo, strict=True))
            assert tree.predict(q) == ref_predict(ref, q)
    result = forest_vote(trees, query)
    expected_votes = [ref_predict(r, query) for r in refs]
    assert [v.vote for v in result.votes] == expected_votes
    assert result.prediction == Counter(expected_votes).most_common(1)[0][0]
    values = build_problem("forest-sickness").values()
    assert values["forest prediction"] == result.prediction
    assert [r["vote (Getting sick)"] for r in values["votes"]] == expected_votes


def test_random_feature_subsets_are_seeded_and_valid() -> None:
    feats = ["a", "b", "c", "d"]
    s1, s2 = random_feature_subsets(feats, 2, 5, seed=3), random_feature_subsets(feats, 2, 5, seed=3)
    assert s1 == s2 and all(len(s) == 2 and len(set(s)) == 2 and set(s) <= set(feats) for s in s1)
    with pytest.raises(ValueError, match="between 1 and 4"):
        random_feature_subsets(feats, 5, 1)


def test_csv_tables_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Outlook,Wind,Play\nsunny,weak,no\nrain,strong,yes\n")
    table = read_csv(path)
    assert table.target == "Play" and table.features == ("Outlook", "Wind") and len(table) == 2
    assert read_csv(path, target="Wind").features == ("Outlook", "Play")
    path.write_text("a,b\n1,2,3\n")
    with pytest.raises(DatasetError, match="line 2 has 3 values but the header has 2"):
        read_csv(path)
    with pytest.raises(DatasetError, match="not found"):
        read_csv(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="target column 'z' not found"):
        parse_csv("a,b\n1,2\n", target="z")


def test_tree_drawing_writes_a_png(tmp_path: Path) -> None:
    out = draw_tree(id3(builtin_table("phone-usage")), tmp_path / "tree.png", title="phone usage")
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 5000


# -- k-NN ---------------------------------------------------------------------------------------------------------
def test_knn_matches_brute_force_and_sklearn() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    Q = rng.standard_normal((25, 3))
    ours = KNNClassifier(k=5).fit(X, y)
    dist, idx = ours.kneighbors(Q)
    brute = np.sqrt(((Q[:, None] - X[None]) ** 2).sum(-1))
    np.testing.assert_allclose(dist, np.sort(brute, axis=1)[:, :5], rtol=1e-12)
    sk = KNeighborsClassifier(n_neighbors=5).fit(X, y)
    pred = ours.predict(Q)
    counts = np.array([np.bincount(y[row], minlength=3) for row in idx])
    no_tie = (counts == counts.max(1, keepdims=True)).sum(1) == 1
    assert no_tie.sum() > 15
    np.testing.assert_array_equal(pred[no_tie], sk.predict(Q)[no_tie])


def test_knn_tie_rule_picks_the_nearest_tied_class() -> None:
    X = np.array([[0.0], [1.0], [-1.5], [3.0]])
    y = np.array(["far", "near", "far", "near"])
    # k = 2 around 0.6: neighbours 1.0 (near, d=0.4) and 0.0 (far, d=0.6): a 1-1 tie -> the nearest: "near"
    assert KNNClassifier(k=2).fit(X, y).predict([[0.6]]).tolist() == ["near"]
    assert KNNClassifier(k=2).fit(X, y).predict([[0.4]]).tolist() == ["far"]
    # equal distances are ordered by training index
    assert KNNClassifier(k=1).fit(X, y).predict([[0.5]]).tolist() == ["far"]
    with pytest.raises(ValueError, match="larger than the 4 training points"):
        KNNClassifier(k=5).fit(X, y)


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 30), st.integers(0, 10**6))
def test_1nn_reproduces_distinct_training_points(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = rng.integers(0, 3, n)
    np.testing.assert_array_equal(KNNClassifier(1).fit(X, y).predict(X), y)


def test_curse_of_dimensionality_table_and_a_monte_carlo_check(tmp_path: Path) -> None:
    rows = curse_of_dimensionality([1, 2, 3, 10])
    for r in rows:
        assert r.fraction_inside == pytest.approx(0.1**r.d, rel=1e-12)
        assert r.side_needed**r.d == pytest.approx(0.1, rel=1e-12)
    rng = np.random.default_rng(0)
    pts = rng.uniform(size=(200_000, 3))
    inside = np.mean(np.all(pts < 0.1, axis=1))
    assert inside == pytest.approx(rows[2].fraction_inside, rel=0.1)
    side = rows[1].side_needed
    assert np.mean(np.all(pts[:, :2] < side, axis=1)) == pytest.approx(0.1, rel=0.02)
    out = plot_dimensionality(rows, tmp_path / "d.png")
    assert out.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match=">= 1"):
        curse_of_dimensionality([0])


# -- AdaBoost -----------------------------------------------------------------------------------------------------
POINTS = np.array([(-1, 1), (0, 1), (1, 1), (-1, 0), (0, 0), (1, 0), (-1, -1), (0, -1), (1, -1), (1, -2)], float)
LABELS = np.array([-1, -1, -1, -1, 1, 1, -1, 1, -1, 1])


def ref_boost(stumps, base: float):
    """The course's base-2 (or natural) AdaBoost with stumps given as Python functions of (x1, x2)."""
    w = np.full(10, 0.1)
    out = []
    for h in stumps:
        pred = np.array([1 if h(x1, x2) else -1 for x1, x2 in POINTS])
        eps = w[pred != LABELS].sum()
        beta = 0.5 * math.log((1 - eps) / eps, base)
        w = w * base ** (-beta * LABELS * pred)
        w = w / w.sum()
        out.append((pred, eps, beta, w))
    return out


def test_adaboost_10pt_matches_an_independent_run() -> None:
    stump_a = lambda x1, x2: x2 <= 0.5  # noqa: E731
    stump_b = lambda x1, x2: -x1 + x2 <= -0.5  # noqa: E731
    stump_c = lambda x1, x2: -x1 + x2 <= 0.5  # noqa: E731
    second = lambda x1, x2: 1.5 * x1 + x2 < 0.5  # noqa: E731
    errors = {
        name: np.mean([(1 if s(*p) else -1) != y for p, y in zip(POINTS, LABELS, strict=True)])
        for name, s in [("a", stump_a), ("b", stump_b), ("c", stump_c)]
    }
    assert min(errors, key=errors.get) == "b"
    b_wrong = [i + 1 for i, (p, y) in enumerate(zip(POINTS, LABELS, strict=True)) if (1 if stump_b(*p) else -1) != y]
    assert b_wrong == [5, 9]  # the SPEC's premise, verified
    ref = ref_boost([stump_b, second], base=2.0)
    res = adaboost(POINTS, LABELS, [["x2 <= 0.5", "-x1 + x2 <= -0.5", "-x1 + x2 <= 0.5"], "1.5 x1 + x2 < 0.5"], base=2)
    assert [c[1] for c in res.rounds[0].candidates] == pytest.approx([errors["a"], errors["b"], errors["c"]])
    for r, (pred, eps, beta, w) in zip(res.rounds, ref, strict=True):
        np.testing.assert_array_equal(r.predictions, pred)
        assert r.error == pytest.approx(eps, rel=1e-14)
        assert r.beta == pytest.approx(beta, rel=1e-14)
        np.testing.assert_allclose(r.new_weights, w, rtol=1e-13)
    scores = sum(beta * pred for pred, _, beta, _ in ref)
    np.testing.assert_allclose(res.scores(), scores, rtol=1e-13)
    np.testing.assert_array_equal(res.predict(), np.sign(scores))
    # the built-in problem reports the same numbers
    values = build_problem("adaboost-10pt").values()
    assert values["misclassified in round 1"] == [5, 9]
    assert values["eps1"] == pytest.approx(ref[0][1]) and values["beta1"] == pytest.approx(ref[0][2])
    assert values["eps2"] == pytest.approx(ref[1][1]) and values["beta2"] == pytest.approx(ref[1][2])
    np.testing.assert_allclose(values["w3"], ref[1][3], rtol=1e-13)
    assert values["training error of H"] == np.mean(np.sign(scores) != LABELS)
    # with <= the point on the line (9: 1.5 - 1 = 0.5) flips: error exactly 1/2, beta 0
    loose = ref_boost([stump_b, lambda x1, x2: 1.5 * x1 + x2 <= 0.5], base=2.0)[1]
    assert values["eps2 with <="] == pytest.approx(loose[1]) and values["beta2 with <="] == pytest.approx(0.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_rounds=st.integers(1, 4))
def test_adaboost_properties(seed: int, n_rounds: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 2))
    y = np.where(rng.uniform(size=12) < 0.5, -1, 1)
    stumps = [LinearStump(tuple(rng.standard_normal(2)), "<=", float(rng.standard_normal())) for _ in range(n_rounds)]
    try:
        res2 = adaboost(X, y, stumps, base=2)
        rese = adaboost(X, y, stumps, base="e")
    except ValueError as exc:  # a stump with error 0 or 1 is refused with a message
        assert "error" in str(exc)
        return
    for r2, re in zip(res2.rounds, rese.rounds, strict=True):
        assert r2.new_weights.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(r2.new_weights > 0)
        np.testing.assert_allclose(r2.new_weights, re.new_weights, rtol=1e-10)  # same weights in both forms
        assert r2.beta == pytest.approx(re.beta / math.log(2), rel=1e-12, abs=1e-15)
        # AdaBoost's reweighting leaves the round's stump with weighted error exactly 1/2
        assert r2.new_weights[r2.predictions != y].sum() == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_array_equal(res2.predict(), rese.predict())


@pytest.mark.parametrize(
    ("text", "coef", "op", "threshold"),
    [
        ("x2 <= 0.5", (0.0, 1.0), "<=", 0.5),
        ("-x1 + x2 <= -0.5", (-1.0, 1.0), "<=", -0.5),
        ("1.5 x1 + x2 < 0.5", (1.5, 1.0), "<", 0.5),
        ("1.5*x1+x2<0.5", (1.5, 1.0), "<", 0.5),
        ("x1 > 2 - x2", (1.0, 1.0), ">", 2.0),
        ("2 x3 - 1 >= x1", (-1.0, 0.0, 2.0), ">=", 1.0),
    ],
)
def test_stump_parser(text: str, coef: tuple, op: str, threshold: float) -> None:
    s = LinearStump.parse(text)
    assert (s.coef, s.op, s.threshold) == (coef, op, threshold)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x1 + x2", "one of <=, <, >=, >"),
        ("x1 x2 < 1", "joined by"),
        ("x1 < 0 < x2", "exactly one"),
        ("x0 < 1", "from 1"),
        ("x1 + * 2 < 1", "cannot read"),
    ],
)
def test_stump_parser_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinearStump.parse(text)


def test_adaboost_refuses_a_perfect_stump() -> None:
    with pytest.raises(ValueError, match="error 0"):
        adaboost(POINTS, -np.ones(10, dtype=int), ["x1 > 100"], base=2)
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        adaboost(POINTS, np.zeros(10, dtype=int), ["x1 > 100"])


def test_adaboost_even_vote_is_a_tie_in_both_bases() -> None:
    # hypothesis found seed 4548 / 3 rounds: beta_1 = beta_2 + beta_3 up to rounding, so the vote is even at
    # half the points; both forms must call those ties (0), not let the rounding residue pick a side
    rng = np.random.default_rng(4548)
    X = rng.standard_normal((12, 2))
    y = np.where(rng.uniform(size=12) < 0.5, -1, 1)
    stumps = [LinearStump(tuple(rng.standard_normal(2)), "<=", float(rng.standard_normal())) for _ in range(3)]
    res2, rese = adaboost(X, y, stumps, base=2), adaboost(X, y, stumps, base="e")
    np.testing.assert_array_equal(res2.predict(), rese.predict())
    scores = rese.scores()
    even = np.abs(scores) <= 1e-12 * np.abs(rese.betas).sum()
    assert even.any() and np.all(rese.predict()[even] == 0)
    np.testing.assert_array_equal(rese.predict()[~even], np.sign(scores[~even]))
