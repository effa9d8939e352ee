"""Issue 15 (engines and losses) and issue 18, item 1: no silent wrong answers.

In-place arithmetic, the gradient mode per thread, NaN through every
operation, element-wise comparisons of tensors, data changed before
backward(), float32 binary cross-entropy at p = 1, NaN logits, clip with one
bound and exactly at its bounds, an empty index, one overflow policy for the
scalar engine, and a few clearer messages. Each check runs without PyTorch;
where PyTorch is installed, the same computation is compared with it.
"""
import math
import operator
import threading
import warnings

import numpy as np
import pytest

from minigrad import MLP, SGD, Tensor, Value, ValueMLP, autograd, cross_entropy_loss, draw_dot, no_grad
from minigrad.autograd import is_grad_enabled, topological_order
from minigrad.datasets import make_linear_regression, make_moons
from minigrad.losses import binary_cross_entropy, binary_cross_entropy_with_logits

NAN = float("nan")


def same_with_nan(a, b):
    """Equal numbers, NaN where the other has NaN."""
    np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


# ----- 1. in-place arithmetic -------------------------------------------------------


def _step_in_place(p, lr):
    with no_grad():
        p -= lr * p.grad
    return p


def test_tensor_in_place_update_under_no_grad_trains_like_data_update():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    w_idiom, w_data = Tensor(np.zeros(3)), Tensor(np.zeros(3))
    for _ in range(5):
        for w in (w_idiom, w_data):
            w.grad = None
            ((Tensor(x, requires_grad=False) @ w - y) ** 2).mean().backward()
        same = _step_in_place(w_idiom, 0.1)
        assert same is w_idiom  # the same object: the model's parameter itself changed
        w_data.data -= 0.1 * w_data.grad
    assert np.any(w_idiom.data != 0)  # it trained
    np.testing.assert_array_equal(w_idiom.data, w_data.data)


IN_PLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv}


@pytest.mark.parametrize("op, expected", [("+=", [3.0, 4.0]), ("-=", [-1.0, 0.0]),
                                          ("*=", [2.0, 4.0]), ("/=", [0.5, 1.0])])
def test_tensor_in_place_operators_keep_dtype_and_identity(op, expected):
    t = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    with no_grad():
        result = IN_PLACE[op](t, np.float64(2.0))  # what `t op= 2.0` assigns back to t
    assert result is t
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.array(expected, dtype=np.float32))


def test_tensor_in_place_change_makes_an_earlier_graph_refuse_backward():
    w = Tensor([1.0, 2.0])
    x = Tensor([3.0, 4.0], requires_grad=False)
    loss = (w * x).sum()
    w.grad = np.ones(2)
    _step_in_place(w, 0.5)
    with pytest.raises(RuntimeError, match=r"input 0 .* of the '\*' operation was given new data"):
        loss.backward()
    # a constant changed in place counts too: Mul's rule reads x to give w its gradient
    loss = (w * x).sum()
    x -= 1.0  # requires_grad=False and a constant operand: in place even outside no_grad
    with pytest.raises(RuntimeError, match=r"input 1 .* of the '\*' operation was given new data"):
        loss.backward()


def test_tensor_in_place_change_of_a_computed_result_makes_backward_refuse():
    x = Tensor([0.5, 1.0])
    h = x.exp()  # Exp's rule reads its own result
    with no_grad():
        h -= 1.0
    with pytest.raises(RuntimeError, match=r"the result of the 'exp' operation .* was given new data"):
        h.backward(np.ones(2))
    h2 = x.exp()
    h2.data = h2.data * 2  # assigning data is the same change
    with pytest.raises(RuntimeError, match=r"the result of the 'exp' operation"):
        h2.sum().backward()


def test_tensor_in_place_puts_the_numbers_in_a_new_array():
    source = np.array([1.0, 2.0])
    t = Tensor(source, requires_grad=False)  # shares `source` (no copy)
    alias = t.detach()
    t += 1.0
    np.testing.assert_array_equal(t.data, [2.0, 3.0])
    np.testing.assert_array_equal(source, [1.0, 2.0])  # nothing changed behind the engine's back
    np.testing.assert_array_equal(alias.data, [1.0, 2.0])


