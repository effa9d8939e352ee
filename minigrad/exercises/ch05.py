"""Checkers for the exercises of chapter 5, Training."""
import math
import random

from minigrad.exercises import check_close, close_detail, describe_error, is_placeholder, not_filled_in, report
from minigrad.losses import cross_entropy_loss, mse_loss
from minigrad.optim import SGD
from minigrad.value import Value


def check_mse_gradient(mse_gradient):
    """Exercise 5.1: ``mse_gradient(predictions, targets)`` returns dL/dp_j for the MSE
    loss, as plain numbers, for lists of any length."""
    what = "MSE gradient"
    rng = random.Random(5)
    cases = [([2.5, 0.0, -1.0, 4.0], [3.0, -0.5, -1.0, 1.0])]
    cases += [([rng.uniform(-3, 3) for _ in range(n)], [rng.uniform(-3, 3) for _ in range(n)])
              for n in (1, 3, 7)]
    for ps, ts in cases:
        predictions = [Value(p) for p in ps]
        mse_loss(predictions, ts).backward()
        try:
            got = mse_gradient([Value(p) for p in ps], list(ts))
        except Exception as error:
            return report(False, what, f"mse_gradient raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        detail = close_detail(got, [p.grad for p in predictions],
                              names=[f"dL/dp{j}" for j in range(len(ps))])
        if detail is not None:
            return report(False, what, f"for {len(ps)} predictions: {detail}")
    return report(True, what, "for lists of 1, 3, 4 and 7 predictions")


def check_momentum(a, b):
    """Exercise 5.2: where 5 steps of SGD with momentum 0.9 and lr 0.02 take (a, b) from (0, 0)
    on L(a, b) = (a - 1)² + 10 (b + 2)²."""
    what = "momentum by hand"
    if is_placeholder([a, b]):
        return not_filled_in(what)
    A, B = Value(0.0), Value(0.0)
    optimizer = SGD([A, B], lr=0.02, momentum=0.9)
    for _ in range(5):
        optimizer.zero_grad()
        ((A - 1) ** 2 + 10 * (B + 2) ** 2).backward()
        optimizer.step()
    if [a, b] == [0.0, 0.0]:
        return report(False, what, "a and b are still where they started")
    return check_close(what, [a, b], [A.data, B.data], tol=1e-12, names=["a", "b"])


def _reference_logsumexp(zs):
    m = max(zs)
    return m + math.log(math.fsum(math.exp(z - m) for z in zs))


LOGSUMEXP_CASES = [[1000.0, -1000.0, 0.0, 999.0], [-1000.0, -1001.0, -1002.0],
                   [0.5], [1.0, 2.0, 3.0], [710.0, 0.0], [-745.5, -746.0]]


def check_logsumexp(logsumexp):
    """Exercise 5.3: ``logsumexp(zs)`` = log(sum(exp(z))) for plain floats, finite for any logits;
    also compared with minigrad's cross-entropy."""
    what = "logsumexp"
    for zs in LOGSUMEXP_CASES:
        try:
            got = logsumexp(list(zs))
        except (OverflowError, ZeroDivisionError, ValueError) as error:
            return report(False, what, f"for zs = {zs} it raised {describe_error(error)}: "
                                       "shift the logits before exponentiating")
        except Exception as error:
            return report(False, what, f"for zs = {zs} it raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"for zs = {zs} it returned {got!r}, not a number")
        if not math.isclose(got, _reference_logsumexp(zs), rel_tol=1e-12, abs_tol=1e-12):
            return report(False, what, f"for zs = {zs} it gives {got!r}, which is not log(sum(exp(z)))")
    for zs, t in [([1000.0, -1000.0, 0.0, 999.0], 3), ([-1000.0, -1001.0, -1002.0], 0)]:
        ours = logsumexp(list(zs)) - zs[t]
        theirs = cross_entropy_loss([Value(z) for z in zs], t).data
        if not math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12):
            return report(False, what, f"the cross-entropy for zs = {zs}, class {t} differs from minigrad's")
    return report(True, what, f"on {len(LOGSUMEXP_CASES)} lists of logits, up to ±1000, and as "
                              "cross-entropy against minigrad's")
