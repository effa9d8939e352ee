"""Every elementwise operation, in one table, checked the same way on both engines.

Each row of ``ELEMENTWISE`` is an operation: a function of its inputs written
once (it runs on Values, on Tensors, on NumPy arrays and on PyTorch tensors
alike, unless the row gives another spelling), and the domain each input is
drawn from (where the operation is defined and smooth: no division by
numbers near zero, no relu at its kink). For the scalar engine the inputs
are Values; for the tensor engine, Tensors of random shapes that broadcast
against each other. Three checks per operation and engine:

* the forward value equals NumPy's;
* the backpropagated gradients equal central differences
  (``minigrad.gradcheck``, float64);
* value and gradients equal PyTorch's, in float64, when PyTorch is installed
  (otherwise those tests skip, saying why).

``TENSOR_ONLY`` does the same for the operations only the tensor engine has:
reductions (over drawn axes, with and without keepdims), matmul (batched and
1-d cases), reshape, transpose, softmax, log_softmax and clip.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis import given, settings
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

from minigrad import Tensor, Value
from minigrad.gradcheck import analytic_gradients, numerical_gradients

# ----- domains: where an input may be drawn from ---------------------------------------------


@dataclass(frozen=True)
class Domain:
    """Numbers in [low, high], or with a size in [low, high] and either sign (``signed``),
    or, with ``grid``, distinct multiples of 0.01 (so a maximum has one winner, by a margin)."""
    low: float
    high: float
    signed: bool = False
    grid: bool = False

    def elements(self):
        if self.grid:
            return st.integers(int(self.low * 100), int(self.high * 100)).map(lambda k: k / 100)
        numbers = st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        if self.signed:
            return st.tuples(numbers, st.sampled_from([-1.0, 1.0])).map(lambda pair: pair[0] * pair[1])
        return numbers


ANY = Domain(-4, 4)
POSITIVE = Domain(0.5, 4)
NONZERO = Domain(0.5, 4, signed=True)        # divisors, negative powers
AWAY_FROM_ZERO = Domain(1e-3, 4, signed=True)  # relu: not at the kink
EXPONENT = Domain(-2, 2)
LOG = Domain(0.05, 20)
SIGMOID = Domain(-8, 8)
DISTINCT = Domain(-4, 4, grid=True)           # max: no ties


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ----- the table ----------------------------------------------------------------------------


@dataclass
class Op:
    f: Callable                      # on Values, Tensors (and NumPy arrays, PyTorch tensors unless given below)
    domains: tuple                   # one Domain per input
    numpy: Callable = None           # NumPy's spelling, where it differs
    torch: Callable = None           # PyTorch's spelling, where it differs
    cases: object = None             # TENSOR_ONLY: a strategy for (input shapes, keyword arguments)
    kwargs: dict = field(default_factory=dict)


def composite(a, b):
    return (a * b + a.exp()).tanh() / (1 + b ** 2) - ((a - b) ** 2 + 0.25).relu().sigmoid()


def composite_numpy(a, b):
    return np.tanh(a * b + np.exp(a)) / (1 + b ** 2) - sigmoid(np.maximum((a - b) ** 2 + 0.25, 0))


ELEMENTWISE = {
    "x + y": Op(lambda a, b: a + b, (ANY, ANY)),
    "x - y": Op(lambda a, b: a - b, (ANY, ANY)),
    "x * y": Op(lambda a, b: a * b, (ANY, ANY)),
    "x / y": Op(lambda a, b: a / b, (ANY, NONZERO)),
    "-x": Op(lambda a: -a, (ANY,)),
    "x ** 2": Op(lambda a: a ** 2, (ANY,)),
    "x ** 3": Op(lambda a: a ** 3, (ANY,)),  # negative bases too: an integer power
    "x ** -1": Op(lambda a: a ** -1, (NONZERO,)),
    "x ** -2": Op(lambda a: a ** -2, (NONZERO,)),
    "x ** 0.5": Op(lambda a: a ** 0.5, (POSITIVE,)),
    "x ** 2.5": Op(lambda a: a ** 2.5, (POSITIVE,)),
    "x ** -1.5": Op(lambda a: a ** -1.5, (POSITIVE,)),
    "x ** y": Op(lambda a, b: a ** b, (POSITIVE, EXPONENT)),  # a Value or Tensor exponent
    "number + x": Op(lambda a: 2.5 + a, (ANY,)),
    "number - x": Op(lambda a: 2.5 - a, (ANY,)),
    "number * x": Op(lambda a: -1.5 * a, (ANY,)),
    "number / x": Op(lambda a: 2.5 / a, (NONZERO,)),
    "number ** x": Op(lambda a: 1.7 ** a, (Domain(-3, 3),)),
    "x + number": Op(lambda a: a + 2.5, (ANY,)),
    "x - number": Op(lambda a: a - 2.5, (ANY,)),
    "x * number": Op(lambda a: a * -1.5, (ANY,)),
    "x / number": Op(lambda a: a / 2.5, (ANY,)),
    "NumPy scalars with x": Op(lambda a: np.float64(2.5) * a - np.float64(1), (ANY,),
                               torch=lambda a: 2.5 * a - 1),
    "exp": Op(lambda a: a.exp(), (ANY,), numpy=np.exp),
    "log": Op(lambda a: a.log(), (LOG,), numpy=np.log),
    "tanh": Op(lambda a: a.tanh(), (ANY,), numpy=np.tanh),
    "relu": Op(lambda a: a.relu(), (AWAY_FROM_ZERO,), numpy=lambda a: np.maximum(a, 0)),
    "sigmoid": Op(lambda a: a.sigmoid(), (SIGMOID,), numpy=sigmoid),
    "x used twice": Op(lambda a: a * a.exp() + a, (ANY,), numpy=lambda a: a * np.exp(a) + a),
    "a composite": Op(composite, (ANY, ANY), numpy=composite_numpy),
    "another composite": Op(lambda a, b: (a * b - b / (a * a + 1)) ** 2, (ANY, ANY)),
}


# Tensor-only operations: each case strategy draws the input shapes and the keyword arguments.

@st.composite
def shape_and_axis(draw, min_dims=1):
    shape = draw(array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    ndim = len(shape)
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                                   unique_by=lambda a: a % ndim)))
    return (shape,), {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def shape_and_one_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return (shape,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def shape_and_permutation(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    perm = draw(st.permutations(range(len(shape))))
    if perm and draw(st.booleans()):
        perm = [a - len(shape) for a in perm]  # the same permutation, counted from the end
    return (shape,), {"axes": tuple(perm)}


MATMUL_SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((5, 3, 4), (4, 2)),
                 ((3, 4), (5, 4, 2)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (2, 4, 1)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,))]


@st.composite
def matmul_shapes(draw):
    if draw(st.booleans()):
        return draw(st.sampled_from(MATMUL_SHAPES)), {}
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (3, 1)]))
    return (batch + (m, k), (k, n)), {}


def any_shape(min_dims=0, max_dims=3):
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4).map(lambda s: ((s,), {}))


def dims(t, axis):
    return tuple(range(t.ndim)) if axis is None else axis


def log_softmax_numpy(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def torch_module():
    import torch
    return torch


CLIP = Domain(0.1, 0.9, signed=True)  # clip at ±0.05 and ±1: no entry at or near a kink

TENSOR_ONLY = {
    "sum": Op(lambda t, axis, keepdims: t.sum(axis=axis, keepdims=keepdims), (ANY,),
              numpy=lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
              torch=lambda t, axis, keepdims: t.sum(dim=dims(t, axis), keepdim=keepdims), cases=shape_and_axis()),
    "mean": Op(lambda t, axis, keepdims: t.mean(axis=axis, keepdims=keepdims), (ANY,),
               numpy=lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
               torch=lambda t, axis, keepdims: t.mean(dim=dims(t, axis), keepdim=keepdims), cases=shape_and_axis()),
    "max": Op(lambda t, axis, keepdims: t.max(axis=axis, keepdims=keepdims), (DISTINCT,),
              numpy=lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
              torch=lambda t, axis, keepdims: t.amax(dim=dims(t, axis), keepdim=keepdims), cases=shape_and_axis()),
    "sum of all": Op(lambda t: t.sum(), (ANY,), cases=any_shape(), numpy=np.sum),
    "mean of all": Op(lambda t: t.mean(), (ANY,), cases=any_shape(), numpy=np.mean),
    "max of all": Op(lambda t: t.max(), (DISTINCT,), cases=any_shape(), numpy=np.max,
                     torch=lambda t: t.amax() if t.ndim else t),
    "x @ y": Op(lambda a, b: a @ b, (ANY, ANY), cases=matmul_shapes()),
    "reshape(-1)": Op(lambda t: t.reshape(-1), (ANY,), cases=any_shape(), numpy=lambda x: x.reshape(-1)),
    "reshape to a column, times 2": Op(lambda t: t.reshape(-1, 1) * 2, (ANY,), cases=any_shape(),
                                       numpy=lambda x: x.reshape(-1, 1) * 2),
    "transpose(axes)": Op(lambda t, axes: t.transpose(axes), (ANY,), cases=shape_and_permutation(),
                          numpy=lambda x, axes: x.transpose(axes), torch=lambda t, axes: t.permute(axes)),
    "transpose()": Op(lambda t: t.transpose(), (ANY,), cases=any_shape(), numpy=lambda x: x.transpose(),
                      torch=lambda t: t.permute(tuple(reversed(range(t.ndim))))),
    ".T, then reshape": Op(lambda t: t.T.reshape(-1, 2) if t.size % 2 == 0 else t.T, (ANY,), cases=any_shape(),
                           numpy=lambda x: x.T.reshape(-1, 2) if x.size % 2 == 0 else x.T,
                           torch=lambda t: (lambda r: r.reshape(-1, 2) if r.numel() % 2 == 0 else r)(
                               t.permute(tuple(reversed(range(t.ndim)))))),
    "softmax": Op(lambda t, axis: t.softmax(axis), (Domain(-12, 12),), cases=shape_and_one_axis(),
                  numpy=lambda x, axis: np.exp(log_softmax_numpy(x, axis)),
                  torch=lambda t, axis: torch_module().softmax(t, dim=axis)),
    "log_softmax": Op(lambda t, axis: t.log_softmax(axis), (Domain(-12, 12),), cases=shape_and_one_axis(),
                      numpy=log_softmax_numpy, torch=lambda t, axis: torch_module().log_softmax(t, dim=axis)),
    "clip": Op(lambda t: t.clip(-0.05, 0.05) + t.clip(-1.0, 1.0), (CLIP,), cases=any_shape(),
               numpy=lambda x: np.clip(x, -0.05, 0.05) + np.clip(x, -1.0, 1.0),
               torch=lambda t: t.clamp(-0.05, 0.05) + t.clamp(-1.0, 1.0)),
}


# ----- drawing inputs, for each engine --------------------------------------------------------

BROADCAST_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 2)), ((2, 1, 3), (4, 1)),
                   ((3, 1), ()), ((3,), ())]


def elementwise_shapes(arity):
    """Shapes for a Tensor operation's inputs: any shapes that broadcast together (named cases among them)."""
    drawn = mutually_broadcastable_shapes(num_shapes=arity, min_dims=0, max_dims=3, min_side=1, max_side=3)
    drawn = drawn.map(lambda shapes: shapes.input_shapes)
    if arity == 2:
        return st.one_of(st.sampled_from(BROADCAST_PAIRS), drawn)
    return st.one_of(st.sampled_from([((),), ((3,),), ((2, 3),), ((2, 3, 4),)]), drawn)


