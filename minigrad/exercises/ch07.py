"""Checkers for the exercises of chapter 7, the Tensor engine.

Each prints PASS, or FAIL with what is wrong (which input, which shapes),
without printing the expected answer; each also returns True or False.
The reader's classes are built in the notebook on the reader's own
``MiniTensor``, so the checkers take that class as an argument.

Inputs are drawn afresh on every run. A rule's gradients are compared with
the exact ones (closed forms in plain NumPy) to about 1e-13, closer than
finite differences reach, and while the reader's code runs any autograd
(the package's, the reader's own ``backward``, PyTorch's) and the package's
own operation are traps.
"""
import sys

import numpy as np

from minigrad import tensor
from minigrad.exercises import package_rule_entries
from minigrad.exercises import _reach
from minigrad.exercises import (arrays_close, as_gradients, as_numbers, autograd_entries,
                                backward_entries, describe_error, forbidding, fresh_rng, is_unset,
                                not_filled_in, report, reports_forbidden, summed_to_shape)
from minigrad.exercises.what_runs import (TRACING_OFF, run_traced, TracingOff,
                                          works_entry_by_entry)
from minigrad.exercises.your_engine import keep

RULE = "the exercise asks you to write the rule, without any autograd"
NOT_EXACT = ("is close to the right one but not equal to it, as a numerical derivative (finite "
             "differences) would be: the rule must be exact; write it from the local derivatives")

__all__ = ["check_walk", "check_unbroadcast", "check_divide", "check_permute", "check_engine"]


