"""Checkers for the exercises of chapter 4, Neurons, layers and MLPs."""
import math
import numbers
import random

from minigrad.exercises import describe_error, is_placeholder, not_filled_in, report
from minigrad.value_nn import ValueMLP

# shapes shown in the exercise, then some it does not show
PARAM_SHAPES = [(2, [16, 16, 1]), (3, [4, 4, 1]), (64, [32, 16, 10]),
                (1, [1]), (5, [7]), (10, [3, 3, 3, 2])]


def check_param_count(n_parameters):
    """Exercise 4.1: ``n_parameters(nin, nouts)`` counts an MLP's parameters by formula."""
    what = "parameter counts"
    for nin, nouts in PARAM_SHAPES:
        try:
            got = n_parameters(nin, list(nouts))
        except Exception as error:
            return report(False, what, f"n_parameters({nin}, {nouts}) raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        actual = len(ValueMLP(nin, nouts, seed=0).parameters())
        if got != actual:
            how = "too many" if isinstance(got, numbers.Real) and got > actual else "not the count"
            return report(False, what, f"n_parameters({nin}, {nouts}) = {got!r}: {how} "
                                       f"(checked against MLP({nin}, {nouts}))")
    return report(True, what, f"{len(PARAM_SHAPES)} shapes, some of them not in the exercise")


def check_linear_collapse(collapse):
    """Exercise 4.2: ``collapse(w1, b1, w2, b2)`` returns the ``(w, b)`` of the one
    neuron that computes what two linear neurons in a row compute."""
    what = "one neuron for two"
    rng = random.Random(4)
    for trial in range(5):
        model = ValueMLP(1, [1, 1], activation="linear", seed=trial)
        params = model.parameters()
        for p in params:  # biases too: the model starts them at 0, which hides mistakes
            p.data = round(rng.uniform(-2, 2), 3)
        w1, b1, w2, b2 = [p.data for p in params]
        try:
            answer = collapse(w1, b1, w2, b2)
        except Exception as error:
            return report(False, what, f"collapse raised {describe_error(error)}")
        if is_placeholder(answer):
            return not_filled_in(what)
        try:
            w, b = answer
            w, b = float(w), float(b)
        except (TypeError, ValueError):
            return report(False, what, f"collapse should return two numbers (w, b), got {answer!r}")
        # the model itself says what w and b must be: its output at 0 and its slope
        at0 = model([0.0]).data
        slope = model([1.0]).data - at0
        wrong = [name for name, got, right in (("w", w, slope), ("b", b, at0))
                 if not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-12)]
        if wrong:
            return report(False, what, f"with w1 = {w1}, b1 = {b1}, w2 = {w2}, b2 = {b2}, "
                                       f"your {' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} "
                                       "not right")
    return report(True, what, "for five networks with non-zero biases")


def _relu_network(seed, hidden):
    model = ValueMLP(1, [hidden, 1], activation="relu", seed=seed)
    rng = random.Random(100 + seed)
    for neuron in model.layers[0].neurons:
        neuron.b.data = rng.uniform(-1.5, 1.5)  # the model starts biases at 0: every bend at x = 0
    return model


def check_bends(bends):
    """Exercise 4.3: ``bends(model)`` lists where a one-input ReLU network's hidden
    neurons switch on or off (the x where each neuron's sum is 0), in increasing order."""
    what = "where a ReLU network bends"
    for seed, hidden in [(0, 3), (1, 5), (2, 8)]:
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
        for x in got:
            if not any(math.isclose(x, r, rel_tol=1e-9, abs_tol=1e-12) for r in right):
                return report(False, what, f"a network with {hidden} hidden neurons: at your bend "
                                           f"x = {x:.4g} no hidden neuron's sum is 0, so nothing "
                                           "switches there")
    return report(True, what, "on three random networks with non-zero biases")
