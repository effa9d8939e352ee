"""The scalar engine: special points, one node per operation, reuse, deep graphs, determinism, errors."""
import math
import os
import subprocess
import sys
import textwrap

import pytest

from minigrad import Value
from minigrad.autograd import topological_order

# Every operation's value and gradient, against central differences and PyTorch, is checked
# for both engines by the one table in test_operations_both_engines.py. Here: the special points
# that table keeps away from, and what is particular to the scalar engine.


def test_relu_at_zero_has_zero_slope_like_pytorch():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


def test_sigmoid_and_exp_of_large_inputs():
    big = Value(800.0)
    s = big.sigmoid()
    s.backward()
    assert s.data == 1.0 and big.grad == 0.0
    small = Value(-800.0)
    s = small.sigmoid()
    s.backward()
    assert s.data == 0.0 and small.grad == 0.0
    e = big.exp()  # too large for a float64: inf, the engine's one policy for overflow
    e.backward()
    assert e.data == math.inf and big.grad == math.inf


def test_pow_by_a_value_at_zero_base():
    base, exponent = Value(0.0), Value(2.0)
    out = base ** exponent
    out.backward()
    # d(a^b)/db = a^b ln a tends to 0 as a -> 0; d(a^b)/da = b a^(b-1) = 0 at a = 0 for b = 2
    assert (out.data, base.grad, exponent.grad) == (0.0, 0.0, 0.0)


def test_each_operation_makes_one_node_labelled_by_its_operation():
    a, b = Value(2.0), Value(3.0)
    cases = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**3": a ** 3, "**": a ** b, "neg": -a,
             "exp": a.exp(), "log": a.log(), "tanh": a.tanh(), "relu": a.relu(), "sigmoid": a.sigmoid()}
    for op, node in cases.items():
        assert node._op == op
        assert all(isinstance(p, Value) for p in node._prev)
        assert a in node._prev
    assert (a + b)._prev == (a, b)  # in argument order
    assert (2 + a)._prev[1] is a and (2 + a)._prev[0].data == 2.0
    assert +a is a


# ----- reuse: gradients from every use add up -------------------------------------------


def test_a_node_added_to_itself():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0


def test_a_node_multiplied_by_itself():
    a = Value(3.0)
    b = a * a
    b.backward()
    assert a.grad == 6.0


def test_a_node_used_in_many_places():
    x, y = Value(0.7), Value(-1.3)
    f = x * y + x.exp() + x ** 2 + (x - y) + x / y + x.tanh()
    f.backward()
    expected_x = y.data + math.exp(x.data) + 2 * x.data + 1 + 1 / y.data + 1 - math.tanh(x.data) ** 2
    expected_y = x.data - 1 - x.data / y.data ** 2
    assert math.isclose(x.grad, expected_x, rel_tol=1e-14)
    assert math.isclose(y.grad, expected_y, rel_tol=1e-14)


def test_a_diamond():
    a = Value(1.5)
    b, c = a * 2, a * 3
    d = b * c  # = 6 a², d' = 12 a
    d.backward()
    assert a.grad == 12 * 1.5
    assert (b.grad, c.grad) == (c.data, b.data)


def test_a_second_backward_pass_adds_the_same_gradients_again():
    # micrograd passes the first pass's intermediate gradients on again here (a.grad == 6)
    a = Value(3.0)
    c = (a * 2) * 1
    c.backward()
    c.backward()
    assert a.grad == 4.0  # what PyTorch gives with retain_graph=True
    assert c._prev[0].grad == 1.0  # an intermediate holds this pass's gradient only


def test_backward_from_a_node_then_from_a_later_one_accumulates_like_pytorch():
    x = Value(1.0)
    y = x * 2
    y.backward()
    z = y * 3
    z.backward()
    assert x.grad == 2.0 + 6.0


# ----- deep graphs ----------------------------------------------------------------------

CHAIN_SCRIPT = textwrap.dedent("""
    import gc
    import sys
    from minigrad import Value

    n = 1_000_000
    sys.setrecursionlimit(200)  # a traversal that recursed would fail at once
    blocks_before = sys.getallocatedblocks()
    x0, step = Value(0.5), Value(1e-6)
    x = x0
    for _ in range(n // 2):  # n operations: x <- -(x + step), over and over
        x = x + step
        x = -x
    x.backward()
    print(x0.grad, step.grad, x.data)
    blocks_with_graph = sys.getallocatedblocks()
    del x  # dropping the chain frees it: no recursion in deallocation, no cycles left behind
    blocks_after = sys.getallocatedblocks()
    print(blocks_with_graph - blocks_before, blocks_after - blocks_before, gc.collect())
""")


@pytest.mark.slow
def test_a_chain_of_a_million_operations():
    result = subprocess.run([sys.executable, "-c", CHAIN_SCRIPT], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    grads_line, blocks_line = result.stdout.splitlines()
    x0_grad, step_grad, data = map(float, grads_line.split())
    # x_{k+1} = -(x_k + step), an even number of negations: dx/dx0 = 1, dx/dstep = sum of ±1 = 0
    assert x0_grad == 1.0
    assert step_grad == 0.0
    assert data == pytest.approx(0.5, abs=1e-9)
    with_graph, after, collected = map(int, blocks_line.split())
    assert with_graph > 2_000_000  # the graph was there: a node and its parents' tuple per operation
    assert after < with_graph // 100  # and it is gone, freed by reference counting alone
    assert collected == 0  # with no reference cycles for the garbage collector to find


# ----- determinism ----------------------------------------------------------------------


def build_small_network_loss():
    from minigrad.value_nn import ValueMLP as MLP
    model = MLP(3, [5, 4, 1], act="tanh", seed=3)
    xs = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.7], [-0.3, 0.8, 0.1]]
    ys = [1.0, -1.0, 0.5]
    loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
    return model, loss


