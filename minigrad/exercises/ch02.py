"""Checkers for the exercises of chapter 2, Values and computation graphs."""
import math

from minigrad.exercises import check_close, describe_error, is_placeholder, not_filled_in, report
from minigrad.value import Value

# the neuron of the chapter: inputs, weights and bias
NEURON = {"x1": 2.0, "x2": 0.5, "w1": -0.75, "w2": 1.2, "b": 1.7}


def check_two_branches(by_hand):
    """Exercise 2.1: dL/da, dL/db, dL/dc, dL/dd for L = (a + b)(c d) at (2.5, -1, 2, -3)."""
    leaves = [Value(x) for x in (2.5, -1.0, 2.0, -3.0)]
    a, b, c, d = leaves
    ((a + b) * (c * d)).backward()
    return check_close("dL/da, dL/db, dL/dc, dL/dd", by_hand, [v.grad for v in leaves],
                       names=["dL/da", "dL/db", "dL/dc", "dL/dd"])


def _reaches(root, target):
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(getattr(node, "_prev", ()))
    return False


def check_operators(value_class):
    """Exercise 2.2: ``-``, ``** k`` and ``/`` on the chapter's ``Value`` class, forward only,
    each recording its inputs (``_prev``) and operation (``_op``)."""
    what = "subtraction, powers and division"
    p, q = value_class(5.0), value_class(-2.0)
    cases = [
        ("p - q", lambda: p - q, 7.0, (p, q), "-"),
        ("p ** 2", lambda: p ** 2, 25.0, (p,), "**2"),
        ("p / q", lambda: p / q, -2.5, None, None),
        ("(p - q) ** 3 / p", lambda: (p - q) ** 3 / p, 68.6, None, None),
    ]
    for text, make, data, prev, op in cases:
        try:
            result = make()
        except Exception as error:
            if isinstance(error, TypeError) and "unsupported operand" in str(error):
                return report(False, what, f"{text} raised {describe_error(error)}: "
                                           "is the method attached to the class?")
            return report(False, what, f"{text} raised {describe_error(error)}")
        if is_placeholder(result):
            return not_filled_in(what)
        if not isinstance(result, value_class):
            return report(False, what, f"{text} gave {type(result).__name__} {result!r}, "
                                       f"not a {value_class.__name__}")
        if not math.isclose(result.data, data, rel_tol=1e-12):
            return report(False, what, f"{text} computes the wrong number ({result.data!r})")
        recorded = tuple(getattr(result, "_prev", ()))
        if prev is not None and not (len(recorded) == len(prev) and all(r is s for r, s in zip(recorded, prev))):
            names = " and ".join("p" if s is p else "q" for s in prev)
            return report(False, what, f"{text} should record its input{'s' if len(prev) > 1 else ''} "
                                       f"{names}, in that order, in _prev")
        if op is not None and getattr(result, "_op", None) != op:
            return report(False, what, f"{text} should record _op = {op!r}, "
                                       f"got {getattr(result, '_op', None)!r}")
        if prev is None and not (_reaches(result, p) and (text != "p / q" or _reaches(result, q))):
            return report(False, what, f"the graph of {text} does not lead back to its inputs: "
                                       "record them in _prev")
    return report(True, what)


def check_sigmoid_neuron(o, leaves):
    """Exercise 2.3: the gradients set by hand on the sigmoid neuron's five leaves
    ``[x1, x2, w1, w2, b]``, with ``o`` the neuron's output."""
    what = "sigmoid neuron gradients"
    if is_placeholder(o) or is_placeholder(leaves):
        return not_filled_in(what)
    names = list(NEURON)
    if len(leaves) != len(names):
        return report(False, what, f"expected the five leaves [x1, x2, w1, w2, b], got {len(leaves)} items")
    for name, leaf in zip(names, leaves):
        if getattr(leaf, "data", None) != NEURON[name]:
            return report(False, what, f"{name} should hold {NEURON[name]}, as in the chapter, "
                                       f"got {getattr(leaf, 'data', leaf)!r}")
    pkg = {k: Value(x) for k, x in NEURON.items()}
    pkg_o = (pkg["x1"] * pkg["w1"] + pkg["x2"] * pkg["w2"] + pkg["b"]).sigmoid()
    if not math.isclose(getattr(o, "data", math.nan), pkg_o.data, rel_tol=1e-12):
        return report(False, what, f"o = {getattr(o, 'data', o)!r} is not the sigmoid of the "
                                   "neuron's sum: check the forward pass")
    pkg_o.backward()
    return check_close(what, [leaf.grad for leaf in leaves], [pkg[k].grad for k in names],
                       names=[f"do/d{k}" for k in names])


def first_order_change(step=0.01):
    """The change in L = (ab + c) f that the gradients predict for a step of ``-step * grad``."""
    a, b, c, f = 3.0, -2.0, 8.0, -1.5
    grads = [b * f, a * f, f, a * b + c]
    return -step * sum(g * g for g in grads)


def check_downhill(predicted, actual):
    """Exercise 2.4: the change in L predicted from the gradients before the step
    (``predicted``), and the change measured after it (``actual``)."""
    what = "the predicted change in L"
    if is_placeholder(predicted):
        return not_filled_in(what)
    try:
        predicted, actual = float(predicted), float(actual)
    except (TypeError, ValueError):
        return report(False, what, f"expected two numbers, got {predicted!r} and {actual!r}")
    a, b, c, f = 3.0, -2.0, 8.0, -1.5
    stepped = [v - 0.01 * g for v, g in zip((a, b, c, f), (b * f, a * f, f, a * b + c))]
    a2, b2, c2, f2 = stepped
    true_actual = (a2 * b2 + c2) * f2 - (a * b + c) * f
    if not math.isclose(actual, true_actual, rel_tol=1e-9):
        return report(False, what, "the measured change is not that of one step of -0.01 x gradient "
                                   "on every leaf: did the loop change anything else?")
    expected = first_order_change()
    if math.isclose(predicted, expected, rel_tol=1e-6):
        return report(True, what, f"predicted {predicted:.4f}, measured {actual:.4f}: "
                                  "within 0.005, as the straight-line estimate promises")
    if math.isclose(predicted, actual, rel_tol=1e-6):
        return report(False, what, "that is the change measured after the step; predict it "
                                   "from the gradients alone, before stepping")
    if predicted > 0:
        return report(False, what, f"{predicted:.4g} is an increase, but a step against every "
                                   "gradient lowers L")
    return report(False, what, f"{predicted:.4g} is not what the four gradients predict "
                               "(each leaf moves by -0.01 x its gradient)")
