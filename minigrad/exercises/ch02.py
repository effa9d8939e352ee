"""Checkers for the exercises of chapter 2, Values and computation graphs."""
import math
import numbers

from minigrad.exercises import package_rule_entries
from minigrad.exercises import rule_verdict
from minigrad.exercises import (autograd_entries, backward_entries, close_detail,
                                copies_evaluated, describe_error, forbidding, fresh_rng,
                                is_placeholder,
                                not_filled_in, report, reports_forbidden, sources, traced)
from minigrad.exercises.what_runs import works_like_a_table
from minigrad.exercises.your_engine import keep

# the neuron of the chapter: inputs, weights and bias
NEURON = {"x1": 2.0, "x2": 0.5, "w1": -0.75, "w2": 1.2, "b": 1.7}


TWO_BRANCHES = {"a": 2.5, "b": -1.0, "c": 2.0, "d": -3.0}
#: What each gradient of L = (a + b)(c d) is computed from, by the chain rule: the other
#: branch, and the other factor of its own.
TWO_BRANCHES_SOURCES = [{"c", "d"}, {"c", "d"}, {"a", "b", "d"}, {"a", "b", "c"}]
BY_CHAIN_RULE = "the exercise asks for the gradients by the chain rule, worked out by hand"


def two_branches_loss(a, b, c, d):
    """The L of exercise 2.1: (a + b)(c d)."""
    return (a + b) * (c * d)


@reports_forbidden("dL/da, dL/db, dL/dc, dL/dd")
def check_two_branches(two_branches):
    """Exercise 2.1: ``two_branches(a, b, c, d)`` returns [dL/da, dL/db, dL/dc, dL/dd] for
    L = (a + b)(c d), by the chain rule: with the exercise's numbers and with numbers
    drawn at random, while every autograd is a trap.

    L is a straight line in each input, so a difference of L's values with any step is
    exact too: the inputs are handed over as :func:`traced` floats, and each gradient must
    be computed from the inputs the chain rule uses (dL/da from c and d, ...), not from its
    own input as well, which a difference needs. A number typed in fails on the drawn
    inputs."""
    what = "dL/da, dL/db, dL/dc, dL/dd"
    names = ["dL/da", "dL/db", "dL/dc", "dL/dd"]
    if is_placeholder(two_branches):
        return not_filled_in(what)
    if not callable(two_branches):
        return report(False, what, "two_branches should be a function of a, b, c and d, got "
                                   f"{type(two_branches).__name__}")
    rng = fresh_rng()
    cases = [(list(TWO_BRANCHES.values()), "with the exercise's numbers")]
    cases += [([float(v) for v in rng.choice([-1, 1], size=4) * rng.uniform(0.5, 4, size=4)],
               "with numbers drawn at random") for _ in range(3)]
    answers = []
    for values, where in cases:
        inputs = [traced(v, name) for name, v in zip(TWO_BRANCHES, values)]
        entries = autograd_entries() + package_rule_entries() + backward_entries(two_branches)
        with copies_evaluated(two_branches, two_branches_loss) as copies, \
                forbidding(entries, [two_branches], BY_CHAIN_RULE):
            try:
                got = two_branches(*inputs)
            except Exception as error:
                return report(False, what, f"{where}, two_branches raised "
                                           f"{describe_error(error)}")
        if any(args != tuple(values) for args in copies):
            return report(False, what, "your two_branches evaluates a copy of L at other "
                                       "numbers: differences of L's values are a numerical "
                                       "derivative, exact at any step where L is a straight "
                                       f"line; {BY_CHAIN_RULE}")
        if is_placeholder(got):
            return not_filled_in(what)
        a, b, c, d = values
        right = [c * d, c * d, (a + b) * d, (a + b) * c]
        detail = close_detail(got, right, names=names)
        if detail is not None:
            if where.endswith("random") and not detail.startswith("expected"):  # unsaid numbers
                detail = ("not the gradients, though right with the exercise's numbers: "
                          "compute each from a, b, c and d")
            return report(False, what, f"{where}: {detail}")
        answers.append((got, inputs))
    # what each is computed from, once the numbers are right everywhere: a number typed
    # in is told it is not the gradient at the drawn inputs
    for got, (a, b, c, d) in answers:
        rules = [c * d, c * d, (a + b) * d, (a + b) * c]
        for name, gradient, needed, rule in zip(names, got, TWO_BRANCHES_SOURCES, rules):
            used = sources(gradient)
            if used - needed:
                own = name[-1] if name[-1] in used - needed else min(used - needed)
                return report(False, what, f"your {name} is computed from {own} itself: that "
                                           f"is a difference of L's values as {own} changes (a "
                                           "numerical derivative, exact here because L is a "
                                           f"straight line in {own}); {BY_CHAIN_RULE}")
            verdict = rule_verdict(gradient, rule, needed, name, "a, b, c and d",
                                   BY_CHAIN_RULE)
            if verdict is not None:
                return report(False, what, verdict)
    return report(True, what, "by the chain rule, with the exercise's numbers and with "
                              "numbers drawn at random")


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
    each recording its inputs (``_prev``) and operation (``_op``). A pass keeps the class,
    with them, in the reader's ``yourgrad/value.py``."""
    if is_placeholder(value_class):
        return not_filled_in("subtraction, powers and division")
    return keep("value", 2, 2, _check_operators, Value=value_class)


