"""The tensor engine: a ``Tensor`` is a NumPy array that remembers how it was made.

It is the scalar ``Value`` again, one array per node instead of one number,
and its operations follow the same recipe: a small class per operation
(``Add``, ``Mul``, ``MatMul``, ``Sum``, ...) whose ``__init__`` computes the
result and records the inputs, and whose ``_backward(grad)`` returns the local
gradients, one per input. Only the rules now speak of arrays:

* ``a @ b`` sends ``grad @ b.T`` to ``a`` and ``a.T @ grad`` to ``b``;
* a reduction (sum, mean, max) spreads the gradient back over what it reduced;
* an input that was broadcast gets its gradient summed back to its own shape,
  but no rule does that itself: :func:`minigrad.autograd.backpropagate`, the
  same function as for ``Value``, does it for every rule, in one place.

The engine is lean on purpose, because a training step runs it many times:

* a gradient array is made only when some gradient reaches the tensor; the
  first contribution is stored as it is, later ones are added to it;
* a tensor with ``requires_grad=False`` (a batch of inputs, a constant) costs
  no gradient work, and neither does anything computed only from such
  tensors, or computed inside ``with no_grad():``: those results record no
  inputs, so the backward pass never reaches them;
* nodes refer to their inputs and never to themselves, so a graph has no
  reference cycles and is freed as soon as the last name for its output goes.

A rule reads its inputs' data. Each tensor therefore counts how often its
``data`` was assigned (``p.data -= lr * p.grad`` counts too), and a backward
pass through an operation whose input changed since raises an error instead
of computing a wrong gradient. Writing into the array itself
(``t.data[0] = 1.0``) cannot be seen: don't, between forward and backward.
"""
import collections.abc
import math
import numbers
import warnings

import numpy as np

from minigrad import autograd
from minigrad.autograd import backpropagate
from minigrad.checks import FLOAT_DTYPES, check_class_labels, check_float_dtype, check_name


def _as_array(data, dtype):
    """``data`` as a float32 or float64 ndarray, or a clear error saying why it cannot be one."""
    if dtype is not None:
        dtype = check_float_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, (str, bytes)):
        raise TypeError(f"a Tensor holds numbers, got the string {data!r}")
    try:
        array = np.asarray(data)
    except ValueError as error:  # NumPy refuses lists of rows of different lengths
        raise ValueError(f"a Tensor needs a rectangular array of numbers; {error}") from None
    kind = array.dtype.kind
    if kind == "O":
        raise _not_numbers(data)
    if kind not in "fiub":
        what = {"U": "strings", "S": "bytes", "c": "complex numbers"}.get(kind, array.dtype)
        raise TypeError(f"a Tensor holds real numbers, got an array of {what}")
    if dtype is None:  # keep float32 and float64 arrays as they are, make everything else float64
        dtype = array.dtype if array.dtype in FLOAT_DTYPES else FLOAT_DTYPES[0]
    return array if array.dtype == dtype else array.astype(dtype)


def _not_numbers(data):
    """The error for data that NumPy could only store as Python objects, saying what it is."""
    if data is None:
        return TypeError("a Tensor holds numbers, got None")
    if isinstance(data, (dict, set, frozenset)):
        return TypeError(f"a Tensor holds numbers in a (nested) list or an array, got a {type(data).__name__}")
    if isinstance(data, collections.abc.Iterator):
        return TypeError(f"a Tensor needs its numbers all at once, got a {type(data).__name__}; "
                         "make a list of it first: Tensor(list(...))")
    stack = [data]
    while stack:  # find the first entry that is not a number
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            try:
                float(item)
            except OverflowError:
                return ValueError(f"a Tensor holds float numbers, and {item} is too large for a float64")
        elif not isinstance(item, numbers.Real) and getattr(item, "shape", None) != ():
            return TypeError(f"a Tensor holds real numbers, got a {type(item).__name__} ({item!r}) among them")
    return TypeError("a Tensor holds real numbers; this data is not an array of them")


