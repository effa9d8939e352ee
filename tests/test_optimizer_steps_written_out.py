"""Every optimizer setting against its update rule written out here in plain NumPy.

These checks need no PyTorch (the comparisons with ``torch.optim`` in
test_optimizers_on_tensors.py and test_optimizers_on_values.py skip without
it), and they do not use the package to compute what they expect: the
gradient comes from a closed form, and each rule is a few lines below,
written from its definition.

The loss is a bowl with a tilt, L(p) = Σ ½·a·p² + c·p, whose gradient is
a·p + c: different in every entry, so that a rule applied to the wrong
entry, with the wrong sign or without one of its terms, moves the
parameters elsewhere.
"""
import numpy as np
import pytest

from minigrad import SGD, Adam, Tensor, Value

CURVATURE = np.array([[0.5, 2.0, 1.0], [3.0, 0.25, 1.5]])
TILT = np.array([[1.0, -0.5, 0.25], [-2.0, 0.75, 0.1]])
START = np.array([[0.8, -1.2, 2.0], [-0.3, 1.7, -2.5]])
STEPS = 6


def bowl_gradient(p):
    """dL/dp of L(p) = Σ ½·a·p² + c·p."""
    return CURVATURE * p + TILT


# ----- the rules, from their definitions ---------------------------------------------------------

def sgd_by_hand(lr, momentum=0.0, weight_decay=0.0, steps=STEPS):
    """p ← p - lr·v, v ← momentum·v + g, g = dL/dp + weight_decay·p (v starts at 0)."""
    p, v = START.copy(), np.zeros_like(START)
    for _ in range(steps):
        g = bowl_gradient(p) + weight_decay * p
        v = momentum * v + g
        p = p - lr * v
    return p


def adam_by_hand(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, steps=STEPS):
    """Adam (Kingma & Ba, Algorithm 1), with weight decay added to the gradient as PyTorch's Adam does."""
    beta1, beta2 = betas
    p, m, v = START.copy(), np.zeros_like(START), np.zeros_like(START)
    for t in range(1, steps + 1):
        g = bowl_gradient(p) + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


# ----- the package's optimizers on the same bowl, in both engines ---------------------------------

def run_on_a_tensor(make_optimizer, steps=STEPS):
    p = Tensor(START.copy())
    optimizer = make_optimizer([p])
    a, c = Tensor(CURVATURE, requires_grad=False), Tensor(TILT, requires_grad=False)
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * a * p * p + c * p).sum().backward()
        optimizer.step()
    return p.data


def run_on_values(make_optimizer, steps=STEPS):
    ps = [Value(float(x)) for x in START.flat]
    optimizer = make_optimizer(ps)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum(0.5 * a * p * p + c * p for a, c, p in zip(CURVATURE.flat, TILT.flat, ps))
        loss.backward()
        optimizer.step()
    return np.array([p.data for p in ps]).reshape(START.shape)


ENGINES = {"Tensor": run_on_a_tensor, "Value": run_on_values}

SETTINGS = {
    "SGD": (lambda ps: SGD(ps, lr=0.1), lambda: sgd_by_hand(0.1)),
    "SGD, weight decay, no momentum": (lambda ps: SGD(ps, lr=0.1, weight_decay=0.3),
                                       lambda: sgd_by_hand(0.1, weight_decay=0.3)),
    "SGD, momentum": (lambda ps: SGD(ps, lr=0.05, momentum=0.9), lambda: sgd_by_hand(0.05, momentum=0.9)),
    "SGD, momentum and weight decay": (lambda ps: SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.2),
                                       lambda: sgd_by_hand(0.05, momentum=0.8, weight_decay=0.2)),
    "Adam": (lambda ps: Adam(ps, lr=0.1), lambda: adam_by_hand(0.1)),
    "Adam, betas": (lambda ps: Adam(ps, lr=0.1, betas=(0.5, 0.8)), lambda: adam_by_hand(0.1, betas=(0.5, 0.8))),
    "Adam, large eps": (lambda ps: Adam(ps, lr=0.1, eps=0.5), lambda: adam_by_hand(0.1, eps=0.5)),
    "Adam, weight decay": (lambda ps: Adam(ps, lr=0.1, weight_decay=0.4),
                           lambda: adam_by_hand(0.1, weight_decay=0.4)),
    "Adam, every setting": (lambda ps: Adam(ps, lr=0.05, betas=(0.7, 0.95), eps=0.01, weight_decay=0.2),
                            lambda: adam_by_hand(0.05, betas=(0.7, 0.95), eps=0.01, weight_decay=0.2)),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("setting", SETTINGS)
def test_each_setting_takes_the_steps_its_rule_defines(setting, engine):
    make_optimizer, by_hand = SETTINGS[setting]
    np.testing.assert_allclose(ENGINES[engine](make_optimizer), by_hand(), rtol=1e-12, atol=1e-14)


def test_the_settings_change_the_steps():
    """Each setting above moves the parameters somewhere else than its plain optimizer would:
    a rule that ignored it could not pass the test above."""
    plain = {"SGD": sgd_by_hand(0.1), "Adam": adam_by_hand(0.1)}
    assert not np.allclose(sgd_by_hand(0.1, weight_decay=0.3), plain["SGD"], rtol=1e-6)
    assert not np.allclose(sgd_by_hand(0.1, weight_decay=-0.3), sgd_by_hand(0.1, weight_decay=0.3), rtol=1e-6)
    assert not np.allclose(sgd_by_hand(0.1, momentum=0.9), plain["SGD"], rtol=1e-6)
    for changed in [dict(betas=(0.5, 0.999)), dict(betas=(0.9, 0.8)), dict(eps=0.5), dict(weight_decay=0.4)]:
        assert not np.allclose(adam_by_hand(0.1, **changed), plain["Adam"], rtol=1e-6), changed
    assert not np.allclose(adam_by_hand(0.1, weight_decay=-0.4), adam_by_hand(0.1, weight_decay=0.4), rtol=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_weight_decay_alone_shrinks_every_weight_by_the_same_factor(engine, momentum):
    """With a zero gradient, weight decay is the whole gradient: wd·p. Without momentum each
    step multiplies p by (1 - lr·wd); with momentum, v_k = wd·Σ momentum^j p_(k-j)."""
    lr, wd, steps = 0.1, 0.5, 4
    if engine == "Tensor":
        p = Tensor(START.copy())
        optimizer = SGD([p], lr=lr, momentum=momentum, weight_decay=wd)
        for _ in range(steps):
            optimizer.zero_grad()
            (p * 0.0).sum().backward()
            optimizer.step()
        result = p.data
    else:
        ps = [Value(float(x)) for x in START.flat]
        optimizer = SGD(ps, lr=lr, momentum=momentum, weight_decay=wd)
        for _ in range(steps):
            optimizer.zero_grad()
            sum(p * 0.0 for p in ps).backward()
            optimizer.step()
        result = np.array([p.data for p in ps]).reshape(START.shape)
    if momentum == 0.0:
        expected = START * (1 - lr * wd) ** steps
    else:  # the 2x2 linear recurrence (p, v) <- (p - lr·(m·v + wd·p), m·v + wd·p), applied by hand
        p, v = 1.0, 0.0
        for _ in range(steps):
            v = momentum * v + wd * p
            p = p - lr * v
        expected = START * p
    np.testing.assert_allclose(result, expected, rtol=1e-13)
    assert np.all(np.abs(result) < np.abs(START))  # towards zero, never away from it
