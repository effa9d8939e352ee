"""Checkers for chapter 6, "Why vectorize"."""
import numpy as np

from minigrad.autograd import topological_order
from minigrad.exercises import as_numbers, call_answer, is_unset, report
from minigrad.value import Value
from minigrad.value_nn import ValueLayer


def layer_nodes_built(nin, nout, batch, seed=0):
    """How many nodes a ReLU ``ValueLayer(nin, nout)`` creates when applied to ``batch`` points,
    counted in the graph itself (the inputs and the parameters, which exist beforehand, not counted)."""
    layer = ValueLayer(nin, nout, activation="relu", seed=seed)
    points = [[Value(float(i + j)) for j in range(nin)] for i in range(batch)]
    outputs = []  # kept alive, so that no node's id() is reused by a later one
    for x in points:
        out = layer(x)
        outputs += out if isinstance(out, list) else [out]
    seen = set()
    for node in outputs:
        seen.update(map(id, topological_order(node)))
    leaves = {id(v) for x in points for v in x} | {id(p) for p in layer.parameters()}
    return len(seen - leaves)


def check_layer_nodes(layer_nodes):
    """``layer_nodes(nin, nout, batch)``: the nodes a ReLU layer builds for a batch, by formula."""
    what = "node count of a layer"
    cases = [(1, 1, 1), (2, 1, 1), (1, 3, 1), (3, 2, 5), (7, 4, 3), (16, 16, 10)]
    for nin, nout, batch in cases:
        ok, got = call_answer(what, layer_nodes, nin, nout, batch)
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return report(False, what, f"layer_nodes({nin}, {nout}, {batch}) should be a whole number, "
                                       f"got {type(got).__name__} {got!r}")
        true = layer_nodes_built(nin, nout, batch)
        if got != true:
            return report(False, what,
                          f"for nin={nin}, nout={nout}, batch={batch} your formula gives {got:,} nodes, "
                          f"but the layer builds {'more' if got < true else 'fewer'} than that")
    return report(True, what + f": your formula matches the graph at {len(cases)} sizes")


def check_dot_products(all_dots):
    """``all_dots(A, B)``: the dot product of every row of A with every row of B, as one matrix."""
    what = "all dot products as one matrix product"
    rng = np.random.default_rng(6)
    for m, n, k in [(3, 5, 4), (1, 1, 1), (6, 2, 3), (4, 4, 7)]:
        A, B = rng.normal(size=(m, k)), rng.normal(size=(n, k))
        ok, got = call_answer(what, all_dots, A.copy(), B.copy())
        if not ok:
            return False
        label = f"A of shape {A.shape} and B of shape {B.shape}"
        if is_unset(got):
            return report(False, what, f"for {label} your function returned {got!r}: not filled in yet")
        answer, got = got, as_numbers(got)
        if got is None:
            return report(False, what, f"for {label} your function returned {type(answer).__name__}: "
                                       "it should return an array of numbers")
        if got.shape != (m, n):
            return report(False, what, f"for {label} your result has shape {got.shape}; it needs one "
                                       "row per row of A and one column per row of B")
        for i in range(m):
            for j in range(n):
                true = sum(A[i, t] * B[j, t] for t in range(k))
                if not abs(got[i, j] - true) <= 1e-9 * max(1.0, abs(true)):
                    return report(False, what, f"for {label}, entry [{i}, {j}] is not the dot product "
                                               f"of row {i} of A with row {j} of B")
    return report(True, what + ": every entry is the right dot product, for 4 pairs of shapes")


SHAPE_ARRAYS = {"X": (100, 2), "W": (2, 16), "b": (16,), "G": (100, 16)}
_SHAPE_RULES = {
    "X @ W": lambda X, W, b, G: X @ W,
    "X @ W + b": lambda X, W, b, G: X @ W + b,
    "(X @ W + b).sum(axis=0)": lambda X, W, b, G: (X @ W + b).sum(axis=0),
    "X.T @ G": lambda X, W, b, G: X.T @ G,
    "G @ W.T": lambda X, W, b, G: G @ W.T,
    "G.mean()": lambda X, W, b, G: G.mean(),
}
SHAPE_QUESTIONS = tuple(_SHAPE_RULES)


def check_shapes(answers):
    """``answers``: a dict giving the shape of each expression in ``SHAPE_QUESTIONS``."""
    what = "shapes of NumPy expressions"
    if is_unset(answers) or not isinstance(answers, dict):
        return report(False, what, "not filled in yet: give a dict from each expression to its shape"
                      if is_unset(answers) else f"expected a dict, got {type(answers).__name__}")
    arrays = {name: np.zeros(shape) for name, shape in SHAPE_ARRAYS.items()}
    missing = [q for q in SHAPE_QUESTIONS if q not in answers]
    if missing:
        return report(False, what, f"no answer for {missing[0]!r}")
    for question in SHAPE_QUESTIONS:
        answer = answers[question]
        if is_unset(answer):
            return report(False, what, f"{question!r}: not filled in yet")
        try:
            answer = tuple(int(n) for n in answer)
        except (TypeError, ValueError):
            return report(False, what, f"{question!r}: a shape is a tuple of whole numbers, "
                                       f"like (3, 4) or () for a single number; got {answer!r}")
        true = np.shape(_SHAPE_RULES[question](**arrays))
        if answer != true:
            return report(False, what, f"{question!r}: {answer} is not its shape")
    unknown = sorted(set(answers) - set(SHAPE_QUESTIONS))
    if unknown:
        return report(False, what, f"{unknown[0]!r} is not one of the expressions asked about")
    return report(True, what + f": all {len(SHAPE_QUESTIONS)} shapes are right")