class Tensor:
    """A node of a computation graph holding a NumPy array ``data``, and ``grad`` = dL/d(data).

    ``Tensor(data, dtype=None, *, requires_grad=True, name="")``

    ``data`` may be a number, a (nested) list, a NumPy array or another Tensor.
    It is stored as float64, or float32 if it already is float32 or if
    ``dtype=np.float32``; an array of the right dtype is used as it is, not
    copied (like ``np.asarray``). ``requires_grad=False`` marks data that needs
    no gradient, such as a batch of inputs: no gradient is computed for it.

    In-place arithmetic (``t -= x``, also ``+=``, ``*=``, ``/=``) follows PyTorch:

    * inside ``with no_grad():``, and for a tensor that needs no gradient
      combined with one that needs none, it gives ``t`` new numbers: ``t``
      stays the same object, so ``for p in model.parameters(): p -= lr *
      p.grad`` trains. The numbers go into a new array, of ``t``'s shape and
      dtype, as ``t.data = t.data - x`` would (an array that shared the old
      one, such as the one ``t`` was made from, keeps its numbers), and the
      change counts as a change of ``t.data``: a backward pass through an
      operation that read the old numbers raises an error;
    * outside ``no_grad()``, a leaf that requires a gradient (a parameter) is
      refused with a RuntimeError, as in PyTorch: write ``p.data -= ...``;
    * outside ``no_grad()``, a tensor computed in a graph (``loss +=
      penalty``), or a tensor combined with one that needs a gradient, gets a
      new node, as ``loss = loss + penalty`` gives: other names for the old
      tensor still see the old one (in PyTorch they would see the change).

    Comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) are element-wise,
    as in NumPy and PyTorch, and give a NumPy array of booleans (no gradient
    flows through a comparison): ``np.mean(pred == labels)`` is an accuracy.
    A tensor still hashes by identity, so sets and dicts of tensors (the
    graph walk uses them) compare nodes, not numbers; ``t in [a, b]`` is
    ambiguous for tensors of more than one number, as for NumPy arrays.

    A NaN gives NaN in every operation, as in NumPy and PyTorch. Its
    gradient is PyTorch's too: NaN where the rule computes with the input
    (exp, log, tanh, sigmoid, powers, products, and max, whose winner is
    the NaN), the usual one where it does not (a sum, ``+``, a reshape);
    relu passes the gradient at a NaN, clip gives 0 there.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "name", "_prev", "_version", "_seen")
    __array_ufunc__ = None  # `np.float64(2) * t` and `array + t` call the Tensor's methods
    _op = ""  # a leaf was made by no operation
    _grad_zero = None  # reads as zeros, made only when asked for

    def __init__(self, data, dtype=None, *, requires_grad=True, name=""):
        self._data = _as_array(data, dtype)
        self._grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name if type(name) is str else check_name(name)
        self._prev = ()
        self._version = 0
        self._seen = None

    def _record(self, data, *inputs):
        """An operation's result: ``data``, computed from ``inputs``.

        The inputs are remembered (and the data clock, to detect later changes
        to their data) only if a gradient must flow back to one of them;
        otherwise the result is a leaf that needs no gradient. (Most operations
        have one or two inputs, ``inputs[0]`` and ``inputs[-1]``, which are
        looked at first; a convolution's weight sits between its input and bias.)
        """
        self._data = data if type(data) is np.ndarray else np.asarray(data)  # 0-d results are NumPy scalars
        self._grad = None
        self.name = ""
        self._version = 0
        if ((inputs[0].requires_grad or inputs[-1].requires_grad
                or len(inputs) > 2 and any(t.requires_grad for t in inputs[1:-1]))
                and (autograd._all_threads_record or autograd._grad_mode.enabled)):
            self.requires_grad = True
            self._prev = inputs
            self._seen = autograd._data_clock
        else:
            self.requires_grad = False
            self._prev = ()
            self._seen = None

    # ----- what a Tensor holds -------------------------------------------------

    @property
    def data(self):
        """The numbers, a NumPy array. Assigning new ones (also ``t.data -= ...``) counts as a change."""
        return self._data

    @data.setter
    def data(self, value):
        if value is not self._data:  # `t.data -= ...` hands back the same array, already checked
            if not (isinstance(value, np.ndarray) and value.dtype.char in "fd"):  # float32 or float64
                value = _as_array(value, None)
            self._data = value
        autograd._data_clock += 1
        self._version = autograd._data_clock

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def grad(self):
        """dL/d(data), an array of ``data``'s shape; zeros until a backward pass reaches it.

        ``None`` for a tensor with ``requires_grad=False``. Assigning ``None``
        resets it to zeros without allocating them.
        """
        if self._grad is None and self.requires_grad:
            self._grad = np.zeros_like(self._data)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = np.asarray(value, dtype=self._data.dtype)
            if value.shape != self._data.shape:
                raise ValueError(f"a gradient of shape {value.shape} for a tensor of shape {self._data.shape}")
        self._grad = value

    # ----- arithmetic: each makes a node of the operation class that computes it -----

    def __add__(self, other):
        return Add(self, other if isinstance(other, Tensor) else _lift(other, self, "+"))

    def __sub__(self, other):
        return Sub(self, other if isinstance(other, Tensor) else _lift(other, self, "-"))

    def __mul__(self, other):
        return Mul(self, other if isinstance(other, Tensor) else _lift(other, self, "*"))

    def __truediv__(self, other):
        return Div(self, other if isinstance(other, Tensor) else _lift(other, self, "/"))

    def __pow__(self, other):
        if isinstance(other, Tensor):
            return PowTensor(self, other)
        if isinstance(other, np.ndarray) and other.ndim == 0:
            other = other.item()
        if isinstance(other, numbers.Real):
            return Pow(self, other)
        if isinstance(other, (np.ndarray, list)):  # an array of exponents: a constant Tensor
            return PowTensor(self, _lift(other, self, "**"))
        raise TypeError(f"a Tensor can be raised to a number or a Tensor, not {type(other).__name__}")

    def __matmul__(self, other):
        return MatMul(self, other if isinstance(other, Tensor) else _lift(other, self, "@"))

    def __neg__(self):
        return Neg(self)

    def __pos__(self):
        return self

    # In place: `p -= lr * p.grad` (see the class docstring).
    def __iadd__(self, other):
        return self._in_place(np.add, other, "+=")

    def __isub__(self, other):
        return self._in_place(np.subtract, other, "-=")

    def __imul__(self, other):
        return self._in_place(np.multiply, other, "*=")

    def __itruediv__(self, other):
        return self._in_place(np.divide, other, "/=")

    def _in_place(self, ufunc, other, op):
        """``self op= other``: new numbers for ``self`` where no graph is recorded, else a new node."""
        needs_graph = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        if needs_graph and autograd.is_grad_enabled():
            if self.requires_grad and not self._prev:
                name = f" {self.name!r}" if self.name else ""
                raise RuntimeError(
                    f"`p {op} ...` on a tensor{name} of shape {self.shape} that requires a gradient "
                    f"(a parameter) outside `with no_grad():`; PyTorch refuses it too. To update a "
                    f"parameter, change its numbers: `p.data {op} ...`, or do the update inside "
                    f"`with no_grad():`; to build a graph, write `p = p {op[0]} ...`")
            return NotImplemented  # Python then makes the new node: `self = self op other`
        value = _lift(other, self, op)._data
        if op == "/=" and not np.all(value):
            raise ZeroDivisionError(f"/=: division by an array of shape {value.shape} that contains zeros")
        try:
            result = ufunc(self._data, value, dtype=self._data.dtype)
        except ValueError:
            result = None
        if result is None or np.shape(result) != self.shape:
            raise ValueError(f"{op}: a tensor of shape {self.shape} cannot take an operand of shape "
                             f"{value.shape} in place (the result must keep the tensor's shape)")
        self.data = result  # counts as a change of the data (the data clock ticks)
        return self

    # ----- comparisons: element-wise, NumPy booleans (see the class docstring) -----

    __hash__ = object.__hash__  # a node is itself: defining __eq__ would otherwise remove it

    def __eq__(self, other):
        return self._compare(np.equal, other, "==")

    def __ne__(self, other):
        return self._compare(np.not_equal, other, "!=")

    def __lt__(self, other):
        return self._compare(np.less, other, "<")

    def __le__(self, other):
        return self._compare(np.less_equal, other, "<=")

    def __gt__(self, other):
        return self._compare(np.greater, other, ">")

    def __ge__(self, other):
        return self._compare(np.greater_equal, other, ">=")

    def _compare(self, ufunc, other, op):
        """``ufunc(self.data, other)`` as a NumPy array of booleans; NotImplemented for a non-number."""
        if isinstance(other, Tensor):
            value = other._data
        elif isinstance(other, (numbers.Real, np.ndarray, np.generic, list, tuple)):
            value = np.asarray(other)
            if value.dtype.kind not in "fiub":
                return NotImplemented  # `t == "a"` is False, `t < "a"` a TypeError, as for other types
        else:
            return NotImplemented
        try:
            return ufunc(self._data, value)
        except ValueError:
            raise ValueError(f"{op}: shapes {self.shape} and {value.shape} do not broadcast "
                             "together") from None

    # Reflected forms: `2 + t`, `x - t`, `2 ** t`, ... make a constant Tensor of the other operand.
    def __radd__(self, other):
        return Add(_lift(other, self, "+"), self)

    def __rsub__(self, other):
        return Sub(_lift(other, self, "-"), self)

    def __rmul__(self, other):
        return Mul(_lift(other, self, "*"), self)

    def __rtruediv__(self, other):
        return Div(_lift(other, self, "/"), self)

    def __rpow__(self, other):
        return PowTensor(_lift(other, self, "**"), self)

    def __rmatmul__(self, other):
        return MatMul(_lift(other, self, "@"), self)

    # ----- reductions ------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        """The sum over ``axis`` (an int, a tuple of ints, or None for all)."""
        return Sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """The mean over ``axis`` (an int, a tuple of ints, or None for all)."""
        return Mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """The largest entry over ``axis``; the gradient goes to the largest entries (split between ties)."""
        return Max(self, axis, keepdims)

    # ----- shapes ------------------------------------------------------------------

    def reshape(self, *shape):
        """The same numbers in a new shape: ``t.reshape(4, 1)`` or ``t.reshape((4, 1))``."""
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        return Reshape(self, shape)

    def transpose(self, *axes):
        """Permute the axes: ``t.transpose()`` reverses them, ``t.transpose(1, 0, 2)`` reorders them."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
            axes = axes[0]
        axes = tuple(reversed(range(self.ndim))) if axes is None or axes == () else tuple(axes)
        return Transpose(self, axes)

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        """Indexing and slicing as in NumPy, including integer arrays: ``logits[np.arange(n), y]``."""
        return GetItem(self, _plain_index(index))

    # ----- functions -----------------------------------------------------------------

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

    def softmax(self, axis=-1):
        """exp(x) / sum(exp(x)) along ``axis``: positive numbers that sum to 1."""
        return Softmax(self, axis)

    def log_softmax(self, axis=-1):
        """log(softmax(x)) along ``axis``, computed as x - max - log Σ exp(x - max): never inf or nan."""
        return LogSoftmax(self, axis)

    def cross_entropy(self, targets):
        """Softmax cross-entropy of logits (n, classes) against n integer class indices, averaged.

        The same number as ``-self.log_softmax(axis=1)[np.arange(n), targets].mean()``,
        as one operation with the well-known gradient (softmax - onehot) / n, so
        that a training step does not pay for four separate operations.
        """
        warn_if_softmax_output(self, "cross_entropy", stacklevel=3)
        return CrossEntropy(self, targets)

    def clip(self, low, high):
        """Entries limited to [low, high] (``None``: no bound on that side).

        The gradient passes where ``low <= x <= high``, the bounds included
        (as PyTorch's ``clamp``); outside, the result is a constant, so no
        gradient flows there.
        """
        return Clip(self, low, high)

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
            if self._data.size != 1:
                raise ValueError(f"backward() without a gradient works for a single number (a loss); "
                                 f"this tensor has shape {self.shape}: call backward(gradient) with an "
                                 f"array of that shape")
            gradient = np.array(1.0, self._data.dtype).reshape(self._data.shape)  # dL/dL = 1
        else:
            gradient = np.array(gradient.data if isinstance(gradient, Tensor) else gradient,
                                dtype=self.dtype)  # a copy, ours alone
            if gradient.shape != self.shape:
                raise ValueError(f"backward(gradient): the gradient has shape {gradient.shape}, "
                                 f"the tensor has shape {self.shape}")
        backpropagate(self, gradient)

    def detach(self):
        """A new leaf with the same ``data`` (not copied) and no graph: no gradient flows through it."""
        return Tensor(self._data, requires_grad=False, name=self.name)

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


# ----- the operations: forward in __init__, local derivative rule in _backward -----
# `grad` is dL/d(this node), an array of this node's shape. Each rule returns
# dL/d(input) for every input, in the order of `_prev`; backpropagate sums each
# back to its input's shape if the input was broadcast, and adds it to the
# input's gradient. `__slots__` keeps a node one small object.


class Add(Tensor):
    __slots__ = ()
    _op = "+"

    def __init__(self, a, b):
        self._record(_broadcast(np.add, a, b, "+"), a, b)

    def _backward(self, grad):  # d(a+b)/da = 1,  d(a+b)/db = 1
        return grad, grad


class Sub(Tensor):
    __slots__ = ()
    _op = "-"

    def __init__(self, a, b):
        self._record(_broadcast(np.subtract, a, b, "-"), a, b)

    def _backward(self, grad):  # d(a-b)/da = 1,  d(a-b)/db = -1
        return grad, -grad


class Mul(Tensor):
    __slots__ = ()
    _op = "*"

    def __init__(self, a, b):
        self._record(_broadcast(np.multiply, a, b, "*"), a, b)

    def _backward(self, grad):  # d(ab)/da = b,  d(ab)/db = a
        a, b = self._prev
        return grad * b.data, grad * a.data


class Div(Tensor):
    __slots__ = ()
    _op = "/"

    def __init__(self, a, b):
        if not np.all(b.data):
            raise ZeroDivisionError(f"division by a tensor of shape {b.shape} that contains zeros")
        self._record(_broadcast(np.divide, a, b, "/"), a, b)

    def _backward(self, grad):  # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
        a, b = self._prev
        g = grad / b.data
        return g, -g * a.data / b.data


class Neg(Tensor):
    __slots__ = ()
    _op = "neg"

    def __init__(self, a):
        self._record(-a.data, a)

    def _backward(self, grad):  # d(-a)/da = -1
        return (-grad,)


class Pow(Tensor):
    """``a ** n`` for a plain number ``n``, which is a constant: it gets no gradient."""

    __slots__ = ("exponent",)

    def __init__(self, a, n):
        n = self.exponent = float(n)
        x = a.data
        if not n.is_integer() and np.any(x < 0):
            raise ValueError(f"a tensor with negative entries raised to the non-integer power {n!r}: "
                             "not a real number")
        if n < 0 and not np.all(x):
            raise ZeroDivisionError(f"a tensor with zeros raised to the negative power {n!r}")
        self._record(x ** n, a)

    @property
    def _op(self):
        return f"**{self.exponent:g}"

    def _backward(self, grad):  # d(a^n)/da = n a^(n-1)
        return (grad * _power_slope(self._prev[0].data, self.exponent),)


class PowTensor(Tensor):
    """``a ** b`` where the exponent ``b`` is a Tensor too, and gets a gradient."""

    __slots__ = ()
    _op = "**"

    def __init__(self, a, b):
        if np.any(a.data < 0):
            raise ValueError("a tensor with negative entries raised to a Tensor exponent has no real derivative "
                             "with respect to the exponent; use a plain number as the exponent")
        if np.any((a.data == 0) & (b.data < 0)):
            raise ZeroDivisionError("zero raised to a negative power")
        self._record(_broadcast(np.power, a, b, "**"), a, b)

    def _backward(self, grad):  # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b ln a
        a, b = self._prev
        with np.errstate(divide="ignore"):
            log_a = np.where(a.data > 0, np.log(a.data), 0.0)  # a^b ln a -> 0 as a -> 0
        return grad * _power_slope(a.data, b.data), grad * self.data * log_a


class MatMul(Tensor):
    __slots__ = ()
    _op = "@"

    def __init__(self, a, b):
        x, y = a._data, b._data
        try:  # for matrices, x.dot(y) is x @ y with less overhead per call
            product = x.dot(y) if x.ndim == 2 == y.ndim else x @ y
        except ValueError:
            raise _matmul_error(x, y) from None
        self._record(product, a, b)

    def _backward(self, grad):  # dL/da = grad bᵀ,  dL/db = aᵀ grad
        a, b = self._prev
        x, y = a._data, b._data
        if x.ndim == 2 and y.ndim == 2:
            # Skipped when not needed: for a batch of inputs x, grad @ Wᵀ
            # costs as much as x @ W. (With a transposed right operand,
            # .dot is slower than @ for large matrices: measured.)
            return (grad @ y.T if a.requires_grad else None,
                    x.T.dot(grad) if b.requires_grad else None)
        return _matmul_backward(a, b, grad)


class Sum(Tensor):
    __slots__ = ("kept_shape",)
    _op = "sum"

    def __init__(self, a, axis=None, keepdims=False):
        axes = _axes(axis, a.ndim)
        self.kept_shape = _kept_shape(a.shape, axes)
        self._record(a.data.sum(axis=axes, keepdims=keepdims), a)

    def _backward(self, grad):  # each summed entry gets the sum's gradient
        return (_spread(grad, self.kept_shape, self._prev[0].shape),)


class Mean(Tensor):
    __slots__ = ("kept_shape", "count")
    _op = "mean"

    def __init__(self, a, axis=None, keepdims=False):
        axes = _axes(axis, a.ndim)
        self.kept_shape = _kept_shape(a.shape, axes)
        self.count = math.prod(a.shape[i] for i in axes)
        self._record(a.data.mean(axis=axes, keepdims=keepdims), a)

    def _backward(self, grad):  # every entry gets 1/count of the gradient of the mean
        return (_spread(grad / self.count, self.kept_shape, self._prev[0].shape),)


class Max(Tensor):
    __slots__ = ("axes",)
    _op = "max"

    def __init__(self, a, axis=None, keepdims=False):
        self.axes = _axes(axis, a.ndim)
        if a.size == 0:
            raise ValueError("max() of an empty tensor")
        self._record(a.data.max(axis=self.axes, keepdims=keepdims), a)

    def _backward(self, grad):  # 1 for the largest entry, split equally between ties
        x = self._prev[0].data
        kept = _kept_shape(x.shape, self.axes)
        winners = x == self.data.reshape(kept)
        count = winners.sum(axis=self.axes, keepdims=True)
        # A NaN maximum equals no entry: the count is 0, and the whole
        # group's gradient is 0 * (grad / 0) = NaN, as NaN goes on.
        with np.errstate(divide="ignore", invalid="ignore"):
            return (winners * (grad.reshape(kept) / count),)


class Reshape(Tensor):
    __slots__ = ()
    _op = "reshape"

    def __init__(self, a, shape):
        try:
            reshaped = a.data.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} numbers) "
                             f"into shape {shape}") from None
        self._record(reshaped, a)

    def _backward(self, grad):  # the same numbers, back in the input's shape
        return (grad.reshape(self._prev[0].shape),)


