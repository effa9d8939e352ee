"""Checkers for the exercises of chapter 8: matrix products, initialisation, cross-entropy.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. Inputs are drawn afresh on every
run; the matrix product's rule is compared with the exact gradients (plain
NumPy) to about 1e-13, and any autograd, PyTorch's included, and the
package's own matrix product are traps while the reader's code runs.
"""
import math
import numbers

import numpy as np

from minigrad import tensor
from minigrad.exercises import (as_gradients, as_numbers, arrays_close, autograd_entries,
                                forbidding, fresh_rng, is_unset, not_filled_in, report,
                                reports_forbidden, summed_to_shape)
from minigrad.exercises.ch07 import RULE, rule_entries, rule_problem
from minigrad.tensor import Tensor

__all__ = ["check_batch_matmul", "check_leaky_init", "check_soft_targets"]


# ----- exercise: a stack of matrix products -----------------------------------------

_BATCH_CASES = [((3, 2, 4), (4, 5)), ((2, 3, 4), (2, 4, 2)), ((4, 3, 3), (3, 3)),
                ((2, 3, 3), (2, 3, 3)), ((1, 2, 3), (3, 2))]


def _torch_entries(entries):
    """Of ``entries``, those the checker's own backward() may meet: all but minigrad's autograd."""
    from minigrad import autograd
    return [entry for entry in entries if entry[0] not in (Tensor, autograd)]


@reports_forbidden("BatchMatMul(a, b)")
def check_batch_matmul(op_class):
    """Check a reader's ``BatchMatMul(a, b)``, a subclass of minigrad's Tensor, for a stack
    ``a`` (batch, n, k) times a shared ``b`` (k, m) or a stack ``b`` (batch, k, m), on
    arrays drawn at random: its gradients, after the shared loop, against the exact ones."""
    what = "BatchMatMul(a, b)"
    if is_unset(op_class):
        return not_filled_in(what, "BatchMatMul")
    entries = rule_entries(op_class, getattr(tensor, "MatMul", None))
    entries += [(tensor, "_matmul_backward", "minigrad's matrix product rule")]
    rng = fresh_rng()
    for sa, sb in _BATCH_CASES:
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        G = rng.normal(size=(A @ B).shape)
        described = f"a of shape {sa} and b of shape {sb}"
        a, b = Tensor(A.copy(), name="a"), Tensor(B.copy(), name="b")
        try:
            with forbidding(entries, [op_class], RULE):
                out = op_class(a, b)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report(False, what, f"BatchMatMul({described}) raised {type(error).__name__}: {error}")
        data = getattr(out, "data", None)
        if is_unset(data) or not isinstance(out, Tensor):
            return not_filled_in(what, "BatchMatMul's __init__ (it records no result)")
        data = np.asarray(data)
        if data.shape != G.shape or not arrays_close(data, A @ B, tol=1e-8):
            return report(False, what, f"forward pass: the product for {described} is wrong"
                                       + (f" (shape {data.shape})" if data.shape != G.shape else ""))
        prev = tuple(getattr(out, "_prev", ()))
        if len(prev) != 2 or prev[0] is not a or prev[1] is not b:
            return report(False, what, "BatchMatMul must record its inputs, in order: self._record(result, a, b)")
        try:
            with forbidding(entries, [op_class], RULE):
                local = out._backward(G.copy())
        except Exception as error:
            return report(False, what, f"_backward raised {type(error).__name__}: {error} (for {described})")
        if is_unset(local):
            return not_filled_in(what, "BatchMatMul._backward")
        local = as_gradients(local)
        if local is None:
            return report(False, what, "BatchMatMul._backward must return a tuple: "
                                       "(gradient for a, gradient for b)")
        if len(local) != 2:
            return report(False, what, f"BatchMatMul._backward returned {len(local)} gradient(s) "
                                       "for 2 inputs: one per input, in order")
        # Shapes first: a gradient that cannot be summed back to its input's shape
        # would make the comparison below (or the shared loop) fail with NumPy's error.
        for name, g, array in [("a", local[0], A), ("b", local[1], B)]:
            if is_unset(g):
                return not_filled_in(what, f"the gradient for {name} in BatchMatMul._backward")
            g = as_numbers(g)
            if g is None:
                return report(False, what, f"the gradient for {name} is not an array of numbers")
            if summed_to_shape(g, array.shape) is None:
                return report(False, what, f"the gradient for {name} has shape {g.shape}, but {name} "
                                           f"has shape {array.shape} (for {described})")
        try:
            loss = (out * G).sum()
            with forbidding(_torch_entries(entries), [op_class], RULE):
                loss.backward()  # the shared loop calls the reader's rule again
        except Exception as error:  # anything the reader's rule makes the shared loop raise
            return report(False, what, f"backward() through BatchMatMul raised {type(error).__name__}: "
                                       f"{error} (for {described})")
        # One matrix product per matrix of the stack; a shared b collects one term per matrix.
        for name, node, (expected, scale) in zip("ab", (a, b), _batch_gradients(A, B, G)):
            grad = np.asarray(node.grad, dtype=float)
            if grad.shape != expected.shape:
                return report(False, what, f"the gradient for {name} has shape {grad.shape}, but {name} "
                                           f"has shape {expected.shape} (for {described})")
            problem = rule_problem(name, grad, expected, scale, described)
            if problem:
                return report(False, what, problem)
    return report(True, what, f"for {len(_BATCH_CASES)} combinations of shapes, with b shared and "
                              "stacked, exact")


