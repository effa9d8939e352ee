"""Checkers for the exercises of chapter 1, Derivatives by hand and by machine.

Each answer is a function, tried at points named in the messages and at
points drawn afresh on every run (whose messages name no drawn number), so
that a number worked out once and typed in fails; the derivatives must be
exact, closer than finite differences get.
"""
import math
import numbers
import sys

import numpy as np

from minigrad.exercises import ForbiddenCall, package_rule_entries
from minigrad.exercises.what_runs import works_like_a_table
from minigrad.exercises import (EXACT, NOT_FILLED_IN, autograd_entries, check_derivative,
                                close_detail, copies_evaluated, degree, describe_error,
                                forbidding, fresh_rng, is_placeholder, not_filled_in,
                                recording_calls, report, reports_forbidden, same_polynomial,
                                sources, traced, NOT_BY_RULE)


def q(x):
    """The polynomial of exercise 1.1: 4x³ - 2x² + x - 5."""
    return 4 * x**3 - 2 * x**2 + x - 5


def sigmoid(x):
    """1 / (1 + e^-x), the function of exercise 1.2."""
    return 1 / (1 + math.exp(-x))


def q_slope(x):
    """The exact derivative of ``q``: 12x² - 4x + 1 (at least 2/3, so a relative test is fair)."""
    return 12 * x * x - 4 * x + 1


def sigmoid_slope(x):
    """The exact derivative of the sigmoid, e^-|x| / (1 + e^-|x|)², which never overflows."""
    e = math.exp(-abs(x))
    return e / (1 + e) ** 2


def check_power_rule(dq):
    """Exercise 1.1: ``dq(x)`` is the derivative of ``q(x) = 4x³ - 2x² + x - 5``, exactly:
    at the points of the exercise and at points drawn at random, to 1e-13.

    The rule is a polynomial written from the power rule: it never needs a value of ``q``,
    so calling ``q`` at all fails. That is what tells it from differences of ``q``'s values:
    with big steps, a central difference's error on a cubic is a multiple of h², which
    Richardson's extrapolation (or two steps combined) cancels exactly, leaving only
    rounding, which no tolerance can tell from the rule's. The same differences on a copy
    of ``q`` written out compute cubes of x: x is handed over as a :func:`traced` float,
    and the rule must be a polynomial of degree 2 in it."""
    return check_derivative(q, dq, points=[-2.0, -0.5, 0.0, 1.0, 3.0, 10.0], slope=q_slope,
                            drawn=fresh_rng().uniform(-20, 20, size=6), may_call=False,
                            max_degree=2, entries=polynomial_derivative_entries(),
                            judge_work=works_like_a_table)


def polynomial_derivative_entries():
    """:func:`forbidding`'s entries for NumPy's derivatives of polynomials: ``np.polyder``,
    ``poly1d.deriv``, and ``deriv`` and the ``*der`` function of each of
    ``np.polynomial``'s kinds (power series, Chebyshev, Legendre, ...)."""
    from numpy import polynomial as kinds
    entries = [(np, "polyder", "NumPy's polyder"), (np.poly1d, "deriv", "NumPy's poly1d.deriv"),
               (kinds._polybase.ABCPolyBase, "deriv", "NumPy's Polynomial.deriv")]
    for kind in ("polynomial", "chebyshev", "legendre", "laguerre", "hermite", "hermite_e"):
        module = getattr(kinds, kind)
        entries += [(module, name, f"NumPy's {name}") for name in vars(module)
                    if name.endswith("der") and not name.endswith("vander")
                    and callable(getattr(module, name))]
    return entries


def check_sigmoid_derivative(dsigmoid):
    """Exercise 1.2: ``dsigmoid(x)`` is the derivative of the sigmoid, exactly (to 1e-13, or
    1e-15 for the tiny slopes far from 0, where 1 - sigmoid(x) keeps only a few digits).

    The rule σ(x)(1 - σ(x)) may call ``sigmoid``, but only at x itself: a call anywhere
    else is a difference of its values, a numerical derivative at any step."""
    return check_derivative(sigmoid, dsigmoid, points=[-3.0, -0.5, 0.0, 0.7, 2.5, 6.0, 25.0, -30.0],
                            slope=sigmoid_slope, drawn=fresh_rng().uniform(-12, 12, size=6),
                            abs_tol=1e-15, judge_work=works_like_a_table)


def r(a, b):
    """The function of exercise 1.3: a²b - 3b."""
    return a * a * b - 3 * b


