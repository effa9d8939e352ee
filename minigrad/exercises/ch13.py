"""Checkers for the exercises of chapter 13, Training deeper networks.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. Shapes, values, probabilities and
schedule settings are drawn afresh on every run, and the messages about them
name no drawn number, so a right answer prints the same PASS every time.
While the reader's code runs, the package's normalisation, dropout and
optimizers (and PyTorch's, and its learning-rate schedulers, if the reader
imported them) are traps; the batch-norm rule is
compared with its closed form to about 1e-13, closer than finite
differences reach.
"""
import math
import sys

import numpy as np

import minigrad
from minigrad import optim, tensor_norm
from minigrad.exercises import package_rule_entries
from minigrad.exercises import (arrays_close, as_gradients, as_numbers, autograd_entries,
                                backward_entries, forbidding, fresh_rng, is_placeholder, is_unset,
                                not_filled_in, report, report_raised, reports_forbidden,
                                unusable_function)
from minigrad.exercises import ch05, ch09
from minigrad.exercises.ch07 import NOT_EXACT
from minigrad.exercises.what_runs import watching
from minigrad.tensor import Tensor

__all__ = ["check_batch_norm_train", "check_batch_norm_rule", "check_dropout",
           "check_warmup_cosine", "check_adamw_step"]

WRITE_IT = "the exercise asks you to write it with NumPy"
WRITE_FORMULA = "the exercise asks you to write the schedule's formula"


#: What the answers must not run (traced, which sees what traps do not: a module kept in an
#: object, code copied or compiled out of the package or the checkers, a relay).
_WATCHED = ("torch", "micrograd", "minigrad", "yourgrad")  # the reader's autograd too
#: A rule builds on the package's Tensor: its normalisation is what must not run.
_RULE_WATCHED = ("torch", "micrograd", "minigrad.tensor_norm", "minigrad.exercises", "yourgrad")


def _norm_entries():
    """The package's normalisation and dropout (in tensor_norm and as exported at the package's
    top), and PyTorch's if the reader imported it."""
    entries = [(module, name, f"minigrad's {name}") for module in (tensor_norm, minigrad)
               for name in ("normalize", "batch_norm", "layer_norm", "dropout")]
    entries += [(tensor_norm.Normalize, name, "minigrad's Normalize") for name in ("__init__", "_backward")]
    entries += [(klass, "__call__", f"minigrad's {klass.__name__}")
                for klass in (tensor_norm.BatchNorm1d, tensor_norm.LayerNorm, tensor_norm.Dropout)]
    functional = sys.modules.get("torch.nn.functional")
    if functional is not None:  # only if the reader imported it: the checker never does
        entries += [(functional, name, f"PyTorch's {name}")
                    for name in ("batch_norm", "layer_norm", "dropout")]
    return entries


def _features(rng, n, c):
    """An (n, c) batch whose features have means and spreads far apart (per-feature statistics
    over the wrong axis, or shared ones, give visibly wrong numbers)."""
    offsets = rng.uniform(-5.0, 5.0, size=c)
    spreads = np.exp(rng.uniform(-1.5, 1.5, size=c))
    return offsets + spreads * rng.normal(size=(n, c))


# ----- exercise 13.1: batch normalisation's forward pass, training mode -------------

def _batch_norm_reference(x, gamma, beta, running_mean, running_var, momentum, eps):
    """Training-mode batch norm in plain NumPy: the batch's statistics per feature (axis 0),
    the biased variance to normalise, the unbiased one in the running average."""
    n = len(x)
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return y, new_mean, new_var


def _forward_hint(y, x, gamma, beta, eps):
    """A hint for a wrong ``y`` when it matches a common slip, or ''."""
    n = len(x)
    slips = [
        (lambda: gamma * (x - x.mean(axis=1, keepdims=True))
         / np.sqrt(x.var(axis=1, keepdims=True) + eps) + beta,
         ": your statistics are taken over each example's features; batch norm takes them over the "
         "batch, per feature (axis 0)"),
        (lambda: gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) * n / (n - 1) + eps) + beta,
         ": normalise with the batch's biased variance (divide by N); the unbiased one goes into "
         "the running average only"),
        (lambda: gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0)) + beta,
         ": is eps added to the variance, inside the square root?"),
        (lambda: gamma * (x - x.mean(axis=0)) / (x.std(axis=0) + eps) + beta,
         ": is eps added to the variance, inside the square root?"),
        (lambda: (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps),
         ": the normalised numbers are right; then scale by gamma and shift by beta"),
    ]
    with np.errstate(all="ignore"):
        for slip, hint in slips:
            if arrays_close(y, slip(), tol=1e-9):
                return hint
    return ""


