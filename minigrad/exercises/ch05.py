"""Checkers for the exercises of chapter 5, Training.

Exercise 5.2 (SGD with momentum) and the milestone (a loss and a training loop)
finish the reader's own engine, ``yourgrad/value.py``; the milestone trains
networks with it alone.
"""
import math
import sys
from pathlib import Path

import numpy as np

from minigrad import optim
from minigrad.exercises import package_rule_entries
from minigrad.exercises import rule_verdict
from minigrad.exercises import (EXACT, autograd_entries, close_detail, degree, describe_error,
                                forbidding, fresh_rng, is_placeholder, not_filled_in, report,
                                reports_forbidden, sources, traced)
from minigrad.exercises.your_engine import keep, outside_reaches, watching_training, \
    training_problem
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
    cases += [(list(map(float, rng.uniform(-3, 3, size=n))),
               list(map(float, rng.uniform(-3, 3, size=n))))
              for n in (1, 3, 7)]
    answers = []
    for ps, ts in cases:
        predictions = [Value(p) for p in ps]
        for j, p in enumerate(predictions):
            p.data = traced(p.data, f"p{j}")
        rules = [2 * (p.data - traced(t, f"t{j}")) / len(ps)
                 for j, (p, t) in enumerate(zip(predictions, ts))]
        try:
            with forbidding(autograd_entries() + package_rule_entries(), [mse_gradient],
                            BY_FORMULA):
                got = mse_gradient(predictions, [traced(t, f"t{j}") for j, t in enumerate(ts)])
        except Exception as error:
            return report(False, what, f"mse_gradient raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        right = [2 * (p - t) / len(ps) for p, t in zip(ps, ts)]
        detail = close_detail(got, right, names=[f"dL/dp{j}" for j in range(len(ps))])
        if detail is not None:
            if len(ps) != 4:  # drawn at random: what the numbers are stays unsaid
                detail = ("not the derivative (it is for the exercise's list?): compute it "
                          "from the inputs")
            return report(False, what, f"for {len(ps)} predictions: {detail}")
        # the formula is exact to rounding; nudging each prediction is about 1e-10 off
        if not all(abs(g - r) <= 1e-13 * max(1.0, abs(r)) for g, r in zip(got, right)):
            return report(False, what, f"for {len(ps)} predictions: {EXACT}")
        answers.append((got, rules))
    # the loss is a parabola in each prediction, on which a difference with any step is
    # exact: but it is of degree 2, and computed from the other predictions too
    for got, rules in answers:
        for j, (gradient, rule) in enumerate(zip(got, rules)):
            if not sources(gradient) <= {f"p{j}", f"t{j}"} or degree(gradient) > 1:
                return report(False, what, f"your dL/dp{j} is computed from the loss's "
                                           "values (from other predictions, or squares): "
                                           "that is a numerical derivative, exact here "
                                           f"because the loss is a parabola; {BY_FORMULA}")
            verdict = rule_verdict(gradient, rule, {f"p{j}"}, f"dL/dp{j}",
                                   "the predictions and targets", BY_FORMULA)
            if verdict is not None:
                return report(False, what, verdict)
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


def _optimizer_entries():
    """The optimizers the exercises ask the reader to write: minigrad's, PyTorch's."""
    entries = [(optim.SGD, "__init__", "minigrad's SGD"),
               (optim.SGD, "step", "minigrad's SGD.step()"),
               (optim.Adam, "__init__", "minigrad's Adam"),
               (optim.Adam, "step", "minigrad's Adam.step()")]
    torch = sys.modules.get("torch")
    if torch is not None:
        entries += [(torch.optim.SGD, "__init__", "PyTorch's SGD"),
                    (torch.optim.Adam, "__init__", "PyTorch's Adam")]
    return entries + autograd_entries()


def check_momentum(SGD):
    """Exercise 5.2: the reader's ``SGD(parameters, lr, momentum)`` with ``zero_grad()`` and
    ``step()`` (v = momentum v + g, then p.data -= lr v, one velocity per parameter), run on the
    bowl L = (a - 1)² + 10 (b + 2)² from (0, 0): the exercise's 5 steps with lr 0.02 and
    momentum 0.9, and settings drawn at random, while minigrad's optimizers are traps. A pass
    keeps it in yourgrad/value.py."""
    if is_placeholder(SGD):
        return not_filled_in("SGD with momentum")
    return keep("value", 5, 2, _check_momentum, SGD=SGD)


@reports_forbidden("SGD with momentum")
def _check_momentum(SGD):
    from minigrad.exercises.your_engine import load
    what = "SGD with momentum"
    engine = SGD.__init__.__globals__ if SGD.__module__ == "yourgrad.value" else vars(load("value"))
    Value = engine["Value"]
    rng = fresh_rng()
    cases = [(5, 0.02, 0.9)] + [(int(rng.integers(1, 9)), float(rng.uniform(0.005, 0.04)),
                                 float(rng.uniform(0.5, 0.95))) for _ in range(3)]
    cases.append((4, 0.03, 0.0))  # no momentum: plain gradient descent
    for number, (steps, lr, momentum) in enumerate(cases):
        a, b = Value(0.0), Value(0.0)
        try:
            with forbidding(_optimizer_entries(), [SGD], "the exercise asks you to write it"):
                optimizer = SGD([a, b], lr=lr, momentum=momentum)
                for step in range(steps):
                    a.grad, b.grad = 5.0, -7.0  # left over: zero_grad() must clear them
                    optimizer.zero_grad()
                    cleared = (a.grad, b.grad) == (0.0, 0.0)
                    a.grad, b.grad = 2 * (a.data - 1), 20 * (b.data + 2)
                    optimizer.step()
                    if not cleared and step == 0 and (a.data, b.data) == (0.0, 0.0):
                        return not_filled_in(what)
                    if not cleared:
                        return report(False, what, "zero_grad() should set every parameter's "
                                                   "grad to 0")
        except Exception as error:
            return report(False, what, f"SGD raised {describe_error(error)}")
        if is_placeholder(a.data) or (number == 0 and [a.data, b.data] == [0.0, 0.0]):
            return not_filled_in(what) if is_placeholder(a.data) else \
                report(False, what, "a and b are still where they started: does step() change "
                                    "p.data?")
        detail = close_detail([a.data, b.data], _momentum_reference(steps, lr, momentum),
                              tol=1e-12, names=["a", "b"])
        if detail is not None and number == 0:
            return report(False, what, f"after 5 steps: {detail}")
        if detail is not None and momentum == 0.0:
            return report(False, what, "with momentum=0 it should be plain gradient descent, "
                                       "p.data -= lr * p.grad")
        if detail is not None:
            return report(False, what, "right for the exercise's settings but not for lr and "
                                       "momentum drawn at random: use the arguments")
    return report(True, what, "for the exercise's 5 steps, settings drawn at random, and "
                              "momentum 0")


# ----- the milestone of Part I ---------------------------------------------------------------

MILESTONE = "Part I milestone"
ALONE = "the milestone runs your engine alone"


def _engine_of(train):
    """The namespace of the reader's engine: the file's, where ``train`` comes from it."""
    from minigrad.exercises.your_engine import load
    namespace = getattr(train, "__globals__", {})
    return namespace if namespace.get("__name__") == "yourgrad.value" else vars(load("value"))


def _milestone_entries():
    from minigrad import losses, module, value_nn
    entries = [(klass, "__init__", f"minigrad's {klass.__name__}")
               for klass in (value_nn.Neuron, value_nn.ValueLayer, value_nn.ValueMLP)]
    entries += [(module.Module, "parameters", "minigrad's parameters()")]
    entries += [(losses, name, f"minigrad's {name}")
                for name in ("mse_loss", "hinge_loss", "cross_entropy_loss")]
    return entries + _optimizer_entries()


def check_milestone(hinge_loss, train):
    """The milestone of Part I: the reader's ``hinge_loss(scores, labels)`` and
    ``train(model, inputs, labels, optimizer, steps)`` (returning the losses), run with their
    engine's ``MLP`` and ``SGD`` alone, with every network, loss, optimizer and autograd of
    minigrad (and PyTorch) a trap: the hinge loss is compared with its formula on scores drawn
    at random, then a network learns XOR and separates 50 points of the two moons (at least
    96% right). A pass keeps them in yourgrad/value.py."""
    if is_placeholder(hinge_loss) or is_placeholder(train):
        return not_filled_in(MILESTONE)
    return keep("value", 5, 4, _check_milestone, hinge_loss=hinge_loss, train=train)


@reports_forbidden(MILESTONE)
def _check_milestone(hinge_loss, train):
    from minigrad.datasets import make_moons
    engine = _engine_of(train)
    borrowed = sorted(name for name, obj in engine.items() if not name.startswith("__")
                      and str(getattr(obj, "__module__", "") or "").startswith("minigrad"))
    if borrowed:
        return report(False, MILESTONE, f"your engine uses minigrad's {borrowed[0]}: {ALONE}")
    path = engine.get("__file__")
    outside = outside_reaches(Path(path).read_text()) if path else []
    if outside:
        return report(False, MILESTONE, f"yourgrad/value.py uses `{outside[0]}`: {ALONE}")
    missing = [name for name in ("Value", "MLP", "SGD") if name not in engine]
    if missing:
        return report(False, MILESTONE, f"your engine has no {missing[0]} yet: pass its exercise "
                                        "first (or run the chapter's catch-up cell)")
    Value, MLP, SGD = engine["Value"], engine["MLP"], engine["SGD"]
    answers = [hinge_loss, train, Value, MLP, SGD]
    rng = fresh_rng()
    scores = [float(v) for v in rng.normal(size=7) * 2]
    labels = [float(v) for v in rng.choice([-1.0, 1.0], size=7)]
    # two points beyond the margin, where max(0, ·) is 0: a loss without it must fail
    scores[:2] = [t * float(rng.uniform(1.5, 3.0)) for t in labels[:2]]
    leaves = [Value(v) for v in scores]
    try:
        with forbidding(_milestone_entries(), answers, ALONE):
            loss = hinge_loss(leaves, labels)
            if is_placeholder(loss):
                return not_filled_in(MILESTONE)
            loss.backward()
    except Exception as error:
        return report(False, MILESTONE, f"hinge_loss raised {describe_error(error)}")
    right = sum(max(0.0, 1 - t * s) for s, t in zip(scores, labels)) / len(scores)
    if not math.isclose(getattr(loss, "data", math.nan), right, rel_tol=1e-12, abs_tol=1e-15):
        return report(False, MILESTONE, "on scores drawn at random, hinge_loss is not the mean "
                                        "of max(0, 1 - label * score)")
    slopes = [-t / len(scores) if 1 - t * s > 0 else 0.0 for s, t in zip(scores, labels)]
    if close_detail([leaf.grad for leaf in leaves], slopes, tol=1e-12) is not None:
        return report(False, MILESTONE, "the hinge loss's gradients are not right: build it from "
                                        "your Values (relu), so that backward() reaches them")
    xor = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [-1.0, 1.0, 1.0, -1.0]
    points, classes = make_moons(n_samples=50, noise=0.1, seed=0)
    moons = [[float(a), float(b)] for a, b in points], [1.0 if c == 1 else -1.0 for c in classes]
    results = []
    for name, (inputs, targets), shape, lr, steps in [("XOR", xor, [4, 1], 0.1, 100),
                                                     ("the moons", moons, [8, 1], 0.2, 80)]:
        try:
            with forbidding(_milestone_entries(), answers, ALONE):
                model = MLP(2, shape, activation="tanh", seed=1)
                optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
                with watching_training(Value, SGD, model.parameters()) as record:
                    losses = train(model, inputs, targets, optimizer, steps)
                right = sum((model(x).data > 0) == (t > 0) for x, t in zip(inputs, targets))
        except Exception as error:
            return report(False, MILESTONE, f"training on {name} raised {describe_error(error)}")
        if record.backward_calls < steps:
            return report(False, MILESTONE, f"on {name} train called your backward() "
                                            f"{record.backward_calls} times in {steps} steps: each "
                                            "step's gradients must come from backward(), not "
                                            "from nudging the parameters")
        if is_placeholder(losses):
            return not_filled_in(MILESTONE)
        try:
            losses = [float(v) for v in losses]
        except (TypeError, ValueError):
            return report(False, MILESTONE, "train should return the list of the losses, one "
                                            "number per step")
        if len(losses) != steps:
            return report(False, MILESTONE, f"train ran {len(losses)} steps, not the {steps} "
                                            "asked for")
        problem = training_problem(record, steps, losses)
        if problem is not None:
            return report(False, MILESTONE, f"on {name}, {problem}")
        if not losses[-1] < losses[0]:
            return report(False, MILESTONE, f"on {name} the loss did not go down: does train "
                                            "zero the gradients, call backward() and step()?")
        accuracy = right / len(inputs)
        needed = 1.0 if name == "XOR" else 0.96
        if accuracy < needed:
            return report(False, MILESTONE, f"on {name} your network gets {accuracy:.0%} of the "
                                            f"points right after {steps} steps, short of "
                                            f"{needed:.0%}")
        results.append(f"{right} of {len(inputs)} right")
    return report(True, MILESTONE, f"your engine alone learned XOR ({results[0]}) and "
                                   f"separated the two moons ({results[1]})")


def _reference_logsumexp(zs):
    m = max(zs)
    return m + math.log(math.fsum(math.exp(z - m) for z in zs))


LOGSUMEXP_CASES = [[1000.0, -1000.0, 0.0, 999.0], [-1000.0, -1001.0, -1002.0],
                   [0.5], [1.0, 2.0, 3.0], [710.0, 0.0], [-745.5, -746.0]]


def _library_entries():
    """The log-sum-exps that libraries already have, the package's (its softmaxes and
    cross-entropies compute one) among them: the exercise asks for one by hand."""
    entries = [(np, "logaddexp", "NumPy's logaddexp"), (np, "logaddexp2", "NumPy's logaddexp2")]
    scipy_special = sys.modules.get("scipy.special")
    if scipy_special is not None:
        entries.append((scipy_special, "logsumexp", "SciPy's logsumexp"))
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch, "logsumexp", "PyTorch's logsumexp"))
    from minigrad import losses, tensor
    entries.append((losses, "cross_entropy_loss", "minigrad's cross_entropy_loss"))
    entries += [(tensor, "log_softmax", "minigrad's log_softmax")]
    entries += [(tensor.Tensor, name, f"minigrad's Tensor.{name}")
                for name in ("softmax", "log_softmax", "cross_entropy")]
    entries += [(klass, "__init__", f"minigrad's {klass.__name__}")
                for klass in (tensor.Softmax, tensor.LogSoftmax, tensor.CrossEntropy)]
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
    drawn = [list(map(float, rng.normal(size=int(rng.integers(1, 8))) * scale))
             for scale in (3, 300)]
    for zs in LOGSUMEXP_CASES + drawn:
        named = zs in LOGSUMEXP_CASES
        for_zs = f"for zs = {zs}" if named else "for logits drawn at random"
        try:
            with forbidding(_library_entries(), [logsumexp], "the exercise asks you to write it "
                                                             "with math.exp, math.log and max"):
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
            return report(False, what, f"the cross-entropy for zs = {zs}, class {t} differs "
                                       "from minigrad's")
    return report(True, what, f"on {len(LOGSUMEXP_CASES)} lists of logits, up to ±1000, more "
                              "drawn at random, and as cross-entropy against minigrad's")
