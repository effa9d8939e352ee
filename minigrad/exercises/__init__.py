"""Checkers for the course's exercises: each prints a clear PASS or FAIL.

A checker judges the reader's answer and, when it is wrong, says *what* is
wrong (which entry, which input, which node) without printing the answer
itself. It also returns ``True`` or ``False``, so that a notebook can keep the
result. A placeholder (``...`` or ``None``) left in an answer is reported as
"not filled in yet", so an exercise's starter cell runs without an error.

The generic helpers are here; the checkers of chapter NN, which hold each
exercise's data so that the starter cells need not, are in ``chNN``.
"""
import math
import numbers
import sys
import textwrap

import numpy as np

from minigrad.autograd import unbroadcast
from minigrad.gradcheck import TOLERANCE, analytic_gradients, numerical_gradients, relative_gaps

__all__ = ["report", "is_unset", "is_placeholder", "not_filled_in", "describe_error", "call_answer",
           "as_numbers", "as_gradients", "arrays_close", "summed_to_shape", "close_detail", "check_close", "check_derivative",
           "gradient_detail", "check_gradients"]

NOT_FILLED_IN = "not filled in yet: replace the ... with your answer"


def report(ok, what, detail=""):
    """Print ``PASS: what`` or ``FAIL: what`` (with ``detail`` on the next line) and return ``ok``."""
    ok = bool(ok)
    lines = [f"{'PASS' if ok else 'FAIL'}: {what}"]
    if detail:  # wrapped to fit a notebook's (and the book's) column
        lines.append(textwrap.fill(detail, width=76, initial_indent="  ", subsequent_indent="  ",
                                   break_long_words=False, break_on_hyphens=False))
    sys.stdout.write("\n".join(lines) + "\n")  # one write: one block of output
    return ok


def is_unset(value):
    """Whether ``value`` itself is an unfilled ``...`` or ``None`` (what it holds is not looked at:
    a rule's tuple of gradients may hold ``None`` on purpose, for an input that needs none)."""
    return value is None or value is Ellipsis


def is_placeholder(answer):
    """Whether ``answer`` is, or contains, an unfilled ``...`` or ``None``."""
    if is_unset(answer):
        return True
    if isinstance(answer, (list, tuple)):
        return any(is_placeholder(a) for a in answer)
    if isinstance(answer, dict):
        return any(is_placeholder(a) for a in answer.values())
    return False


def not_filled_in(what, where=None):
    """The FAIL of a starter cell whose placeholders are still there (``where``: which part)."""
    detail = NOT_FILLED_IN if where is None else f"{where} is not filled in yet (it gives None or ...)"
    return report(False, what, detail)


def describe_error(error):
    """``TypeError: message``, for reporting an exception raised by the reader's code."""
    return f"{type(error).__name__}: {error}"


def _describe_argument(value):
    return f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)


def call_answer(what, function, *args):
    """``(True, function(*args))`` for the reader's function, or ``(False, None)`` after reporting
    that it is not filled in, not a function, or raised."""
    if is_unset(function):
        report(False, what, "not filled in yet: replace the placeholder with your function")
        return False, None
    if not callable(function):
        report(False, what, f"expected a function, got {type(function).__name__} {function!r}")
        return False, None
    try:
        return True, function(*args)
    except Exception as error:  # the reader's code is under test: report, don't crash
        report(False, what, f"calling it with {', '.join(map(_describe_argument, args))} raised "
                            f"{describe_error(error)}")
        return False, None


def as_numbers(value):
    """``value`` as an array of floats, or None if it is no (rectangular) array of numbers."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def as_gradients(local):
    """What a rule returned, as a tuple of gradients, or None if it is not a tuple (or list) of them.

    A bare array is one gradient, not a tuple: iterating it would give its rows.
    """
    if isinstance(local, np.ndarray):
        return None
    try:
        return tuple(local)
    except TypeError:
        return None


def arrays_close(got, expected, tol=1e-6):
    """Whether the array ``got`` is finite and within ``tol`` (relative, for entries above 1) of ``expected``."""
    scale = max(1.0, float(np.max(np.abs(expected)))) if np.size(expected) else 1.0
    return bool(np.all(np.isfinite(got))) and float(np.max(np.abs(got - expected), initial=0.0)) <= tol * scale


def summed_to_shape(grad, shape):
    """``grad`` summed back to ``shape`` as the shared backward loop does, or None if it cannot be."""
    try:
        return unbroadcast(np.asarray(grad, dtype=float), tuple(shape))
    except ValueError:
        return None


def report_raised(what, call, error):
    """The FAIL for reader's code that raised: ``call`` (as the reader would write it) and the error."""
    return report(False, what, f"{call} raised {describe_error(error)}")