@reports_forbidden("batch_norm_train")
def check_batch_norm_train(batch_norm_train):
    """Exercise 13.1: ``batch_norm_train(x, gamma, beta, running_mean, running_var, momentum,
    eps)`` returns ``(y, new_running_mean, new_running_var)`` for a batch ``x`` of shape (N, C),
    as BatchNorm1d computes them in training mode, without the package's normalisation."""
    what = "batch_norm_train"
    unusable = unusable_function(what, batch_norm_train, "batch_norm_train")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    shapes = [(8, 3, True), (int(rng.integers(2, 6)), int(rng.integers(1, 5)), False),
              (int(rng.integers(20, 60)), int(rng.integers(5, 16)), False)]
    for number, (n, c, named) in enumerate(shapes):
        x = _features(rng, n, c)
        gamma, beta = rng.uniform(0.5, 2.0, size=c), rng.normal(size=c)
        running_mean, running_var = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)
        momentum, eps = (0.1, 1e-5) if named else (float(rng.uniform(0.05, 0.5)), 1e-3)
        described = (f"for a batch of shape ({n}, {c})" if named else
                     "for a batch of a shape drawn at random" + (" (2 to 5 examples)" if number == 1 else ""))
        call = f"batch_norm_train(x, ...) {described}"
        args = (x, gamma, beta, running_mean, running_var)
        given = [a.copy() for a in args]
        try:
            with forbidding(_norm_entries(), [batch_norm_train], WRITE_IT), \
                    watching(WRITE_IT, _WATCHED), np.errstate(all="ignore"):
                result = batch_norm_train(*given, momentum, eps)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report_raised(what, call, error)
        if is_placeholder(result):
            return not_filled_in(what)
        changed = [name for name, before, after in zip(
            ("x", "gamma", "beta", "running_mean", "running_var"), args, given)
            if not np.array_equal(before, after)]
        if changed:
            return report(False, what, f"{call} changed {' and '.join(changed)} in place: return "
                                       "new arrays, and leave the ones passed in as they were")
        try:
            parts = [as_numbers(part) for part in as_gradients(result) or ()]
            if len(parts) != 3 or any(part is None for part in parts):
                raise ValueError
            y, new_mean, new_var = parts
        except (TypeError, ValueError):
            return report(False, what, f"{call} should return three arrays: "
                                       "(y, new_running_mean, new_running_var)")
        expected = _batch_norm_reference(x, gamma, beta, running_mean, running_var, momentum, eps)
        for name, got, right in zip(("y", "new_running_mean", "new_running_var"),
                                    (y, new_mean, new_var), expected):
            if got.shape != right.shape:
                return report(False, what, f"{call}: {name} has shape {got.shape}, expected {right.shape}")
            if arrays_close(got, right, tol=1e-10):
                continue
            hint = ""
            if name == "y":
                hint = _forward_hint(y, x, gamma, beta, eps)
            elif name == "new_running_mean" and arrays_close(
                    got, momentum * running_mean + (1 - momentum) * x.mean(axis=0), tol=1e-10):
                hint = ": momentum is the weight of the new batch's statistics, as in PyTorch"
            elif name == "new_running_var" and arrays_close(
                    got, (1 - momentum) * running_var + momentum * x.var(axis=0), tol=1e-10):
                hint = (": as in PyTorch, the running variance averages the unbiased variance "
                        "(divided by N - 1)")
            return report(False, what, f"{call}: {name} is wrong{hint}")
    return report(True, what, "y and both running statistics agree, for 3 batches (2 of shapes "
                              "drawn at random)")


# ----- exercise 13.2: batch norm's backward rule -------------------------------------

def _rule_entries(answer):
    return (autograd_entries() + package_rule_entries() + backward_entries(answer)
            + _norm_entries())