class Transpose(Tensor):
    __slots__ = ("axes",)
    _op = "transpose"

    def __init__(self, a, axes):
        try:
            transposed = a.data.transpose(axes)
        except ValueError:
            raise ValueError(f"transpose of a tensor of shape {a.shape} needs a permutation of "
                             f"{tuple(range(a.ndim))}, got {axes}") from None
        self.axes = axes
        self._record(transposed, a)

    def _backward(self, grad):  # undo the permutation
        return (grad.transpose(np.argsort([axis % grad.ndim for axis in self.axes])),)


class GetItem(Tensor):
    __slots__ = ("index",)
    _op = "[]"

    def __init__(self, a, index):
        self.index = index
        self._record(a.data[index], a)

    def _backward(self, grad):  # the gradient goes back to the entries that were picked
        a = self._prev[0].data
        g = np.zeros(a.shape, a.dtype)  # in C order, as `flat` below assumes
        if _is_basic(self.index):
            g[self.index] = grad
        else:  # an entry picked twice gets both gradients
            # np.add.at is several times faster on a flat array with a
            # flat index: so find where each picked entry is in g's
            # numbers, read in order, first.
            flat = np.arange(g.size).reshape(g.shape)[self.index]
            np.add.at(g.reshape(-1), flat.reshape(-1), grad.reshape(-1))
        return (g,)