def test_tensor_in_place_on_a_parameter_outside_no_grad_is_refused():
    p = Tensor([1.0, 2.0], name="w")
    p.grad = np.ones(2)
    for op, in_place in IN_PLACE.items():
        with pytest.raises(RuntimeError, match=rf"on a tensor 'w' of shape \(2,\) that requires a gradient .*"
                                               rf"`p.data \{op} \.\.\.`"):
            in_place(p, 0.5)
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_tensor_in_place_on_a_graph_node_outside_no_grad_makes_a_new_node():
    w = Tensor([1.0, -2.0])
    loss = (w * w).sum()
    before = loss
    loss += (3 * w).sum()  # `loss = loss + penalty`, with the penalty's gradient
    assert loss is not before and loss._op == "+"
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data + 3)
    total = Tensor(0.0, requires_grad=False)
    total += (w * 2).sum()  # a constant accumulator with a graph: a new node too
    assert total.requires_grad and total._op == "+"


def test_tensor_in_place_keeps_the_shape_and_refuses_division_by_zero():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=False)
    with pytest.raises(ValueError, match=r"a tensor of shape \(3,\) cannot take an operand of shape \(2, 3\)"):
        t += np.ones((2, 3))
    with pytest.raises(ValueError, match=r"cannot take an operand of shape \(2,\)"):
        t += np.ones(2)
    with pytest.raises(ZeroDivisionError, match="contains zeros"):
        t /= np.array([1.0, 0.0, 1.0])
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])


def test_tensor_in_place_matches_pytorch(torch):
    start = np.array([0.5, -1.5, 2.0])
    ours, theirs = Tensor(start.copy()), torch.tensor(start.copy(), requires_grad=True)
    for _ in range(3):
        ours.grad = None
        theirs.grad = None
        (ours ** 3).sum().backward()
        (theirs ** 3).sum().backward()
        with no_grad():
            ours -= 0.01 * ours.grad
        with torch.no_grad():
            theirs -= 0.01 * theirs.grad
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-15)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        theirs -= 1.0  # PyTorch refuses too, outside no_grad
    with pytest.raises(RuntimeError, match="requires a gradient"):
        ours -= 1.0


def test_value_in_place_update_under_no_grad_trains():
    p = Value(1.0)
    path = []
    for _ in range(3):
        p.grad = 0.0
        ((p - 3) ** 2).backward()
        with no_grad():
            same = p
            p -= 0.25 * p.grad
        assert p is same
        path.append(p.data)
    assert path == [2.0, 2.5, 2.75]  # (1 - 2·0.25) of the distance to 3 is left after each step
    with no_grad():
        p += Value(0.25)
        p *= 2
        p /= 4
    assert p.data == 1.5


def test_value_in_place_on_a_leaf_outside_no_grad_is_refused():
    p = Value(1.0)
    p.grad = 0.5
    with pytest.raises(RuntimeError, match=r"on a Value that is a leaf .* `p.data -= \.\.\.` .* `p = p - \.\.\.`"):
        p -= 0.1 * p.grad
    assert p.data == 1.0
    for op, in_place in IN_PLACE.items():
        with pytest.raises(RuntimeError, match=rf"on a Value that is a leaf .* `p.data \{op} \.\.\.`"):
            in_place(p, 2.0)


def test_value_in_place_on_a_graph_node_makes_a_new_node():
    w = Value(3.0)
    loss = w * w
    before = loss
    loss += 2 * w
    assert loss is not before and loss._op == "+"
    loss.backward()
    assert w.grad == 2 * 3.0 + 2


def test_value_in_place_under_no_grad_refuses_what_is_not_a_number():
    p = Value(1.0)
    with no_grad(), pytest.raises(TypeError, match="unsupported operand for -=: Value and str"):
        p -= "a"


# ----- 2. the gradient mode is per thread ------------------------------------------------


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_no_grad_in_one_thread_does_not_switch_off_another(engine):
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def evaluate():
        with no_grad():
            inside.set()
            seen["other thread records"] = is_grad_enabled()
            x = Value(2.0) if engine == "Value" else Tensor([2.0])
            seen["other thread's result has inputs"] = bool((x * x)._prev)
            release.wait(10)

    thread = threading.Thread(target=evaluate)
    thread.start()
    try:
        assert inside.wait(10)
        assert is_grad_enabled()  # this thread is not inside no_grad
        w = Value(3.0) if engine == "Value" else Tensor([3.0])
        loss = w * w if engine == "Value" else (w * w).sum()
        loss.backward()
        assert float(np.asarray(w.grad).ravel()[0]) == 6.0
    finally:
        release.set()
        thread.join(10)
    assert seen == {"other thread records": False, "other thread's result has inputs": False}
    assert is_grad_enabled() and autograd._all_threads_record  # all blocks closed: the fast path again


