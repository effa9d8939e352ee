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
of micrograd's demo takes a fraction of micrograd's time, with the same graph:
one node per operation (``python -m benchmarks scalar`` measures the ratio on
your machine).

To add an operation, write one more class like these.

Numbers that go wrong, as in NumPy, PyTorch and the Tensor engine:

* **Overflow gives infinity.** A result too large for a float64 is ``inf``
  (or ``-inf``), whichever operation made it: ``Value(1e200) ** 2``,
  ``Value(2.0) ** Value(2000.0)``, ``Value(1000.0).exp()`` and
  ``Value(1e200) * Value(1e200)`` are all ``inf``. (Plain Python is not
  consistent here: ``math.exp(1000.0)`` and ``1e200 ** 2`` raise an
  OverflowError, ``1e200 * 1e200`` is inf.) Gradients overflow the same way.
  A loss of inf or nan says that training diverged.
* **NaN stays NaN.** A NaN input gives a NaN result in every operation
  (``Value(float("nan")).relu()`` is nan, not 0), and a NaN gradient
  where the rule computes with it (exp, tanh, products, ...); relu passes
  the gradient at a NaN. All as in the Tensor engine and PyTorch.
* What has no value at all is an error: division by zero, the log of a
  number <= 0, a negative number to a fractional power.

In-place arithmetic (``p -= x``, also ``+=``, ``*=``, ``/=``) follows PyTorch:

* inside ``with no_grad():`` it changes ``p.data`` (``p`` stays the same
  object), so ``for p in model.parameters(): p -= lr * p.grad`` trains;
* outside, on a leaf (a parameter, an input, a constant) it is refused with a
  RuntimeError: it would either train nothing (``p`` would name a new node
  and the parameter stay as it was) or change a number the graph was built
  from. Write ``p.data -= lr * p.grad`` to update a parameter;
* outside, on a computed node (``loss += penalty``) it makes a new node, as
  ``loss = loss + penalty`` does.
"""
import math
import numbers
import operator

from minigrad import autograd
from minigrad.autograd import backpropagate
from minigrad.checks import check_name


class Value:
    """A scalar node of a computation graph: its ``data``, and ``grad`` = dL/d(this).

    ``Value(3.0)`` is a leaf: an input or a parameter. Operations on Values make
    nodes that remember their inputs (``_prev``) and the operation (``_op``).

    Change ``.data`` only after ``backward()``, never between the forward pass
    and ``backward()``: the rules read their inputs' ``.data`` when they run,
    and this engine does not notice a change, so ::

        w, x = Value(2.0), Value(3.0)
        loss = w * x            # 6.0
        w.data = 5.0            # e.g. an optimizer step taken too early
        loss.backward()
        x.grad                  # 5.0, the slope at the new w; it was 2.0

    gives the gradient at the new numbers on the old graph, with no error.
    (The Tensor engine raises an error there. Noticing it here would mean
    every multiplication keeping the two numbers it read and checking them
    in backward(): measured, 2.6% more machine instructions per training
    step of ``python -m benchmarks scalar``, so the scalar engine trusts
    the order forward, backward, update.)
    """

    __slots__ = ("data", "grad", "name", "_prev")
    __array_ufunc__ = None  # `np.float64(2) * v` must call v.__rmul__, not loop over v
    _op = ""  # a leaf was made by no operation
    _grad_zero = 0.0

    def __init__(self, data, *, name=""):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.name = name if type(name) is str else check_name(name)
        self._prev = ()

    def _record(self, data, *inputs):
        """An operation's result: ``data``, computed from ``inputs`` (forgotten under ``no_grad``)."""
        self.data = data
        self.grad = 0.0
        self.name = ""
        # No thread inside no_grad(), or not this one (see autograd.no_grad)
        if autograd._all_threads_record or autograd._grad_mode.enabled:
            self._prev = inputs
        else:
            self._prev = ()

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

    # In place: `p -= lr * p.grad` (see the module's docstring).
    def __iadd__(self, other):
        return self._in_place(other, "+=")

    def __isub__(self, other):
        return self._in_place(other, "-=")

    def __imul__(self, other):
        return self._in_place(other, "*=")

    def __itruediv__(self, other):
        return self._in_place(other, "/=")

    def _in_place(self, other, op):
        """``self op= other``: the number changes under no_grad, a new node for a graph's node."""
        if autograd.is_grad_enabled():
            if self._prev:  # a node of a graph: `loss += x` is `loss = loss + x`
                return NotImplemented  # Python then calls __add__ (or __radd__)
            raise RuntimeError(
                f"`p {op} ...` on a Value that is a leaf (a parameter, an input or a "
                f"constant, {self!r}) outside `with no_grad():` would not change the "
                f"parameter, only make the name p refer to a new node. To update "
                f"a parameter, change its number: `p.data {op} ...` (or do the "
                f"update inside `with no_grad():`); to build a graph, write "
                f"`p = p {op[0]} ...`")
        number = other.data if isinstance(other, Value) else _lift(other, op).data
        self.data = _IN_PLACE[op](self.data, number)
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
        self.exponent = _as_float(n)
        _check_power(a.data, self.exponent)
        self._record(_power(a.data, self.exponent), a)

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
        self._record(_power(a.data, b.data), a, b)

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
        except OverflowError:  # too large for a float64: inf (see the module's docstring)
            e = math.inf
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
        x = a.data
        self._record(0.0 if x <= 0 else x, a)  # NaN is not <= 0: it stays NaN

    def _backward(self, grad):  # d(relu a)/da = 1 where a > 0, else 0
        # the output is 0.0 where a <= 0; at a NaN, the gradient passes (as PyTorch's relu)
        return (grad if self.data != 0.0 else 0.0,)


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
        try:
            return float(data)
        except OverflowError:  # an int beyond float64's range
            raise ValueError(f"{data} is too large for a float64") from None
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
    return exponent * _power(base, exponent - 1.0)


def _power(base, exponent):
    """``base ** exponent``, or ±inf where that is too large for a float64.

    Python raises OverflowError there (for ``*`` it gives inf): the engine
    gives inf for every operation. A negative base has an integer exponent
    here (``_check_power``), so the sign is that of ``base`` for an odd one.
    """
    try:
        return base ** exponent
    except OverflowError:
        return -math.inf if base < 0 and exponent % 2 == 1 else math.inf


_IN_PLACE = {"+=": operator.add, "-=": operator.sub, "*=": operator.mul,
             "/=": operator.truediv}


def _sigmoid(x):
    # Two forms so that exp never overflows: e^-x for x >= 0, e^x otherwise.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