def r_slopes(a, b):
    """The exact partial derivatives of ``r``: (2ab, a² - 3), and the sizes of their terms
    (what rounding is measured against: a² - 3 may cancel to nearly 0)."""
    return (2 * a * b, a * a - 3), (abs(2 * a * b), a * a + 3)


PARTIALS_POINT = (1.5, -2.0)
BY_HAND = "the exercise asks for the partial derivatives by hand"


#: Marks a problem with how right numbers were computed, said once all points are right.
LATER = "later"


def _partials_problem(r_partials, a, b, label):
    """What is wrong with ``r_partials(a, b)`` (a sentence), or None; ``label`` names the point.
    A problem with how right numbers were computed comes as ``(LATER, sentence)``."""
    with copies_evaluated(r_partials, r) as copies, \
            recording_calls(r_partials, ["r"], [sys.modules[__name__]]) as calls:
        with forbidding(autograd_entries() + package_rule_entries(), [r_partials],
                        BY_HAND):
            try:
                got = r_partials(traced(a, "a"), traced(b, "b"))
            except Exception as error:  # the reader's code is under test: report, don't crash
                return f"{label}, r_partials raised {describe_error(error)}"
    if is_placeholder(got):
        return NOT_FILLED_IN
    try:
        dr_da, dr_db = got
    except (TypeError, ValueError):
        return f"r_partials should return two numbers, (dr/da, dr/db), got {got!r}"
    for name, value in (("dr/da", dr_da), ("dr/db", dr_db)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{name} should be a number, got {type(value).__name__}"
    odd = [x for args in calls for x in args
           if isinstance(x, bool) or not isinstance(x, numbers.Real)]
    if odd:
        return (f"your r_partials calls r on a {type(odd[0]).__name__}, not on numbers: the "
                "exercise asks for the rule, by hand, not a derivative that a machine takes")
    if any(args != (a, b) for args in copies):
        return ("your r_partials evaluates a copy of r away from (a, b): differences of r's "
                "values are a numerical derivative, exact at any step where r is a straight "
                "line; the exercise asks for the rule, by hand")
    if any(tuple(args) != (a, b) for args in calls):
        return ("your r_partials calls r away from (a, b): that is a numerical derivative "
                "(differences of r's values, at any step); the exercise asks for the rule, exact")
    exact, scales = r_slopes(a, b)
    wrong = close_detail([dr_da, dr_db], list(exact), tol=1e-5, names=["dr/da", "dr/db"])
    if wrong is not None:
        if label.endswith("random"):
            return (f"{label}, your partial derivatives are not the slopes of r, though they are "
                    "at (1.5, -2): compute them from a and b")
        return f"{label}, {wrong}"
    for name, got_one, right, scale in zip(("dr/da", "dr/db"), (dr_da, dr_db), exact, scales):
        if not abs(got_one - right) <= 1e-13 * scale:
            return f"{label}, {name}: {EXACT}"
    if "b" in sources(dr_db):
        return LATER, ("your dr/db is computed from b: that is a difference of r's values as b "
                "changes (a numerical derivative, exact here because r is a straight line in "
                "b); the exercise asks for the rule")
    if max(degree(dr_da), degree(dr_db)) > 2:
        return LATER, ("your partial derivatives are written as polynomials of degree 3 or more in a "
                "and b (or divide by them), though the rules of r, of degree 3, have degree 2: "
                "differences of r's values, even written out, are a numerical derivative, "
                "exact here because r is a polynomial; write the rules")
    if sources(dr_da) != {"a", "b"} or sources(dr_db) - {"b"} != {"a"}:
        return LATER, ("the checker follows how your partial derivatives are computed from a and b, "
                "and cannot here (float(), math and NumPy lose track): write them with +, -, "
                "* and ** on a and b")
    rules, _ = r_slopes(traced(a, "a"), traced(b, "b"))
    if not all(map(same_polynomial, (dr_da, dr_db), rules)):
        return LATER, NOT_BY_RULE.format(what="dr/da or dr/db", inputs="a and b",
                                         task=BY_HAND)
    return None


@reports_forbidden("partial derivatives of r")
def check_partials(r_partials):
    """Exercise 1.3: ``r_partials(a, b)`` returns ``(dr/da, dr/db)`` for ``r(a, b) = a²b - 3b``,
    exactly: at (1.5, -2) and at four points drawn at random, to 1e-13 of the terms' size.

    ``r`` is a parabola in a and a straight line in b, so a difference of its values with a
    big step (1, say) is exact to rounding: a rule may call ``r`` only at (a, b) itself, and
    dr/db, the slope of a straight line in b, must not be computed from b (a and b are
    handed over as :func:`traced` floats, which record what is computed from them)."""
    what = "partial derivatives of r"
    if is_placeholder(r_partials):
        return not_filled_in(what)
    rng = fresh_rng()
    points = [(PARTIALS_POINT, "at (1.5, -2)")]
    points += [((float(a), float(b)), "at a point drawn at random")
               for a, b in rng.uniform(-5, 5, size=(4, 2))]
    later = []  # how right numbers were computed: said once every point has them
    for (a, b), label in points:
        problem = _partials_problem(r_partials, a, b, label)
        if problem == NOT_FILLED_IN:
            return not_filled_in(what)
        if isinstance(problem, tuple):
            later.append(problem[1])
        elif problem is not None:
            return report(False, what, problem)
    if later:
        return report(False, what, later[0])
    return report(True, what, "exact, at (1.5, -2) and at 4 points drawn at random")


def f(x):
    """The function of exercise 1.4, the chapter's f: x³ - 3x."""
    return x**3 - 3 * x


def best_forward_step(x=2.2, eps=1e-16):
    """Where the forward difference's two errors balance for f(x) = x³ - 3x:
    ½|f''(x)| h = eps |f(x)| / h, with f''(x) = 6x."""
    return math.sqrt(abs(f(x)) * eps / (0.5 * abs(6 * x)))


#: What exercise 1.4 asks for, said when an answer gets its step another way.
BY_PREDICTION = ("the exercise asks you to predict the step from f(x) and f''(x), where "
                 "the two errors balance, not to measure it")
#: More Python steps than a formula takes: trying step after step is a measurement.
PREDICTION_STEPS = 300


def _predicted_step(best_step, x):
    """``best_step(x)`` with the package's functions and the checker's own a trap, and no
    more than :data:`PREDICTION_STEPS` Python steps: trying steps one after another,
    keeping the one whose difference is closest to the slope, measures the best step."""
    from minigrad.exercises.what_runs import TooMuchWork, TracingOff, run_traced
    with forbidding(autograd_entries() + package_rule_entries(), [best_step], BY_PREDICTION):
        try:
            return run_traced(best_step, x, limit=PREDICTION_STEPS)[0]
        except TooMuchWork:
            raise ForbiddenCall(f"your best_step takes more steps than a formula does, as a "
                                f"search does: {BY_PREDICTION}") from None
        except TracingOff:
            raise ForbiddenCall(f"your best_step turned the checker's tracing off: "
                                f"{BY_PREDICTION}") from None


@reports_forbidden("the best step of the forward difference")
def check_best_step(best_step):
    """Exercise 1.4: ``best_step(x)``, the predicted best step of the forward difference of
    f at x, within a factor of 3: at x = 2.2 and at four points drawn at random."""
    what = "the best step of the forward difference"
    if is_placeholder(best_step):
        return not_filled_in(what)
    if not callable(best_step):
        return report(False, what, f"best_step should be a function of x, got "
                                   f"{type(best_step).__name__} {best_step!r}")
    rng = fresh_rng()
    # far from 2.2 as well as near it, so that no single number is within 3 of every answer
    sizes = [rng.uniform(2, 5), rng.uniform(2, 5), rng.uniform(10, 50), rng.uniform(10, 50)]
    drawn = [float(x) for x in rng.choice([-1, 1], size=4) * sizes]
    for number, x in enumerate([2.2] + drawn):
        label = "at x = 2.2" if number == 0 else "at a point x drawn at random"
        try:
            h = _predicted_step(best_step, x)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report(False, what, f"{label} best_step raised {describe_error(error)}")
        if is_placeholder(h):
            return not_filled_in(what)
        if isinstance(h, bool) or not isinstance(h, numbers.Real) or not h > 0:
            return report(False, what, f"{label} best_step gave {h!r}: a step is a positive number")
        ratio = h / best_forward_step(x)
        if 1 / 3 <= ratio <= 3:
            continue
        how = "large" if ratio > 3 else "small"
        if number == 0:
            return report(False, what, f"{label}, h = {h:.2g} is more than three times too {how}")
        return report(False, what, f"{label}, your step is more than three times too {how}, though "
                                   "it is right at x = 2.2: compute it from f(x) and f''(x)")
    return report(True, what, "at x = 2.2 and at 4 points drawn at random")
