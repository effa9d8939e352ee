"""Checkers for the exercises of chapter 4, Neurons, layers and MLPs."""
import math
import numbers
import random

from minigrad.exercises import (describe_error, forbidding, fresh_rng, is_placeholder, model_entries,
                                not_filled_in, report, reports_forbidden)
from minigrad.value_nn import ValueMLP

# shapes shown in the exercise, then some it does not show
PARAM_SHAPES = [(2, [16, 16, 1]), (3, [4, 4, 1]), (64, [32, 16, 10]),
                (1, [1]), (5, [7]), (10, [3, 3, 3, 2])]

WITHOUT_BUILDING = "the exercise asks for the count (or the weights) by formula, without building a model"


def _parameter_count(nin, nouts):
    """Each layer has one weight per input and one bias for each of its neurons."""
    sizes = [nin] + list(nouts)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))


@reports_forbidden("parameter counts")
def check_param_count(n_parameters):
    """Exercise 4.1: ``n_parameters(nin, nouts)`` counts an MLP's parameters by formula, for the
    shapes of the exercise, others, and some drawn at random, with building a model a trap."""
    what = "parameter counts"
    if is_placeholder(n_parameters):
        return not_filled_in(what)
    rng = fresh_rng()
    drawn = [(int(rng.integers(1, 30)), [int(n) for n in rng.integers(1, 30, size=int(rng.integers(1, 5)))])
             for _ in range(4)]
    for number, (nin, nouts) in enumerate(PARAM_SHAPES + drawn):
        named = number < len(PARAM_SHAPES)
        call = f"n_parameters({nin}, {nouts})" if named else "for a shape drawn at random, n_parameters"
        try:
            with forbidding(model_entries(n_parameters), [n_parameters], WITHOUT_BUILDING):
                got = n_parameters(nin, list(nouts))
        except Exception as error:
            return report(False, what, f"{call} raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        actual = _parameter_count(nin, nouts)
        if got != actual:
            if isinstance(got, numbers.Real):
                how = "too many" if got > actual else "too few"
            else:
                how = "not a number"
            if not named:
                return report(False, what, f"{call} gives {how}, though it is right for the shapes "
                                           "named here: compute the count from nin and nouts")
            return report(False, what, f"{call} = {got!r}: {how} "
                                       f"(checked against MLP({nin}, {nouts}))")
    return report(True, what, f"{len(PARAM_SHAPES)} shapes, some of them not in the exercise, "
                              "and more drawn at random")


@reports_forbidden("one neuron for three")
def check_linear_collapse(collapse):
    """Exercise 4.2: ``collapse(w1, b1, w2, b2, w3, b3)`` returns the ``(w, b)`` of the one
    neuron that computes what three linear neurons in a chain compute; tried on one chain
    named in messages and four drawn at random, with building a model a trap."""
    what = "one neuron for three"
    if is_placeholder(collapse):
        return not_filled_in(what)
    names = ["w1", "b1", "w2", "b2", "w3", "b3"]
    rng = fresh_rng()
    chains = [[0.8, -0.5, 1.5, 0.25, -2.0, 0.4]]  # biases too: zeros would hide mistakes
    chains += [[round(float(v), 3) for v in rng.choice([-1, 1], size=6) * rng.uniform(0.3, 2, size=6)]
               for _ in range(4)]
    for trial, values in enumerate(chains):
        try:
            with forbidding(model_entries(collapse), [collapse], WITHOUT_BUILDING):
                answer = collapse(*values)
        except Exception as error:
            return report(False, what, f"collapse raised {describe_error(error)}")
        if is_placeholder(answer):
            return not_filled_in(what)
        try:
            w, b = answer
            w, b = float(w), float(b)
        except (TypeError, ValueError):
            return report(False, what, f"collapse should return two numbers (w, b), got {answer!r}")
        w1, b1, w2, b2, w3, b3 = values
        slope, at0 = w3 * w2 * w1, w3 * (w2 * b1 + b2) + b3  # the chain at x = 0, and its slope
        wrong = [name for name, got, right in (("w", w, slope), ("b", b, at0))
                 if not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-12)]
        if wrong:
            given = ", ".join(f"{n} = {v}" for n, v in zip(names, values)) if trial == 0 else \
                "six numbers drawn at random"
            return report(False, what, f"with {given}: your {' and '.join(wrong)} "
                                       f"{'is' if len(wrong) == 1 else 'are'} not right")
    return report(True, what, "for five chains of three neurons with non-zero biases, four of them "
                              "drawn at random")


def _relu_network(seed, hidden):
    model = ValueMLP(1, [hidden, 1], activation="relu", seed=seed)
    rng = random.Random(f"biases {seed}")  # not the model's own stream: bends would coincide
    for neuron in model.layers[0].neurons:
        neuron.b.data = rng.uniform(-1.5, 1.5)  # the model starts biases at 0: every bend at x = 0
    return model


def check_bends(bends):
    """Exercise 4.3: ``bends(model)`` lists where a one-input ReLU network's hidden
    neurons switch on or off (the x where each neuron's sum is 0), in increasing order."""
    what = "where a ReLU network bends"
    seeds = [int(seed) for seed in fresh_rng().integers(0, 2**31, size=3)]  # networks not seen before
    for seed, hidden in zip(seeds, [3, 5, 8]):
        model = _relu_network(seed, hidden)
        try:
            got = bends(model)
        except Exception as error:
            return report(False, what, f"bends raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        try:
            got = [float(x) for x in got]
        except (TypeError, ValueError):
            return report(False, what, f"bends should return a list of numbers, got {got!r}")
        right = sorted(-n.b.data / n.w[0].data for n in model.layers[0].neurons)
        if len(got) != len(right):
            return report(False, what, f"a network with {hidden} hidden neurons: you found "
                                       f"{len(got)} bends, it has {len(right)}")
        if got != sorted(got):
            return report(False, what, "list the bends in increasing order (sorted)")
        # element by element: each hidden neuron's bend exactly once
        for x, r in zip(got, right):
            if math.isclose(x, r, rel_tol=1e-9, abs_tol=1e-12):
                continue
            if any(math.isclose(x, other, rel_tol=1e-9, abs_tol=1e-12) for other in right):
                return report(False, what, f"a network with {hidden} hidden neurons: one of your "
                                           "bends is listed more than once, and another neuron's "
                                           "bend is missing")
            return report(False, what, f"a network with {hidden} hidden neurons: at one of your "
                                       "bends no hidden neuron's sum is 0, so nothing switches there")
    return report(True, what, "on three random networks with non-zero biases")