def _normalize_gradient(x, grad, eps):
    """The exact gradient of ``(x - mean) / sqrt(var + eps)`` over axis 0, and the same sum
    taken over the sizes of its terms (the scale of its rounding)."""
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(((x - mean) ** 2).mean(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    exact = inv_std * (grad - grad.mean(axis=0) - x_hat * (grad * x_hat).mean(axis=0))
    scale = inv_std * (np.abs(grad) + np.abs(grad).mean(axis=0)
                       + np.abs(x_hat) * np.abs(grad * x_hat).mean(axis=0)) * 4
    return x_hat, exact, scale


@reports_forbidden("BatchNormalize(a, eps)")
def check_batch_norm_rule(op_class):
    """Exercise 13.2: ``BatchNormalize(a, eps)``, a subclass of minigrad's Tensor, normalises
    ``a`` (N, C) per column, ``(a - mean) / sqrt(var + eps)``, and its ``_backward(grad)`` returns
    the one gradient for ``a``, compared with the closed form to about 1e-13."""
    what = "BatchNormalize(a, eps)"
    if is_unset(op_class):
        return not_filled_in(what, "BatchNormalize")
    entries = _rule_entries(op_class)
    task = "the exercise asks you to write the rule, without any autograd"
    rng = fresh_rng()
    cases = [((6, 3), "a batch of shape (6, 3)"),
             ((2, 4), "a batch of 2 examples"),
             ((int(rng.integers(3, 40)), int(rng.integers(1, 10))), "a batch of a shape drawn at random")]
    for shape, described in cases:
        x = _features(rng, *shape)
        grad = rng.normal(size=shape) * rng.uniform(0.5, 2.0, size=shape[1])
        eps = 1e-5
        a = Tensor(x.copy(), name="a")
        try:
            with forbidding(entries, [op_class], task), watching(task, _RULE_WATCHED), \
                    np.errstate(all="ignore"):
                out = op_class(a, eps)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report_raised(what, f"BatchNormalize(a, eps) for {described}", error)
        data = getattr(out, "data", None)
        if is_unset(data) or not isinstance(out, Tensor):
            return not_filled_in(what, "BatchNormalize's __init__ (it records no result)")
        data = as_numbers(data)
        x_hat, exact, scale = _normalize_gradient(x, grad, eps)
        if data is None or data.shape != shape or not arrays_close(data, x_hat, tol=1e-10):
            hint = ""
            if data is not None and data.shape == shape and arrays_close(
                    data, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) * shape[0] / (shape[0] - 1) + eps),
                    tol=1e-10):
                hint = ": normalise with the biased variance (divide by N)"
            elif data is not None and data.shape == shape and arrays_close(
                    data, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0)), tol=1e-10):
                hint = ": add eps to the variance, inside the square root"
            return report(False, what, f"forward pass: the result for {described} is wrong{hint}")
        prev = tuple(getattr(out, "_prev", ()))
        if len(prev) != 1 or prev[0] is not a:
            return report(False, what, "BatchNormalize must record its one input: self._record(result, a)")
        try:
            with forbidding(entries, [op_class], task), watching(task, _RULE_WATCHED), \
                    np.errstate(all="ignore"):
                local = out._backward(grad.copy())
        except Exception as error:
            return report_raised(what, f"_backward(grad) for {described}", error)
        if is_unset(local):
            return not_filled_in(what, "BatchNormalize._backward")
        local = as_gradients(local)
        if local is None or len(local) != 1:
            return report(False, what, "BatchNormalize._backward must return a tuple of one gradient, "
                                       "for its one input: (grad_a,)")
        got = as_numbers(local[0])
        if got is None or got.shape != shape:
            return report(False, what, f"the gradient for a should have a's shape, {shape}, "
                                       f"for {described}")
        if np.all(np.abs(got - exact) <= 1e-13 * scale + 1e-300):
            continue
        if arrays_close(got, exact, tol=1e-6):
            return report(False, what, f"the gradient for a {NOT_EXACT} (for {described})")
        hint = ""
        inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
        if arrays_close(got, grad * inv_std, tol=1e-9):
            hint = (": it treats the mean and the variance as constants, but both depend on every "
                    "example of the batch")
        elif arrays_close(got, inv_std * (grad - grad.mean(axis=0)), tol=1e-9):
            hint = ": the path through the mean is there; the path through the variance is missing"
        elif arrays_close(got, inv_std * (grad - grad.sum(axis=0)
                                          - x_hat * (grad * x_hat).sum(axis=0)), tol=1e-9):
            hint = (": look at how the two terms you take out grow with the batch size, and at "
                    "what a bar means in the formula")
        return report(False, what, f"the gradient for a is wrong (for {described}){hint}")
    return report(True, what, f"forward pass and exact gradient, for {len(cases)} batches (one of "
                              "a shape drawn at random)")


# ----- exercise 13.3: inverted dropout -----------------------------------------------

def _dropout_entries():
    entries = [(tensor_norm, "dropout", "minigrad's dropout"),
               (tensor_norm.Dropout, "__call__", "minigrad's Dropout")]
    functional = sys.modules.get("torch.nn.functional")
    if functional is not None:
        entries.append((functional, "dropout", "PyTorch's dropout"))
    return entries


