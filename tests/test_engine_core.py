"""The shared core and the one recipe for an operation, in both engines.

An operation's rule returns its local gradients; the core adds them up, sums
them back to broadcast shapes, and gives every leaf a gradient of its own.
"""

import numpy as np
import pytest

from minigrad import SGD, Tensor, Value, no_grad
from minigrad import tensor as tensor_ops
from minigrad import value as value_ops
from minigrad.autograd import backpropagate, topological_order


# ----- a rule is a small function that can be tested alone --------------------------

def test_a_scalar_rule_returns_the_local_gradients_times_the_incoming_one():
    assert value_ops.Mul(Value(3.0), Value(-2.0))._backward(5.0) == (-10.0, 15.0)
    assert value_ops.Sub(Value(3.0), Value(-2.0))._backward(5.0) == (5.0, -5.0)
    assert value_ops.Tanh(Value(0.0))._backward(2.0) == (2.0,)


def test_a_tensor_rule_returns_the_local_gradients_in_the_result_shape():
    a, b = Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([10.0, 20.0])
    grad = np.ones((2, 2))
    ga, gb = tensor_ops.Mul(a, b)._backward(grad)
    np.testing.assert_array_equal(ga, [[10.0, 20.0], [10.0, 20.0]])
    np.testing.assert_array_equal(gb, [[1.0, 2.0], [3.0, 4.0]])  # not yet summed back to (2,)


def test_the_core_sums_a_broadcast_gradient_back_to_the_input_shape():
    a, b = Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([10.0, 20.0])
    (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad, [4.0, 6.0])
    assert b.grad.shape == b.shape


@pytest.mark.parametrize("engine", [Value, Tensor], ids=["Value", "Tensor"])
def test_a_new_operation_is_one_small_class_in_either_engine(engine):
    class Square(engine):
        __slots__ = ()
        _op = "square"

        def __init__(self, a):
            self._record(a.data * a.data, a)

        def _backward(self, grad):
            return (2.0 * self._prev[0].data * grad,)

    x = engine(3.0)
    y = Square(x) + x
    (y if engine is Value else y.sum()).backward()
    assert float(x.grad) == 7.0


def multiply_add(engine):
    """a·b + c, an operation with three inputs, in the chapters' recipe."""
    class MultiplyAdd(engine):
        __slots__ = ()
        _op = "a*b+c"

        def __init__(self, a, b, c):
            self._record(a.data * b.data + c.data, a, b, c)

        def _backward(self, grad):  # d/da = b, d/db = a, d/dc = 1
            a, b, c = self._prev
            return grad * b.data, grad * a.data, grad
    return MultiplyAdd


def test_an_operation_with_three_inputs_passes_each_its_own_gradient():
    MultiplyAdd = multiply_add(Value)
    a, b, c = Value(2.0), Value(-3.0), Value(0.5)
    out = MultiplyAdd(a, b, c)
    (out * out).backward()  # d(out²) = 2·out = 2·(-5.5) = -11
    assert out._prev == (a, b, c)
    assert (a.grad, b.grad, c.grad) == (-11.0 * -3.0, -11.0 * 2.0, -11.0)
    x = Value(1.5)
    MultiplyAdd(x, x, x).backward()  # x² + x: one input three times
    assert x.grad == 2 * 1.5 + 1


def test_a_tensor_operation_with_three_inputs_sums_each_gradient_back_to_its_input():
    MultiplyAdd = multiply_add(Tensor)
    a = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = Tensor([10.0, 20.0, 30.0])  # broadcast over the rows
    c = Tensor([[1.0], [2.0]])      # broadcast over the columns
    w = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    (MultiplyAdd(a, b, c) * w).sum().backward()
    np.testing.assert_array_equal(a.grad, w * b.data)
    np.testing.assert_array_equal(b.grad, (w * a.data).sum(axis=0))
    np.testing.assert_array_equal(c.grad, w.sum(axis=1, keepdims=True))
    x = Tensor([1.0, -2.0])
    MultiplyAdd(x, x, x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 1)


@pytest.mark.parametrize("needs_grad", [0, 1, 2])
def test_a_tensor_operation_with_three_inputs_records_them_when_any_one_needs_a_gradient(needs_grad):
    MultiplyAdd = multiply_add(Tensor)
    a, b, c = (Tensor([2.0, 3.0], requires_grad=i == needs_grad) for i in range(3))
    out = MultiplyAdd(a, b, c)
    assert out.requires_grad and out._prev == (a, b, c)
    out.sum().backward()
    expected = [b.data, a.data, np.ones(2)][needs_grad]
    np.testing.assert_array_equal((a, b, c)[needs_grad].grad, expected)


# ----- leaves own their gradients ----------------------------------------------------------