def _package_arithmetic():
    """:func:`forbidding`'s entries for the package's Value arithmetic: exercise 2.2's
    operators compute with plain numbers, not by asking minigrad."""
    from minigrad import value
    return [(value.Value, name, f"minigrad's Value.{name}")
            for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                         "__pow__", "__truediv__", "__rtruediv__", "__neg__")]


@reports_forbidden("subtraction, powers and division")
def _check_operators(Value):
    value_class = Value
    what = "subtraction, powers and division"
    drawn = fresh_rng().choice([-1.0, 1.0], size=2) * fresh_rng().uniform(0.5, 4.0, size=2)
    cases = [(5.0, -2.0, ""), (*map(float, drawn), ", with p and q drawn at random")]
    for p_data, q_data, where in cases:
        with forbidding(_package_arithmetic(), [value_class],
                        "the exercise asks for the operators on plain numbers"):
            failed = _operators_problem(value_class, what, p_data, q_data, where)
        if failed is not None:
            return failed
    return report(True, what)


def _operators_problem(value_class, what, p_data, q_data, where):
    """The FAIL (False) for the first wrong operator on p = p_data, q = q_data, or None."""
    p, q = value_class(p_data), value_class(q_data)
    cases = [
        ("p - q", lambda: p - q, p_data - q_data, (p, q), "-"),
        ("p ** 2", lambda: p ** 2, p_data ** 2, (p,), "**2"),
        ("p / q", lambda: p / q, p_data / q_data, None, None),
        ("(p - q) ** 3 / p", lambda: (p - q) ** 3 / p, (p_data - q_data) ** 3 / p_data, None, None),
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
            return report(False, what, f"{text} computes the wrong number{where}")
        recorded = tuple(getattr(result, "_prev", ()))
        same_inputs = prev is not None and len(recorded) == len(prev) \
            and all(r is s for r, s in zip(recorded, prev))
        if prev is not None and not same_inputs:
            names = " and ".join("p" if s is p else "q" for s in prev)
            inputs = "inputs" if len(prev) > 1 else "input"
            return report(False, what, f"{text} should record its {inputs} {names}, in that "
                                       "order, in _prev")
        if op is not None and getattr(result, "_op", None) != op:
            return report(False, what, f"{text} should record _op = {op!r}, "
                                       f"got {getattr(result, '_op', None)!r}")
        if prev is None and not (_reaches(result, p) and (text != "p / q" or _reaches(result, q))):
            return report(False, what, f"the graph of {text} does not lead back to its inputs: "
                                       "record them in _prev")
    return None


def _sigmoid_neuron_gradients(x1, x2, w1, w2, b):
    """do/dx1, do/dx2, do/dw1, do/dw2, do/db for o = sigmoid(x1 w1 + x2 w2 + b), by the chain
    rule."""
    o = 1 / (1 + math.exp(-(x1 * w1 + x2 * w2 + b)))
    g = o * (1 - o)
    return o, [w1 * g, w2 * g, x1 * g, x2 * g, g]


BY_HAND = "the exercise asks you to backpropagate by hand, setting each .grad yourself"


def check_sigmoid_neuron(sigmoid_neuron, value_class):
    """Exercise 2.3: ``sigmoid_neuron(x1, x2, w1, w2, b)`` builds the sigmoid neuron on the
    five leaves (``value_class`` objects) and backpropagates by hand, setting every ``.grad``;
    it returns the output ``o``. Tried on the chapter's numbers and on numbers drawn at
    random, with every autograd of the package a trap. A pass keeps ``Value.sigmoid`` in
    the reader's ``yourgrad/value.py``."""
    if is_placeholder(sigmoid_neuron) or is_placeholder(value_class):
        return not_filled_in("sigmoid neuron gradients")
    if not callable(getattr(value_class, "sigmoid", None)):
        return report(False, "sigmoid neuron gradients", f"{value_class.__name__} has no "
                                                         "sigmoid method: set Value.sigmoid")
    return keep("value", 2, 3, lambda Value: _check_sigmoid_neuron(sigmoid_neuron, Value),
                Value=value_class)


#: Python steps that the neuron, built and backpropagated by hand, stays well within (its
#: forward pass runs the reader's operators: a few dozen steps; the backward, a dozen lines).
NEURON_STEPS = 400


@reports_forbidden("sigmoid neuron gradients")
def _check_sigmoid_neuron(sigmoid_neuron, value_class):
    what = "sigmoid neuron gradients"
    if is_placeholder(sigmoid_neuron) or is_placeholder(value_class):
        return not_filled_in(what)
    names = list(NEURON)
    signs = fresh_rng().choice([-1, 1], size=5)
    drawn = [float(x) for x in signs * fresh_rng().uniform(0.3, 2.0, size=5)]
    for numbers_, where in [(list(NEURON.values()), "with the chapter's numbers"),
                            (drawn, "with numbers drawn at random")]:
        leaves = [value_class(x) for x in numbers_]
        with forbidding(autograd_entries() + package_rule_entries(), [sigmoid_neuron],
                        BY_HAND):
            try:
                o = sigmoid_neuron(*leaves)
            except Exception as error:
                return report(False, what,
                              f"{where}, sigmoid_neuron raised {describe_error(error)}")
        if is_placeholder(o) or is_placeholder(getattr(o, "data", None)):
            return not_filled_in(what)
        right_o, right = _sigmoid_neuron_gradients(*numbers_)
        if not math.isclose(getattr(o, "data", math.nan), right_o, rel_tol=1e-12):
            return report(False, what, f"{where}, o is not the sigmoid of the neuron's sum: "
                                       "check the forward pass (and return o)")
        grads = [getattr(leaf, "grad", None) for leaf in leaves]
        if all(g == 0 for g in grads):
            return report(False, what, "not filled in yet: every leaf's grad is still 0 "
                                       "(backpropagate by hand, from o.grad = 1.0 down)")
        detail = close_detail(grads, right, tol=1e-9, names=[f"do/d{k}" for k in names])
        if detail is not None:
            if where.endswith("random"):  # the drawn numbers' gradients stay unsaid
                wrong = [f"do/d{k}" for k, g, r in zip(names, grads, right)
                         if not (isinstance(g, numbers.Real)
                                 and math.isclose(g, r, rel_tol=1e-9, abs_tol=1e-9))]
                detail = (f"{', '.join(wrong)} wrong, though right with the chapter's numbers: "
                          "compute every gradient from the nodes' data, not from numbers "
                          "worked out once")
            return report(False, what, f"{where}: {detail}")
        # the chain rule by hand is exact to rounding; nudging is not (about 1e-10 off)
        inexact = [f"do/d{k}" for k, g, r in zip(names, grads, right)
                   if not abs(g - r) <= 1e-13 * max(1.0, abs(r))]
        if inexact:
            return report(False, what, f"{where}, {', '.join(inexact)}: close, but not "
                                       "exact, as a numerical derivative would be: set each "
                                       ".grad by the chain rule")
    # a table of differences per leaf, extrapolated to look exact, takes hundreds of steps
    table = works_like_a_table(sigmoid_neuron, *[value_class(x) for x in drawn],
                               limit=NEURON_STEPS)
    if table is not None:
        return report(False, what, f"{table.replace('derivative', 'backward pass')} "
                                   "(the chain rule)")
    return report(True, what, "with the chapter's numbers and with numbers drawn at random")


LEAVES = {"a": 3.0, "b": -2.0, "c": 8.0, "f": -1.5}


def _gradients(a, b, c, f):
    """dL/da, dL/db, dL/dc, dL/df for L = (a b + c) f."""
    return [b * f, a * f, f, a * b + c]


@reports_forbidden("the predicted change in L")
def check_downhill(predicted_change, actual):
    """Exercise 2.4: ``predicted_change(grads, step)``, the change in L that the gradients
    predict for a step of ``-step * gradient`` on every leaf, before the step; ``actual``,
    the change the chapter's step of 0.01 made. The function is also tried on gradients and
    steps drawn at random."""
    what = "the predicted change in L"
    if is_placeholder(predicted_change):
        return not_filled_in(what)
    try:
        actual = float(actual)
    except (TypeError, ValueError):
        return report(False, what, f"the measured change should be a number, got {actual!r}")
    a, b, c, f = LEAVES.values()
    grads = _gradients(a, b, c, f)
    a2, b2, c2, f2 = [v - 0.01 * g for v, g in zip((a, b, c, f), grads)]
    true_actual = (a2 * b2 + c2) * f2 - (a * b + c) * f
    if not math.isclose(actual, true_actual, rel_tol=1e-9):
        return report(False, what, "the measured change is not that of one step of -0.01 x "
                                   "gradient on every leaf: did the loop change anything else?")
    rng = fresh_rng()
    cases = [(grads, 0.01, "for the chapter's step")]
    cases += [(list(map(float, rng.normal(size=n) * 3)), float(rng.uniform(0.001, 0.1)),
               "for gradients and a step drawn at random") for n in (4, 2, 6)]
    for case_grads, step, where in cases:
        with forbidding(autograd_entries() + package_rule_entries(), [predicted_change],
                        "predict it from the gradients alone"):
            try:
                predicted = predicted_change(list(case_grads), step)
            except Exception as error:
                return report(False, what,
                              f"{where}, predicted_change raised {describe_error(error)}")
        if is_placeholder(predicted):
            return not_filled_in(what)
        try:
            predicted = float(predicted)
        except (TypeError, ValueError):
            return report(False, what,
                          f"predicted_change should return a number, got {predicted!r}")
        expected = -step * sum(g * g for g in case_grads)
        if math.isclose(predicted, expected, rel_tol=1e-9):
            continue
        if where == "for the chapter's step":
            if math.isclose(predicted, actual, rel_tol=1e-6):
                return report(False, what, "that is the change measured after the step; predict it "
                                           "from the gradients alone, before stepping")
            if predicted > 0:
                return report(False, what, f"{predicted:.4g} is an increase, but a step against "
                                           "every gradient lowers L")
            return report(False, what, f"{predicted:.4g} is not what the four gradients predict "
                                       "(each leaf moves by -step x its gradient)")
        return report(False, what, f"{where}, your prediction is not what the gradients predict, "
                                   "though it is for the chapter's: compute it from grads and step")
    predicted = -0.01 * sum(g * g for g in grads)
    return report(True, what, f"predicted {predicted:.4f}, measured {actual:.4f}: within 0.005, "
                              "as the straight-line estimate promises; and for gradients drawn "
                              "at random")