class Exp(Tensor):
    __slots__ = ()
    _op = "exp"

    def __init__(self, a):
        self._record(np.exp(a.data), a)

    def _backward(self, grad):  # d(e^x)/dx = e^x, which is this node's value
        return (grad * self.data,)


class Log(Tensor):
    __slots__ = ()
    _op = "log"

    def __init__(self, a):
        x = a.data
        if np.any(x <= 0):  # (a NaN is not: log(NaN) is NaN)
            raise ValueError(f"log is defined for positive numbers only; this tensor has entries that are "
                             f"not (smallest: {x[x <= 0].min().item()!r})")
        self._record(np.log(x), a)

    def _backward(self, grad):  # d(ln x)/dx = 1/x
        return (grad / self._prev[0].data,)


class Tanh(Tensor):
    __slots__ = ()
    _op = "tanh"

    def __init__(self, a):
        self._record(np.tanh(a.data), a)

    def _backward(self, grad):  # d(tanh x)/dx = 1 - tanh² x
        t = self.data
        return (grad * (1 - t * t),)


class ReLU(Tensor):
    __slots__ = ()
    _op = "relu"

    def __init__(self, a):
        self._record(np.maximum(a._data, 0), a)

    def _backward(self, grad):  # d(relu x)/dx = 1 where x > 0, else 0
        # The output is 0 where x <= 0; where x is NaN it is NaN, and the
        # gradient passes, as in PyTorch (a NaN slope, with np.sign, would
        # cost this rule twice the instructions: measured).
        return (grad * (self._data != 0),)