def _batch_gradients(A, B, G):
    """The exact gradients of sum(G * (A @ B)), and the same sums over the sizes of their
    terms: one matrix product per matrix of the stack (einsum), and for a shared b one
    term per matrix, summed."""
    stacked_b = np.broadcast_to(B, A.shape[:-2] + B.shape[-2:])
    found = []
    for f in (lambda x: x, np.abs):
        grad_a = np.einsum("...nm,...km->...nk", f(G), f(stacked_b))
        grad_b = np.einsum("...nk,...nm->...km", f(A), f(G))
        found.append((grad_a, grad_b.sum(axis=0) if B.ndim == 2 else grad_b))
    return list(zip(*found))


# ----- exercise: initialising a leaky ReLU ----------------------------------------

_LEAKY_CASES = [(256, 0.0), (256, 0.01), (64, 0.5), (1000, 1.0), (10, 0.2), (3, 0.1)]


def _factor_text(factor):
    """``factor`` (not 1) written so that it visibly differs from 1: ``1.2`` or ``1 + 5e-05``."""
    if abs(factor - 1) >= 0.01:
        return f"{factor:.3g}"
    return f"1 {'+' if factor > 1 else '-'} {abs(factor - 1):.2g}"


def check_leaky_init(std_fn):
    """Check ``std_fn(nin, slope)``: the weight std that keeps a leaky-ReLU layer's signal size,
    for the layer sizes and slopes named in messages and four drawn at random."""
    what = "the initial weight std for a leaky ReLU layer"
    if is_unset(std_fn):
        return not_filled_in(what, "leaky_relu_std")
    rng = fresh_rng()
    drawn = [(int(rng.integers(1, 3000)), float(rng.uniform(0.0, 1.0))) for _ in range(4)]
    for number, (nin, slope) in enumerate(_LEAKY_CASES + drawn):
        named = number < len(_LEAKY_CASES)
        call = f"leaky_relu_std({nin}, {slope})" if named else \
            "leaky_relu_std(nin, slope), for a size and slope drawn at random,"
        try:
            std = std_fn(nin, slope)
        except Exception as error:
            return report(False, what, f"{call} raised {type(error).__name__}: {error}")
        if is_unset(std):
            return not_filled_in(what, "leaky_relu_std")
        if not isinstance(std, (numbers.Real, np.floating, np.ndarray)) or np.ndim(std) != 0:
            return report(False, what, f"{call} should return one number")
        std = float(std)
        if not math.isfinite(std) or std <= 0:
            gave = f"{std}:" if named else "a number that is not positive:"
            return report(False, what, f"{call} gave {gave} a standard deviation is a positive "
                                       "number")
        # A layer multiplies the mean square of its signal by nin std² times what the
        # leaky ReLU keeps of it: (1 + slope²) / 2 for inputs symmetric around 0.
        factor = nin * std ** 2 * (1 + slope ** 2) / 2
        if abs(factor - 1) > 1e-6:
            if not named:
                change = "grow" if factor > 1 else "shrink"
                return report(False, what, f"with a layer size and slope drawn at random, your "
                                           f"std makes every layer {change} the mean square of the "
                                           "signal, though it is right for the cases named here: "
                                           "compute it from nin and slope")
            return report(False, what, f"with nin = {nin} and slope = {slope}, your std makes every layer "
                                       f"multiply the mean square of the signal by {_factor_text(factor)}; "
                                       "it should stay the same")
    return report(True, what, f"for {len(_LEAKY_CASES)} layer sizes and slopes, and 4 drawn at "
                              "random")