def close_detail(got, expected, tol=1e-6, names=None):
    """What is wrong with the numbers ``got`` (a sentence), or ``None`` if they are close to ``expected``.

    The sentence names the wrong entries and says how they are wrong (too large,
    too small, the wrong sign), never what they should be.
    """
    if is_placeholder(got):
        return NOT_FILLED_IN
    try:
        got_a = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"expected numbers, got {type(got).__name__} {got!r}"
    expected_a = np.asarray(expected, dtype=float)
    if got_a.shape != expected_a.shape:
        def count(a):
            return "one number" if a.ndim == 0 else f"{a.size} numbers" if a.ndim == 1 else f"shape {a.shape}"
        return f"expected {count(expected_a)}, got {count(got_a)}"
    flat_got, flat_expected = got_a.ravel(), expected_a.ravel()
    wrong = []
    for i, (g, e) in enumerate(zip(flat_got, flat_expected)):
        if not abs(g - e) <= tol * max(1.0, abs(e)):  # `not <=` also catches nan
            label = names[i] if names is not None else (f"entry {i}" if flat_got.size > 1 else "your answer")
            if math.isnan(g):
                how = "is nan"
            elif e != 0 and g == 0:
                how = "should not be 0"
            elif e != 0 and math.copysign(1, g) != math.copysign(1, e):
                how = "has the wrong sign"
            else:
                how = "is too large" if g > e else "is too small"
            wrong.append(f"{label}: {g:.6g} {how}")
    return "; ".join(wrong) if wrong else None


def check_close(what, got, expected, tol=1e-6, names=None):
    """Compare numbers the reader computed with the right ones, entry by entry.

    ``got`` and ``expected`` are numbers or lists (or arrays) of numbers;
    ``names`` labels the entries in a FAIL message ("dL/da: 0 is too small").
    The message never shows the expected numbers. An entry passes when it is
    within ``tol`` of the expected one, or within ``tol`` times its size for
    numbers larger than 1.
    """
    detail = close_detail(got, expected, tol, names)
    return report(detail is None, what, detail or "")


def check_derivative(f, df, points, h=1e-6, tol=1e-5):
    """Check a reader's derivative ``df`` of a function of one number ``f`` at ``points``.

    At each point, ``df(x)`` is compared with the central difference
    ``(f(x + h) - f(x - h)) / 2h``. A FAIL names the first point where they
    disagree, and what ``df`` gave there, not the slope itself.
    """
    name = getattr(f, "__name__", "f")
    what = f"derivative of {name}"
    for x in points:
        try:
            got = df(x)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report(False, what, f"at x = {x:g} your derivative raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        if not isinstance(got, numbers.Real):
            return report(False, what, f"at x = {x:g} your derivative returned "
                                       f"{type(got).__name__} {got!r}, not a number")
        numeric = (f(x + h) - f(x - h)) / (2 * h)
        if not abs(got - numeric) <= tol * max(1.0, abs(numeric)):
            how = "too large" if got > numeric else "too small"
            return report(False, what, f"at x = {x:g} your derivative gives {got:.6g}, "
                                       f"which is {how} to be the slope of {name} there")
    return report(True, f"{what} at {len(points)} points")


def gradient_detail(f, inputs, tol=TOLERANCE):
    """What is wrong with the gradients backpropagation through ``f`` gives the inputs
    (a sentence), or ``None`` if they agree with central differences: a relative
    gap (``minigrad.gradcheck``'s measure) of at most ``tol``."""
    inputs = list(inputs)
    name = getattr(f, "__name__", "f")
    try:
        analytic = analytic_gradients(f, inputs)
    except Exception as error:  # the reader's code is under test: report, don't crash
        return f"the forward or backward pass raised {describe_error(error)}"
    try:
        numeric = numerical_gradients(f, inputs)
        value = float(np.asarray(f(*inputs).data))
    except Exception as error:
        return f"the forward pass raised {describe_error(error)}"
    labels = [getattr(x, "name", "") or f"input {i}" for i, x in enumerate(inputs)]
    for label, a in zip(labels, analytic):
        if a is None or not isinstance(a, (numbers.Real, np.ndarray)):
            return f"d{name}/d{label}: backward() left grad = {a!r}, not a number"
    gaps = relative_gaps(analytic, numeric, value)
    for label, a, n, gap in zip(labels, analytic, numeric, gaps):
        if not gap <= tol:
            return (f"d{name}/d{label}: backpropagation gives {np.round(a, 6)}, "
                    f"finite differences give {np.round(n, 6)}")
    return None


def check_gradients(f, inputs, tol=TOLERANCE):
    """Check the gradients that ``f(*inputs).backward()`` gives each input against
    central differences, as ``gradcheck`` does (a relative gap of at most ``tol``).

    ``f`` may use operations the reader wrote, and the inputs may be the
    package's ``Value``s or those of a class of the reader's own (anything with
    ``data``, ``grad`` and ``backward()``). Here the finite-difference slope is
    shown in a FAIL message: the exercise is the rule, not the number.
    """
    inputs = list(inputs)
    name = getattr(f, "__name__", "f")
    detail = gradient_detail(f, inputs, tol)
    if detail is not None:
        return report(False, f"gradients of {name}", detail)
    return report(True, f"gradients of {name} match finite differences for all {len(inputs)} inputs")