@reports_forbidden("dropout")
def check_dropout(dropout):
    """Exercise 13.3: ``dropout(x, p, rng, training)`` returns a NumPy array: while training,
    each entry of ``x`` zeroed with probability ``p`` (drawn with the NumPy generator ``rng``)
    and the others divided by ``1 - p``, so the expected output is ``x``; ``x`` itself when
    not training."""
    what = "dropout"
    unusable = unusable_function(what, dropout, "dropout")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    x = rng.uniform(0.5, 2.0, size=(200, 50)) * rng.choice([-1.0, 1.0], size=(200, 50))
    seed = int(rng.integers(2**31))

    def call(p, training, seed=seed, data=x):
        with forbidding(_dropout_entries(), [dropout], WRITE_IT), watching(WRITE_IT, _WATCHED):
            given = data.copy()
            out = dropout(given, p, np.random.default_rng(seed), training)
        if not np.array_equal(given, data):
            raise _Changed
        return out

    # away from 0.5, where dropping with probability 1 - p instead of p would not show
    p_drawn = float(rng.choice([rng.uniform(0.1, 0.3), rng.uniform(0.7, 0.85)]))
    for p, described in ((0.5, "p = 0.5"), (p_drawn, "a p drawn at random")):
        for training in (False, True):
            label = f"dropout(x, {'p' if p != 0.5 else 0.5}, rng, training={training}) with {described}"
            try:
                out = call(p, training)
            except _Changed:
                return report(False, what, f"{label} changed x itself: return a new array")
            except Exception as error:
                return report_raised(what, label, error)
            if is_placeholder(out):
                return not_filled_in(what)
            out = as_numbers(out)
            if out is None or out.shape != x.shape:
                return report(False, what, f"{label} should return an array of x's shape, {x.shape}")
            if not training:
                if not np.array_equal(out, x):
                    return report(False, what, f"{label}: when not training, dropout must return x "
                                               "unchanged (no entry dropped, none scaled)")
                continue
            dropped = out == 0
            kept = ~dropped
            ratio = out[kept] / x[kept]
            if kept.any() and not np.allclose(ratio, 1 / (1 - p), rtol=1e-12, atol=0):
                hint = ""
                if np.allclose(ratio, 1.0):
                    hint = ": they are left as they were, so the expected output is smaller than x"
                elif np.allclose(ratio, 1 - p):
                    hint = ": multiplying by 1 - p shrinks the output further; which factor keeps the "\
                           "expected value equal to x?"
                return report(False, what, f"{label}: the entries kept are not scaled so that the "
                                           f"expected output is x{hint}")
            fraction = float(dropped.mean())
            # 7 standard deviations of the fraction of 10,000 independent draws
            if abs(fraction - p) > 7 * math.sqrt(p * (1 - p) / x.size):
                hint = " (do you keep each entry with probability p, instead of dropping it?)" \
                    if abs(fraction - (1 - p)) < 0.05 else ""
                return report(False, what, f"{label}: the fraction of entries zeroed is far from "
                                           f"p{hint}")
            mean_ratio = float(np.mean(out / x))
            if abs(mean_ratio - 1) > 7 * math.sqrt(p / (1 - p) / x.size):
                return report(False, what, f"{label}: on average the output is not x")
    try:
        first, again = call(0.5, True), call(0.5, True)
        other = call(0.5, True, seed=seed + 1)
    except _Changed:
        return report(False, what, "dropout changed x itself: return a new array")
    except Exception as error:
        return report_raised(what, "dropout(x, 0.5, rng, training=True)", error)
    if not np.array_equal(first, again):
        return report(False, what, "two generators made from the same seed dropped different entries: "
                                   "draw the mask with the rng argument")
    if np.array_equal(first, other):
        return report(False, what, "generators made from different seeds dropped the same entries: "
                                   "the mask should come from rng")
    try:
        same = call(0.0, True)
    except Exception as error:
        return report_raised(what, "dropout(x, 0.0, rng, training=True)", error)
    if not np.allclose(as_numbers(same), x, rtol=1e-15, atol=0):
        return report(False, what, "with p = 0 nothing should be dropped or scaled")
    return report(True, what, "the expected output is x while training, x itself in evaluation, "
                              "the mask drawn from rng")


class _Changed(Exception):
    """The reader's dropout changed its input in place."""


