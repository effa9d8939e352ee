"""The Tensor engine's backward side: every operation's gradient, checked two ways.

* against numerical gradients (central differences, ``minigrad.numerical_gradients``)
  over hypothesis-generated shapes and broadcasting pairs;
* against PyTorch in float64, when PyTorch is installed (the tests skip, saying
  why, when it is not).

Then what the graph does and does not record: no_grad, requires_grad=False,
accumulation, the errors of backward(), no reference cycles.
"""
import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from minigrad import Tensor, no_grad, numerical_gradients
from minigrad.autograd import zero_grad
from minigrad.gradcheck import analytic_gradients

SETTINGS = settings(max_examples=15, deadline=None)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)


# ----- inputs ---------------------------------------------------------------------------------

def make(shape, seed, kind="any"):
    """A float64 array of ``shape`` suited to an operation's domain."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if kind == "positive":
        return np.abs(x) + 0.5
    if kind == "away0":  # no entry within 0.1 of zero, where relu and clip have kinks
        return np.sign(x + 1e-12) * (np.abs(x) + 0.1)
    if kind == "distinct":  # no ties, so max has one winner
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.37 + 0.01 * rng.random(n)).reshape(shape) - 0.2 * n
    return x


def weights_for(shape, seed=1):
    """Fixed random weights w: the checks differentiate sum(w * f(x)), so every output entry counts differently."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


def check_numerical(f, *arrays, rtol=1e-5, atol=1e-6):
    """Backpropagated gradients of sum(w * f(inputs)) agree with central differences."""
    inputs = [Tensor(a.copy()) for a in arrays]
    w = weights_for(f(*inputs).shape)

    def loss(*ts):
        return (f(*ts) * w).sum()

    analytic = [np.array(g) for g in analytic_gradients(loss, inputs)]
    numeric = numerical_gradients(loss, inputs)
    for x, a, n in zip(inputs, analytic, numeric):
        assert a.shape == x.shape
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol)
    return analytic