def draw_case(data, op, engine):
    """(inputs as float64 arrays or floats, keyword arguments) for ``op`` on ``engine``."""
    if engine == "Value":
        return [data.draw(domain.elements()) for domain in op.domains], {}
    if op.cases is not None:
        shapes, kwargs = data.draw(op.cases)
    else:
        shapes, kwargs = data.draw(elementwise_shapes(len(op.domains))), {}
    drawn = [data.draw(arrays(np.float64, shape, elements=domain.elements(), unique=domain.grid))
             for shape, domain in zip(shapes, op.domains)]
    return drawn, kwargs


def nodes(engine, drawn):
    return [Value(float(x)) for x in drawn] if engine == "Value" else [Tensor(np.array(x)) for x in drawn]


def weights(shape):
    """Fixed weights w: the checks differentiate sum(w * f(inputs)), so each output entry counts differently."""
    return np.random.default_rng(1).uniform(0.5, 1.5, shape)


def weighted(out, w):
    return out * float(w) if isinstance(out, Value) else (out * w).sum()


# ----- the three checks ---------------------------------------------------------------------


def check_forward_against_numpy(op, engine, drawn, kwargs):
    out = op.f(*nodes(engine, drawn), **kwargs)
    assert isinstance(out, Value if engine == "Value" else Tensor)
    expected = (op.numpy or op.f)(*[np.float64(x) if engine == "Value" else np.array(x) for x in drawn], **kwargs)
    assert np.shape(out.data) == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-300)


