"""The tensor engine: a ``Tensor`` is a NumPy array that remembers how it was made.

It is the scalar ``Value`` again, one array per node instead of one number.
Each operation is still a forward computation next to its local derivative
rule; only the rules now speak of arrays:

* a gradient always has the shape of its tensor, so an operation that
  broadcast an input sums the gradient back to that input's shape
  (:func:`_unbroadcast`);
* ``a @ b`` sends ``grad @ b.T`` to ``a`` and ``a.T @ grad`` to ``b``;
* a reduction (sum, mean, max) spreads the gradient back over what it reduced.

The order in which the rules are applied is the job of
:func:`minigrad.autograd.backpropagate`, the same function as for ``Value``.

The engine is lean on purpose, because a training step runs it many times:

* a gradient array is made only when some gradient reaches the tensor; the
  first contribution is stored as it is, later ones are added to it;
* a tensor with ``requires_grad=False`` (a batch of inputs, a constant) costs
  no gradient work at all, and neither does anything computed only from such
  tensors, or computed inside ``with no_grad():``;
* the backward functions receive the gradient as an argument and hold no
  reference to their own output, so a graph has no reference cycles and is
  freed as soon as the last name for its output goes away.
"""
import math
import numbers

import numpy as np

from minigrad import autograd
from minigrad.autograd import backpropagate

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _as_array(data, dtype):
    """``data`` as a float32 or float64 ndarray, or a clear error saying why it cannot be one."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in DTYPES:
            raise TypeError(f"a Tensor holds float64 or float32 numbers, not {dtype}")
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (str, bytes)):
        raise TypeError(f"a Tensor holds numbers, got the string {data!r}")
    try:
        array = np.asarray(data)
    except ValueError as error:  # NumPy refuses lists of rows of different lengths
        raise ValueError(f"a Tensor needs a rectangular array of numbers; {error}") from None
    kind = array.dtype.kind
    if kind not in "fiub":
        what = {"U": "strings", "S": "bytes", "c": "complex numbers", "O": "Python objects"}.get(kind, array.dtype)
        raise TypeError(f"a Tensor holds real numbers, got an array of {what}"
                        + (" (are its rows of different lengths?)" if kind == "O" else ""))
    if dtype is None:  # keep float32 and float64 arrays as they are, make everything else float64
        dtype = array.dtype if array.dtype in DTYPES else DTYPES[0]
    return array if array.dtype == dtype else array.astype(dtype)


class Tensor:
    """A node of a computation graph holding a NumPy array ``data``, and ``grad`` = dL/d(data).

    ``Tensor(data, dtype=None, *, requires_grad=True, name="")``

    ``data`` may be a number, a (nested) list, a NumPy array or another Tensor.
    It is stored as float64, or float32 if it already is float32 or if
    ``dtype=np.float32``; an array of the right dtype is used as it is, not
    copied (like ``np.asarray``). ``requires_grad=False`` marks data that needs
    no gradient, such as a batch of inputs: no gradient is computed for it.
    """

    __slots__ = ("data", "_grad", "requires_grad", "name", "_prev", "_op", "_backward")
    __array_ufunc__ = None  # `np.float64(2) * t` and `array + t` call the Tensor's methods
    _grad_zero = None  # reads as zeros, made only when asked for

    def __init__(self, data, dtype=None, *, requires_grad=True, name=""):
        self.data = _as_array(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._prev = ()
        self._op = ""
        self._backward = None

    # ----- what a Tensor holds -------------------------------------------------

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def grad(self):
        """dL/d(data), an array of ``data``'s shape; zeros until a backward pass reaches it.

        ``None`` for a tensor with ``requires_grad=False``. Assigning ``None``
        resets it to zeros without allocating them.
        """
        if self._grad is None and self.requires_grad:
            self._grad = np.zeros_like(self.data)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = np.asarray(value, dtype=self.data.dtype)
            if value.shape != self.data.shape:
                raise ValueError(f"a gradient of shape {value.shape} for a tensor of shape {self.data.shape}")
        self._grad = value

    def _accumulate(self, grad, shared=False):
        """Add one contribution ``grad`` to this tensor's gradient.

        The first contribution is stored as it is: no zeros are made to add it
        to. ``shared=True`` says that ``grad`` is also the gradient of another
        tensor (an operation passed its own gradient on unchanged, or a view of
        it): a leaf then keeps a copy, so that it owns its gradient.
        """
        dtype = self.data.dtype
        if type(grad) is not np.ndarray or (grad.dtype is not dtype and grad.dtype != dtype):
            grad = np.asarray(grad, dtype=dtype)  # a NumPy scalar, or another float type
        if self._grad is None:
            self._grad = grad.copy() if shared and self._backward is None else grad
        else:
            total = self._grad + grad
            self._grad = total if type(total) is np.ndarray else np.asarray(total)  # 0-d + 0-d is a scalar

    # ----- arithmetic ------------------------------------------------------------

    def __add__(self, other):
        if not isinstance(other, Tensor):
            other = _lift(other, self, "+")
        out = _result(_broadcast(np.add, self, other, "+"), (self, other), "+")
        if out.requires_grad:
            def _backward(grad):  # d(a+b)/da = d(a+b)/db = 1: both get the gradient as it is
                if self.requires_grad:
                    g = _unbroadcast(grad, self.data.shape)
                    self._accumulate(g, shared=g is grad)
                if other.requires_grad:
                    g = _unbroadcast(grad, other.data.shape)
                    other._accumulate(g, shared=g is grad)
            out._backward = _backward
        return out

    def __sub__(self, other):
        if not isinstance(other, Tensor):
            other = _lift(other, self, "-")
        out = _result(_broadcast(np.subtract, self, other, "-"), (self, other), "-")
        if out.requires_grad:
            def _backward(grad):
                if self.requires_grad:
                    g = _unbroadcast(grad, self.data.shape)
                    self._accumulate(g, shared=g is grad)
                if other.requires_grad:
                    other._accumulate(-_unbroadcast(grad, other.data.shape))
            out._backward = _backward
        return out

    def __mul__(self, other):
        if not isinstance(other, Tensor):
            other = _lift(other, self, "*")
        out = _result(_broadcast(np.multiply, self, other, "*"), (self, other), "*")
        if out.requires_grad:
            def _backward(grad):  # d(ab)/da = b,  d(ab)/db = a
                if self.requires_grad:
                    self._accumulate(_unbroadcast(grad * other.data, self.data.shape))
                if other.requires_grad:
                    other._accumulate(_unbroadcast(grad * self.data, other.data.shape))
            out._backward = _backward
        return out

    def __truediv__(self, other):
        if not isinstance(other, Tensor):
            other = _lift(other, self, "/")
        if not np.all(other.data):
            raise ZeroDivisionError(f"division by a tensor of shape {other.shape} that contains zeros")
        out = _result(_broadcast(np.divide, self, other, "/"), (self, other), "/")
        if out.requires_grad:
            def _backward(grad):  # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
                g = grad / other.data
                if self.requires_grad:
                    self._accumulate(_unbroadcast(g, self.data.shape))
                if other.requires_grad:
                    other._accumulate(_unbroadcast(-g * self.data / other.data, other.data.shape))
            out._backward = _backward
        return out

    def __pow__(self, other):
        if isinstance(other, Tensor):
            return self._pow_tensor(other)
        if isinstance(other, np.ndarray) and other.ndim == 0:
            other = other.item()
        if not isinstance(other, numbers.Real):
            if isinstance(other, (np.ndarray, list)):  # an array of exponents: a constant Tensor
                return self._pow_tensor(_lift(other, self, "**"))
            raise TypeError(f"a Tensor can be raised to a number or a Tensor, not {type(other).__name__}")
        exponent = float(other)
        x = self.data
        if not exponent.is_integer() and np.any(x < 0):
            raise ValueError(f"a tensor with negative entries raised to the non-integer power {exponent!r}: "
                             "not a real number")
        if exponent < 0 and not np.all(x):
            raise ZeroDivisionError(f"a tensor with zeros raised to the negative power {exponent!r}")
        out = _result(x ** exponent, (self,), f"**{exponent:g}")
        if out.requires_grad:
            def _backward(grad):  # d(x^n)/dx = n x^(n-1)
                self._accumulate(grad * (exponent * x ** (exponent - 1)))
            out._backward = _backward
        return out

    def _pow_tensor(self, exponent):
        a, b = self.data, exponent.data
        if np.any(a < 0):
            raise ValueError("a tensor with negative entries raised to a Tensor exponent has no real derivative "
                             "with respect to the exponent; use a plain number as the exponent")
        if np.any((a == 0) & (b < 0)):
            raise ZeroDivisionError("zero raised to a negative power")
        power = _broadcast(np.power, self, exponent, "**")
        out = _result(power, (self, exponent), "**")
        if out.requires_grad:
            def _backward(grad):  # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a
                if self.requires_grad:
                    self._accumulate(_unbroadcast(grad * b * a ** (b - 1), a.shape))
                if exponent.requires_grad:
                    with np.errstate(divide="ignore"):
                        log_a = np.where(a > 0, np.log(a), 0.0)  # a^b ln a -> 0 as a -> 0
                    exponent._accumulate(_unbroadcast(grad * power * log_a, b.shape))
            out._backward = _backward
        return out

    def __neg__(self):
        out = _result(-self.data, (self,), "neg")
        if out.requires_grad:
            def _backward(grad):
                self._accumulate(-grad)
            out._backward = _backward
        return out

    def __pos__(self):
        return self

    # Reflected forms: `2 + t`, `x - t`, `2 ** t`, ... make a constant Tensor of the other operand.
    def __radd__(self, other):
        return _lift(other, self, "+") + self

    def __rsub__(self, other):
        return _lift(other, self, "-") - self

    def __rmul__(self, other):
        return _lift(other, self, "*") * self

    def __rtruediv__(self, other):
        return _lift(other, self, "/") / self

    def __rpow__(self, other):
        return _lift(other, self, "**") ** self

    def __rmatmul__(self, other):
        return _lift(other, self, "@") @ self

    # ----- matrix multiplication ---------------------------------------------------

    def __matmul__(self, other):
        other = _lift(other, self, "@")
        a, b = self.data, other.data
        try:
            product = a @ b
        except ValueError:
            if a.ndim == 0 or b.ndim == 0:
                raise ValueError(f"@ needs operands with at least one dimension, got shapes {a.shape} "
                                 f"and {b.shape}") from None
            raise ValueError(f"@ cannot multiply shapes {a.shape} and {b.shape}: the inner dimensions "
                             f"{a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]} differ") from None
        out = _result(product, (self, other), "@")
        if out.requires_grad:
            if a.ndim == 2 and b.ndim == 2:  # the common case, in a few words
                def _backward(grad):  # dL/da = grad b^T,  dL/db = a^T grad
                    if self.requires_grad:
                        self._accumulate(grad @ b.T)
                    if other.requires_grad:
                        other._accumulate(a.T @ grad)
            else:
                def _backward(grad):
                    _matmul_backward(self, other, grad)
            out._backward = _backward
        return out

    # ----- reductions ----------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        """The sum over ``axis`` (an int, a tuple of ints, or None for all)."""
        axes = _axes(axis, self.ndim)
        out = _result(self.data.sum(axis=axes, keepdims=keepdims), (self,), "sum")
        if out.requires_grad:
            shape, kept = self.data.shape, _kept_shape(self.data.shape, axes)

            def _backward(grad):  # every summed entry gets the gradient of the sum
                self._accumulate(_spread(grad, kept, shape))
            out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        """The mean over ``axis`` (an int, a tuple of ints, or None for all)."""
        axes = _axes(axis, self.ndim)
        out = _result(self.data.mean(axis=axes, keepdims=keepdims), (self,), "mean")
        if out.requires_grad:
            shape, kept = self.data.shape, _kept_shape(self.data.shape, axes)
            count = math.prod(shape[a] for a in axes)

            def _backward(grad):  # every entry gets 1/count of the gradient of the mean
                self._accumulate(_spread(grad / count, kept, shape))
            out._backward = _backward
        return out

    def max(self, axis=None, keepdims=False):
        """The largest entry over ``axis``; the gradient goes to the largest entries (split between ties)."""
        axes = _axes(axis, self.ndim)
        if self.size == 0:
            raise ValueError("max() of an empty tensor")
        x = self.data
        largest = x.max(axis=axes, keepdims=True)
        reduced = largest if keepdims else largest.reshape([n for i, n in enumerate(x.shape) if i not in axes])
        out = _result(reduced, (self,), "max")
        if out.requires_grad:
            def _backward(grad):
                winners = x == largest
                g = grad.reshape(largest.shape) / winners.sum(axis=axes, keepdims=True)
                self._accumulate(winners * g)
            out._backward = _backward
        return out

    # ----- shapes ----------------------------------------------------------------------

    def reshape(self, *shape):
        """The same numbers in a new shape: ``t.reshape(4, 1)`` or ``t.reshape((4, 1))``."""
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        try:
            reshaped = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} ({self.size} numbers) "
                             f"into shape {shape}") from None
        out = _result(reshaped, (self,), "reshape")
        if out.requires_grad:
            original = self.data.shape

            def _backward(grad):
                self._accumulate(grad.reshape(original), shared=True)
            out._backward = _backward
        return out

    def transpose(self, *axes):
        """Permute the axes: ``t.transpose()`` reverses them, ``t.transpose(1, 0, 2)`` reorders them."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
            axes = axes[0]
        axes = tuple(reversed(range(self.ndim))) if axes is None or axes == () else tuple(axes)
        try:
            transposed = self.data.transpose(axes)
        except ValueError:
            raise ValueError(f"transpose of a tensor of shape {self.shape} needs a permutation of "
                             f"{tuple(range(self.ndim))}, got {axes}") from None
        out = _result(transposed, (self,), "transpose")
        if out.requires_grad:
            inverse = tuple(np.argsort([a % self.ndim for a in axes]))

            def _backward(grad):  # undo the permutation
                self._accumulate(grad.transpose(inverse), shared=True)
            out._backward = _backward
        return out

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """Indexing and slicing as in NumPy, including integer arrays: ``logits[np.arange(n), y]``."""
        index = _plain_index(index)
        out = _result(self.data[index], (self,), "[]")
        if out.requires_grad:
            basic = _is_basic(index)

            def _backward(grad):  # the gradient goes back to the entries that were picked
                g = np.zeros_like(self.data)
                if basic:
                    g[index] = grad
                else:
                    np.add.at(g, index, grad)  # an entry picked twice gets both gradients
                self._accumulate(g)
            out._backward = _backward
        return out

    # ----- functions -------------------------------------------------------------------

    def exp(self):
        e = np.exp(self.data)
        out = _result(e, (self,), "exp")
        if out.requires_grad:
            def _backward(grad):  # d(e^x)/dx = e^x
                self._accumulate(grad * e)
            out._backward = _backward
        return out

    def log(self):
        x = self.data
        if not np.all(x > 0):
            raise ValueError(f"log is defined for positive numbers only; this tensor has entries that are "
                             f"not (smallest: {np.min(x)!r})")
        out = _result(np.log(x), (self,), "log")
        if out.requires_grad:
            def _backward(grad):  # d(ln x)/dx = 1/x
                self._accumulate(grad / x)
            out._backward = _backward
        return out

    def tanh(self):
        t = np.tanh(self.data)
        out = _result(t, (self,), "tanh")
        if out.requires_grad:
            def _backward(grad):  # d(tanh x)/dx = 1 - tanh² x
                self._accumulate(grad * (1 - t * t))
            out._backward = _backward
        return out

    def relu(self):
        r = np.maximum(self.data, 0)
        out = _result(r, (self,), "relu")
        if out.requires_grad:
            def _backward(grad):  # d(relu x)/dx = 1 where x > 0, else 0
                self._accumulate(grad * (r > 0))
            out._backward = _backward
        return out

    def sigmoid(self):
        x = self.data
        # e^-|x| never overflows: σ(x) = 1/(1 + e^-x) for x >= 0, e^x/(1 + e^x) otherwise.
        z = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1, z) / (1 + z)
        out = _result(s, (self,), "sigmoid")
        if out.requires_grad:
            def _backward(grad):  # dσ/dx = σ (1 - σ)
                self._accumulate(grad * (s * (1 - s)))
            out._backward = _backward
        return out

    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along ``axis``: positive numbers that sum to 1."""
        x = self.data
        e = np.exp(x - x.max(axis=axis, keepdims=True))  # shifted: exp never overflows
        s = e / e.sum(axis=axis, keepdims=True)
        out = _result(s, (self,), "softmax")
        if out.requires_grad:
            def _backward(grad):  # dL/dx = s (grad - Σ grad·s)
                self._accumulate(s * (grad - (grad * s).sum(axis=axis, keepdims=True)))
            out._backward = _backward
        return out

    def log_softmax(self, axis=-1):
        """log(softmax(x)) along ``axis``, computed as x - max - log Σ exp(x - max): never inf or nan."""
        x = self.data
        shifted = x - x.max(axis=axis, keepdims=True)
        result = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        out = _result(result, (self,), "log_softmax")
        if out.requires_grad:
            def _backward(grad):  # dL/dx = grad - softmax(x) Σ grad
                self._accumulate(grad - np.exp(result) * grad.sum(axis=axis, keepdims=True))
            out._backward = _backward
        return out

    def cross_entropy(self, targets):
        """Softmax cross-entropy of logits (n, classes) against n integer class indices, averaged.

        The same number as ``-self.log_softmax(axis=1)[np.arange(n), targets].mean()``,
        as one operation with the well-known gradient (softmax - onehot) / n, so
        that a training step does not pay for four separate operations.
        """
        x = self.data
        if x.ndim != 2:
            raise ValueError(f"cross_entropy: logits must have shape (n, classes), got {x.shape}")
        n, classes = x.shape
        if n == 0:
            raise ValueError("cross_entropy: no rows of logits to compare")
        targets = _class_indices(targets, n)
        rows = np.arange(n)
        shifted = x - x.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        try:
            picked = log_probs[rows, targets]  # each row's log-probability of its target class
        except IndexError:
            raise ValueError(f"cross_entropy: target {targets.max()} is not a class index "
                             f"in 0..{classes - 1}") from None
        out = _result(-picked.mean(), (self,), "cross_entropy")
        if out.requires_grad:
            def _backward(grad):  # dL/dx = (softmax(x) - onehot(targets)) / n
                g = np.exp(log_probs)
                g[rows, targets] -= 1
                g *= float(grad) / n
                self._accumulate(g)
            out._backward = _backward
        return out

    def clip(self, low, high):
        """Entries limited to [low, high]; outside it they are constants, so no gradient flows there."""
        x = self.data
        out = _result(np.clip(x, low, high), (self,), "clip")
        if out.requires_grad:
            def _backward(grad):
                self._accumulate(grad * ((x >= low) & (x <= high)))
            out._backward = _backward
        return out

    def mse(self, target):
        """Mean squared error against ``target`` (same shape): mean((self - target)²)."""
        target = _lift(target, self, "mse")
        if target.shape != self.shape:
            raise ValueError(f"mse: predictions of shape {self.shape} and targets of shape {target.shape} "
                             "differ; reshape one of them (broadcasting here is almost always a bug)")
        return ((self - target) ** 2).mean()

    # ----- backpropagation -----------------------------------------------------------

    def backward(self, gradient=None):
        """Fill in ``grad`` = d(self)/d(tensor) for every tensor this one depends on.

        For a single-number tensor (a loss) the starting gradient is 1. Any other
        tensor needs ``gradient``, an array of its own shape: dL/d(self) for some
        number L further on.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that records no graph: it was computed inside "
                               "no_grad(), or only from tensors with requires_grad=False")
        if gradient is None:
            if self.size != 1:
                raise ValueError(f"backward() without a gradient works for a single number (a loss); "
                                 f"this tensor has shape {self.shape}: call backward(gradient) with an "
                                 f"array of that shape")
            gradient = np.ones(self.data.shape, self.data.dtype)
        else:
            gradient = np.array(gradient.data if isinstance(gradient, Tensor) else gradient,
                                dtype=self.dtype)  # a copy, ours alone
            if gradient.shape != self.shape:
                raise ValueError(f"backward(gradient): the gradient has shape {gradient.shape}, "
                                 f"the tensor has shape {self.shape}")
        backpropagate(self, gradient)

    def detach(self):
        """A new leaf with the same ``data`` (not copied) and no graph: no gradient flows through it."""
        return Tensor(self.data, requires_grad=False, name=self.name)

    # ----- conveniences -----------------------------------------------------------------

    def item(self):
        """The single number this tensor holds, as a Python float."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one number, this one has shape {self.shape}")
        return self.data.item()

    def __array__(self, dtype=None, copy=None):  # np.asarray(t), plotting: the numbers, without a graph
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __bool__(self):  # as NumPy: only a single number is true or false
        return bool(self.data)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor (a single number)")
        return self.data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor (a single number)")
        return (self[i] for i in range(self.data.shape[0]))

    def __format__(self, spec):
        return format(self.data, spec) if spec else str(self)

    def __repr__(self):
        extras = "".join([
            ", dtype=float32" if self.data.dtype == np.float32 else "",
            ", requires_grad=False" if not self.requires_grad else "",
            f", name={self.name!r}" if self.name else "",
        ])
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", precision=4)
        return f"Tensor({body}{extras})"


_new_tensor = object.__new__


def _result(data, parents, op):
    """The Tensor of an operation's result; it records its parents only if a gradient must flow back.

    (Every operation has one or two parents: ``parents[0]`` and ``parents[-1]`` are all of them.)
    """
    out = _new_tensor(Tensor)  # skips __init__: ``data`` is already an array of the right kind
    out.data = data if type(data) is np.ndarray else np.asarray(data)  # 0-d results come back as NumPy scalars
    out._grad = None
    out.name = ""
    out._backward = None
    if autograd._grad_enabled and (parents[0].requires_grad or parents[-1].requires_grad):
        out.requires_grad = True
        out._prev = parents
        out._op = op
    else:
        out.requires_grad = False
        out._prev = ()
        out._op = ""
    return out


def _lift(other, like, op):
    """A Tensor of ``other``: a Tensor itself, or a constant (no gradient) of ``like``'s dtype."""
    if isinstance(other, Tensor):
        return other
    if type(other) is float or type(other) is int:
        return Tensor(np.asarray(other, dtype=like.data.dtype), requires_grad=False)
    try:
        return Tensor(other, dtype=like.data.dtype, requires_grad=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"unsupported operand for {op}: Tensor and {type(other).__name__} ({error})") from None