def test_leaves_that_received_the_same_gradient_do_not_share_an_array():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    (a + b).backward(np.array([1.0, 1.0]))
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad *= 10  # e.g. clipping one parameter's gradient in place
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_a_leaf_reshaped_or_transposed_owns_its_gradient():
    w = Tensor(np.arange(6.0).reshape(2, 3))
    y = w.T.reshape(6)
    upstream = np.arange(6.0)
    y.backward(upstream)
    assert not np.shares_memory(w.grad, upstream)


def test_a_constant_gets_no_gradient():
    c = Tensor([1.0, 2.0], requires_grad=False)
    x = Tensor([3.0, 4.0])
    (x * c - c).sum().backward()
    assert c.grad is None and c._grad is None
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


# ----- no_grad in both engines -----------------------------------------------------------------

def test_value_honours_no_grad():
    x = Value(2.0)
    with no_grad():
        y = x * x + 1.0
    assert y.data == 5.0 and y._prev == ()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()
    z = x * x  # recording is back on after the block
    z.backward()
    assert z._prev and x.grad == 4.0


def test_no_grad_keeps_no_graph_alive():
    x = Tensor(np.ones(3))
    with no_grad():
        y = (x * 2).exp()
    assert topological_order(y) == [y]


# ----- data changed between forward and backward ----------------------------------------------

def test_changing_a_parameter_between_forward_and_backward_is_an_error():
    w = Tensor([1.0, 2.0], name="w")
    loss = (w * w).sum()
    w.data -= 0.5  # what an optimizer step does
    with pytest.raises(RuntimeError, match=r"input 0 'w' .*given new data after the operation used it"):
        loss.backward()


def test_an_optimizer_step_before_backward_is_caught():
    w = Tensor([1.0, 2.0])
    optimizer = SGD([w], lr=0.1)
    loss = (w * 3.0).sum()
    loss.backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match="new data"):
        loss.backward()  # the old graph saw the old weights
    fresh = (w * 3.0).sum()  # a new forward pass is fine
    fresh.backward()


def test_reassigning_data_after_backward_and_recomputing_is_fine():
    w = Tensor([1.0, 2.0])
    for _ in range(3):
        loss = (w * w).sum()
        w.grad = None
        loss.backward()
        w.data = w.data - 0.1 * w.grad
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.8 ** 3)  # each step: w - 0.1 * 2w


# ----- powers at zero ----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [Value, lambda x: Tensor([x])], ids=["Value", "Tensor"])
def test_the_zeroth_power_has_slope_zero_everywhere_even_at_zero(make):
    x = make(0.0)
    y = x ** 0
    (y if isinstance(y, Value) else y.sum()).backward()
    assert float(np.asarray(x.grad).item()) == 0.0


@pytest.mark.parametrize("make", [Value, lambda x: Tensor([x])], ids=["Value", "Tensor"])
def test_the_square_root_at_zero_has_an_infinite_slope(make):
    x = make(0.0)
    y = x ** 0.5
    (y if isinstance(y, Value) else y.sum()).backward()
    assert float(np.asarray(x.grad).item()) == np.inf


# ----- robustness -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, zero", [(Value, 0.0), (lambda x: Tensor(np.array(x)), None)], ids=["Value", "Tensor"])
def test_a_graph_is_freed_without_the_cycle_collector(make, zero, live_nodes):
    kind = type(make(0.5))
    before = live_nodes(kind)
    x = make(0.5)
    y = x
    for _ in range(200):
        y = (y * 1.01).tanh()
    y.backward()
    assert live_nodes(kind) >= before + 400  # every node of the chain is counted
    del x, y
    assert live_nodes(kind) == before  # nothing was left in a reference cycle


def test_backpropagate_resets_intermediate_gradients_on_every_pass():
    x = Value(0.5)
    out = (x * 3.0).tanh()
    backpropagate(out, 1.0)
    first = x.grad
    backpropagate(out, 1.0)
    assert x.grad == pytest.approx(2 * first, rel=1e-15)


@pytest.mark.parametrize("data, message", [
    (None, "got None"),
    ({"a": 1.0}, "got a dict"),
    ((x for x in [1.0, 2.0]), "make a list of it first"),
    ([1.0, 10 ** 400], "too large for a float64"),
    ([1.0, None], "NoneType"),
])
def test_data_that_is_not_numbers_gets_a_message_saying_what_it_is(data, message):
    with pytest.raises((TypeError, ValueError), match=message) as caught:
        Tensor(data)
    assert "different lengths" not in str(caught.value)


@pytest.mark.parametrize("engine", ["Value", "Tensor"])
def test_a_leaf_as_the_root_adds_up_its_gradient_like_every_leaf(engine):
    x = Value(2.0) if engine == "Value" else Tensor(2.0)
    x.backward()
    x.backward()
    assert float(x.grad) == 2.0  # d x / d x = 1, once per pass, as in PyTorch
