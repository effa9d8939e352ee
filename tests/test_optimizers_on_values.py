"""Optimizers on scalar Values: convergence, momentum, agreement with PyTorch."""
import math

import pytest

from minigrad import Value
from minigrad.optim import SGD, Adam


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
