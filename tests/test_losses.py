"""minigrad.losses for both engines: values, gradients, stability, the two engines agreeing, and errors.

Each loss takes Values (one, a list, a list of lists) or a Tensor. Gradients are
checked against central differences, and against PyTorch where it is installed
(those tests skip, saying why, when it is not).
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minigrad import Tensor, Value, gradcheck
from minigrad.losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy_loss,
                             hinge_loss, mse_loss)

RNG = np.random.default_rng(0)


def values(numbers):
    return [Value(float(x)) for x in numbers]


def value_rows(rows):
    return [values(row) for row in rows]


def grads(vs):
    return [v.grad for v in vs]


def logsumexp(zs):
    top = max(zs)
    return top + math.log(sum(math.exp(z - top) for z in zs))


def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


# ----- mean squared error and hinge ------------------------------------------------------


def test_mse_loss_value_and_gradient():
    predictions = values([1.0, -2.0, 0.5])
    targets = [0.0, -1.0, 2.5]
    loss = mse_loss(predictions, targets)
    loss.backward()
    assert math.isclose(loss.data, (1 + 1 + 4) / 3, rel_tol=1e-15)
    for p, t in zip(predictions, targets):
        assert math.isclose(p.grad, 2 * (p.data - t) / 3, rel_tol=1e-15)


def test_mse_loss_tensor_matches_values():
    p, y = RNG.standard_normal(5), RNG.standard_normal(5)
    vs = values(p)
    lv = mse_loss(vs, list(y))
    lv.backward()
    t = Tensor(p)
    lt = mse_loss(t, y)
    lt.backward()
    assert isinstance(lt, Tensor) and lt.shape == ()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, grads(vs))
    np.testing.assert_allclose(mse_loss(Tensor(p), Tensor(y)).data, lv.data)  # targets as a Tensor
    np.testing.assert_allclose(mse_loss(Tensor(p), list(y)).data, lv.data)    # or a list
    np.testing.assert_allclose(mse_loss(values(p), y).data, lv.data)          # Values with an array of targets


def test_mse_loss_of_a_batch_of_several_outputs_equals_the_tensor_form():
    p, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    rows = value_rows(p)
    lv = mse_loss(rows, y.tolist())
    lv.backward()
    t = Tensor(p)
    lt = mse_loss(t, y)
    lt.backward()
    np.testing.assert_allclose(lv.data, lt.data, rtol=1e-14)  # the mean over all 12 outputs, in both
    np.testing.assert_allclose([grads(row) for row in rows], t.grad, rtol=1e-14)


def test_hinge_loss_value_and_gradient():
    scores = values([2.0, 0.5, -0.25])
    labels = [1, 1, 1]
    loss = hinge_loss(scores, labels)
    loss.backward()
    # max(0, 1 - y s): 0, 0.5, 1.25 -> mean 0.5833; slope -y/3 where the margin is violated
    assert math.isclose(loss.data, 1.75 / 3, rel_tol=1e-15)
    assert grads(scores) == [0.0, -1 / 3, -1 / 3]


def test_hinge_loss_tensor_matches_values():
    s = np.array([0.3, -2.0, 1.5, 0.9, -0.2])
    y = np.array([1, -1, -1, 1, 1])
    vs = values(s)
    lv = hinge_loss(vs, [int(v) for v in y])
    lv.backward()
    t = Tensor(s)
    lt = hinge_loss(t, y)
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, grads(vs))


# ----- one Value with one plain number: what the docstrings promise ------------------------


@pytest.mark.parametrize("loss, output, target", [
    (mse_loss, 2.0, 1.0), (hinge_loss, 0.25, -1), (hinge_loss, 0.25, 1.0), (binary_cross_entropy, 0.3, 1.0),
    (binary_cross_entropy, 0.3, 0.25), (binary_cross_entropy_with_logits, -1.5, 1.0),
    (binary_cross_entropy_with_logits, 0.0, 0.0),
])
def test_one_value_with_a_plain_number_target_equals_the_list_form(loss, output, target):
    alone, listed = Value(output), Value(output)
    a = loss(alone, target)
    b = loss([listed], [target])
    a.backward()
    b.backward()
    assert isinstance(a, Value) and (a.data, alone.grad) == (b.data, listed.grad)
    assert loss(Value(output), Value(target)).data == a.data  # a Value as the target, too
    assert loss(Value(output), [target]).data == a.data       # or a list of one


# ----- binary cross-entropy --------------------------------------------------------------


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


def test_binary_cross_entropy_tensor_matches_values_and_pytorch():
    p = np.array([0.1, 0.8, 0.5, 0.999, 0.02])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    vs = values(p)
    lv = binary_cross_entropy(vs, list(y))
    lv.backward()
    t = Tensor(p)
    lt = binary_cross_entropy(t, y)
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, grads(vs))
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    tp = torch.tensor(p, requires_grad=True)
    tl = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(lt.data, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tp.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_binary_cross_entropy_value_and_gradient_in_closed_form(engine):
    """-mean(y log p + (1 - y) log(1 - p)), whose slope in p is (p - y) / (p (1 - p)) / n: no PyTorch needed."""
    p = np.array([0.1, 0.8, 0.5, 0.999, 0.02, 0.65])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25])
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    slope = (p - y) / (p * (1 - p)) / len(p)
    if engine == "Value":
        vs = values(p)
        loss = binary_cross_entropy(vs, list(y))
        loss.backward()
        value, gradient = loss.data, grads(vs)
    else:
        t = Tensor(p)
        loss = binary_cross_entropy(t, y)
        loss.backward()
        value, gradient = loss.item(), t.grad
    assert math.isclose(value, expected, rel_tol=1e-12)
    np.testing.assert_allclose(gradient, slope, rtol=1e-9)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_cross_entropy_of_a_batch_in_closed_form(engine):
    """The mean of logsumexp(row) - row[target], with slope (softmax(row) - onehot) / n: no PyTorch needed."""
    batch = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.5], [0.0, 0.0, 0.0], [-4.0, 1.0, 1.5]])
    targets = [2, 0, 1, 1]
    total = np.log(np.exp(batch).sum(axis=1, keepdims=True))
    expected = np.mean(total[:, 0] - batch[np.arange(4), targets])
    slope = (np.exp(batch - total) - np.eye(3)[targets]) / len(batch)
    if engine == "Value":
        rows = value_rows(batch)
        loss = cross_entropy_loss(rows, targets)
        loss.backward()
        value, gradient = loss.data, [grads(row) for row in rows]
    else:
        t = Tensor(batch)
        loss = cross_entropy_loss(t, targets)
        loss.backward()
        value, gradient = loss.item(), t.grad
    assert math.isclose(value, expected, rel_tol=1e-12)
    np.testing.assert_allclose(gradient, slope, rtol=1e-9, atol=1e-15)


def test_binary_cross_entropy_of_a_confident_mistake_is_large_but_finite():
    p = Value(0.0)
    loss = binary_cross_entropy([p], [1.0])
    assert math.isclose(loss.data, -math.log(1e-12), rel_tol=1e-12)
    loss.backward()
    assert p.grad == 0.0  # clipped: a constant, through which no gradient flows
    t = Tensor([0.0, 1.0, 0.5])
    loss = binary_cross_entropy(t, [1.0, 0.0, 1.0])
    loss.backward()
    assert np.isfinite(loss.data) and loss.data > 9
    np.testing.assert_array_equal(t.grad[:2], [0.0, 0.0])
    assert np.all(np.isfinite(t.grad))


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
@pytest.mark.parametrize("bad", [1.5, -0.2, 3.0])
def test_binary_cross_entropy_refuses_logits_and_says_to_apply_sigmoid(engine, bad):
    outputs = [0.3, bad, 0.9]
    given_ = values(outputs) if engine == "Value" else Tensor(outputs)
    with pytest.raises(ValueError, match=r"expects probabilities in \[0, 1\], got .* at index 1: apply sigmoid"):
        binary_cross_entropy(given_, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_binary_cross_entropy_refuses_a_nan_probability_naming_it(engine):
    # As PyTorch's range check does; a NaN is no logit, so the message does not say "apply sigmoid"
    outputs = [0.3, float("nan"), 0.9]
    given_ = values(outputs) if engine == "Value" else Tensor(outputs)
    with pytest.raises(ValueError, match=r"got nan at index 1: the model's outputs contain NaN"):
        binary_cross_entropy(given_, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize("bad", [2.0, -1.0, float("nan")])
def test_binary_cross_entropies_refuse_targets_outside_0_1(engine, loss, bad):
    outputs = [0.3, 0.6]
    given_ = values(outputs) if engine == "Value" else Tensor(outputs)
    with pytest.raises(ValueError, match=r"needs targets in \[0, 1\], got"):
        loss(given_, [1.0, bad])


# ----- binary cross-entropy from logits --------------------------------------------------


Z = np.array([-30.0, -2.5, -0.1, 0.0, 0.0, 0.7, 4.0, 30.0])
Y = np.array([1.0, 0.0, 0.3, 1.0, 0.0, 1.0, 0.0, 0.0])


def test_bce_with_logits_equals_bce_of_the_sigmoid_with_gradient_sigmoid_minus_target():
    # log σ(z) = -log(1 + e^-z) and log(1 - σ(z)) = log σ(-z), by NumPy's exact logaddexp
    # (log(1 - sigmoid(30)) in floats would lose most digits: that is the point of the loss)
    expected = np.mean(Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z))
    vs = values(Z)
    lv = binary_cross_entropy_with_logits(vs, list(Y))
    lv.backward()
    t = Tensor(Z)
    lt = binary_cross_entropy_with_logits(t, Y)
    lt.backward()
    np.testing.assert_allclose([lv.data, lt.item()], expected, rtol=1e-12)
    dz = (sigmoid(Z) - Y) / len(Z)  # at z = 0 too: the formula's two forms meet smoothly there
    np.testing.assert_allclose(grads(vs), dz, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t.grad, dz, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_bce_with_logits_passes_gradcheck_on_both_sides_of_zero(engine):
    z = np.array([-3.0, -0.4, 0.0, 0.2, 2.5])
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    if engine == "Value":
        inputs = values(z)
        gap = gradcheck(lambda *zs: binary_cross_entropy_with_logits(list(zs), list(y)), inputs)
    else:
        gap = gradcheck(lambda t: binary_cross_entropy_with_logits(t, y), [Tensor(z)])
    assert gap < 1e-8


def test_bce_with_logits_of_huge_logits_is_finite_and_keeps_the_full_gradient():
    z = np.array([1000.0, -1000.0, 800.0, -800.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    t = Tensor(z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = binary_cross_entropy_with_logits(t, y)
        loss.backward()
    np.testing.assert_allclose(loss.data, (1000 + 1000 + 0 + 0) / 4)
    np.testing.assert_allclose(t.grad, [0.25, -0.25, 0.0, 0.0])  # a confident mistake still gets pushed back
    vs = values(z)
    lv = binary_cross_entropy_with_logits(vs, list(y))
    lv.backward()
    assert lv.data == loss.data and grads(vs) == list(t.grad)


def test_bce_with_logits_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    z = np.concatenate([Z, RNG.standard_normal(6) * 5]).reshape(7, 2)
    y = np.concatenate([Y, RNG.uniform(0, 1, 6)]).reshape(7, 2)
    t = Tensor(z)
    loss = binary_cross_entropy_with_logits(t, y)
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(y))
    expected.backward()
    np.testing.assert_allclose(loss.data, expected.item(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tz.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_bce_with_logits_keeps_float32():
    t = Tensor(Z, dtype=np.float32)
    loss = binary_cross_entropy_with_logits(t, Y)
    loss.backward()
    assert loss.dtype == np.float32 and t.grad.dtype == np.float32


# ----- cross-entropy ----------------------------------------------------------------------


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
    rows = value_rows(batch)
    loss = cross_entropy_loss(rows, targets)
    loss.backward()
    logits = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(logits, torch.tensor(targets))
    expected.backward()
    assert math.isclose(loss.data, expected.item(), rel_tol=1e-12)
    for row, row_grads in zip(rows, logits.grad.tolist()):
        for z, g in zip(row, row_grads):
            assert math.isclose(z.grad, g, rel_tol=1e-10, abs_tol=1e-15)


@pytest.mark.parametrize("target, expected_loss", [(0, 0.0), (1, 2000.0), (2, 1000.0)])
def test_cross_entropy_with_logits_of_plus_minus_1000(target, expected_loss):
    zs = values([1000.0, -1000.0, 0.0])
    loss = cross_entropy_loss(zs, target)
    loss.backward()
    assert math.isfinite(loss.data)
    assert loss.data == pytest.approx(expected_loss, abs=1e-12)
    softmax = [1.0, 0.0, 0.0]  # e^-1000 and e^-2000 are 0 in float64
    assert grads(zs) == pytest.approx([s - (i == target) for i, s in enumerate(softmax)], abs=1e-300)


def test_cross_entropy_with_all_logits_large_and_equal():
    zs = values([1000.0, 1000.0])
    loss = cross_entropy_loss(zs, [1])
    loss.backward()
    assert loss.data == pytest.approx(math.log(2), rel=1e-12)
    assert grads(zs) == pytest.approx([0.5, -0.5], rel=1e-12)


def test_cross_entropy_tensor_matches_values():
    logits = RNG.standard_normal((4, 3))
    targets = [2, 0, 1, 1]
    vs = value_rows(logits)
    lv = cross_entropy_loss(vs, targets)
    lv.backward()
    t = Tensor(logits)
    lt = cross_entropy_loss(t, np.array(targets))
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data, rtol=1e-12)
    np.testing.assert_allclose(t.grad, [grads(row) for row in vs], rtol=1e-10, atol=1e-14)


def test_cross_entropy_of_one_example_takes_its_class_in_every_form():
    logits = np.array([1.0, 2.0, 0.5])
    expected = cross_entropy_loss(values(logits), 1).data
    for target in [1, [1], np.int64(1), np.array([1]), 1.0, np.array(1.0), Tensor([1.0])]:
        assert cross_entropy_loss(values(logits), target).data == expected, target
        np.testing.assert_allclose(cross_entropy_loss(Tensor(logits), target).data, expected, rtol=1e-15)


def test_cross_entropy_is_one_operation_equal_to_its_composition():
    x = RNG.standard_normal((6, 5))
    y = np.array([0, 4, 4, 1, 2, 0])
    a, b = Tensor(x), Tensor(x)
    fused = cross_entropy_loss(a, y)
    composed = -b.log_softmax(axis=1)[np.arange(6), y].mean()
    assert fused._op == "cross_entropy" and len(fused._prev) == 1
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-14)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
def test_cross_entropy_matches_pytorch_and_stays_finite(scale):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    x = RNG.standard_normal((8, 5)) * scale
    x[0] = [1000.0, -1000.0, 0.0, 1000.0, -1000.0]
    x[1] = [-1000.0, -1000.0, -1000.0, -1000.0, -1000.0]
    y = np.array([1, 3, 0, 4, 2, 2, 0, 1])
    t = Tensor(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = cross_entropy_loss(t, y)
        loss.backward()
    assert np.isfinite(loss.data) and np.all(np.isfinite(t.grad))
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(loss.data, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_gradcheck_and_float32():
    x = Tensor(RNG.standard_normal((5, 4)))
    y = np.array([3, 0, 1, 1, 2])
    assert gradcheck(lambda t: cross_entropy_loss(t, y), [x]) < 1e-8
    x32 = Tensor(RNG.standard_normal((5, 4)), dtype=np.float32)
    loss = cross_entropy_loss(x32, y)
    loss.backward()
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_cross_entropy_accepts_whole_numbers_stored_as_floats_and_numpy_integers(engine):
    x = RNG.standard_normal((3, 2))
    logits = (lambda: value_rows(x)) if engine == "Value" else (lambda: Tensor(x))
    expected = cross_entropy_loss(logits(), [0, 1, 1]).data
    for targets in [np.array([0.0, 1.0, 1.0]), np.array([0, 1, 1], dtype=np.int64), np.array([0, 1, 1], np.uint8),
                    np.array([False, True, True]), Tensor([0.0, 1.0, 1.0]), values([0, 1, 1])]:
        np.testing.assert_allclose(cross_entropy_loss(logits(), targets).data, expected, rtol=1e-15)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
@pytest.mark.parametrize("targets, message", [
    (np.array([0, 1, 3]), r"cross_entropy(_loss)?: target 3 is not a class index in 0\.\.2$"),
    (np.array([0, -1, 1]), r"cross_entropy(_loss)?: target -1 is not a class index in 0\.\.2$"),
    (np.array([0.5, 1, 1]), r"targets must be integer class indices, got float values such as 0\.5$"),
    (np.array([0, 1, np.nan]), r"targets must be integer class indices, got float values such as nan$"),
    (np.array([0, 1]), r"cross_entropy(_loss)?: 3 rows of logits but targets of shape \(2,\)$"),
    (np.array([[0], [1], [2]]), r"3 rows of logits but targets of shape \(3, 1\) \(a column of labels"),
    (np.array(["a", "b", "c"]), r"targets must be integer class indices, got text values such as 'a'$"),
    (2, r"3 rows of logits but targets of shape \(1,\)"),
])
def test_cross_entropy_target_errors_are_the_same_for_both_engines(engine, targets, message):
    # the scalar loss names itself; for a Tensor the one operation that checks the targets does
    logits = value_rows(np.zeros((3, 3))) if engine == "Value" else Tensor(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=message):
        cross_entropy_loss(logits, targets)


def test_cross_entropy_logit_shape_errors():
    with pytest.raises(ValueError, match=r"logits must have shape \(classes,\) .* got shape \(2, 3, 4\)"):
        cross_entropy_loss(Tensor(np.zeros((2, 3, 4))), [0, 1])
    with pytest.raises(ValueError, match=r"shape \(0, 3\): no rows or no classes"):
        cross_entropy_loss(Tensor(np.zeros((0, 3))), np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"shape \(3, 0\): no rows or no classes"):
        cross_entropy_loss(Tensor(np.zeros((3, 0))), np.array([0, 0, 0]))
    with pytest.raises(ValueError, match=r"the rows of logits have different lengths \[2, 3\]"):
        cross_entropy_loss([values([1, 2]), values([1, 2, 3])], [0, 1])


# ----- every loss: gradient checks, and what is refused -----------------------------------


@pytest.mark.parametrize("loss", ["mse", "hinge", "bce", "bce_with_logits"])
def test_tensor_losses_pass_gradcheck(loss):
    p = Tensor(RNG.uniform(0.1, 0.9, size=(6, 1)))
    if loss == "mse":
        y = RNG.standard_normal((6, 1))
        f = lambda t: mse_loss(t, y)  # noqa: E731
    elif loss == "hinge":
        y = np.array([[1], [-1], [1], [1], [-1], [-1]])
        f = lambda t: hinge_loss(t * 3 - 1.4, y)  # noqa: E731
    elif loss == "bce":
        y = RNG.uniform(0, 1, size=(6, 1))
        f = lambda t: binary_cross_entropy(t, y)  # noqa: E731
    else:
        y = RNG.uniform(0, 1, size=(6, 1))
        f = lambda t: binary_cross_entropy_with_logits(t * 8 - 4, y)  # noqa: E731
    assert gradcheck(f, [p]) < 1e-7


ALL_LOSSES = [(mse_loss, 1.0), (hinge_loss, 1), (binary_cross_entropy, 1.0), (binary_cross_entropy_with_logits, 1.0)]


@pytest.mark.parametrize("loss, target", ALL_LOSSES, ids=lambda x: getattr(x, "__name__", ""))
@pytest.mark.parametrize("outputs, message", [
    ([0.5, 0.25], r"expects the model's \w+ as Values .* got a list of float; make them Values"),
    (np.array([0.5, 0.25]), r"got a NumPy array of shape \(2,\); wrap it: Tensor\(array\)"),
    (0.5, r"as Values .* or as a Tensor, got float 0\.5"),
    ([Value(0.5), 0.25], r"got a list of Value, float"),
])
def test_outputs_that_are_not_values_or_a_tensor_are_refused(loss, target, outputs, message):
    with pytest.raises(TypeError, match=message):
        loss(outputs, [target] * np.size(outputs))


@pytest.mark.parametrize("outputs, message", [
    ([1.0, 2.0], r"cross_entropy_loss expects the model's logits as Values \(a list per example, or a list "
                 r"of such lists\) or as a Tensor, got a list of float"),
    (Value(1.0), r"needs one logit per class, a list of Values .* got a single Value"),
    (np.zeros(3), r"got a NumPy array of shape \(3,\); wrap it: Tensor\(array\)"),
])
def test_cross_entropy_says_what_it_expects(outputs, message):
    with pytest.raises(TypeError, match=message):
        cross_entropy_loss(outputs, 0)


@pytest.mark.parametrize("make, error, message", [
    (lambda: mse_loss(values([1.0, 2.0]), [1.0]), ValueError, r"mse_loss: 2 outputs but 1 targets"),
    (lambda: mse_loss(values([1.0, 2.0]), 1.0), ValueError, r"mse_loss: 2 outputs but 1 targets"),
    (lambda: mse_loss([], []), ValueError, r"mse_loss: no outputs to compare"),
    (lambda: binary_cross_entropy(Tensor(np.zeros((0, 1))), np.zeros((0, 1))), ValueError,
     r"binary_cross_entropy: no outputs to compare"),
    (lambda: mse_loss(value_rows([[1, 2]]), [1.0, 2.0]), ValueError,
     r"outputs of shape \(1, 2\) but targets of shape \(2,\)"),
    (lambda: mse_loss(values([1.0]), ["a"]), TypeError, r"targets must be numbers or Values .* got str 'a'"),
    (lambda: mse_loss(Tensor(np.ones((4, 1))), np.ones(4)), ValueError,
     r"outputs of shape \(4, 1\) but targets of shape \(4,\); reshape one of them"),
    (lambda: mse_loss(Tensor(np.ones(2)), values([1, 2])), TypeError,
     r"for a Tensor of outputs, targets must be numbers .* got a list of Value"),
    (lambda: hinge_loss(values([1.0]), [0]), ValueError, r"hinge_loss needs labels of -1 or \+1, got 0"),
    (lambda: hinge_loss(Tensor([1.0, 2.0]), [0, 1]), ValueError, r"hinge_loss needs labels of -1 or \+1"),
    (lambda: cross_entropy_loss(values([1.0, 2.0]), 2), ValueError, r"target 2 is not a class index in 0..1"),
    (lambda: cross_entropy_loss(values([1.0, 2.0]), [0, 1]), ValueError,
     r"1 row of logits but targets of shape \(2,\)"),
])
def test_bad_loss_arguments_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