def sum_to_shape(copies, shape):
    """``copies`` (a gradient for every copy a broadcast made) added up for an input of
    ``shape``: over the axes broadcasting put in front, then over the stretched size-1 axes.
    Written here in plain NumPy, apart from the package's own ``unbroadcast``."""
    copies = np.asarray(copies, dtype=float)
    total = copies.sum(axis=tuple(range(copies.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and total.shape[i] != 1)
    return total.sum(axis=stretched, keepdims=True)


def rule_entries(answer, package_class):
    """:func:`forbidding`'s entries while a reader's operation runs: any autograd (the
    package's, PyTorch's, the ``backward`` of the reader's own classes) and the package's
    operation ``package_class`` (skipped if the package has no such class)."""
    entries = autograd_entries() + package_rule_entries() + backward_entries(answer)
    if package_class is not None:
        entries += [(package_class, name, f"minigrad's {package_class.__name__}")
                    for name in ("__init__", "_backward")]
    return entries


def rule_problem(name, got, exact, scale, described, hints=()):
    """What is wrong with the gradient ``got`` for input ``name`` (a sentence), or None.

    ``exact`` is the gradient in closed form and ``scale`` the same sum taken over the
    sizes of its terms: rounding moves a right rule by about 1e-16 of it, finite
    differences by 1e-10 or more. ``hints`` are ``(wrong, hint)`` pairs: a gradient a
    known mistake gives, and a sentence that points at it without giving the rule."""
    if np.all(np.abs(got - exact) <= 1e-13 * scale + 1e-300):
        return None
    if arrays_close(got, exact):
        return f"the gradient for {name} {NOT_EXACT} (for {described})"
    hint = next((hint for wrong, hint in hints
                 if got.shape == np.shape(wrong) and arrays_close(got, wrong)), None)
    return f"the gradient for {name} is wrong (for {described})" + (f": {hint}" if hint else "")


# ----- in the text: the walk, and summing a gradient back to its input's shape ---------

WALK = "your backward walk, mini_backpropagate"
WALK_TASK = ("the chapter asks you to write the walk, with the chapter's topological_order "
             "and accumulate, without minigrad's")
_CHAIN = 5000  # deeper than Python's default recursion limit allows a recursive walk


def _walk_entries():
    """Any autograd and minigrad's own sort, adding and summing back, while a walk runs."""
    from minigrad import autograd
    return autograd_entries() + [
        (tensor.Tensor, "__init__", "minigrad's Tensor"),
        (autograd, "unbroadcast", "minigrad's unbroadcast"),
        (autograd, "topological_order", "minigrad's topological_order"),
        (autograd, "accumulate", "minigrad's accumulate")]


def _three_uses_gradient(x, G):
    """d sum(G * (x * x + x)) / dx."""
    return G * (2 * x + 1)


def _tanh_gradients(x, w, G, which):
    """d sum(G * tanh(x * w)) / dx (``which`` 0) or / dw (1)."""
    slope = G * (1 - np.tanh(x * w) ** 2)
    return slope * (w, x)[which]


def _walk_cases(rng, MiniTensor, Add, Mul, Tanh):
    """Graphs of same-shaped inputs (shapes drawn afresh), each with its label, its root
    ``sum(G * out)`` and its leaves, each with the function of the checker's (and its
    arguments) that gives its exact gradient in plain NumPy: worked out after the walk,
    so that no expected gradient is in the checker's frames while it runs."""
    shape = tuple(rng.integers(2, 6, size=rng.integers(1, 4)))
    x, w, G = (rng.normal(size=shape) for _ in range(3))
    cases = []
    xt = MiniTensor(x.copy())
    out = Add(Mul(xt, xt), xt)  # x used three times
    cases.append(("x * x + x, x used three times", Mul(out, MiniTensor(G)),
                  [(xt, _three_uses_gradient, (x, G))]))
    xt, wt = MiniTensor(x.copy()), MiniTensor(w.copy())
    out = Tanh(Mul(xt, wt))
    cases.append(("tanh(x * w)", Mul(out, MiniTensor(G)),
                  [(xt, _tanh_gradients, (x, w, G, 0)), (wt, _tanh_gradients, (x, w, G, 1))]))
    return shape, cases


def check_walk(MiniTensor, Add, Mul, Tanh, mini_backpropagate):
    """The walk of the chapter's text, ``mini_backpropagate(root)``: sort with
    ``topological_order``, start the operations' results afresh and the root at ones, then
    hand each rule's local gradients to ``accumulate``, in reverse order. Tried on graphs of
    shapes drawn afresh (one input used three times), twice in a row, and on a chain of
    5,000 operations; any autograd and minigrad's sort and accumulate are traps."""
    return _check_walk(MiniTensor, Add, Mul, Tanh, mini_backpropagate)


@reports_forbidden(WALK)
def _check_walk(MiniTensor, Add, Mul, Tanh, mini_backpropagate):
    if is_unset(mini_backpropagate) or Ellipsis in mini_backpropagate.__code__.co_consts:
        return not_filled_in(WALK)
    # (the reader's code it reaches: a helper of theirs may make the call)
    if not any("accumulate" in code.co_names for code, _ in _reach([mini_backpropagate])[0]):
        return report(False, WALK, "your walk does not call accumulate: hand each local "
                                   "gradient to accumulate, the one place that adds (the "
                                   "chapter improves it next, and your walk must use it)")
    rng = fresh_rng()
    answers = [mini_backpropagate, MiniTensor, Add, Mul, Tanh]
    shape, cases = _walk_cases(rng, MiniTensor, Add, Mul, Tanh)
    for label, root, leaves in cases:
        root = root.sum()
        for call in ("a first", "a second"):
            try:
                with forbidding(_walk_entries(), answers, WALK_TASK):
                    mini_backpropagate(root)
            except Exception as error:  # the reader's code is under test: report, don't crash
                return report(False, WALK, f"on {label}, {call} walk raised "
                                           f"{describe_error(error)}")
            if root.grad is Ellipsis or (call == "a first" and all(
                    leaf.grad is None for leaf, _, _ in leaves)):
                return not_filled_in(WALK)
            root_grad = as_numbers(root.grad)
            if root_grad is None or root_grad.shape != root.shape or np.any(root_grad != 1):
                return report(False, WALK, "the root's gradient must start as dL/dL: an array "
                                           "of ones, of the root's shape")
            factor = 1 if call == "a first" else 2
            for leaf, gradient, arguments in leaves:
                exact = gradient(*arguments)
                got = as_numbers(leaf.grad)
                if got is None or got.shape != shape:
                    return report(False, WALK, f"on {label}, an input of shape {shape} was "
                                               "left without a gradient of its shape")
                if np.allclose(got, factor * exact, rtol=1e-12, atol=1e-300):
                    continue
                if call == "a second" and np.allclose(got, exact, rtol=1e-12, atol=1e-300):
                    return report(False, WALK, f"on {label}, a second walk left the inputs' "
                                               "gradients as the first did, instead of adding "
                                               "to them: does it add rather than set?")
                if call == "a second":
                    return report(False, WALK, f"on {label}, a second walk does not add the "
                                               "same gradients to the inputs again: does it "
                                               "start the operations' results afresh (None) "
                                               "before the walk?")
                if "three times" in label:
                    return report(False, WALK, f"on {label}: an input used several times must "
                                               "get the sum of one term per use: is every "
                                               "local gradient added (through accumulate), "
                                               "not set, and is each "
                                               "node's rule run only once, after every node "
                                               "that uses it?")
                return report(False, WALK, f"on {label}, an input's gradient is wrong: walk "
                                           "the order from the root back to the leaves")
    x = MiniTensor(np.ones(3))    # ones: the chain's product stays finite
    node = x
    for _ in range(_CHAIN):
        node = Mul(node, x)
    try:
        with forbidding(_walk_entries(), answers, WALK_TASK):
            mini_backpropagate(node)
    except RecursionError:
        return report(False, WALK, f"on a chain of {_CHAIN:,} operations your walk hit "
                                   "Python's recursion limit: walk the sorted list with a loop, "
                                   "not by calling a function on each node's inputs")
    if not np.allclose(as_numbers(x.grad), _CHAIN + 1):
        return report(False, WALK, f"on a chain of {_CHAIN:,} operations the gradient is wrong")
    return report(True, WALK, f"shapes drawn afresh, an input used three times, two walks in "
                              f"a row, and a chain of {_CHAIN:,} operations")


UNBROADCAST = "unbroadcast(grad, shape)"


def _unbroadcast_cases(rng):
    """Pairs (shape of a gradient, shape of the input it is summed back to), sizes drawn
    afresh: axes put in front, stretched size-1 axes, both, a single number, nothing to do,
    and a size-1 axis that was not stretched."""
    def sizes(n):
        return [int(s) for s in rng.integers(2, 6, size=n)]
    a, b, c = sizes(3)
    lead = sizes(int(rng.integers(1, 3)))
    return [((a, b), (b,)), ((*lead, a, b), (a, b)), ((a, b), (a, 1)), ((a, b), (1, b)),
            ((*lead, a, b, c), (a, 1, c)), ((c, a, b), (1, b)), ((a, b), ()),
            ((a, b, c), (a, b, c)), ((a, 1, c), (1, 1, c)), ((*lead, a), (1,))]


def check_unbroadcast(unbroadcast):
    """``unbroadcast(grad, shape)``: ``grad``, a gradient for every copy a broadcast made,
    summed back to the input's ``shape``. Tried on ten pairs of shapes drawn afresh, against
    the sum over the copies in plain NumPy; minigrad's unbroadcast is a trap."""
    return _check_unbroadcast(unbroadcast)


@reports_forbidden(UNBROADCAST)
def _check_unbroadcast(unbroadcast):
    if is_unset(unbroadcast):
        return not_filled_in(UNBROADCAST, "unbroadcast")
    problem = _unbroadcast_problem(unbroadcast, fresh_rng())
    if problem is None:
        return report(True, UNBROADCAST, "ten pairs of shapes drawn afresh: axes put in front, "
                                         "stretched size-1 axes, both, and a single number")
    if problem == NOT_FILLED:
        return not_filled_in(UNBROADCAST)
    return report(False, UNBROADCAST, problem)


NOT_FILLED = "not filled in"


def _torch_summing_entries():
    """PyTorch's own summing back to a shape, and its ways of making a tensor of the
    gradient (which any of its routes needs), if the reader imported it."""
    torch = sys.modules.get("torch")
    if torch is None:  # only if the reader imported it: the checker never does
        return []
    entries = [(torch.Tensor, "sum_to_size", "PyTorch's sum_to_size")]
    return entries + [(torch, name, f"PyTorch's {name}")
                      for name in ("from_numpy", "tensor", "as_tensor", "asarray", "Tensor")]


def _unbroadcast_problem(unbroadcast, rng):
    """What is wrong with the reader's ``unbroadcast`` (a sentence), or None."""
    from minigrad import autograd
    import minigrad.exercises as exercises
    entries = autograd_entries() + package_rule_entries()
    entries += [(autograd, "unbroadcast", "minigrad's unbroadcast"),
                (exercises, "unbroadcast", "minigrad's unbroadcast"),
                (exercises, "summed_to_shape", "the checkers' own sum")]
    for grad_shape, shape in _unbroadcast_cases(rng):
        G = rng.normal(size=grad_shape)
        described = f"a gradient of shape {grad_shape} summed back to shape {shape}"
        try:  # PyTorch's entries afresh: the answer may import it
            with forbidding(entries + _torch_summing_entries(), [unbroadcast],
                            "the exercise asks you to write it"):
                got, _, library = run_traced(unbroadcast, G.copy(), shape, watched=("torch",))
        except TracingOff:
            return f"your function {TRACING_OFF}"
        except Exception as error:  # the reader's code is under test: report, don't crash
            return f"for {described}, your function raised {describe_error(error)}"
        if library is not None:
            return (f"your function runs the code of {library} (PyTorch's, or another "
                    "thread's): the exercise asks you to write the sum in NumPy")
        if got is Ellipsis or got is None:
            return NOT_FILLED
        got = as_numbers(got)
        expected = sum_to_shape(G, shape)
        if got is None:
            return f"for {described}, your function did not return an array of numbers"
        if got.shape == grad_shape and grad_shape != shape:
            return (f"for {described}, your function returned the gradient unsummed, with "
                    f"its shape {grad_shape}: every copy that broadcasting made must be added "
                    "into the one number it was copied from")
        if got.shape != shape:
            return (f"for {described}, your result has shape {got.shape}: a gradient has its "
                    "input's shape (are the axes of size 1 kept, with size 1?)")
        if not np.allclose(got, expected, rtol=1e-12, atol=1e-12):
            return (f"for {described}, your result has the right shape but wrong numbers: "
                    "which entries of the gradient are copies of the same input entry?")
    return None


# ----- exercise: division with broadcasting ------------------------------------------

_DIVIDE_CASES = [((3, 4), (3, 4)), ((4, 3), (3,)), ((2, 3), (2, 1)), ((3,), (2, 3)), ((2, 3), ())]


def _check_op(op_name, op_class, make, forward, gradients, tensor_class, cases, what, entries):
    """Shared work of the operation checkers: build ``make(leaves)`` from arrays drawn at
    random, check its result and recorded inputs, call its ``_backward`` with a random
    gradient (``entries`` are traps while ``op_class``, the reader's, runs), sum each returned
    gradient back to its input's shape as the shared loop does, and compare with
    ``gradients(G, arrays, extra)``: the exact ones, and the sizes of their terms (and,
    optionally, :func:`rule_problem`'s hints for each)."""
    rng = fresh_rng()
    work = []  # (entries of the inputs, Python steps of the rule) for each case
    for shapes, extra in cases:
        arrays = [np.array(rng.normal(size=s) if i == 0 else  # a divisor stays away from 0
                           rng.choice([-1.0, 1.0], size=s) * rng.uniform(0.5, 2.0, size=s))
                  for i, s in enumerate(shapes)]
        described = ", ".join(f"{name} of shape {s}" for name, s in zip("ab", shapes))
        if extra is not None:
            described += f", axes {extra}"
        try:
            leaves = [tensor_class(a.copy()) for a in arrays]
        except Exception as error:
            return report(False, what, f"MiniTensor(array) raised {describe_error(error)}")
        try:
            with forbidding(entries, [op_class], RULE):
                node = make(leaves, extra)
        except Exception as error:
            return report(False, what, f"{op_name}({described}) raised {describe_error(error)}")
        data = getattr(node, "data", None)
        if is_unset(data):
            return not_filled_in(what, f"{op_name}'s __init__ (it records no result)")
        expected = forward(*arrays, extra)
        data = as_numbers(data)
        if data is None:
            return report(False, what, f"the result {op_name}'s __init__ records is not an array "
                                       "of numbers: record the array it computes (not a node)")
        if data.shape != expected.shape or not arrays_close(data, expected):
            wrong_shape = f" (shape {data.shape})" if data.shape != expected.shape else ""
            return report(False, what, f"forward pass: the result of {op_name} for {described} "
                                       f"is wrong{wrong_shape}")
        prev = getattr(node, "_prev", ())
        if len(prev) != len(leaves) or any(p is not leaf for p, leaf in zip(prev, leaves)):
            return report(False, what, f"{op_name} must record its inputs, in order: "
                                       f"self._record(result, {', '.join('ab'[:len(leaves)])})")
        G = rng.normal(size=expected.shape)
        try:
            with forbidding(entries, [op_class], RULE):
                local, steps, _ = run_traced(node._backward, G.copy())
        except TracingOff:
            return report(False, what, f"{op_name}._backward: {TRACING_OFF}")
        except Exception as error:
            return report(False, what, f"{op_name}._backward raised {describe_error(error)} "
                                       f"(for {described})")
        if is_unset(local):
            return not_filled_in(what, f"{op_name}._backward")
        work.append((sum(a.size for a in arrays), steps))
        local = as_gradients(local)
        if local is None:
            return report(False, what, f"{op_name}._backward must return a tuple, one gradient per "
                                       "input: (g,) for one input")
        if len(local) != len(leaves):
            return report(False, what, f"{op_name}._backward returned {len(local)} gradient(s) for "
                                       f"{len(leaves)} input(s): one per input, in order")
        for name, g, a, (exact, scale, *hints) in zip("ab", local, arrays,
                                                      gradients(G, arrays, extra)):
            if is_unset(g):
                return not_filled_in(what, f"the gradient for {name} in {op_name}._backward")
            g = as_numbers(g)
            if g is None:
                return report(False, what, f"the gradient for {name} is not an array of numbers")
            summed = summed_to_shape(g, a.shape)
            if summed is None:
                return report(False, what, f"the gradient for {name} has shape {g.shape}, which "
                                           f"cannot belong to {name} of shape {a.shape} (for "
                                           f"{described})")
            problem = rule_problem(name, summed, exact, scale, described, *hints)
            if problem:
                return report(False, what, problem)
    if works_entry_by_entry(work):
        return report(False, what, f"{op_name}._backward does Python work for every entry of "
                                   "its inputs (traced, its steps grow with their sizes), as "
                                   "finite differences do, even with steps that make them "
                                   "exact: write the rule with whole-array operations")
    return report(True, what, f"exact, for {len(cases)} combinations of shapes")


def _divide_gradients(G, arrays, _):
    """d(a/b)/da = 1/b and d(a/b)/db = -a/b², one term per copy, summed to each shape."""
    a, b = arrays
    terms = (G / b, -G * a / b ** 2)
    return [(sum_to_shape(t, x.shape), sum_to_shape(np.abs(t), x.shape))
            for t, x in zip(terms, arrays)]


def _permute_gradients(G, arrays, axes):
    """Axis k of the result is axis axes[k] of a: axis i of a's gradient is axis k of G
    with axes[k] == i, the inverse permutation."""
    inverse = [0] * len(axes)
    for k, axis in enumerate(axes):
        inverse[axis] = k
    moved = np.transpose(G, inverse)
    return [(moved, np.abs(moved))]


def check_divide(Div, MiniTensor):
    """Exercise 7.1, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 7, 1, _check_divide, Div=Div, MiniTensor=MiniTensor)


@reports_forbidden("Div(a, b)")
def _check_divide(Div, MiniTensor):
    """Check a reader's ``Div(a, b)`` operation on their ``MiniTensor`` class."""
    what = "Div(a, b)"
    if is_unset(Div) or is_unset(MiniTensor):
        return not_filled_in(what, "Div")
    cases = [(shapes, None) for shapes in _DIVIDE_CASES]
    return _check_op("Div", Div, lambda leaves, _: Div(*leaves), lambda a, b, _: a / b,
                     _divide_gradients, MiniTensor, cases, what,
                     rule_entries(Div, getattr(tensor, "Div", None)))


# ----- exercise: transposing any axes -----------------------------------------------

_PERMUTE_CASES = [((2, 3), (1, 0)), ((2, 3, 4), (1, 2, 0)), ((2, 3, 4), (2, 0, 1)),
                  ((3, 3, 3), (1, 2, 0)), ((2, 3, 4, 5), (0, 3, 1, 2)), ((2, 3, 4), (0, 1, 2))]


def check_permute(Permute, MiniTensor):
    """Exercise 7.2, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 7, 2, _check_permute, Permute=Permute, MiniTensor=MiniTensor)


@reports_forbidden("Permute(a, axes)")
def _check_permute(Permute, MiniTensor):
    """Check a reader's ``Permute(a, axes)`` operation on their ``MiniTensor`` class."""
    what = "Permute(a, axes)"
    if is_unset(Permute) or is_unset(MiniTensor):
        return not_filled_in(what, "Permute")
    cases = [((shape,), axes) for shape, axes in _PERMUTE_CASES]
    return _check_op("Permute", Permute, lambda leaves, axes: Permute(leaves[0], axes),
                     lambda a, axes: np.transpose(a, axes), _permute_gradients, MiniTensor, cases,
                     what, rule_entries(Permute, getattr(tensor, "Transpose", None)))


# ----- the engine written with the chapter: MiniTensor, its loop, its operations -----

ENGINE = "your MiniTensor engine"

#: What the chapter's engine is tried on: (label, function, shapes of the inputs). Each
#: function runs on the reader's MiniTensors and on minigrad's Tensors alike.
_ENGINE_CASES = [
    ("x + b, b of shape (3,) broadcast down the rows", lambda x, b: x + b, [(4, 3), (3,)]),
    ("x + c, c a column (4, 1) stretched", lambda x, c: x + c, [(4, 3), (4, 1)]),
    ("x * w, w broadcast over two new axes", lambda x, w: x * w, [(2, 4, 3), (3,)]),
    ("x * x, one input used twice", lambda x: x * x, [(3, 2)]),
    ("(x * w).tanh()", lambda x, w: (x * w).tanh(), [(4, 3), (4, 3)]),
    ("x.relu()", lambda x: x.relu(), [(5, 4)]),
    ("x.sum()", lambda x: x.sum(), [(3, 4)]),
    ("x.sum(axis=0)", lambda x: x.sum(axis=0), [(3, 4)]),
    ("x.sum(axis=1) of a 3-d x", lambda x: x.sum(axis=1), [(2, 3, 4)]),
    ("x.mean()", lambda x: x.mean(), [(3, 4)]),
    ("x.mean(axis=1)", lambda x: x.mean(axis=1), [(3, 4)]),
    ("x.max(axis=1)", lambda x: x.max(axis=1), [(4, 5)]),
    ("x.max() with the largest entry twice", lambda x: x.max(), ["tie"]),
    ("x.reshape(6, 2)", lambda x: x.reshape(6, 2), [(3, 4)]),
    ("x.T", lambda x: x.T, [(3, 4)]),
    ("x[[0, 1, 1], [2, 0, 0]], an entry picked twice",
     lambda x: x[[0, 1, 1], [2, 0, 0]], [(3, 4)]),
    ("x[1:3]", lambda x: x[1:3], [(4, 3)]),
    ("everything at once",
     lambda x, w, b: ((x * w + b).tanh().T.reshape(2, 6)[[0, 1, 1], [5, 0, 0]].sum()
                      + (x * w + b).relu().max(axis=1).mean()), [(4, 3), (3,), (4, 1)]),
]

#: Shapes summed back by unbroadcast: (gradient, input).

def _engine_entries():
    """Any autograd, minigrad's Tensor and its summing back, while the reader's engine runs."""
    from minigrad import autograd
    entries = autograd_entries()
    entries += [(tensor.Tensor, "__init__", "minigrad's Tensor"),
                (autograd, "unbroadcast", "minigrad's unbroadcast"),
                (autograd, "topological_order", "minigrad's topological_order"),
                (autograd, "accumulate", "minigrad's accumulate")]
    return _with_package_rules(entries)


def _with_package_rules(entries):
    """``entries`` and :func:`package_rule_entries` (the package's rules: a rule of the
    reader's handing its work to one, as ``Tanh._backward``'s, is refused), each once."""
    there = {(id(owner), name) for owner, name, _ in entries}
    return entries + [entry for entry in package_rule_entries()
                      if (id(entry[0]), entry[1]) not in there]


def _leaf_arrays(rng, shapes):
    return [rng.integers(0, 3, size=(3, 4)).astype(float) if s == "tie" else rng.normal(size=s)
            for s in shapes]


def _expected_runs(rng):
    """For each case: its label and function, the input arrays, the gradient G of the
    result, and minigrad's result and input gradients for sum(G * result)."""
    runs = []
    for label, function, shapes in _ENGINE_CASES:
        arrays = _leaf_arrays(rng, shapes)
        theirs = [tensor.Tensor(a.copy()) for a in arrays]
        expected = function(*theirs)
        G = rng.normal(size=expected.shape)
        (expected * tensor.Tensor(G)).sum().backward()
        runs.append((label, function, arrays, G, expected.data, [t.grad for t in theirs]))
    return runs


def _engine_problem(pieces, rng, runs):
    """What is wrong with the reader's engine (a sentence), or None; ``runs`` are
    :func:`_expected_runs`."""
    MiniTensor = pieces["MiniTensor"]
    problem = _unbroadcast_problem(pieces["unbroadcast"], rng)
    if problem is not None:
        return "your unbroadcast is " + ("not filled in" if problem == NOT_FILLED else
                                         "wrong: " + problem)
    x = MiniTensor(np.ones(3))    # ones: the chain's product stays finite
    node = x
    for _ in range(_CHAIN):
        node = pieces["Mul"](node, x)
    try:
        order = pieces["topological_order"](node)
    except RecursionError:
        return (f"topological_order on a chain of {_CHAIN} operations raised RecursionError: "
                "sort with a stack (a list you push to and pop from), not by recursion")
    if len(order) != _CHAIN + 1 or len({id(n) for n in order}) != _CHAIN + 1:
        return f"topological_order on a chain of {_CHAIN} operations does not give each node once"
    place = {id(n): i for i, n in enumerate(order)}
    if any(place[id(p)] > place[id(n)] for n in order for p in n._prev):
        return "topological_order puts a node before one of its inputs"
    try:
        pieces["mini_backpropagate"](node)
    except RecursionError:
        return (f"mini_backpropagate on a chain of {_CHAIN:,} operations hit Python's "
                "recursion limit: walk the sorted list with a loop")
    for label, function, arrays, G, expected, expected_grads in runs:
        mine = [MiniTensor(a.copy()) for a in arrays]
        try:
            out = function(*mine)
            root = out * MiniTensor(G)
            root = root.sum()
            root.backward()
        except Exception as error:  # the reader's code is under test: report, don't crash
            return f"for {label}, the forward or backward pass raised {describe_error(error)}"
        data = as_numbers(getattr(out, "data", None))
        if data is None or data.shape != expected.shape or not arrays_close(data, expected):
            return f"the forward pass of {label} is wrong"
        names = function.__code__.co_varnames[:function.__code__.co_argcount]
        for name, leaf, their in zip(names, mine, expected_grads):
            grad = as_numbers(leaf.grad) if leaf.grad is not None else None
            if grad is None:
                return f"for {label}, backward() left no gradient in input {name}"
            if grad.shape != leaf.shape:
                return (f"for {label}, the gradient of input {name} has shape {grad.shape}, but "
                        f"the input has shape {leaf.shape}: is every gradient summed back to "
                        "its input's shape in accumulate?")
            scale = max(1.0, float(np.abs(their).max()))
            if np.all(np.abs(grad - their) <= 1e-11 * scale):
                continue
            if arrays_close(grad, their):
                return f"for {label}, the gradient of input {name} {NOT_EXACT}"
            return f"for {label}, the gradient of input {name} is wrong"
        first = [leaf.grad.copy() for leaf in mine]
        try:
            root.backward()
        except Exception as error:
            return f"for {label}, a second backward() raised {describe_error(error)}"
        if not all(np.allclose(leaf.grad, 2 * g, rtol=1e-12, atol=1e-300)
                   for leaf, g in zip(mine, first)):
            return (f"for {label}, a second backward() does not add the same gradients to the "
                    "inputs again: does accumulate add to node.grad rather than set it, and "
                    "does the loop start the operations' results afresh?")
    return None


def check_engine(MiniTensor, topological_order, unbroadcast, accumulate, mini_backpropagate,
                 Add, Mul, Tanh, Relu, Sum, Mean, Max, Reshape, Transpose, GetItem):
    """The engine the chapter writes, kept in the reader's ``yourgrad/tensor.py`` when it
    passes :func:`_check_engine`."""
    return keep("tensor", 7, 0, _check_engine, MiniTensor=MiniTensor,
                topological_order=topological_order, unbroadcast=unbroadcast,
                accumulate=accumulate, mini_backpropagate=mini_backpropagate, Add=Add, Mul=Mul,
                Tanh=Tanh, Relu=Relu, Sum=Sum, Mean=Mean, Max=Max, Reshape=Reshape,
                Transpose=Transpose, GetItem=GetItem)


@reports_forbidden(ENGINE)
def _check_engine(MiniTensor, topological_order, unbroadcast, accumulate, mini_backpropagate,
                  Add, Mul, Tanh, Relu, Sum, Mean, Max, Reshape, Transpose, GetItem):
    """The chapter's engine as a whole, on arrays and shapes drawn afresh on every run:
    ``unbroadcast`` against the sum over copies, ``topological_order`` on a chain deeper
    than recursion allows, and every operation's result and gradients (after the
    reader's own loop) against minigrad's ``Tensor``, to about 1e-11; a second
    ``backward()`` must add the same again. Any autograd and minigrad's ``Tensor`` are
    traps while the reader's code runs."""
    pieces = dict(MiniTensor=MiniTensor, topological_order=topological_order,
                  unbroadcast=unbroadcast, accumulate=accumulate,
                  mini_backpropagate=mini_backpropagate, Add=Add, Mul=Mul, Tanh=Tanh, Relu=Relu,
                  Sum=Sum, Mean=Mean, Max=Max, Reshape=Reshape, Transpose=Transpose,
                  GetItem=GetItem)
    unset = [name for name, piece in pieces.items() if is_unset(piece)]
    if unset:
        return not_filled_in(ENGINE, unset[0])
    rng = fresh_rng()
    runs = _expected_runs(rng)
    with forbidding(_engine_entries(), list(pieces.values()),
                    "the chapter asks for your own engine, without minigrad's"):
        problem = _engine_problem(pieces, rng, runs)
    if problem:
        return report(False, ENGINE, problem)
    return report(True, ENGINE, f"{len(_ENGINE_CASES)} graphs agree with minigrad's Tensor, "
                                "results and gradients, exact; unbroadcast and a chain of "
                                f"{_CHAIN:,} operations too")