def check_torch(f, f_torch, *arrays, rtol=1e-10, atol=1e-12):
    """minigrad's value and gradients of sum(w * f(inputs)) equal PyTorch's, in float64."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    inputs = [Tensor(a.copy()) for a in arrays]
    out = f(*inputs)
    w = weights_for(out.shape)
    (out * w).sum().backward()
    t_inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    t_out = f_torch(*t_inputs)
    (t_out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=rtol, atol=atol)
    for x, tx in zip(inputs, t_inputs):
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol, atol=atol)


# name: (minigrad function, PyTorch function, input domain)
UNARY = {
    "neg": (lambda t: -t, lambda t: -t, "any"),
    "exp": (lambda t: t.exp(), lambda t: t.exp(), "any"),
    "log": (lambda t: t.log(), lambda t: t.log(), "positive"),
    "tanh": (lambda t: t.tanh(), lambda t: t.tanh(), "any"),
    "relu": (lambda t: t.relu(), lambda t: t.relu(), "away0"),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid(), "any"),
    "square": (lambda t: t ** 2, lambda t: t ** 2, "any"),
    "cube": (lambda t: t ** 3, lambda t: t ** 3, "any"),
    "pow -1.5": (lambda t: t ** -1.5, lambda t: t ** -1.5, "positive"),
    "sqrt": (lambda t: t ** 0.5, lambda t: t ** 0.5, "positive"),
    "rsub": (lambda t: 2 - t, lambda t: 2 - t, "any"),
    "rdiv": (lambda t: 3 / t, lambda t: 3 / t, "positive"),
    "rpow": (lambda t: 2 ** t, lambda t: 2 ** t, "any"),
    "scalar mul add": (lambda t: 3 * t + 1, lambda t: 3 * t + 1, "any"),
    "numpy scalar": (lambda t: np.float64(2.5) * t - np.float64(1), lambda t: 2.5 * t - 1, "any"),
    "clip": (lambda t: t.clip(-0.05, 0.05) + t.clip(-1.0, 1.0), lambda t: t.clamp(-0.05, 0.05) + t.clamp(-1, 1),
             "away0"),
    "sum": (lambda t: t.sum(), lambda t: t.sum(), "any"),
    "mean": (lambda t: t.mean(), lambda t: t.mean(), "any"),
    "max": (lambda t: t.max(), lambda t: t.max(), "distinct"),
    "transpose": (lambda t: t.transpose(), lambda t: t.permute(tuple(reversed(range(t.ndim)))), "any"),
    "reshape": (lambda t: t.reshape(-1), lambda t: t.reshape(-1), "any"),
    "used twice": (lambda t: t * t.exp() + t, lambda t: t * t.exp() + t, "any"),
}


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary_gradients_numerically(name, shape, seed):
    f, _, kind = UNARY[name]
    check_numerical(f, make(shape, seed, kind))


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradients_match_pytorch(name):
    f, f_torch, kind = UNARY[name]
    for shape in [(), (3,), (2, 3), (2, 3, 4)]:
        check_torch(f, f_torch, make(shape, 7, kind))


BINARY = {
    "+": (lambda a, b: a + b, "any"),
    "-": (lambda a, b: a - b, "any"),
    "*": (lambda a, b: a * b, "any"),
    "/": (lambda a, b: a / b, "positive"),
    "**": (lambda a, b: a ** b, "positive"),
    "mixed": (lambda a, b: (a * b - b / (a * a + 1)) ** 2, "any"),
}
broadcasting_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("op", BINARY)
@SETTINGS
@given(pair=broadcasting_pairs, seed=seeds)
def test_binary_gradients_with_broadcasting_numerically(op, pair, seed):
    f, kind = BINARY[op]
    sa, sb = pair.input_shapes
    ga, gb = check_numerical(f, make(sa, seed, kind), make(sb, seed + 1, kind))
    assert ga.shape == sa and gb.shape == sb  # summed back to each input's shape


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("sa, sb", [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 2)),
                                    ((2, 1, 3), (4, 1)), ((3, 1), ())])
def test_binary_gradients_match_pytorch(op, sa, sb):
    f, kind = BINARY[op]
    check_torch(f, f, make(sa, 3, kind), make(sb, 4, kind))


MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((5, 3, 4), (4, 2)),
                 ((3, 4), (5, 4, 2)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (2, 4, 1)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,))]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul_gradients(sa, sb):
    f = lambda a, b: a @ b  # noqa: E731
    a, b = make(sa, 1), make(sb, 2)
    check_numerical(f, a, b)
    check_torch(f, f, a, b)


@SETTINGS
@given(m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4), batch=st.sampled_from([(), (2,), (3, 1)]),
       seed=seeds)
def test_matmul_gradients_random_sizes(m, k, n, batch, seed):
    check_numerical(lambda a, b: a @ b, make(batch + (m, k), seed), make((k, n), seed + 1))


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))
    return shape, axis


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@SETTINGS
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reduction_gradients_numerically(reduction, case, keepdims, seed):
    shape, axis = case
    f = lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims)  # noqa: E731
    check_numerical(f, make(shape, seed, "distinct" if reduction == "max" else "any"))


@pytest.mark.parametrize("reduction", ["sum", "mean", "amax"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients_match_pytorch(reduction, axis, keepdims):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    name = "max" if reduction == "amax" else reduction
    f = lambda t: getattr(t, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    dim = tuple(range(3)) if axis is None else axis

    def f_torch(t):
        return getattr(torch, reduction)(t, dim=dim, keepdim=keepdims)
    check_torch(f, f_torch, make((2, 3, 4), 5, "distinct"))


def test_max_splits_the_gradient_between_ties():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    y = Tensor([2.0, 2.0, 1.0])
    y.max().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.5, 0.0])  # as torch.amax does


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_gradients(fn, axis):
    f = lambda t: getattr(t, fn)(axis)  # noqa: E731
    x = make((3, 4), 11) * 3
    check_numerical(f, x)
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    check_torch(f, lambda t: getattr(torch, fn)(t, dim=axis), x)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_softmax_gradients_random_shapes(shape, seed):
    check_numerical(lambda t: t.softmax(axis=-1), make(shape, seed))
    check_numerical(lambda t: t.log_softmax(axis=0), make(shape, seed))


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_reshape_and_transpose_gradients(shape, seed):
    x = make(shape, seed)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    check_numerical(lambda t: t.transpose(perm), x)
    check_numerical(lambda t: t.reshape(-1, 1) * 2, x)
    check_numerical(lambda t: t.T.reshape(shape[::-1]), x)
    negative = tuple(a - len(shape) for a in perm)  # the same permutation, counted from the end
    check_numerical(lambda t: t.transpose(negative), x)


INDEXES = [0, -1, slice(1, 3), (slice(None), 2), (0, slice(None, None, -1)), (Ellipsis, 1), (None, 1),
           (np.arange(3), np.array([0, 3, 1])), np.array([0, 0, 2, 0]), np.array([True, False, True]),
           (np.array([[0, 1], [1, 1]]), slice(1, 3)), (np.array([2, 2]), np.array([1, 1]))]


@pytest.mark.parametrize("index", INDEXES, ids=lambda i: repr(i).replace("\n", ""))
def test_indexing_gradients(index):
    f = lambda t: t[index]  # noqa: E731
    x = make((3, 4), 2)
    check_numerical(f, x)
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")
    if isinstance(index, tuple) and any(isinstance(i, slice) and i.step == -1 for i in index):
        return  # PyTorch has no negative steps
    t_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index) \
        if isinstance(index, tuple) else (torch.tensor(index) if isinstance(index, np.ndarray) else index)
    check_torch(f, lambda t: t[t_index], x)


def test_repeated_indices_accumulate():
    x = Tensor([10.0, 20.0, 30.0])
    y = x[np.array([0, 0, 2, 0])]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    logits = Tensor(np.zeros((3, 2)))
    picked = logits[np.arange(3), np.array([1, 0, 1])]
    (picked * Tensor([1.0, 2.0, 3.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(logits.grad, [[0, 1], [2, 0], [0, 3]])


def test_composite_expressions_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")

    def f(x, W, b):
        h = (x @ W + b).tanh()
        return (h.softmax(axis=1) * h.sigmoid()).mean(axis=0) - h.max(axis=1).mean() + (h ** 2).sum() / 7

    def f_torch(x, W, b):
        h = (x @ W + b).tanh()
        return (torch.softmax(h, dim=1) * torch.sigmoid(h)).mean(dim=0) - h.amax(dim=1).mean() + (h ** 2).sum() / 7
    args = make((5, 3), 1), make((3, 4), 2), make((4,), 3)
    check_torch(f, f_torch, *args)
    check_numerical(f, *args)


# ----- what backward does ------------------------------------------------------------------------

def test_backward_of_a_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0])
    y = x * 3
    with pytest.raises(ValueError, match=r"shape \(2,\).*gradient"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_backward_of_a_one_element_tensor():
    x = Tensor([[2.0]])
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_backward_copies_the_given_gradient():
    x = Tensor([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0).backward(g)
    g[0] = 100.0
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_gradients_accumulate_until_zeroed():
    x = Tensor([1.0, 2.0])
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])
    zero_grad([x])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    x.grad = np.zeros(2)  # the seeds' way of zeroing
    (x ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_leaves_own_their_gradients():
    x, y = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    s = (x + y).sum()
    s.backward()
    assert x.grad is not y.grad
    assert x.grad.flags.writeable and y.grad.flags.writeable
    x.grad += 1  # in place: must not change y's gradient
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    z = Tensor([1.0, 2.0])
    z.reshape(2, 1).sum().backward()
    assert z.grad.flags.writeable and z.grad.base is None


def test_intermediate_gradients_are_kept():
    x = Tensor([1.0, -2.0])
    h = x * 3
    y = h.relu().sum()
    y.backward()
    np.testing.assert_array_equal(h.grad, [1.0, 0.0])
    np.testing.assert_array_equal(x.grad, [3.0, 0.0])


def test_requires_grad_false_gets_no_gradient_and_costs_none():
    X = Tensor(make((5, 3), 1), requires_grad=False)
    W = Tensor(make((3, 2), 2))
    b = Tensor(np.zeros(2))
    loss = (X @ W + b).relu().sum()
    loss.backward()
    assert X.grad is None and X._grad is None  # never computed, not even as zeros
    assert W.grad.shape == (3, 2) and b.grad.shape == (2,)
    # the constants that operations lift numbers into need none either
    constants = [n for n in _nodes(loss) if not n.requires_grad]
    assert all(n._grad is None for n in constants)


def test_requires_grad_false_skips_the_work():
    """matmul's backward computes only the side that needs a gradient: no dL/dX = grad @ W.T."""
    calls = []

    class Spy(np.ndarray):  # an array that notes every NumPy operation it takes part in
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            calls.append(ufunc.__name__)
            return getattr(ufunc, method)(*(np.asarray(i) for i in inputs), **kwargs)

    X = Tensor(make((4, 3), 1), requires_grad=False)
    W = Tensor(make((3, 2), 2))
    W.data = W.data.view(Spy)
    out = X @ W
    assert calls == ["matmul"]
    calls.clear()
    out.backward(np.ones((4, 2)))
    assert calls == []  # W was not used: only dL/dW = X.T @ grad was computed
    np.testing.assert_allclose(W.grad, X.data.T @ np.ones((4, 2)))


