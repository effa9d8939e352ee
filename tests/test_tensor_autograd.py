"""The Tensor engine's backward side: max's ties, indexing, composites, checked two ways:

* against numerical gradients (central differences, ``minigrad.numerical_gradients``);
* against PyTorch in float64, when PyTorch is installed (the tests skip, saying
  why, when it is not).

Then what the graph does and does not record: no_grad, requires_grad=False,
accumulation, the errors of backward(), no reference cycles.
"""

import numpy as np
import pytest

from minigrad import Tensor, no_grad, numerical_gradients
from minigrad.autograd import zero_grad
from minigrad.gradcheck import analytic_gradients


# ----- inputs ---------------------------------------------------------------------------------

def make(shape, seed):
    """A float64 array of ``shape``, standard normal, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal(shape)


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


# Every operation's gradient (elementwise, reductions, matmul, reshape, transpose, softmax,
# clip), against central differences and PyTorch, is checked by the tables in
# test_operations_both_engines.py. Here: ties, indexing, composites, and what backward does.


def test_max_splits_the_gradient_between_ties():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    y = Tensor([2.0, 2.0, 1.0])
    y.max().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.5, 0.0])  # as torch.amax does


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
    """matmul's rule computes only the side that needs a gradient: no dL/dX = grad @ W.T."""
    X = Tensor(make((4, 3), 1), requires_grad=False)
    W = Tensor(make((3, 2), 2))
    out = X @ W
    grad = np.ones((4, 2))
    dX, dW = out._backward(grad)
    assert dX is None  # not computed: X needs no gradient
    np.testing.assert_allclose(dW, X.data.T @ grad)
    out.backward(grad)
    assert X.grad is None
    np.testing.assert_allclose(W.grad, X.data.T @ grad)


def _nodes(root):
    from minigrad.autograd import topological_order
    return topological_order(root)


def test_no_reference_cycles(live_nodes):
    before = live_nodes(Tensor)
    x = Tensor(make((4, 3), 1))
    W = Tensor(make((3, 2), 2))
    loss = ((x @ W).tanh().softmax() * 2).sum() + x.max() + x[np.array([0, 0])].mean()
    loss.backward()
    assert live_nodes(Tensor) >= before + 10  # the graph is there, and counted
    del x, W, loss
    assert live_nodes(Tensor) == before  # all freed by reference counting alone


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


@pytest.mark.parametrize("make_base, index", [
    (lambda rng: rng.normal(size=(5, 4)).T, (np.array([0, 0, 3]),)),  # F-ordered input
    (lambda rng: rng.normal(size=(27, 6)), np.array([[1, 1, 26], [4, 0, 1]])),  # embedding rows
    (lambda rng: rng.normal(size=(5, 4, 3)), (slice(None), np.array([2, 2, 0]))),
    (lambda rng: rng.normal(size=(5, 4)), np.array([[True, False, True, True]] * 5)),
    (lambda rng: rng.normal(size=(6, 4)).astype(np.float32), (np.array([1, 1, 2]), np.array([0, 0, 3]))),
])
def test_fancy_index_gradient_adds_every_pick_like_np_add_at(make_base, index):
    rng = np.random.default_rng(3)
    base = make_base(rng)
    t = Tensor(base)
    picked = t[index]
    weights = rng.normal(size=picked.shape).astype(base.dtype)
    (picked * Tensor(weights, requires_grad=False)).sum().backward()
    expected = np.zeros(base.shape, base.dtype)
    np.add.at(expected, index, weights)
    assert t.grad.dtype == base.dtype
    assert np.array_equal(t.grad, expected)