# ----- exercise 13.4: a learning-rate schedule ---------------------------------------

def _warmup_cosine_reference(step, total_steps, warmup_steps, lr_max, lr_min):
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


def _schedule_entries():
    """PyTorch's learning-rate schedulers, if the reader imported them: every one of them
    starts in the base class's ``__init__``."""
    schedulers = sys.modules.get("torch.optim.lr_scheduler")
    base = getattr(schedulers, "LRScheduler", None) or getattr(schedulers, "_LRScheduler", None)
    return [(base, "__init__", "PyTorch's learning-rate schedulers")]


@reports_forbidden("warmup_cosine")
def check_warmup_cosine(schedule):
    """Exercise 13.4: ``schedule(step, total_steps, warmup_steps, lr_max, lr_min)``, the
    learning rate of step ``step`` (from 0): a linear warm-up to ``lr_max`` over the first
    ``warmup_steps`` steps, then half a cosine from ``lr_max`` down towards ``lr_min``."""
    what = "warmup_cosine"
    unusable = unusable_function(what, schedule, "warmup_cosine")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    total = int(rng.integers(50, 400))
    settings = [((100, 10, 0.1, 0.001), True),
                ((total, int(rng.integers(1, total // 4)), float(rng.uniform(0.01, 1.0)),
                  float(rng.uniform(0.0, 0.005))), False),
                ((int(rng.integers(20, 80)), 0, float(rng.uniform(0.01, 1.0)), 0.0), False)]
    for (total_steps, warmup, lr_max, lr_min), named in settings:
        described = (f"with total_steps={total_steps}, warmup_steps={warmup}, lr_max={lr_max}, "
                     f"lr_min={lr_min}" if named else
                     "with settings drawn at random" + (" and no warm-up" if warmup == 0 else ""))
        for step in range(total_steps):
            label = f"step {step}" if named else "a step"
            try:
                with forbidding(_schedule_entries(), [schedule], WRITE_FORMULA), \
                        watching(WRITE_FORMULA, _WATCHED):
                    got = schedule(step, total_steps, warmup, lr_max, lr_min)
            except Exception as error:
                return report_raised(what, f"warmup_cosine at {label} {described}", error)
            if is_placeholder(got):
                return not_filled_in(what)
            try:
                got = float(got)
            except (TypeError, ValueError):
                return report(False, what, f"warmup_cosine should return one number, got {got!r}")
            right = _warmup_cosine_reference(step, total_steps, warmup, lr_max, lr_min)
            if not abs(got - right) <= 1e-12 * max(1.0, abs(right)):
                part = "the warm-up" if step < warmup else "the cosine part"
                how = "too large" if got > right else "too small"
                where = f"at {label}, in {part}," if named else f"in {part}"
                hint = ""
                if step >= warmup and lr_min and abs(
                        got - _warmup_cosine_reference(step, total_steps, warmup, lr_max, 0.0)
                ) <= 1e-12 * max(1.0, abs(right)):
                    hint = ": where should the cosine part end, and does lr_min appear in it?"
                return report(False, what, f"{described}: {where} the rate is {how}{hint}")
    return report(True, what, "every step right, for 3 settings (2 drawn at random)")


# ----- exercise 13.5: decoupled weight decay, AdamW's step ----------------------------

def _adamw_reference(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """AdamW's update number t: chapter 9's Adam step on the data's gradient ``g`` alone, and
    the decay ``lr·weight_decay·p`` (of the weights before the step) outside Adam's division."""
    new_p, m, v = ch09._adam_reference(p, g, m, v, t, lr, beta1, beta2, eps)
    return new_p - lr * weight_decay * p, m, v


def _adamw_entries():
    """The package's optimizers and the one place they add weight decay, and PyTorch's AdamW
    (with its SGD and Adam) if the reader imported it."""
    entries = ch05._optimizer_entries() + [
        (optim.Optimizer, "_gradient", "minigrad's weight decay (Optimizer._gradient)"),
        (ch09, "_adam_reference", "chapter 9's checker's own _adam_reference")]
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch.optim.AdamW, "__init__", "PyTorch's AdamW"))
    return entries


def _adamw_hint(name, got, p, g, m, v, t, settings):
    """Why the new ``name`` (m, v or p) is wrong, when it matches a common slip, or ''."""
    lr, beta1, beta2, eps, decay = settings
    coupled = ch09._adam_reference(p, g + decay * p, m, v, t, lr, beta1, beta2, eps)
    adam_p = ch09._adam_reference(p, g, m, v, t, lr, beta1, beta2, eps)[0]
    if name != "p":
        if arrays_close(got, coupled["mv".index(name) + 1], tol=1e-9):
            return ("; it averages g + weight_decay·p, which is Adam with an L2 penalty (minigrad's "
                    "and PyTorch's Adam): in AdamW, m and v see the data's gradient alone")
        return ""
    m_new, v_new = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m_new / (1 - beta1 ** t), v_new / (1 - beta2 ** t)
    slips = [
        (adam_p, "; it is Adam's step without any decay"),
        (adam_p - decay * p, "; the decay is a step too: it is scaled by the learning rate"),
        (adam_p - lr * decay * adam_p, "; the decay shrinks the weights as they were before this "
                                       "step"),
        (p - lr * (m_hat + decay * p) / (np.sqrt(v_hat) + eps),
         "; the decay term is divided by Adam's running scale: take it out of the division"),
    ]
    for slip, hint in slips:
        if arrays_close(got, slip, tol=1e-9):
            return hint
    return "; m and v agree, so look at the step itself"


@reports_forbidden("adamw_step")
def check_adamw_step(adamw_step):
    """Exercise 13.5: ``adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay)``
    returns the new ``(p, m, v)`` after AdamW's update number ``t`` (from 1): chapter 9's Adam
    step on the data's gradient ``g``, and ``p`` shrunk by ``lr·weight_decay·p`` outside it.

    Six steps on each of two problems (parameters, target and gradients' sizes drawn at
    random; the second also its shape and settings) are compared, step by step, with the
    equations written out here; the package's optimizers and PyTorch's are traps while the
    answer runs.
    """
    what = "adamw_step"
    unusable = unusable_function(what, adamw_step, "adamw_step")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    problems = [((2, 3), (0.05, 0.9, 0.999, 1e-8, 0.1), "with lr=0.05, beta1=0.9, "
                 "beta2=0.999, eps=1e-8, weight_decay=0.1"),
                ((int(rng.integers(1, 5)), int(rng.integers(2, 7))),
                 (float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.5, 0.95)),
                  float(rng.uniform(0.9, 0.999)), 1e-8, float(rng.uniform(0.05, 0.5))),
                 "with a shape and settings drawn at random")]
    task = "the exercise asks you to write the step"
    for shape, settings, described in problems:
        lr, beta1, beta2, eps, decay = settings
        # gradients of very different sizes, some far smaller than the decay's pull
        scales = np.exp(rng.uniform(-6.0, 3.0, size=shape))
        target = rng.normal(size=shape)
        p = rng.normal(size=shape)
        m, v = np.zeros(shape), np.zeros(shape)
        for t in range(1, 7):
            g = 2 * scales * (p - target)  # of sum(scales * (p - target)²)
            call = f"adamw_step(p, g, m, v, t={t}, ...) {described}"
            try:
                with forbidding(_adamw_entries(), [adamw_step], task), \
                        watching(task, _WATCHED), np.errstate(all="ignore"):
                    result = adamw_step(p.copy(), g.copy(), m.copy(), v.copy(), t, *settings)
            except Exception as error:  # the reader's code is under test: report, don't crash
                return report_raised(what, call, error)
            if is_placeholder(result):
                return not_filled_in(what)
            try:
                got = [as_numbers(part) for part in as_gradients(result) or ()]
                if len(got) != 3 or any(part is None for part in got):
                    raise ValueError
            except (TypeError, ValueError):
                return report(False, what, f"{call} should return the three arrays (p, m, v)")
            expected = _adamw_reference(p, g, m, v, t, *settings)
            for name, new, right in zip(("p", "m", "v"), got, expected):
                if new.shape != right.shape:
                    return report(False, what, f"{call}: the new {name} has shape {new.shape}, "
                                               f"not {right.shape}")
            order = [("m", got[1], expected[1]), ("v", got[2], expected[2]),
                     ("p", got[0], expected[0])]
            for name, new, right in order:
                if not np.allclose(new, right, rtol=1e-9, atol=1e-12):
                    detail = {"m": "m (the running average of the gradients)",
                              "v": "v (the running average of the squared gradients)",
                              "p": "the new p"}[name]
                    hint = _adamw_hint(name, new, p, g, m, v, t, settings)
                    return report(False, what, f"{described}: after step {t}, {detail} differs "
                                               f"from AdamW's{hint}")
            p, m, v = expected
    return report(True, what, "six steps agree with AdamW's equations, on 2 problems (one of a "
                              "shape and settings drawn at random)")