def _nodes(root):
    from minigrad.autograd import topological_order
    return topological_order(root)


def test_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Tensor(make((4, 3), 1))
        W = Tensor(make((3, 2), 2))
        loss = ((x @ W).tanh().softmax() * 2).sum() + x.max() + x[np.array([0, 0])].mean()
        loss.backward()
        del x, W, loss
        assert gc.collect() == 0  # everything was freed by reference counting alone
    finally:
        gc.enable()


def test_a_deep_graph_needs_no_recursion():
    x = Tensor([1.0])
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_the_root_can_be_a_leaf():
    x = Tensor(3.0)
    x.backward()
    assert x.grad == 1.0


def test_no_grad_then_backward_elsewhere():
    W = Tensor([1.0, 2.0])
    with no_grad():
        frozen = W * 2
    loss = (W * frozen).sum()
    loss.backward()
    np.testing.assert_array_equal(W.grad, frozen.data)  # `frozen` is a constant here


def test_backward_accepts_any_array_like_gradient():
    x = Tensor(np.ones((3, 2)))
    y = x * 2
    y.backward(np.arange(12.0).reshape(2, 6)[:, ::2].T)  # a non-contiguous view
    np.testing.assert_array_equal(x.grad, 2 * np.arange(12.0).reshape(2, 6)[:, ::2].T)
    x.grad = None
    y.backward(Tensor(np.ones((3, 2))))  # or a Tensor
    y.backward([[1, 1], [1, 1], [1, 1]])  # or a list
    np.testing.assert_array_equal(x.grad, np.full((3, 2), 4.0))


def test_a_second_backward_pass_adds_the_same_gradients_to_the_leaves():
    a = Tensor([1.0, -2.0])
    loss = ((a * 2) * 1).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])