def test_no_grad_nests_and_restores_after_an_error():
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        assert not (Value(1.0) * 2)._prev
    assert is_grad_enabled()
    with pytest.raises(KeyError), no_grad():
        raise KeyError("x")
    assert is_grad_enabled() and (Value(1.0) * 2)._prev and autograd._no_grad_blocks == 0


# ----- 3. NaN goes through every operation as NaN ---------------------------------------

# (name, f, is the gradient at the NaN input NaN?) As in PyTorch: NaN where the
# rule computes with the input; relu passes the gradient at a NaN.
UNARY = [
    ("relu", lambda x: x.relu(), False),
    ("tanh", lambda x: x.tanh(), True),
    ("sigmoid", lambda x: x.sigmoid(), True),
    ("exp", lambda x: x.exp(), True),
    ("log", lambda x: x.log(), True),
    ("square", lambda x: x ** 2, True),
    ("sqrt", lambda x: x ** 0.5, True),
    ("x*x", lambda x: x * x, True),
    ("2/x", lambda x: 2 / x, True),
    ("2**x", lambda x: 2 ** x, True),
    ("neg", lambda x: -x, False),
    ("x+2", lambda x: x + 2, False),
    ("x*2", lambda x: x * 2, False),
    ("x/2", lambda x: x / 2, False),
]


@pytest.mark.parametrize("name, f, slope_depends", UNARY, ids=[u[0] for u in UNARY])
def test_nan_goes_through_value_and_tensor_alike(name, f, slope_depends):
    v = Value(NAN)
    out = f(v)
    out.backward()
    assert math.isnan(out.data)
    assert math.isnan(v.grad) == slope_depends
    t = Tensor([NAN, 0.5])
    out_t = f(t)
    out_t.backward(np.ones(2))
    assert math.isnan(out_t.data[0]) and not math.isnan(out_t.data[1])
    same_with_nan(t.grad[0], v.grad)  # both engines give the same gradient at the NaN


def test_value_relu_of_nan_is_nan_not_zero():
    x = Value(NAN)
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and x.grad == 1.0  # the gradient passes, as PyTorch's relu
    z = Value(-1.0)
    zr = z.relu()
    zr.backward()
    assert (zr.data, z.grad) == (0.0, 0.0)  # a negative input: still 0, slope 0


def test_pow_of_a_value_exponent_with_nan():
    for base, exponent in [(NAN, 2.0), (2.0, NAN)]:
        a, b = Value(base), Value(exponent)
        out = a ** b
        out.backward()
        assert math.isnan(out.data) and math.isnan(a.grad) and math.isnan(b.grad)


