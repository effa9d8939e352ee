"""Checkers for the exercises of chapter 5, Training."""
import math

import sys

import numpy as np

from minigrad import optim
from minigrad.exercises import (autograd_entries, close_detail, describe_error, forbidding, fresh_rng,
                                is_placeholder, not_filled_in, report, reports_forbidden)
from minigrad.losses import cross_entropy_loss
from minigrad.value import Value


BY_FORMULA = "the exercise asks for the derivative by formula, from each p.data"


@reports_forbidden("MSE gradient")
def check_mse_gradient(mse_gradient):
    """Exercise 5.1: ``mse_gradient(predictions, targets)`` returns dL/dp_j = 2 (p_j - t_j) / n
    for the MSE loss, as plain numbers, for lists of any length (drawn at random on each
    run), with the package's autograd a trap."""
    what = "MSE gradient"
    if is_placeholder(mse_gradient):
        return not_filled_in(what)
    rng = fresh_rng()
    cases = [([2.5, 0.0, -1.0, 4.0], [3.0, -0.5, -1.0, 1.0])]
    cases += [(list(map(float, rng.uniform(-3, 3, size=n))), list(map(float, rng.uniform(-3, 3, size=n))))
              for n in (1, 3, 7)]
    for ps, ts in cases:
        try:
            with forbidding(autograd_entries(), [mse_gradient], BY_FORMULA):
                got = mse_gradient([Value(p) for p in ps], list(ts))
        except Exception as error:
            return report(False, what, f"mse_gradient raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        right = [2 * (p - t) / len(ps) for p, t in zip(ps, ts)]
        detail = close_detail(got, right, names=[f"dL/dp{j}" for j in range(len(ps))])
        if detail is not None:
            if len(ps) != 4:  # drawn at random: what the numbers are stays unsaid
                detail = "not the derivative (it is for the exercise's list?): compute it from the inputs"
            return report(False, what, f"for {len(ps)} predictions: {detail}")
    return report(True, what, "for lists of 1, 3, 4 and 7 predictions")


def _momentum_reference(steps, lr, momentum):
    """Where ``steps`` steps of SGD with momentum take (a, b) from (0, 0) on the bowl
    L = (a - 1)² + 10 (b + 2)², in plain floats: v = momentum v + g, then p -= lr v."""
    a = b = va = vb = 0.0
    for _ in range(steps):
        ga, gb = 2 * (a - 1), 20 * (b + 2)
        va, vb = momentum * va + ga, momentum * vb + gb
        a, b = a - lr * va, b - lr * vb
    return a, b


@reports_forbidden("momentum by hand")
def check_momentum(momentum_steps):
    """Exercise 5.2: ``momentum_steps(steps, lr, momentum)`` returns (a, b) after that many
    steps of SGD with momentum from (0, 0) on L(a, b) = (a - 1)² + 10 (b + 2)², computed by
    hand: tried with the exercise's 5 steps, lr 0.02, momentum 0.9, and with settings drawn
    at random, while the package's SGD and autograd are traps."""
    what = "momentum by hand"
    if is_placeholder(momentum_steps):
        return not_filled_in(what)
    entries = [(optim.SGD, "__init__", "minigrad's SGD"), (optim.SGD, "step", "minigrad's SGD.step()")]
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch.optim.SGD, "__init__", "PyTorch's SGD"))
    entries += autograd_entries()
    rng = fresh_rng()
    cases = [(5, 0.02, 0.9)] + [(int(rng.integers(1, 9)), float(rng.uniform(0.005, 0.04)),
                                 float(rng.uniform(0.5, 0.95))) for _ in range(3)]
    for number, (steps, lr, momentum) in enumerate(cases):
        try:
            with forbidding(entries, [momentum_steps], "the exercise asks you to take the steps by hand"):
                got = momentum_steps(steps, lr, momentum)
        except Exception as error:
            return report(False, what, f"momentum_steps raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        try:
            a, b = (float(x) for x in got)
        except (TypeError, ValueError):
            return report(False, what, f"momentum_steps should return two numbers (a, b), got {got!r}")
        if number == 0 and [a, b] == [0.0, 0.0]:
            return report(False, what, "a and b are still where they started")
        detail = close_detail([a, b], _momentum_reference(steps, lr, momentum), tol=1e-12, names=["a", "b"])
        if detail is not None and number == 0:
            return report(False, what, f"after 5 steps: {detail}")
        if detail is not None:
            return report(False, what, "right for the exercise's settings but not for steps, lr and "
                                       "momentum drawn at random: use the arguments")
    return report(True, what, "for the exercise's 5 steps and for settings drawn at random")


def _reference_logsumexp(zs):
    m = max(zs)
    return m + math.log(math.fsum(math.exp(z - m) for z in zs))


LOGSUMEXP_CASES = [[1000.0, -1000.0, 0.0, 999.0], [-1000.0, -1001.0, -1002.0],
                   [0.5], [1.0, 2.0, 3.0], [710.0, 0.0], [-745.5, -746.0]]


def _library_entries():
    """The log-sum-exps that libraries already have: the exercise asks for one by hand."""
    entries = [(np, "logaddexp", "NumPy's logaddexp"), (np, "logaddexp2", "NumPy's logaddexp2")]
    scipy_special = sys.modules.get("scipy.special")
    if scipy_special is not None:
        entries.append((scipy_special, "logsumexp", "SciPy's logsumexp"))
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch, "logsumexp", "PyTorch's logsumexp"))
    from minigrad import losses
    entries.append((losses, "cross_entropy_loss", "minigrad's cross_entropy_loss"))
    return entries


