"""Checkers for the course's exercises: each prints a clear PASS or FAIL.

They return ``True`` or ``False`` as well, so a notebook can use them in an
``assert`` once the reader's answer passes.
"""
import numpy as np

from minigrad.gradcheck import analytic_gradients, numerical_gradients


def _report(ok, what, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}: {what}" + (f"\n  {detail}" if detail else ""))
    return ok


def check_close(what, got, expected, tol=1e-6):
    """Compare a number (or array) the reader computed with the expected one."""
    got_a, expected_a = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got_a.shape != expected_a.shape:
        return _report(False, what, f"expected shape {expected_a.shape}, got shape {got_a.shape}")
    gap = float(np.max(np.abs(got_a - expected_a))) if got_a.size else 0.0
    if gap <= tol:
        return _report(True, what)
    return _report(False, what, f"expected {np.round(expected_a, 6)}, got {np.round(got_a, 6)} (off by {gap:.3g})")


def check_derivative(f, df, points, h=1e-6, tol=1e-5):
    """Check a reader's derivative ``df`` of a function of one number ``f`` at ``points``."""
    for x in points:
        numeric = (f(x + h) - f(x - h)) / (2 * h)
        got = df(x)
        if not abs(got - numeric) <= tol * max(1.0, abs(numeric)):
            return _report(False, f"derivative of {getattr(f, '__name__', 'f')}",
                           f"at x = {x:g} your derivative gives {got:.6g}, the slope is {numeric:.6g}")
    return _report(True, f"derivative of {getattr(f, '__name__', 'f')} at {len(points)} points")


def check_gradients(f, inputs, tol=1e-6):
    """Check the gradients that ``f(*inputs).backward()`` leaves in each input against
    central differences; ``f`` may use operations the reader wrote."""
    inputs = list(inputs)
    name = getattr(f, "__name__", "f")
    try:
        analytic = analytic_gradients(f, inputs)
    except Exception as error:  # the reader's code is under test: report, don't crash
        return _report(False, f"gradients of {name}", f"backward raised {type(error).__name__}: {error}")
    numeric = numerical_gradients(f, inputs)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        gap = float(np.max(np.abs(np.asarray(a) - np.asarray(n))))
        if not gap <= tol * max(1.0, float(np.max(np.abs(n)))):
            label = getattr(inputs[i], "name", "") or f"input {i}"
            return _report(False, f"gradients of {name}",
                           f"d{name}/d{label}: backpropagation gives {np.round(a, 6)}, "
                           f"finite differences give {np.round(n, 6)}")
    return _report(True, f"gradients of {name} match finite differences for all {len(inputs)} inputs")