@pytest.mark.parametrize("name, f", [
    ("max", lambda t: t.max()),
    ("max over an axis", lambda t: t.max(axis=1)),
    ("clip", lambda t: t.clip(-0.4, 0.4)),
    ("softmax", lambda t: t.softmax(axis=1)),
    ("log_softmax", lambda t: t.log_softmax(axis=1)),
    ("cross_entropy", lambda t: t.cross_entropy(np.array([0, 1]))),
], ids=lambda x: x if isinstance(x, str) else "")
def test_nan_in_tensor_reductions_and_rows(name, f):
    x = Tensor([[NAN, 0.3, -0.2], [0.1, 0.5, 0.2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a division by a zero count
        out = f(x)
        out.backward(np.ones(out.shape))
    nan_result = np.isnan(out.data)
    assert nan_result.any()
    if name.startswith("clip"):
        same_with_nan(out.data[0], [NAN, 0.3, -0.2])
        same_with_nan(x.grad, [[0, 1, 1], [1, 0, 1]])  # 0 at the NaN, as PyTorch's clamp
    elif name == "max":
        assert np.isnan(x.grad).all()  # the NaN is the maximum: no entry is "the largest" any more
    elif name != "cross_entropy":  # the row with the NaN is NaN, the other row is not touched
        assert nan_result[0].all() and not nan_result[1:].any()
        assert np.isnan(x.grad[0]).all() and np.isfinite(x.grad[1]).all()
    else:
        assert np.isnan(x.grad[0]).all()


def test_nan_values_and_gradients_match_pytorch(torch):
    data = np.array([[NAN, 0.3, -0.2], [0.1, 0.5, 0.2]])
    cases = {
        "tanh": (lambda t: t.tanh(), torch.tanh),
        "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid),
        "exp": (lambda t: t.exp(), torch.exp),
        "square": (lambda t: t ** 2, lambda t: t ** 2),
        "softmax": (lambda t: t.softmax(axis=1), lambda t: t.softmax(dim=1)),
        "log_softmax": (lambda t: t.log_softmax(axis=1), lambda t: t.log_softmax(dim=1)),
        "amax": (lambda t: t.max(axis=1), lambda t: t.amax(dim=1)),
        "sum": (lambda t: t.sum(axis=0), lambda t: t.sum(dim=0)),
        "relu": (lambda t: t.relu(), torch.relu),
        "clip": (lambda t: t.clip(-0.25, 0.25), lambda t: t.clamp(-0.25, 0.25)),
        "product": (lambda t: t * t[::-1], lambda t: t * t.flip(0)),
    }
    for name, (ours_f, theirs_f) in cases.items():
        ours, theirs = Tensor(data), torch.tensor(data, requires_grad=True)
        o, t = ours_f(ours), theirs_f(theirs)
        g = np.linspace(0.5, 1.5, o.size).reshape(o.shape)
        o.backward(g)
        t.backward(torch.tensor(g))
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-12, err_msg=name)  # NaN = NaN
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, err_msg=name)


def test_log_still_refuses_zero_and_negatives_but_passes_nan():
    with pytest.raises(ValueError, match=r"smallest: -1.0"):
        Tensor([NAN, 2.0, -1.0]).log()
    with pytest.raises(ValueError, match=r"got 0.0"):
        Value(0.0).log()
    assert math.isnan(Value(NAN).log().data)


# ----- 4. comparisons of tensors --------------------------------------------------------


def test_tensor_equality_is_element_wise():
    t = Tensor([1.0, 0.0, 1.0])
    labels = np.array([1.0, 0.0, 0.0])
    assert np.mean(t == labels) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(t != labels, [False, False, True])
    np.testing.assert_array_equal(labels == t, [True, True, False])  # reflected: the same
    np.testing.assert_array_equal(t == Tensor([1.0, 1.0, 1.0]), [True, False, True])
    np.testing.assert_array_equal(t > 0.5, [True, False, True])
    np.testing.assert_array_equal(t <= 0, [False, True, False])
    np.testing.assert_array_equal(0.5 < t, [True, False, True])
    np.testing.assert_array_equal(t >= [1.0, 1.0, 0.0], [True, False, True])
    assert isinstance(t == 1.0, np.ndarray) and (t == 1.0).dtype == bool
    assert (Tensor(2.0) == 2.0) and not (Tensor(2.0) != 2.0)


def test_tensor_comparisons_with_other_types_and_shapes():
    t = Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 (what is tested)
    assert (t == "a") is False
    with pytest.raises(TypeError):
        t < "a"  # noqa: B015
    with pytest.raises(ValueError, match=r"==: shapes \(2,\) and \(3,\) do not broadcast"):
        t == np.ones(3)  # noqa: B015


def test_tensors_still_hash_by_identity_so_the_graph_walk_works():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])  # equal numbers, different nodes
    assert len({a, b}) == 2 and hash(a) != hash(b)
    assert {a: 1, b: 2}[a] == 1
    loss = (a * b + a).sum()
    order = topological_order(loss)
    assert len(order) == 5 and sum(node is a for node in order) == 1
    loss.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 3.0])


def test_tensor_comparisons_match_pytorch(torch):
    x, y = np.array([1.0, NAN, 3.0, -1.0]), np.array([1.0, NAN, 2.0, 0.0])
    ours, theirs = Tensor(x), torch.tensor(x)
    for op in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        np.testing.assert_array_equal(getattr(ours, op)(y), getattr(theirs, op)(torch.tensor(y)).numpy())


# ----- 7. the scalar engine and .data changed before backward() ------------------------