# ----- exercise: cross-entropy against a distribution -------------------------------

def _softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@reports_forbidden("the gradient of cross-entropy against soft targets")
def check_soft_targets(grad_fn):
    """Check ``grad_fn(Z, Q)`` = dL/dZ for L = mean over rows of -Σ_j Q[r, j] log softmax(Z[r])_j."""
    what = "the gradient of cross-entropy against soft targets"
    if is_unset(grad_fn):
        return not_filled_in(what, "soft_cross_entropy_grad")
    rng = fresh_rng()
    cases = [("random logits and targets", rng.normal(size=(5, 4)) * 2, rng.dirichlet(np.ones(4), size=5)),
             ("one-hot targets", rng.normal(size=(3, 6)), np.eye(6)[[1, 5, 0]]),
             ("a single row", rng.normal(size=(1, 3)), rng.dirichlet(np.ones(3), size=1)),
             # every row has a logit near 1000: too large for exp, fine shifted by any row's max
             ("logits as large as ±1000", np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0],
                                                    [0.0, -1000.0, 1000.0], [1000.0, -1000.0, 0.0]])
              + rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), size=4)),
             # Shifting by the largest logit of the whole batch, not of each row, leaves
             # the first row's exponentials at e^-2000 = 0, and its softmax 0 / 0.
             ("a row of logits near -1000 next to a row with +1000",
              np.array([[-1000.0, -1001.0, -999.5], [1000.0, 0.0, -1000.0]]) + rng.normal(size=(2, 3)),
              rng.dirichlet(np.ones(3), size=2))]
    for description, Z, Q in cases:
        try:
            with np.errstate(all="ignore"), forbidding(
                    autograd_entries(), [grad_fn], "the exercise asks for the gradient by hand"):
                got = grad_fn(Z.copy(), Q.copy())
        except Exception as error:
            return report(False, what, f"for {description}, your function raised {type(error).__name__}: {error}")
        if is_unset(got):
            return not_filled_in(what, "soft_cross_entropy_grad")
        got = as_numbers(got)
        if got is None:
            return report(False, what, "soft_cross_entropy_grad should return an array of numbers")
        if got.shape != Z.shape:
            return report(False, what, f"for logits of shape {Z.shape} the gradient has shape {got.shape}; "
                                       "a gradient has the shape of its tensor")
        if not np.all(np.isfinite(got)):
            return report(False, what, f"for {description} your gradient contains inf or nan"
                                       + (": does your softmax overflow, or divide 0 by 0 in some row?"
                                          if "1000" in description else ""))
        expected = (_softmax_rows(Z) - Q) / len(Z)
        if not arrays_close(got, expected, tol=1e-8):
            hint = ""
            if len(Z) > 1 and arrays_close(got / len(Z), expected, tol=1e-8):
                hint = ": it is off by a factor of the number of rows (the loss is a mean over the rows)"
            return report(False, what, f"wrong numbers for {description}, shape {Z.shape}{hint}")
    return report(True, what, f"in {len(cases)} cases, including logits of ±1000")
