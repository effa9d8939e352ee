"""The scalar engine: a ``Value`` is one number that remembers how it was made.

Each operation below is two things, side by side: the forward computation, and
the local derivative rule that backpropagation uses to pass a gradient from the
result to its inputs. The traversal that applies those rules in the right order
lives in :mod:`minigrad.autograd`, shared with the Tensor engine.
"""
import math
import numbers

from minigrad.autograd import backpropagate


def _as_float(data):
    """``data`` as a Python float, or a clear error saying why it cannot be one."""
    if isinstance(data, numbers.Real):
        return float(data)
    if isinstance(data, Value):
        raise TypeError(f"Value() takes a number, got another Value ({data!r}); use it directly")
    if getattr(data, "shape", None) == ():  # a 0-d NumPy array holds one number
        return _as_float(data.item())
    raise TypeError(f"Value() takes a single real number, got {type(data).__name__} {data!r}")


class Value:
    """A scalar node of a computation graph: its ``data``, and ``grad`` = dL/d(this)."""

    __slots__ = ("data", "grad", "name", "_prev", "_op", "_backward")
    __array_ufunc__ = None  # `np.float64(2) * v` must call v.__rmul__, not loop over v

    def __init__(self, data, _children=(), _op="", name=""):
        self.data = data if type(data) is float else _as_float(data)
        self.grad = 0.0
        self.name = name
        self._prev = tuple(_children)
        self._op = _op
        self._backward = None

    # ----- arithmetic ---------------------------------------------------------

    def __add__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "+")
        out = Value(self.data + other.data, (self, other), "+")

        def _backward(grad):
            self.grad += grad
            other.grad += grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "*")
        out = Value(self.data * other.data, (self, other), "*")

        def _backward(grad):
            self.grad += other.data * grad
            other.grad += self.data * grad
        out._backward = _backward
        return out

    def __sub__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "-")
        out = Value(self.data - other.data, (self, other), "-")

        def _backward(grad):
            self.grad += grad
            other.grad -= grad
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else _lift(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"division of {self.data!r} by a Value equal to zero")
        out = Value(self.data / other.data, (self, other), "/")

        def _backward(grad):  # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
            self.grad += grad / other.data
            other.grad -= grad * self.data / (other.data * other.data)
        out._backward = _backward
        return out

    def __pow__(self, other):
        if isinstance(other, Value):
            return self._pow_value(other)
        if not isinstance(other, numbers.Real):
            raise TypeError(f"a Value can be raised to a number or a Value, not {type(other).__name__}")
        exponent = float(other)
        _check_power(self.data, exponent)
        out = Value(self.data ** exponent, (self,), f"**{other:g}")

        def _backward(grad):  # d(x^n)/dx = n x^(n-1)
            self.grad += exponent * self.data ** (exponent - 1) * grad
        out._backward = _backward
        return out

    def _pow_value(self, exponent):
        if self.data < 0:
            raise ValueError(f"a negative base ({self.data!r}) raised to a Value exponent has no real "
                             "derivative with respect to the exponent; use a plain number as exponent")
        _check_power(self.data, exponent.data)
        power = self.data ** exponent.data
        out = Value(power, (self, exponent), "**")

        def _backward(grad):  # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a
            self.grad += exponent.data * self.data ** (exponent.data - 1) * grad
            if self.data > 0:  # at a = 0 the limit of a^b ln a is 0
                exponent.grad += power * math.log(self.data) * grad
        out._backward = _backward
        return out

    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward(grad):
            self.grad -= grad
        out._backward = _backward
        return out

    def __pos__(self):
        return self

    # Reflected forms: `2 + v`, `2 - v`, `2 ** v`, ... turn the number into a Value.
    def __radd__(self, other):
        return _lift(other, "+") + self

    def __rmul__(self, other):
        return _lift(other, "*") * self

    def __rsub__(self, other):
        return _lift(other, "-") - self

    def __rtruediv__(self, other):
        return _lift(other, "/") / self

    def __rpow__(self, other):
        return _lift(other, "**") ** self

    # ----- functions ------------------------------------------------------------

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data!r}) is too large for a float64") from None
        out = Value(e, (self,), "exp")

        def _backward(grad):  # d(e^x)/dx = e^x
            self.grad += e * grad
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log is defined for positive numbers only, got {self.data!r}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward(grad):  # d(ln x)/dx = 1/x
            self.grad += grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward(grad):  # d(tanh x)/dx = 1 - tanh² x
            self.grad += (1.0 - t * t) * grad
        out._backward = _backward
        return out

    def relu(self):
        positive = self.data > 0
        out = Value(self.data if positive else 0.0, (self,), "relu")

        def _backward(grad):  # d(relu x)/dx = 1 where x > 0, else 0
            if positive:
                self.grad += grad
        out._backward = _backward
        return out

    def sigmoid(self):
        s = _sigmoid(self.data)
        out = Value(s, (self,), "sigmoid")

        def _backward(grad):  # dσ/dx = σ (1 - σ)
            self.grad += s * (1.0 - s) * grad
        out._backward = _backward
        return out

    # ----- backpropagation ------------------------------------------------------

    def backward(self):
        """Fill in ``grad`` = d(self)/d(node) for every node this Value depends on."""
        backpropagate(self, 1.0)

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"


def _lift(other, op):
    """Make a Value of a plain number, so the operations can treat both alike."""
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return Value(float(other))
    raise TypeError(f"unsupported operand for {op}: Value and {type(other).__name__} {other!r}")


def _check_power(base, exponent):
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(f"a negative base ({base!r}) to a non-integer power ({exponent!r}) "
                         "is not a real number")
    if base == 0 and exponent < 0:
        raise ZeroDivisionError(f"zero cannot be raised to a negative power ({exponent!r})")


def _sigmoid(x):
    # Two forms so that exp never overflows: e^-x for x >= 0, e^x otherwise.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