class Sigmoid(Tensor):
    __slots__ = ()
    _op = "sigmoid"

    def __init__(self, a):
        x = a.data
        # e^-|x| never overflows: σ(x) = 1/(1 + e^-x) for x >= 0, e^x/(1 + e^x) otherwise.
        z = np.exp(-np.abs(x))
        self._record(np.where(x >= 0, 1, z) / (1 + z), a)

    def _backward(self, grad):  # dσ/dx = σ (1 - σ)
        s = self.data
        return (grad * (s * (1 - s)),)


class Softmax(Tensor):
    __slots__ = ("axis",)
    _op = "softmax"

    def __init__(self, a, axis=-1):
        self.axis = axis
        self._record(np.exp(log_softmax(a.data, axis)), a)

    def _backward(self, grad):  # dL/dx = s (grad - Σ grad·s)
        s = self.data
        return (s * (grad - (grad * s).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Tensor):
    __slots__ = ("axis",)
    _op = "log_softmax"

    def __init__(self, a, axis=-1):
        self.axis = axis
        self._record(log_softmax(a.data, axis), a)

    def _backward(self, grad):  # dL/dx = grad - softmax(x) Σ grad
        return (grad - np.exp(self.data) * grad.sum(axis=self.axis, keepdims=True),)


class CrossEntropy(Tensor):
    """The mean over n rows of -log softmax(logits)[row, target].

    See :meth:`Tensor.cross_entropy`.
    """

    __slots__ = ("log_probs", "picked")
    _op = "cross_entropy"

    def __init__(self, logits, targets):
        x = logits._data
        if x.ndim != 2:
            raise ValueError("cross_entropy: logits must have shape "
                             f"(n, classes), got {x.shape}")
        n, classes = x.shape
        if n == 0 or classes == 0:
            raise ValueError(f"cross_entropy: logits of shape {x.shape}: "
                             "no rows or no classes to compare")
        targets = check_class_labels(targets, n, classes)
        self.picked = np.arange(n), targets  # row i, column targets[i]
        self.log_probs = log_softmax(x, axis=1)
        # minus the mean, over the rows, of each row's log-probability of
        # its target class (a sum over n: cheaper than .mean())
        self._record(-self.log_probs[self.picked].sum() / n, logits)

    def _backward(self, grad):  # dL/dx = (softmax(x) - onehot(targets)) / n
        g = np.exp(self.log_probs)
        g[self.picked] -= 1  # one entry per row: no index repeats
        g *= float(grad) / len(g)
        return (g,)


class Clip(Tensor):
    """Entries limited to [low, high]; a bound of ``None`` is no bound. See :meth:`Tensor.clip`."""

    __slots__ = ("low", "high")
    _op = "clip"

    def __init__(self, a, low, high):
        if low is None and high is None:
            raise ValueError("clip needs a lower or an upper bound (or both); got None for both")
        self.low, self.high = low, high
        self._record(np.clip(a.data, low, high), a)

    def _backward(self, grad):
        # 1 where low <= x <= high, the bounds included; outside, the result
        # is a constant: 0. For a NaN x, 0 too. All as PyTorch's clamp.
        x = self._prev[0].data
        low = -np.inf if self.low is None else self.low
        high = np.inf if self.high is None else self.high
        return (grad * ((x >= low) & (x <= high)),)


# ----- helpers ------------------------------------------------------------------------


def warn_if_softmax_output(logits, who, stacklevel):
    """Warn when the logits given to a cross-entropy come straight out of a softmax.

    Cross-entropy applies softmax itself: given probabilities, it applies a
    second one, whose outputs all lie within a factor e of each other, and
    training stalls far above the loss it could reach (no error says so).
    """
    if isinstance(logits, Softmax):  # stacklevel: the frame to show (the user's call)
        warnings.warn(
            f"{who}: these logits are the output of a softmax (probabilities); cross-entropy "
            "applies softmax itself, so it would apply it twice and training would stall at a "
            "high loss. Pass the scores before the softmax (an MLP's default "
            "last_activation='linear' gives them)", stacklevel=stacklevel)


def log_softmax(x, axis=-1):
    """log(softmax(x)) of an array along ``axis``: x - m - log Σ exp(x - m).

    Here m is the largest entry along ``axis``. Subtracting it changes
    nothing (it cancels between numerator and denominator) but keeps every
    exponential at most 1, so that logits of ±1000 give finite numbers
    instead of inf/inf.
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _power_slope(base, exponent):
    """d(base^exponent)/d(base) = exponent · base^(exponent - 1), with its limits at base 0.

    a^0 = 1 everywhere, so its slope is 0 (not 0 · 0^-1 = nan); for 0 < n < 1
    the curve a^n stands vertical at 0: the slope there is infinite.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = exponent * np.power(base, exponent - 1)
    return np.where(exponent == 0, 0.0, slope) if np.any(exponent == 0) else slope


def _matmul_error(x, y):
    """The error for arrays ``x @ y`` cannot multiply, naming both shapes."""
    if x.ndim == 0 or y.ndim == 0:
        return ValueError(f"@ needs operands with at least one dimension, got shapes {x.shape} and {y.shape}")
    return ValueError(f"@ cannot multiply shapes {x.shape} and {y.shape}: the inner dimensions "
                      f"{x.shape[-1]} and {y.shape[-2] if y.ndim > 1 else y.shape[0]} differ")


def _matmul_backward(a, b, grad):
    """The gradients of ``a @ b`` for 1-D operands and batched (leading) dimensions.

    A 1-D ``a`` is a row (1, k) and a 1-D ``b`` a column (k, 1) whose extra axis
    was dropped from the result; putting the axes back reduces every case to
    (batched) matrices. Gradients of batched dimensions that were broadcast
    are summed back by backpropagate.
    """
    A = a.data[None, :] if a.data.ndim == 1 else a.data
    B = b.data[:, None] if b.data.ndim == 1 else b.data
    g = grad
    if b.data.ndim == 1:
        g = np.expand_dims(g, -1)
    if a.data.ndim == 1:
        g = np.expand_dims(g, -2)
    ga = gb = None
    if a.requires_grad:
        ga = autograd.unbroadcast(g @ np.swapaxes(B, -1, -2), A.shape).reshape(a.data.shape)
    if b.requires_grad:
        gb = autograd.unbroadcast(np.swapaxes(A, -1, -2) @ g, B.shape).reshape(b.data.shape)
    return ga, gb


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
        return ufunc(a._data, b._data)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast together "
                         "(aligned from the right, each pair of sizes must be equal or contain a 1)") from None


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` kept as size 1, as ``keepdims=True`` gives."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, kept, shape):
    """A new array of ``shape`` holding ``grad`` (reshaped to ``kept``) copied along the reduced axes."""
    g = np.empty(shape, dtype=grad.dtype)
    g[...] = grad.reshape(kept)
    return g


def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple of ints) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, numbers.Integral):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        axes = (axis,)  # not an axis: the check below says so
    result = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or isinstance(a, (bool, np.bool_)):
            raise TypeError(f"axis must be an int, a tuple of ints, or None; got {axis!r} "
                            f"({type(axis).__name__})")
        if not -ndim <= a < max(ndim, 1) or ndim == 0:
            raise ValueError(f"axis {a!r} is out of range for a tensor with {ndim} dimensions")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(result)


def _plain_index(index):
    """An index for NumPy, or a TypeError for a Tensor used as one.

    A Tensor holds floats, so a boolean mask or integer positions stored in one
    have lost what they were (is 1.0 "true" or "row 1"?): index with ints,
    slices, lists or NumPy arrays of integers or booleans instead.
    """
    if isinstance(index, Tensor):
        raise TypeError(f"a Tensor cannot be used as an index: it holds {index.dtype} numbers, so a boolean "
                        "mask or integer positions in it are ambiguous; index with ints, slices, or NumPy "
                        "arrays of integers or booleans (for example np.asarray(mask, dtype=bool))")
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, list):
        array = np.asarray(index)
        # [] gives an array of floats, which NumPy refuses as an index; as
        # NumPy's own a[[]] does, it selects nothing.
        return array.astype(np.intp) if array.size == 0 else array
    return index


def _is_basic(index):
    """Whether ``index`` has only ints, slices, None and ``...``: then no entry is picked twice."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, numbers.Integral)) for i in items)