def test_value_docstring_example_data_changed_before_backward():
    # Documented, not detected (checking would cost every multiplication; see Value's docstring)
    assert "w.data = 5.0" in Value.__doc__ and "x.grad                  # 5.0" in Value.__doc__
    w, x = Value(2.0), Value(3.0)
    loss = w * x
    w.data = 5.0
    loss.backward()
    assert x.grad == 5.0
    # the tensor engine refuses the same mistake
    wt, xt = Tensor([2.0]), Tensor([3.0])
    loss = (wt * xt).sum()
    wt.data = np.array([5.0])
    with pytest.raises(RuntimeError, match="given new data"):
        loss.backward()


# ----- 11, 12. binary cross-entropy: float32 at p = 1, NaN logits ----------------------


def test_float32_binary_cross_entropy_of_a_probability_that_rounded_to_one():
    z = Tensor(np.array([20.0, -20.0, 0.0], dtype=np.float32))
    p = z.sigmoid()
    assert p.data[0] == 1.0 and p.data[1] > 0  # float32: σ(20) rounds to exactly 1
    loss = binary_cross_entropy(p, [0.0, 1.0, 1.0])
    loss.backward()
    assert loss.dtype == np.float32 and np.isfinite(loss.data)
    # p = 1 is clipped to the largest float32 below 1, 1 - 2**-24: a term of -log(2**-24)
    expected = (24 * math.log(2) - math.log(float(p.data[1])) - math.log(0.5)) / 3
    assert float(loss.data) == pytest.approx(expected, rel=1e-6)
    assert np.all(np.isfinite(z.grad))
    # float64 keeps eps = 1e-12 as before
    p64 = Tensor([1.0])
    assert float(binary_cross_entropy(p64, [0.0]).data) == -math.log(1 - (1 - 1e-12))


def test_float32_binary_cross_entropy_is_finite_like_pytorch(torch):
    p = np.array([1.0, 0.0, 0.3], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0], dtype=np.float32)
    ours = binary_cross_entropy(Tensor(p), y)
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    assert np.isfinite(ours.data) and math.isfinite(theirs.item())


def test_binary_cross_entropy_refuses_a_bad_eps():
    with pytest.raises(ValueError, match=r"eps must be a finite number in \[0, 0.5\), got 0.7"):
        binary_cross_entropy(Tensor([0.5]), [1.0], eps=0.7)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_binary_cross_entropy_with_logits_of_a_nan_logit_is_nan(engine):
    # NaN goes on as NaN, as in every operation and in PyTorch; no misleading "log of a negative"
    logits = [NAN, 1.0]
    given = [Value(z) for z in logits] if engine == "Value" else Tensor(logits)
    loss = binary_cross_entropy_with_logits(given, [0.0, 1.0])
    loss.backward()
    assert math.isnan(float(loss.data))
    grads = [v.grad for v in given] if engine == "Value" else given.grad
    assert math.isnan(grads[0])
    assert grads[1] == pytest.approx((1 / (1 + math.exp(-1.0)) - 1) / 2)


def test_binary_cross_entropy_with_logits_nan_matches_pytorch(torch):
    z = torch.tensor([NAN, 1.0], dtype=torch.float64, requires_grad=True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor([0.0, 1.0], dtype=torch.float64))
    theirs.backward()
    ours_z = Tensor([NAN, 1.0])
    ours = binary_cross_entropy_with_logits(ours_z, [0.0, 1.0])
    ours.backward()
    assert math.isnan(theirs.item()) and math.isnan(float(ours.data))
    np.testing.assert_allclose(ours_z.grad, z.grad.numpy(), rtol=1e-12)  # NaN where PyTorch has NaN


# ----- 13. clip with one bound; an empty index --------------------------------------------


@pytest.mark.parametrize("low, high", [(None, 1.0), (-0.5, None), (-0.5, 1.0)])
def test_clip_with_one_bound_forward_and_backward(low, high):
    x = np.array([-2.0, -0.25, 0.5, 3.0])
    t = Tensor(x)
    out = t.clip(low, high)
    out.backward(np.arange(1.0, 5.0))
    np.testing.assert_array_equal(out.data, np.clip(x, low, high))
    lo = -np.inf if low is None else low
    hi = np.inf if high is None else high
    np.testing.assert_array_equal(t.grad, np.arange(1.0, 5.0) * ((x >= lo) & (x <= hi)))
    h = 1e-6  # central differences (no entry near a bound)
    numeric = [(np.clip(x + h * e, low, high) - np.clip(x - h * e, low, high)) @ np.arange(1.0, 5.0) / (2 * h)
               for e in np.eye(4)]
    np.testing.assert_allclose(t.grad, numeric, atol=1e-8)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip needs a lower or an upper bound"):
        Tensor([1.0]).clip(None, None)