@reports_forbidden("logsumexp")
def check_logsumexp(logsumexp):
    """Exercise 5.3: ``logsumexp(zs)`` = log(sum(exp(z))) for plain floats, finite for any logits
    (those listed and some drawn at random); also compared with minigrad's cross-entropy.
    Libraries' log-sum-exps are traps while it runs."""
    what = "logsumexp"
    if is_placeholder(logsumexp):
        return not_filled_in(what)
    rng = fresh_rng()
    drawn = [list(map(float, rng.normal(size=int(rng.integers(1, 8))) * scale)) for scale in (3, 300)]
    for zs in LOGSUMEXP_CASES + drawn:
        named = zs in LOGSUMEXP_CASES
        for_zs = f"for zs = {zs}" if named else "for logits drawn at random"
        try:
            with forbidding(_library_entries(), [logsumexp], "the exercise asks you to write it with "
                                                             "math.exp, math.log and max"):
                got = logsumexp(list(zs))
        except (OverflowError, ZeroDivisionError, ValueError) as error:
            return report(False, what, f"{for_zs} it raised {describe_error(error)}: "
                                       "subtract the largest logit before exponentiating")
        except Exception as error:
            return report(False, what, f"{for_zs} it raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"{for_zs} it returned {type(got).__name__}, not a number")
        if not math.isclose(got, _reference_logsumexp(zs), rel_tol=1e-12, abs_tol=1e-12):
            gives = f" it gives {got!r}," if named else " it gives a number"
            return report(False, what, f"{for_zs}{gives} which is not log(sum(exp(z)))")
    for zs, t in [([1000.0, -1000.0, 0.0, 999.0], 3), ([-1000.0, -1001.0, -1002.0], 0)]:
        ours = logsumexp(list(zs)) - zs[t]
        theirs = cross_entropy_loss([Value(z) for z in zs], t).data
        if not math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12):
            return report(False, what, f"the cross-entropy for zs = {zs}, class {t} differs from minigrad's")
    return report(True, what, f"on {len(LOGSUMEXP_CASES)} lists of logits, up to ±1000, more drawn at "
                              "random, and as cross-entropy against minigrad's")
