"""Checkers for chapter 6, "Why vectorize".

The node count is asked for by formula: while the reader's function runs,
building the package's layers, models or Values, walking a graph and the
package's own counts are traps, running the code of the reader's engine
(``yourgrad``) or of PyTorch fails, as does doing work for every node
counted (Python steps, traced, as many as half the nodes); it is tried on
sizes drawn at random. The dot products are tried on arrays drawn afresh
on every run, and the Python steps the answer takes must not grow with the
arrays' sizes (no loop over rows, columns or entries). The shapes are
asked for as a function of the sizes, called with symbols standing for
them: it may not run NumPy (or PyTorch) to find them.
"""
import numpy as np

from minigrad import autograd
from minigrad.autograd import topological_order
from minigrad.exercises import _reach
from minigrad.exercises import (as_numbers, call_answer, describe_error,
                                forbidding, fresh_rng, is_unset, model_entries, report,
                                reports_forbidden, speed_entries, unusable_function)
from minigrad.exercises.what_runs import (ENGINES, TRACING_OFF, TooMuchWork, TracingOff,
                                          loop_in_python, run_traced)
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

#: The sizes at which an answer's work is measured against the nodes it counts.
_WORK_SIZES = (40, 25, 20)


def _counting_problem(layer_nodes):
    """Why ``layer_nodes`` counts by program (a sentence), or None: it runs an engine's
    code or PyTorch's, or takes a Python step for every two nodes it counts."""
    nodes = layer_nodes_by_formula(*_WORK_SIZES)
    try:
        _, _, module = run_traced(layer_nodes, *_WORK_SIZES, limit=nodes // 2, watched=ENGINES)
    except TooMuchWork as stopped:
        if stopped.args[0] is not None:
            return f"your layer_nodes runs the code of {stopped.args[0]} (an engine)"
        return ("your layer_nodes does work for every node it counts (a Python step for every "
                "two nodes, traced): that is counting by program")
    except TracingOff:
        return f"your layer_nodes: {TRACING_OFF}"
    except Exception:  # its errors are reported when it is called as the reader would
        return None
    if module is not None:
        return f"your layer_nodes runs the code of {module} (an engine, or another thread)"
    return None


@reports_forbidden("node count of a layer")
def check_layer_nodes(layer_nodes):
    """``layer_nodes(nin, nout, batch)``: the nodes a ReLU layer builds for a batch, by formula;
    tried at the sizes named in messages and at four drawn at random, with building the
    package's Values, layers or models (or walking a graph) a trap."""
    what = "node count of a layer"
    rng = fresh_rng()
    # two small, two beyond a table a reader might build beforehand (small enough for an
    # honest loop over the points and neurons)
    drawn = [tuple(int(n) for n in rng.integers(1, 40, size=3)) for _ in range(2)]
    drawn += [tuple(int(n) for n in rng.integers(41, 300, size=3)) for _ in range(2)]
    with forbidding(_graph_entries(layer_nodes), [layer_nodes], WITHOUT_COUNTING):
        problem = _counting_problem(layer_nodes) if callable(layer_nodes) else None
    if problem is not None:
        return report(False, what, f"{problem}: {WITHOUT_COUNTING}")
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


#: What an answer of NumPy arrays has no reason to run: the engines (not this checker's
#: arrays, whose methods NumPy calls back).
_ENGINES_BUT_THE_CHECKERS = ("minigrad.tensor", "minigrad.autograd", "minigrad.value",
                             "minigrad.tensor_nn", "minigrad.value_nn", "torch", "micrograd")

#: Sizes (m, n, k) at which an answer's Python steps are counted: the first, then each
#: size grown in turn; one matrix product takes as many steps at all of them.
_GROWTH_SIZES = ((2, 2, 2), (32, 2, 2), (2, 32, 2), (2, 2, 32))

ROW_BY_ROW = ("your function goes through A or B row by row (or entry by entry) in Python: "
              "the exercise asks for the whole table from one matrix product, with no loop")


def _looping_problem(all_dots, rng):
    """Why ``all_dots`` works through the arrays piece by piece (a sentence), or None: the
    Python steps it takes (traced) grow with ``m``, ``n`` or ``k``, as a loop's do."""
    cases = [(rng.normal(size=(m, k)).view(_Whole), rng.normal(size=(n, k)).view(_Whole))
             for m, n, k in _GROWTH_SIZES]
    try:
        return loop_in_python(all_dots, cases, ROW_BY_ROW, "the exercise asks for one "
                              "matrix product of NumPy arrays, with no loop", limit=4000,
                              watched=_ENGINES_BUT_THE_CHECKERS)
    except _RowByRow:
        return ROW_BY_ROW


def check_dot_products(all_dots):
    """``all_dots(A, B)``: the dot product of every row of A with every row of B, as one
    matrix; tried on arrays drawn afresh on every run, of the shapes named in messages and
    of two drawn at random. The arrays refuse to be gone through row by row or entry by
    entry in Python, and the Python steps the answer takes, traced, must not grow with
    the sizes (the exercise asks for one matrix product, no loop)."""
    what = "all dot products as one matrix product"
    rng = fresh_rng()
    problem = _looping_problem(all_dots, rng) if callable(all_dots) else None
    if problem is not None:
        return report(False, what, problem)
    drawn = [tuple(int(n) for n in rng.integers(2, 9, size=3)) for _ in range(2)]
    for number, (m, n, k) in enumerate(DOT_SHAPES + drawn):
        A, B = rng.normal(size=(m, k)), rng.normal(size=(n, k))
        try:
            ok, got = call_answer(what, all_dots, A.copy().view(_Whole),
                                  B.copy().view(_Whole))
        except _RowByRow:
            return report(False, what, ROW_BY_ROW)
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


SHAPE_ARRAYS = {"X": ("n", "d"), "W": ("d", "h"), "b": ("h",), "G": ("n", "h")}
_SHAPE_RULES = {
    "X @ W": lambda X, W, b, G: X @ W,
    "X @ W + b": lambda X, W, b, G: X @ W + b,
    "(X @ W + b).sum(axis=0)": lambda X, W, b, G: (X @ W + b).sum(axis=0),
    "X.T @ G": lambda X, W, b, G: X.T @ G,
    "G @ W.T": lambda X, W, b, G: G @ W.T,
    "G.mean()": lambda X, W, b, G: G.mean(),
}
SHAPE_QUESTIONS = tuple(_SHAPE_RULES)


class _Size:
    """A size known by its name only (``n``): it is no number, so that no array can be made
    with it; a shape is a tuple of them."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _true_shapes(sizes):
    """The shape of each expression, found by NumPy on arrays of the sizes ``sizes`` (a dict
    from each size's name to a whole number, all different), as a tuple of size names."""
    arrays = {name: np.zeros(tuple(sizes[s] for s in shape))
              for name, shape in SHAPE_ARRAYS.items()}
    names = {number: name for name, number in sizes.items()}
    return {question: tuple(names[s] for s in np.shape(rule(**arrays)))
            for question, rule in _SHAPE_RULES.items()}


RUN_NOTHING = ("the exercise asks you to work the shapes out from the rules, not to run "
               "the expressions")


@reports_forbidden("shapes of NumPy expressions")
def check_shapes(shapes):
    """``shapes(n, d, h)``: a dict giving the shape of each expression in ``SHAPE_QUESTIONS``
    when ``X``, ``W``, ``b`` and ``G`` have the shapes ``SHAPE_ARRAYS`` says, a tuple of the
    sizes. It is called with symbols standing for the sizes (no numbers, so no array can be
    made of them), traced: running NumPy's, PyTorch's or the package's code fails."""
    what = "shapes of NumPy expressions"
    unusable = unusable_function(what, shapes, "shapes")
    if unusable is not None:
        return unusable
    # NumPy's array type, called, makes arrays without a call the tracer sees
    if any("ndarray" in code.co_names for code, _ in _reach([shapes])[0]):
        return report(False, what, f"your shapes makes NumPy arrays (ndarray): {RUN_NOTHING}")
    symbols = {name: _Size(name) for name in ("n", "d", "h")}
    try:  # (forbidding: the checker's own functions are traps)
        with forbidding([], [shapes], RUN_NOTHING):
            answers, _, module = run_traced(shapes, *symbols.values(),
                                         watched=("numpy", "torch", "minigrad", "yourgrad"))
    except TracingOff:
        return report(False, what, f"your shapes: {TRACING_OFF}")
    except Exception as error:  # the reader's code is under test: report, don't crash
        return report(False, what, f"shapes(n, d, h) raised {describe_error(error)}")
    if module is not None:
        return report(False, what, f"your shapes runs the code of {module}: {RUN_NOTHING}")
    if is_unset(answers) or not isinstance(answers, dict):
        detail = ("not filled in yet: return a dict from each expression to its shape"
                  if is_unset(answers) else
                  f"shapes(n, d, h) should return a dict, got {type(answers).__name__}")
        return report(False, what, detail)
    missing = [q for q in SHAPE_QUESTIONS if q not in answers]
    if missing:
        return report(False, what, f"no answer for {missing[0]!r}")
    true = _true_shapes({"n": 7, "d": 3, "h": 5})
    for question in SHAPE_QUESTIONS:
        answer = answers[question]
        if is_unset(answer):
            return report(False, what, f"{question!r}: not filled in yet")
        if not isinstance(answer, (tuple, list)) \
                or not all(isinstance(size, _Size) for size in answer):
            return report(False, what, f"{question!r}: a shape is a tuple of the sizes n, d "
                                       f"and h, like (d, n), or () for a single number; got "
                                       f"{answer!r}")
        answer = tuple(size.name for size in answer)
        if answer != true[question]:
            return report(False, what, f"{question!r}: ({', '.join(answer)}"
                                       f"{',' if len(answer) == 1 else ''}) is not its shape")
    unknown = sorted(set(answers) - set(SHAPE_QUESTIONS), key=str)
    if unknown:
        return report(False, what, f"{unknown[0]!r} is not one of the expressions asked about")
    return report(True, what + f": all {len(SHAPE_QUESTIONS)} shapes are right, for any sizes")