def test_clip_with_one_bound_matches_pytorch(torch):
    x = np.array([-2.0, -0.25, 0.5, 1.0, 3.0])
    for low, high in [(None, 1.0), (-0.25, None)]:
        ours, theirs = Tensor(x), torch.tensor(x, requires_grad=True)
        ours.clip(low, high).sum().backward()
        theirs.clamp(low, high).sum().backward()
        np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


def test_indexing_with_an_empty_list_selects_nothing_like_numpy():
    x = Tensor(np.arange(3.0))
    empty = x[[]]
    assert empty.shape == (0,) == np.arange(3.0)[[]].shape
    (empty.sum() + x[[2, 2]].sum()).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 2.0])
    m = Tensor(np.ones((2, 3)))
    assert m[[]].shape == (0, 3) and m[:, []].shape == (2, 0)


# ----- issue 18, item 1: clip exactly at its bounds ----------------------------------------


def test_clip_passes_the_gradient_exactly_at_its_bounds():
    # As PyTorch's clamp: low <= x <= high, the bounds included. Inputs sit exactly on them.
    x = Tensor([-1.0, -1.0 - 1e-12, 0.5, 1.0, 1.0 + 1e-12])
    x.clip(-1.0, 1.0).backward(np.full(5, 3.0))
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 3.0, 3.0, 0.0])
    for low, high, at in [(-1.0, None, -1.0), (None, 1.0, 1.0)]:
        t = Tensor([at])
        t.clip(low, high).sum().backward()
        assert t.grad[0] == 1.0


def test_binary_cross_entropy_clips_with_the_gradient_passing_at_its_bounds():
    # The scalar engine's clip (inside binary_cross_entropy) and the tensor engine's agree:
    # p exactly at eps or 1 - eps is not clipped away, so its gradient flows.
    eps = 1e-12
    for p_value, y in [(eps, 1.0), (1 - eps, 0.0)]:
        v = Value(p_value)
        binary_cross_entropy([v], [y]).backward()
        t = Tensor([p_value])
        binary_cross_entropy(t, [y]).backward()
        expected = -1 / p_value if y == 1.0 else 1 / (1 - p_value)
        assert v.grad == pytest.approx(expected, rel=1e-9)
        assert t.grad[0] == pytest.approx(expected, rel=1e-9)
    beyond = Value(eps / 2)  # outside: a constant, no gradient
    binary_cross_entropy([beyond], [1.0]).backward()
    assert beyond.grad == 0.0


