"""Losses and optimizers on scalar Values: values, gradients, stability, convergence, errors."""
import math

import pytest
from hypothesis import given, strategies as st

from minigrad import Value
from minigrad.losses import binary_cross_entropy, cross_entropy_loss, hinge_loss, mse_loss
from minigrad.optim import SGD, Adam


def values(numbers):
    return [Value(x) for x in numbers]


def logsumexp(zs):
    top = max(zs)
    return top + math.log(sum(math.exp(z - top) for z in zs))


# ----- losses -------------------------------------------------------------------------


def test_mse_loss_value_and_gradient():
    predictions = values([1.0, -2.0, 0.5])
    targets = [0.0, -1.0, 2.5]
    loss = mse_loss(predictions, targets)
    loss.backward()
    assert math.isclose(loss.data, (1 + 1 + 4) / 3, rel_tol=1e-15)
    for p, t in zip(predictions, targets):
        assert math.isclose(p.grad, 2 * (p.data - t) / 3, rel_tol=1e-15)


def test_hinge_loss_value_and_gradient():
    scores = values([2.0, 0.5, -0.25])
    labels = [1, 1, 1]
    loss = hinge_loss(scores, labels)
    loss.backward()
    # max(0, 1 - y s): 0, 0.5, 1.25 -> mean 0.5833; slope -y/3 where the margin is violated
    assert math.isclose(loss.data, 1.75 / 3, rel_tol=1e-15)
    assert [s.grad for s in scores] == [0.0, -1 / 3, -1 / 3]


