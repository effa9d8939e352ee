"""The scalar engine: a ``Value`` is one number that remembers how it was made.

Every operation makes a node of its own small class (``Add``, ``Mul``,
``Tanh``, ...) with two parts side by side: ``__init__`` computes the result
(the forward pass) and records the inputs, and ``_backward(grad)`` is the
local derivative rule: given ``grad`` = dL/d(this node), it *returns*
dL/d(input) = grad * d(this node)/d(input) for each input. Adding those into
the inputs' ``grad``, in the right order, is the job of
:func:`minigrad.autograd.backpropagate`, shared with the Tensor engine, whose
operations follow the same recipe.

A node refers to its inputs and never to itself, so a graph holds no reference
cycles and is freed as soon as its last name goes away.

Why a class per operation, where micrograd gives each node a closure: a
closure costs four more objects per node (the function, its tuple of captured
variables, a cell per variable), and while a graph of a hundred thousand nodes
is being built, Python's garbage collector walks every live object again and
again. With one object per node (plus the tuple of its inputs), a training step
of micrograd's demo runs about five times as fast as micrograd's, with the same
graph: one node per operation (``python -m benchmarks scalar``).

To add an operation, write one more class like these.
"""
import math
import numbers

from minigrad import autograd
from minigrad.autograd import backpropagate


class Value:
    """A scalar node of a computation graph: its ``data``, and ``grad`` = dL/d(this).

    ``Value(3.0)`` is a leaf: an input or a parameter. Operations on Values make
    nodes that remember their inputs (``_prev``) and the operation (``_op``).
    """

    __slots__ = ("data", "grad", "name", "_prev")
    __array_ufunc__ = None  # `np.float64(2) * v` must call v.__rmul__, not loop over v
    _op = ""  # a leaf was made by no operation
    _grad_zero = 0.0

    def __init__(self, data, *, name=""):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.name = name
        self._prev = ()

    def _record(self, data, *inputs):
        """An operation's result: ``data``, computed from ``inputs`` (forgotten under ``no_grad``)."""
        self.data = data
        self.grad = 0.0
        self.name = ""
        self._prev = inputs if autograd._grad_enabled else ()

    # ----- arithmetic: each makes a node of the class below that computes it -----

    def __add__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "+")
        return Add(self, other)

    def __sub__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "-")
        return Sub(self, other)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "*")
        return Mul(self, other)

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "/")
        return Div(self, other)

    def __pow__(self, other):
        if isinstance(other, Value):
            return PowValue(self, other)
        if not isinstance(other, numbers.Real):
            raise TypeError(f"a Value can be raised to a number or a Value, not {type(other).__name__}")
        return Pow(self, other)

    def __neg__(self):
        return Neg(self)

    def __pos__(self):
        return self

    # Reflected forms: `2 + v`, `2 - v`, `2 ** v`, ... turn the number into a Value.
    def __radd__(self, other):
        return Add(_lift(other, "+"), self)

    def __rsub__(self, other):
        return Sub(_lift(other, "-"), self)

    def __rmul__(self, other):
        return Mul(_lift(other, "*"), self)

    def __rtruediv__(self, other):
        return Div(_lift(other, "/"), self)

    def __rpow__(self, other):
        return PowValue(_lift(other, "**"), self)

    # ----- functions ------------------------------------------------------------

    def exp(self):
        return Exp(self)

    def log(self):
        return Log(self)

    def tanh(self):
        return Tanh(self)

    def relu(self):
        return ReLU(self)

    def sigmoid(self):
        return Sigmoid(self)

    # ----- backpropagation ------------------------------------------------------

    def backward(self):
        """Fill in ``grad`` = d(self)/d(node) for every node this Value depends on."""
        if self._op and not self._prev:
            raise RuntimeError("backward() on a Value computed inside no_grad(): no graph was recorded")
        backpropagate(self, 1.0)

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"


# ----- the operations: forward in __init__, local derivative rule in _backward -----
# `grad` is dL/d(this node); each rule returns dL/d(input) for every input, in
# the order of `_prev`, and backpropagate adds them to the inputs' gradients.
# `__slots__ = ()` keeps a node one small object, without a __dict__.


class Add(Value):
    __slots__ = ()
    _op = "+"

    def __init__(self, a, b):
        self._record(a.data + b.data, a, b)

    def _backward(self, grad):  # d(a+b)/da = 1,  d(a+b)/db = 1
        return grad, grad


class Sub(Value):
    __slots__ = ()
    _op = "-"

    def __init__(self, a, b):
        self._record(a.data - b.data, a, b)

    def _backward(self, grad):  # d(a-b)/da = 1,  d(a-b)/db = -1
        return grad, -grad


class Mul(Value):
    __slots__ = ()
    _op = "*"

    def __init__(self, a, b):
        self._record(a.data * b.data, a, b)

    def _backward(self, grad):  # d(ab)/da = b,  d(ab)/db = a
        a, b = self._prev
        return grad * b.data, grad * a.data