def test_clip_at_its_bounds_matches_pytorch(torch):
    x = np.array([-1.0, 0.0, 1.0])
    ours, theirs = Tensor(x), torch.tensor(x, requires_grad=True)
    ours.clip(-1.0, 1.0).sum().backward()
    theirs.clamp(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


# ----- 14. one overflow policy for the scalar engine ---------------------------------------


@pytest.mark.parametrize("name, f, expected", [
    ("Value(1e200) ** 2", lambda: Value(1e200) ** 2, math.inf),
    ("Value(-1e200) ** 3", lambda: Value(-1e200) ** 3, -math.inf),
    ("Value(2.0) ** Value(2000.0)", lambda: Value(2.0) ** Value(2000.0), math.inf),
    ("2.0 ** Value(2000.0)", lambda: 2.0 ** Value(2000.0), math.inf),
    ("Value(1e-200) ** -2", lambda: Value(1e-200) ** -2, math.inf),
    ("Value(1000.0).exp()", lambda: Value(1000.0).exp(), math.inf),
    ("Value(1e200) * Value(1e200)", lambda: Value(1e200) * Value(1e200), math.inf),
    ("Value(1e308) + Value(1e308)", lambda: Value(1e308) + Value(1e308), math.inf),
    ("Value(1e308) / Value(1e-10)", lambda: Value(1e308) / Value(1e-10), math.inf),
])
def test_overflow_gives_infinity_in_every_scalar_operation(name, f, expected):
    out = f()
    assert out.data == expected
    out.backward()  # the gradients overflow the same way, with no error


def test_overflow_policy_is_the_tensor_engines_too():
    with np.errstate(over="ignore"):
        for value, tensor in [(Value(1e200) ** 2, Tensor([1e200]) ** 2),
                              (Value(1000.0).exp(), Tensor([1000.0]).exp()),
                              (Value(2.0) ** Value(2000.0), Tensor([2.0]) ** Tensor([2000.0]))]:
            assert value.data == tensor.data[0] == math.inf
    assert "Overflow gives infinity" in __import__("minigrad.value", fromlist=["x"]).__doc__


def test_power_gradient_that_overflows_is_infinite():
    x = Value(1e200)
    (x ** 3).backward()  # 3 x² = inf
    assert x.grad == math.inf


def test_a_number_too_large_for_a_float64_is_refused_like_the_tensor_engine():
    with pytest.raises(ValueError, match="too large for a float64"):
        Value(10 ** 400)
    with pytest.raises(ValueError, match="too large for a float64"):
        Value(2.0) ** (10 ** 400)
    with pytest.raises(ValueError, match="too large for a float64"):
        Tensor([10 ** 400])


# ----- 19. smaller messages -------------------------------------------------------------------


def test_make_moons_infinite_noise_message_says_finite():
    with pytest.raises(ValueError, match=r"noise must be a finite number >= 0, got inf"):
        make_moons(10, noise=math.inf)


@pytest.mark.parametrize("coef", ["1", b"1", ["1"], [None]])
def test_make_linear_regression_refuses_coef_that_is_not_numbers(coef):
    with pytest.raises(ValueError, match="coef must be None, True, False or 1 numbers"):
        make_linear_regression(5, coef=coef)


def test_value_mlp_given_a_tensor_says_which_engine_to_use():
    model = ValueMLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match=r"a ValueMLP works with Values .* got a Tensor of shape \(2,\).*minigrad.MLP"):
        model(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="a ValueLayer works with Values"):
        model.layers[0](Tensor([1.0, 2.0]))
    assert isinstance(model([1.0, 2.0]), Value)


@pytest.mark.parametrize("make", [lambda: Value(1.0, name=3), lambda: Tensor([1.0], name=3)])
def test_names_must_be_strings(make):
    with pytest.raises(TypeError, match="name must be a str .* got int 3"):
        make()


def test_draw_dot_draws_a_name_assigned_later_whatever_it_is():
    pytest.importorskip("graphviz")
    a = Value(2.0, name="a")
    a.name = 3  # a slot, assigned after construction: drawn as its text
    assert "3 | data 2.0000" in draw_dot(a * a).source


@pytest.mark.parametrize("axis", [1.0, "0", np.float64(0.0)])
def test_sum_axis_that_is_not_an_integer_is_a_type_error(axis):
    with pytest.raises(TypeError, match=r"axis must be an int, a tuple of ints, or None; got"):
        Tensor(np.ones((2, 2))).sum(axis=axis)
    with pytest.raises(TypeError, match="axis must be an int"):
        Tensor(np.ones((2, 2))).mean(axis=(0, axis))
    with pytest.raises(ValueError, match="out of range"):
        Tensor(np.ones((2, 2))).sum(axis=5)


def test_double_softmax_into_cross_entropy_warns():
    model = MLP(2, [4, 3], last_activation="softmax", seed=0)
    x, y = np.ones((5, 2)), np.array([0, 1, 2, 0, 1])
    with pytest.warns(UserWarning, match="output of a softmax .* apply it twice"):
        cross_entropy_loss(model(x), y)
    with pytest.warns(UserWarning, match="cross_entropy: these logits are the output of a softmax"):
        model(x).cross_entropy(y)
    with pytest.warns(UserWarning, match="output of a softmax"):
        cross_entropy_loss(model(x[0]), 1)


def test_cross_entropy_of_real_logits_does_not_warn():
    model = MLP(2, [4, 3], seed=0)
    x, y = np.ones((5, 2)), np.array([0, 1, 2, 0, 1])
    optimizer = SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            loss = cross_entropy_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model(x).log_softmax().cross_entropy(y)  # log_softmax output: logits still (shifted)