def _broadcast(ufunc, a, b, op):
    """``ufunc(a.data, b.data)`` with NumPy broadcasting, or an error that names both shapes."""
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast together "
                         "(aligned from the right, each pair of sizes must be equal or contain a 1)") from None


def _unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape``, undoing broadcasting.

    Broadcasting copied the input along new leading axes and along axes where
    the input had size 1; each copy received a gradient, and the input's
    gradient is their sum.
    """
    if grad.shape == shape:
        return grad
    if grad.shape[1:] == shape:  # the common case: a bias added to every row
        return grad.sum(axis=0)
    lead = grad.ndim - len(shape)
    ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    g = grad.sum(axis=tuple(range(lead)) + ones)
    return g.reshape(shape) if ones else g


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` kept as size 1, as ``keepdims=True`` gives."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, kept, shape):
    """A new array of ``shape`` holding ``grad`` (reshaped to ``kept``) copied along the reduced axes."""
    g = np.empty(shape, dtype=grad.dtype)
    g[...] = grad.reshape(kept)
    return g


def _matmul_backward(a, b, grad):
    """The gradients of ``a @ b`` for 1-D operands and batched (leading) dimensions.

    A 1-D ``a`` is a row (1, k) and a 1-D ``b`` a column (k, 1) whose extra axis
    was dropped from the result; putting the axes back reduces every case to
    (batched) matrices.
    """
    A = a.data[None, :] if a.data.ndim == 1 else a.data
    B = b.data[:, None] if b.data.ndim == 1 else b.data
    g = grad
    if b.data.ndim == 1:
        g = np.expand_dims(g, -1)
    if a.data.ndim == 1:
        g = np.expand_dims(g, -2)
    if a.requires_grad:
        ga = g @ np.swapaxes(B, -1, -2)
        a._accumulate(_unbroadcast(ga, A.shape).reshape(a.data.shape))
    if b.requires_grad:
        gb = np.swapaxes(A, -1, -2) @ g
        b._accumulate(_unbroadcast(gb, B.shape).reshape(b.data.shape))


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple of ints) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -ndim <= a < max(ndim, 1) or ndim == 0:
            raise ValueError(f"axis {a!r} is out of range for a tensor with {ndim} dimensions")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(result)


def _class_indices(targets, n):
    """``targets`` as an array of n non-negative integers, or a clear error.

    (Indices that are too large make NumPy's indexing fail, and cross_entropy says so.)
    """
    array = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if array.dtype.kind not in "iu":
        if array.dtype.kind not in "fb" or not np.all(array == np.round(array)):
            raise ValueError(f"cross_entropy: targets must be integer class indices, got {array.dtype}")
        array = array.astype(np.intp)  # labels stored as floats: 0.0, 1.0, ...
    if array.shape != (n,):
        raise ValueError(f"cross_entropy: {n} rows of logits but targets of shape {array.shape}")
    if array.dtype.kind == "i" and array.min() < 0:
        raise ValueError(f"cross_entropy: target {array.min()} is not a class index (they start at 0)")
    return array


def _plain_index(index):
    """An index for NumPy: Tensors inside it become their (integer) arrays."""
    if isinstance(index, Tensor):
        return index.data.astype(np.intp)
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    """Whether ``index`` has only ints, slices, None and ``...``: then no entry is picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, numbers.Integral)) for i in items)