class Div(Value):
    __slots__ = ()
    _op = "/"

    def __init__(self, a, b):
        if b.data == 0.0:
            raise ZeroDivisionError(f"division of {a.data!r} by a Value equal to zero")
        self._record(a.data / b.data, a, b)

    def _backward(self, grad):  # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
        a, b = self._prev
        return grad / b.data, -grad * a.data / (b.data * b.data)


class Pow(Value):
    """``a ** n`` for a plain number ``n``, which is a constant: it gets no gradient."""

    __slots__ = ("exponent",)

    def __init__(self, a, n):
        self.exponent = float(n)
        _check_power(a.data, self.exponent)
        self._record(a.data ** self.exponent, a)

    @property
    def _op(self):
        return f"**{self.exponent:g}"

    def _backward(self, grad):  # d(a^n)/da = n a^(n-1)
        (a,) = self._prev
        return (grad * _power_slope(a.data, self.exponent),)


class PowValue(Value):
    """``a ** b`` where the exponent ``b`` is a Value too, and gets a gradient."""

    __slots__ = ()
    _op = "**"

    def __init__(self, a, b):
        if a.data < 0:
            raise ValueError(f"a negative base ({a.data!r}) raised to a Value exponent has no real "
                             "derivative with respect to the exponent; use a plain number as exponent")
        _check_power(a.data, b.data)
        self._record(a.data ** b.data, a, b)

    def _backward(self, grad):  # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a
        a, b = self._prev
        # as a -> 0 (from above), a^b ln a -> 0 for b > 0
        log_a = math.log(a.data) if a.data > 0 else 0.0
        return grad * _power_slope(a.data, b.data), grad * self.data * log_a


class Neg(Value):
    __slots__ = ()
    _op = "neg"

    def __init__(self, a):
        self._record(-a.data, a)

    def _backward(self, grad):  # d(-a)/da = -1
        return (-grad,)


class Exp(Value):
    __slots__ = ()
    _op = "exp"

    def __init__(self, a):
        try:
            e = math.exp(a.data)
        except OverflowError:
            raise OverflowError(f"exp({a.data!r}) is too large for a float64") from None
        self._record(e, a)

    def _backward(self, grad):  # d(e^a)/da = e^a, which is this node's value
        return (grad * self.data,)


class Log(Value):
    __slots__ = ()
    _op = "log"

    def __init__(self, a):
        if a.data <= 0:
            raise ValueError(f"log is defined for positive numbers only, got {a.data!r}")
        self._record(math.log(a.data), a)

    def _backward(self, grad):  # d(ln a)/da = 1/a
        return (grad / self._prev[0].data,)


class Tanh(Value):
    __slots__ = ()
    _op = "tanh"

    def __init__(self, a):
        self._record(math.tanh(a.data), a)

    def _backward(self, grad):  # d(tanh a)/da = 1 - tanh² a
        return (grad * (1.0 - self.data * self.data),)


class ReLU(Value):
    __slots__ = ()
    _op = "relu"

    def __init__(self, a):
        self._record(a.data if a.data > 0 else 0.0, a)

    def _backward(self, grad):  # d(relu a)/da = 1 where a > 0, else 0
        return (grad if self.data > 0 else 0.0,)


class Sigmoid(Value):
    __slots__ = ()
    _op = "sigmoid"

    def __init__(self, a):
        self._record(_sigmoid(a.data), a)

    def _backward(self, grad):  # dσ/da = σ (1 - σ)
        s = self.data
        return (grad * s * (1.0 - s),)


# ----- helpers ----------------------------------------------------------------------


def _as_float(data):
    """``data`` as a Python float, or a clear error saying why it cannot be one."""
    if isinstance(data, numbers.Real):
        return float(data)
    if isinstance(data, Value):
        raise TypeError(f"Value() takes a number, got another Value ({data!r}); use it directly")
    if getattr(data, "shape", None) == ():  # a 0-d NumPy array holds one number
        return _as_float(data.item())
    raise TypeError(f"Value() takes a single real number, got {type(data).__name__} {data!r}")


def _lift(other, op):
    """``other`` as a Value: a plain number becomes a constant leaf.

    Then every operation treats both alike: ``2 * v`` is ``Value(2.0) * v``.
    """
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return Value(float(other))
    raise TypeError(f"unsupported operand for {op}: Value and "
                    f"{type(other).__name__} {other!r}")


def _check_power(base, exponent):
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(f"a negative base ({base!r}) to a non-integer power ({exponent!r}) "
                         "is not a real number")
    if base == 0 and exponent < 0:
        raise ZeroDivisionError(f"zero cannot be raised to a negative power ({exponent!r})")


def _power_slope(base, exponent):
    """d(base^exponent)/d(base) = exponent · base^(exponent - 1), with its limits at base 0.

    At 0, a^0 = 1 everywhere, so its slope is 0; for 0 < n < 1 the curve a^n
    stands vertical (the slope grows without bound as a -> 0): infinity.
    """
    if exponent == 0.0:
        return 0.0
    if base == 0.0 and exponent < 1.0:
        return math.inf
    return exponent * base ** (exponent - 1.0)


def _sigmoid(x):
    # Two forms so that exp never overflows: e^-x for x >= 0, e^x otherwise.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