def check_gradients_numerically(op, engine, drawn, kwargs):
    inputs = nodes(engine, drawn)
    out = op.f(*inputs, **kwargs)
    w = weights(np.shape(out.data))

    def loss(*xs):
        return weighted(op.f(*xs, **kwargs), w)

    scale = float(np.sum(np.abs(w * np.asarray(out.data))))  # rounding in f shows up in the differences
    analytic = analytic_gradients(loss, inputs)
    numeric = numerical_gradients(loss, inputs)
    for x, a, n in zip(inputs, analytic, numeric):
        assert np.shape(a) == np.shape(x.data)  # summed back to each input's shape
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-6 + 1e-9 * scale)


def check_against_pytorch(torch, op, engine, drawn, kwargs):
    inputs = nodes(engine, drawn)
    out = op.f(*inputs, **kwargs)
    w = weights(np.shape(out.data))
    weighted(out, w).backward()
    leaves = [torch.tensor(np.array(x), dtype=torch.float64, requires_grad=True) for x in drawn]
    expected = (op.torch or op.f)(*leaves, **kwargs)
    (expected * torch.tensor(w)).sum().backward()
    expected = expected.detach().numpy()
    # Sums that cancel (a matmul's -2·1.5 + 2·1.5) leave rounding of the size of their terms,
    # summed in another order by PyTorch: an absolute tolerance, small against the numbers involved.
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-13 * max(1.0, np.max(np.abs(expected))))
    for x, leaf in zip(inputs, leaves):
        np.testing.assert_allclose(x.grad, leaf.grad.numpy(), rtol=1e-10, atol=1e-13)