def test_binary_cross_entropy_matches_pytorch(torch):
    probabilities = values([0.9, 0.2, 0.6, 0.01])
    targets = [1.0, 0.0, 1.0, 0.0]
    loss = binary_cross_entropy(probabilities, targets)
    loss.backward()
    p = torch.tensor([v.data for v in probabilities], dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy(p, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert math.isclose(loss.data, expected.item(), rel_tol=1e-12)
    for v, g in zip(probabilities, p.grad.tolist()):
        assert math.isclose(v.grad, g, rel_tol=1e-12)


def test_binary_cross_entropy_of_a_confident_mistake_is_large_but_finite():
    p = Value(0.0)
    loss = binary_cross_entropy([p], [1.0])
    assert math.isclose(loss.data, -math.log(1e-12), rel_tol=1e-12)
    loss.backward()
    assert p.grad == 0.0  # clipped: a constant, through which no gradient flows


@given(logits=st.lists(st.floats(-30, 30), min_size=2, max_size=6), data=st.data())
def test_cross_entropy_value_and_gradient(logits, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    zs = values(logits)
    loss = cross_entropy_loss(zs, target)
    loss.backward()
    assert math.isclose(loss.data, logsumexp(logits) - logits[target], rel_tol=1e-12, abs_tol=1e-12)
    total = logsumexp(logits)
    for i, z in enumerate(zs):  # d/dz_i = softmax(z)_i - [i == target]
        expected = math.exp(logits[i] - total) - (i == target)
        assert math.isclose(z.grad, expected, rel_tol=1e-9, abs_tol=1e-12)


def test_cross_entropy_matches_pytorch_on_a_batch(torch):
    batch = [[0.5, -1.0, 2.0], [3.0, 0.0, -2.5], [0.0, 0.0, 0.0]]
    targets = [2, 0, 1]
    rows = [values(row) for row in batch]
    loss = cross_entropy_loss(rows, targets)
    loss.backward()
    logits = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
    expected.backward()
    assert math.isclose(loss.data, expected.item(), rel_tol=1e-12)
    for row, grads in zip(rows, logits.grad.tolist()):
        for z, g in zip(row, grads):
            assert math.isclose(z.grad, g, rel_tol=1e-10, abs_tol=1e-15)


@pytest.mark.parametrize("target, expected_loss", [(0, 0.0), (1, 2000.0), (2, 1000.0)])
def test_cross_entropy_with_logits_of_plus_minus_1000(target, expected_loss):
    zs = values([1000.0, -1000.0, 0.0])
    loss = cross_entropy_loss(zs, target)
    loss.backward()
    assert math.isfinite(loss.data)
    assert loss.data == pytest.approx(expected_loss, abs=1e-12)
    softmax = [1.0, 0.0, 0.0]  # e^-1000 and e^-2000 are 0 in float64
    assert [z.grad for z in zs] == pytest.approx([s - (i == target) for i, s in enumerate(softmax)], abs=1e-300)


def test_cross_entropy_with_all_logits_large_and_equal():
    zs = values([1000.0, 1000.0])
    loss = cross_entropy_loss(zs, [1])
    loss.backward()
    assert loss.data == pytest.approx(math.log(2), rel=1e-12)
    assert [z.grad for z in zs] == pytest.approx([0.5, -0.5], rel=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda: mse_loss(values([1.0, 2.0]), [1.0]), r"mse_loss: 2 outputs but 1 targets"),
    (lambda: mse_loss([], []), r"mse_loss: no outputs to compare"),
    (lambda: hinge_loss(values([1.0]), [0]), r"hinge_loss needs labels of -1 or \+1, got 0"),
    (lambda: cross_entropy_loss(values([1.0, 2.0]), 2), r"target 2 is not a class index in 0..1"),
    (lambda: cross_entropy_loss(values([1.0, 2.0]), [0, 1]), r"1 outputs but 2 targets"),
])
def test_bad_loss_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ----- optimizers ---------------------------------------------------------------------

MINIMUM = (3.0, -1.0)


def quadratic(x, y):
    """A bowl, ten times steeper in y than in x, lowest (0) at (3, -1)."""
    return (x - 3) ** 2 + 10 * (y + 1) ** 2


def minimize(make_optimizer, steps):
    x, y = Value(-2.0), Value(2.0)
    optimizer = make_optimizer([x, y])
    for _ in range(steps):
        loss = quadratic(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return x.data, y.data


@pytest.mark.parametrize("name, make_optimizer, steps", [
    ("SGD", lambda params: SGD(params, lr=0.04), 300),
    ("SGD with momentum", lambda params: SGD(params, lr=0.01, momentum=0.9), 300),
    ("Adam", lambda params: Adam(params, lr=0.1), 500),
])
def test_optimizers_converge_on_a_quadratic(name, make_optimizer, steps):
    x, y = minimize(make_optimizer, steps)
    assert abs(x - MINIMUM[0]) < 1e-4 and abs(y - MINIMUM[1]) < 1e-4, (name, x, y)


def test_momentum_gets_closer_than_plain_sgd_in_the_same_steps():
    def gap(optimizer):
        x, y = minimize(optimizer, 60)
        return math.hypot(x - MINIMUM[0], y - MINIMUM[1])
    assert gap(lambda p: SGD(p, lr=0.01, momentum=0.9)) < gap(lambda p: SGD(p, lr=0.01)) / 10


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: SGD(p, lr=0.02), lambda torch, p: torch.optim.SGD(p, lr=0.02)),
    (lambda p: SGD(p, lr=0.02, momentum=0.8, weight_decay=0.1),
     lambda torch, p: torch.optim.SGD(p, lr=0.02, momentum=0.8, weight_decay=0.1)),
    (lambda p: Adam(p, lr=0.1, betas=(0.8, 0.99), weight_decay=0.05),
     lambda torch, p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), weight_decay=0.05)),
])
def test_optimizers_take_the_same_steps_as_pytorch(ours, theirs, torch):
    x, y = Value(-2.0), Value(2.0)
    xt = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    optimizer, reference = ours([x, y]), theirs(torch, [xt, yt])
    for _ in range(25):
        for opt, loss in ((optimizer, quadratic(x, y)), (reference, quadratic(xt, yt))):
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert math.isclose(x.data, xt.item(), rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(y.data, yt.item(), rel_tol=1e-12, abs_tol=1e-12)


# Bad optimizer arguments (and their messages): tests/test_optimizers.py.


def test_cross_entropy_of_values_takes_numpy_integer_labels():
    import numpy as np
    logits = [Value(0.5), Value(-1.0), Value(2.0)]
    expected = cross_entropy_loss(logits, [2]).data
    assert cross_entropy_loss(logits, np.array([2])).data == expected
    assert cross_entropy_loss(logits, np.int64(2)).data == expected
