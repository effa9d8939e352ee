"""Checkers for the exercises of chapter 1, Derivatives by hand and by machine."""
import math
import numbers

from minigrad.exercises import check_close, check_derivative, fresh_rng, is_placeholder, not_filled_in, report


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
    at the points of the exercise and at points drawn at random, to 1e-13."""
    return check_derivative(q, dq, points=[-2.0, -0.5, 0.0, 1.0, 3.0, 10.0], slope=q_slope,
                            drawn=fresh_rng().uniform(-20, 20, size=6))


def check_sigmoid_derivative(dsigmoid):
    """Exercise 1.2: ``dsigmoid(x)`` is the derivative of the sigmoid, exactly (to 1e-13, or
    1e-15 for the tiny slopes far from 0, where 1 - sigmoid(x) keeps only a few digits)."""
    return check_derivative(sigmoid, dsigmoid, points=[-3.0, -0.5, 0.0, 0.7, 2.5, 6.0, 25.0, -30.0],
                            slope=sigmoid_slope, drawn=fresh_rng().uniform(-12, 12, size=6),
                            abs_tol=1e-15)


def check_partials(dr_da, dr_db):
    """Exercise 1.3: the two partial derivatives of ``r(a, b) = a²b - 3b`` at (1.5, -2)."""
    a, b = 1.5, -2.0
    what = "[dr/da, dr/db] at (1.5, -2)"
    answers = {"dr/da": dr_da, "dr/db": dr_db}
    if any(answer is None or answer is Ellipsis for answer in answers.values()):
        return not_filled_in(what)
    for name, answer in answers.items():
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
            return report(False, what, f"{name} should be a number, got {type(answer).__name__}")
    return check_close(what, [dr_da, dr_db], [2 * a * b, a * a - 3], names=["dr/da", "dr/db"])


def best_forward_step(x=2.2, eps=1e-16):
    """Where the forward difference's two errors balance for f(x) = x³ - 3x."""
    f = x**3 - 3 * x
    second = 6 * x
    return math.sqrt(abs(f) * eps / (0.5 * second))


def check_best_step(my_h):
    """Exercise 1.4: the predicted best step of the forward difference, within a factor of 3."""
    what = "the best step of the forward difference at x = 2.2"
    if is_placeholder(my_h):
        return not_filled_in(what)
    if not isinstance(my_h, numbers.Real) or not my_h > 0:
        return report(False, what, f"a step is a positive number, got {my_h!r}")
    ratio = my_h / best_forward_step()
    if ratio > 3:
        return report(False, what, f"h = {my_h:.2g} is more than three times too large")
    if ratio < 1 / 3:
        return report(False, what, f"h = {my_h:.2g} is more than three times too small")
    return report(True, what)