ENGINES = ["Value", "Tensor"]

# A quarter of the profile's examples per operation and engine (15 by default; HYPOTHESIS_PROFILE=thorough: 250):
# there are some 150 of these tests.
TABLE = settings(max_examples=max(10, settings.default.max_examples // 4))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@TABLE
@given(data=st.data())
def test_forward_matches_numpy_and_gradients_match_central_differences(name, engine, data):
    op = ELEMENTWISE[name]
    drawn, kwargs = draw_case(data, op, engine)
    check_forward_against_numpy(op, engine, drawn, kwargs)
    check_gradients_numerically(op, engine, drawn, kwargs)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ELEMENTWISE)
@TABLE
@given(data=st.data())
def test_value_and_gradients_match_pytorch(name, engine, data, torch):
    op = ELEMENTWISE[name]
    check_against_pytorch(torch, op, engine, *draw_case(data, op, engine))


@pytest.mark.parametrize("name", TENSOR_ONLY)
@TABLE
@given(data=st.data())
def test_tensor_only_forward_matches_numpy_and_gradients_match_central_differences(name, data):
    op = TENSOR_ONLY[name]
    drawn, kwargs = draw_case(data, op, "Tensor")
    check_forward_against_numpy(op, "Tensor", drawn, kwargs)
    check_gradients_numerically(op, "Tensor", drawn, kwargs)


@pytest.mark.parametrize("name", TENSOR_ONLY)
@TABLE
@given(data=st.data())
def test_tensor_only_value_and_gradients_match_pytorch(name, data, torch):
    op = TENSOR_ONLY[name]
    check_against_pytorch(torch, op, "Tensor", *draw_case(data, op, "Tensor"))


# ----- cases that must be run every time, not left to Hypothesis's draws ---------------------
#
# Hypothesis draws some 15 cases per operation: a rule that is wrong only for
# some shapes (a transpose undone with its permutation instead of the inverse,
# a gradient summed back over the wrong axes) may pass a run by luck. These
# cases are always run: permutations that are not their own inverse, of 3-D and
# 4-D arrays (sides all different, and all equal, so that a wrong rule fails on
# the numbers and not only on a shape), broadcasting in both directions, and
# axes of size 1.

PERMUTATIONS = [((2, 3, 4), (1, 2, 0)), ((2, 3, 4), (2, 0, 1)), ((3, 3, 3), (1, 2, 0)),
                ((3, 3, 3), (-1, -3, -2)), ((2, 3, 4, 5), (1, 2, 3, 0)), ((2, 3, 4, 5), (3, 0, 2, 1)),
                ((2, 2, 2, 2), (3, 2, 0, 1)), ((2, 2, 2, 2), (1, 3, 0, 2)), ((1, 3, 1, 2), (2, 0, 3, 1)),
                ((2, 1, 3), (1, 2, 0)), ((2, 3), (1, 0)), ((3,), (0,)), ((), ())]

BOTH_WAYS = [((3, 1), (1, 4)), ((1, 4), (3, 1)), ((2, 3), (3,)), ((3,), (2, 3)), ((), (2, 2)), ((2, 2), ()),
             ((2, 1, 3), (4, 1)), ((4, 1), (2, 1, 3)), ((1,), (3,)), ((3,), (1,)), ((1, 1), (2, 3)),
             ((2, 1), (2, 1))]

SIZE_ONE = [(1,), (1, 3), (3, 1), (2, 1, 1), (1, 1, 1, 2)]

REDUCTION_AXES = [((2, 1, 3), {"axis": 1, "keepdims": False}), ((2, 1, 3), {"axis": (0, 2), "keepdims": True}),
                  ((2, 1, 3), {"axis": -1, "keepdims": True}), ((1, 3, 1), {"axis": None, "keepdims": True}),
                  ((2, 3, 4), {"axis": (2, 0), "keepdims": False}), ((1,), {"axis": 0, "keepdims": False})]


def explicit_cases():
    for shape, axes in PERMUTATIONS:
        yield "transpose(axes)", (shape,), {"axes": axes}
    for shape in [(2, 3, 4), (2, 3, 4, 5), (1, 3, 1, 2)]:
        yield "transpose()", (shape,), {}
        yield ".T, then reshape", (shape,), {}
    for name, op in ELEMENTWISE.items():
        shapes = BOTH_WAYS if len(op.domains) == 2 else [(s,) for s in SIZE_ONE]
        for case in shapes:
            yield name, case, {}
    for name in ["sum", "mean", "max"]:
        for shape, kwargs in REDUCTION_AXES:
            yield name, (shape,), kwargs
    for shapes in MATMUL_SHAPES + [((1, 4), (4, 1)), ((2, 1, 4), (1, 4, 3))]:
        yield "x @ y", shapes, {}
    for name in ["softmax", "log_softmax"]:
        for shape, axis in [((2, 1, 3), 1), ((2, 1, 3), 0), ((2, 3, 4), -2), ((1,), 0)]:
            yield name, (shape,), {"axis": axis}
    for shape in SIZE_ONE:
        for name in ["clip", "sum of all", "mean of all", "max of all", "reshape(-1)"]:
            yield name, (shape,), {}


EXPLICIT = list(explicit_cases())


def fixed_inputs(op, shapes, seed):
    """Inputs of the given shapes, drawn from each input's domain by a seeded generator."""
    rng = np.random.default_rng(seed)
    drawn = []
    for shape, domain in zip(shapes, op.domains):
        size = int(np.prod(shape))
        if domain.grid:  # distinct multiples of 0.01
            grid = np.arange(int(domain.low * 100), int(domain.high * 100) + 1)
            x = rng.choice(grid, size=size, replace=False) / 100
        else:
            x = rng.uniform(domain.low, domain.high, size)
            if domain.signed:
                x *= rng.choice([-1.0, 1.0], size)
        drawn.append(x.reshape(shape))
    return drawn


def explicit_id(case):
    name, shapes, kwargs = case
    return f"{name} {' '.join(map(str, shapes))}" + (f" {kwargs}" if kwargs else "")


@pytest.mark.parametrize("case", EXPLICIT, ids=[explicit_id(c) for c in EXPLICIT])
def test_cases_always_run_match_numpy_and_central_differences(case):
    name, shapes, kwargs = case
    op = ELEMENTWISE.get(name) or TENSOR_ONLY[name]
    drawn = fixed_inputs(op, shapes, seed=EXPLICIT.index(case))
    check_forward_against_numpy(op, "Tensor", drawn, kwargs)
    check_gradients_numerically(op, "Tensor", drawn, kwargs)


@pytest.mark.parametrize("case", EXPLICIT, ids=[explicit_id(c) for c in EXPLICIT])
def test_cases_always_run_match_pytorch(case, torch):
    name, shapes, kwargs = case
    op = ELEMENTWISE.get(name) or TENSOR_ONLY[name]
    check_against_pytorch(torch, op, "Tensor", fixed_inputs(op, shapes, seed=EXPLICIT.index(case)), kwargs)
