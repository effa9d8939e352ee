"""Checkers for chapter 6, "Why vectorize".

The node count is asked for by formula: while the reader's function runs,
building the package's layers, models or Values, walking a graph and the
package's own counts are traps, and it is tried on sizes drawn at random.
The dot products are tried on arrays drawn afresh on every run.
"""
import numpy as np

from minigrad import autograd
from minigrad.autograd import topological_order
from minigrad.exercises import (as_numbers, call_answer, forbidding, fresh_rng, is_unset,
                                model_entries, report, reports_forbidden, speed_entries)
from minigrad.value import Value
from minigrad.value_nn import ValueLayer

WITHOUT_COUNTING = "the exercise asks for the count by formula, without building a graph"


def layer_nodes_built(nin, nout, batch, seed=0):
    """How many nodes a ReLU ``ValueLayer(nin, nout)`` creates when applied to ``batch`` points,
    counted in the graph itself (the inputs and the parameters, which exist beforehand, not
    counted). The tests check :func:`layer_nodes_by_formula` against it."""
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


def layer_nodes_by_formula(nin, nout, batch):
    """For each point, each of the ``nout`` neurons makes ``nin`` products w·x, ``nin`` sums
    (the bias plus each product in turn) and one ReLU."""
    return batch * nout * (2 * nin + 1)


def _graph_entries(answer):
    """What counting by program would call: the package's Values, layers and graph walk."""
    entries = model_entries(answer)
    entries += [(Value, "__init__", "minigrad's Value"),
                (Value, "_record", "minigrad's Value operations"),
                (autograd, "topological_order", "minigrad's topological_order")]
    entries += speed_entries(("count_nodes", "scalar_nodes"))
    return entries


NODE_SIZES = [(1, 1, 1), (2, 1, 1), (1, 3, 1), (3, 2, 5), (7, 4, 3), (16, 16, 10)]


@reports_forbidden("node count of a layer")
def check_layer_nodes(layer_nodes):
    """``layer_nodes(nin, nout, batch)``: the nodes a ReLU layer builds for a batch, by formula;
    tried at the sizes named in messages and at four drawn at random, with building the
    package's Values, layers or models (or walking a graph) a trap."""
    what = "node count of a layer"
    rng = fresh_rng()
    drawn = [tuple(int(n) for n in rng.integers(1, 40, size=3)) for _ in range(4)]
    for number, (nin, nout, batch) in enumerate(NODE_SIZES + drawn):
        named = number < len(NODE_SIZES)
        with forbidding(_graph_entries(layer_nodes), [layer_nodes], WITHOUT_COUNTING):
            ok, got = call_answer(what, layer_nodes, nin, nout, batch)
        if not ok:
            return False
        call = f"layer_nodes({nin}, {nout}, {batch})" if named else \
            "for sizes drawn at random, layer_nodes"
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return report(False, what, f"{call} should be a whole number, "
                                       f"got {type(got).__name__}" + (f" {got!r}" if named else ""))
        true = layer_nodes_by_formula(nin, nout, batch)
        if got != true:
            how = "more" if got < true else "fewer"
            if not named:
                return report(False, what, f"{call} is wrong: the layer builds {how} nodes, though "
                                           "your formula is right at the sizes named here; "
                                           "compute it from nin, nout and batch")
            return report(False, what,
                          f"for nin={nin}, nout={nout}, batch={batch} your formula gives {got:,} "
                          f"nodes, but the layer builds {how} than that")
    return report(True, what, f"your formula matches the graph at {len(NODE_SIZES)} sizes and at "
                              "4 drawn at random")


DOT_SHAPES = [(3, 5, 4), (1, 1, 1), (6, 2, 3), (4, 4, 7)]


class _RowByRow(BaseException):  # not caught as the answer's own error
    """Raised when an answer reads its arrays a row or an entry at a time."""


class _Whole(np.ndarray):
    """An array that may be computed with as a whole (a matrix product, a transpose, NumPy's
    functions) but not looped over in Python: iterating over it, or indexing a single row or
    entry of it, raises :class:`_RowByRow`."""

    def __iter__(self):
        raise _RowByRow

    def __getitem__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(part, (int, np.integer)) for part in parts):
            raise _RowByRow
        return super().__getitem__(index)

    def tolist(self):
        raise _RowByRow

    def __array_wrap__(self, result, context=None, return_scalar=False):
        return result.view(np.ndarray)   # what is computed from it is a plain array


def check_dot_products(all_dots):
    """``all_dots(A, B)``: the dot product of every row of A with every row of B, as one
    matrix; tried on arrays drawn afresh on every run, of the shapes named in messages and
    of two drawn at random. The arrays refuse to be gone through row by row or entry by
    entry in Python (the exercise asks for one matrix product, no loop)."""
    what = "all dot products as one matrix product"
    rng = fresh_rng()
    drawn = [tuple(int(n) for n in rng.integers(2, 9, size=3)) for _ in range(2)]
    for number, (m, n, k) in enumerate(DOT_SHAPES + drawn):
        A, B = rng.normal(size=(m, k)), rng.normal(size=(n, k))
        try:
            ok, got = call_answer(what, all_dots, A.copy().view(_Whole),
                                  B.copy().view(_Whole))
        except _RowByRow:
            return report(False, what, "your function goes through A or B row by row (or "
                                       "entry by entry) in Python: the exercise asks for the "
                                       "whole table from one matrix product, with no loop")
        if not ok:
            return False
        label = f"A of shape {A.shape} and B of shape {B.shape}" \
            if number < len(DOT_SHAPES) else "A and B of shapes drawn at random"
        if is_unset(got):
            return report(False, what, f"for {label} your function returned {got!r}: not "
                                       "filled in yet")
        answer, got = got, as_numbers(got)
        if got is None:
            return report(False, what, f"for {label} your function returned "
                                       f"{type(answer).__name__}: it should return an array "
                                       "of numbers")
        if got.shape != (m, n):
            shape = f"has shape {got.shape}" if number < len(DOT_SHAPES) else "has the wrong shape"
            return report(False, what, f"for {label} your result {shape}; it needs one "
                                       "row per row of A and one column per row of B")
        for i in range(m):
            for j in range(n):
                true = sum(A[i, t] * B[j, t] for t in range(k))
                if not abs(got[i, j] - true) <= 1e-9 * max(1.0, abs(true)):
                    where = f"entry [{i}, {j}] is not the dot product of row {i} of A with " \
                            f"row {j} of B" if number < len(DOT_SHAPES) else \
                            "an entry is not the dot product of its row of A with its row of B"
                    return report(False, what, f"for {label}, {where}")
    return report(True, what, f"every entry is the right dot product, for {len(DOT_SHAPES)} "
                              "pairs of shapes and 2 drawn at random")


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
        detail = ("not filled in yet: give a dict from each expression to its shape"
                  if is_unset(answers) else f"expected a dict, got {type(answers).__name__}")
        return report(False, what, detail)
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