def test_two_identical_runs_give_bit_identical_results():
    runs = []
    for _ in range(2):
        junk = [Value(float(i)) for i in range(1000)]  # shift where the new nodes live in memory
        model, loss = build_small_network_loss()
        loss.backward()
        order = [(node._op, node.data.hex(), node.grad.hex()) for node in topological_order(loss)]
        runs.append((order, [p.grad.hex() for p in model.parameters()]))
        del junk
    assert runs[0] == runs[1]


def test_identical_results_across_processes_with_different_hash_seeds():
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from test_value import build_small_network_loss
        from minigrad.autograd import topological_order
        model, loss = build_small_network_loss()
        loss.backward()
        print([n._op for n in topological_order(loss)], [p.grad.hex() for p in model.parameters()])
    """ % os.path.dirname(__file__))
    outputs = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] and outputs[0].strip()


# ----- micrograd's reference expressions, by hand and against PyTorch --------------------


def micrograd_readme_expression(a, b):
    """The expression in micrograd's README and its test_more_ops."""
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    return g


def micrograd_sanity_expression(x):
    """The expression in micrograd's test_sanity_check."""
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def test_micrograd_readme_numbers():
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_readme_expression(a, b)
    g.backward()
    assert f"{g.data:.4f} {a.grad:.4f} {b.grad:.4f}" == "24.7041 138.8338 645.5773"


def test_micrograd_readme_expression_matches_pytorch(torch):
    a, b = Value(-4.0), Value(2.0)
    g = micrograd_readme_expression(a, b)
    g.backward()
    at = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    gt = micrograd_readme_expression(at, bt)
    gt.backward()
    assert math.isclose(g.data, gt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)


def test_micrograd_sanity_expression():
    x = Value(-4.0)
    y = micrograd_sanity_expression(x)
    y.backward()
    # z = 3x + 2 = -10, q = relu(z) + z x = 40, h = relu(z²) = 100, y = h + q + q x = -20
    # dy/dx = dh/dx + (1 + x) dq/dx + q, with dh/dx = 2 z · 3 = -60, dq/dx = 3 x + z = -22
    assert y.data == -20.0
    assert x.grad == -60 + (1 - 4) * -22 + 40


def test_micrograd_sanity_expression_matches_pytorch(torch):
    x = Value(-4.0)
    y = micrograd_sanity_expression(x)
    y.backward()
    xt = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    yt = micrograd_sanity_expression(xt)
    yt.backward()
    assert math.isclose(y.data, yt.item(), rel_tol=1e-12)
    assert math.isclose(x.grad, xt.grad.item(), rel_tol=1e-12)


# ----- bad inputs give clear errors -------------------------------------------------------


@pytest.mark.parametrize("make, error, message", [
    (lambda: Value("abc"), TypeError, r"single real number, got str 'abc'"),
    (lambda: Value([1, 2]), TypeError, r"single real number, got list \[1, 2\]"),
    (lambda: Value(None), TypeError, r"single real number, got NoneType"),
    (lambda: Value(Value(1.0)), TypeError, r"got another Value"),
    (lambda: Value(1) + "x", TypeError, r"unsupported operand for \+: Value and str 'x'"),
    (lambda: "x" * Value(1), TypeError, r"unsupported operand for \*: Value and str 'x'"),
    (lambda: Value(1) ** "2", TypeError, r"raised to a number or a Value, not str"),
    (lambda: Value(0).log(), ValueError, r"log is defined for positive numbers only, got 0.0"),
    (lambda: Value(-1).log(), ValueError, r"log is defined for positive numbers only, got -1.0"),
    (lambda: Value(-8) ** 0.5, ValueError, r"negative base \(-8.0\) to a non-integer power \(0.5\)"),
    (lambda: Value(-8) ** Value(2.0), ValueError, r"negative base \(-8.0\) raised to a Value exponent"),
    (lambda: Value(0) ** -1, ZeroDivisionError, r"zero cannot be raised to a negative power"),
    (lambda: Value(1) / Value(0), ZeroDivisionError, r"division of 1.0 by a Value equal to zero"),
    (lambda: 1 / Value(0), ZeroDivisionError, r"by a Value equal to zero"),
])
def test_bad_inputs_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_numbers_of_other_types_are_accepted():
    import numpy as np
    assert Value(3).data == 3.0 and type(Value(3).data) is float
    assert Value(np.float32(0.5)).data == 0.5
    assert Value(np.array(2.5)).data == 2.5
    v = np.float64(2.0) * Value(3.0)  # NumPy must hand over to Value.__rmul__
    assert isinstance(v, Value) and v.data == 6.0


def test_repr():
    assert repr(Value(1.5, name="w")) == "Value(data=1.5, grad=0, name='w')"
