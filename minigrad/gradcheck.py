"""Gradient checking: compare backpropagation with finite differences.

For a function f of inputs x, the central difference

    (f(x + h) - f(x - h)) / 2h

approximates df/dx with an error of order h². If backpropagation disagrees
with it by much more than that, a derivative rule is wrong.

A gradient that is not a finite number (NaN or infinity) on either side
cannot be compared: gradcheck says which input has it rather than report a gap.
"""
import numpy as np

from minigrad.autograd import zero_grad


def _inputs(inputs):
    """``inputs`` as a list of Values or Tensors (one alone is fine), else a TypeError."""
    if hasattr(inputs, "_prev") and hasattr(inputs, "data"):
        return [inputs]  # a single Value or Tensor (a Tensor is iterable, but by rows: not what is meant)
    try:
        inputs = list(inputs)
    except TypeError:
        raise TypeError(f"gradcheck needs a list of inputs (Values or Tensors), got {type(inputs).__name__}") from None
    for i, x in enumerate(inputs):
        if not (hasattr(x, "_prev") and hasattr(x, "data")):
            raise TypeError(f"gradcheck: input {i} is {type(x).__name__} {x!r}, not a Value or a Tensor")
    return inputs


def _label(inputs, i):
    name = getattr(inputs[i], "name", "")
    return f"input {i} ({name!r})" if name else f"input {i}"


def _scalar(output):
    if not hasattr(output, "data"):
        raise TypeError(f"gradcheck needs f to return a Value or a Tensor, got {type(output).__name__}")
    data = output.data
    if np.ndim(data) != 0:
        raise ValueError(f"gradcheck needs f to return a single number, got shape {np.shape(data)}")
    return float(data)


def numerical_gradients(f, inputs, h=1e-6):
    """df/dx for each input, by central differences, each with its input's shape."""
    inputs = _inputs(inputs)
    grads = []
    for x in inputs:
        if isinstance(x.data, np.ndarray):
            data = x.data
            if data.dtype != np.float64:
                raise TypeError(f"gradcheck needs float64 inputs for accurate differences, got {data.dtype}")
            g = np.zeros_like(data)
            for index in np.ndindex(data.shape):
                original = data[index]
                data[index] = original + h
                up = _scalar(f(*inputs))
                data[index] = original - h
                down = _scalar(f(*inputs))
                data[index] = original
                g[index] = (up - down) / (2 * h)
        else:
            original = x.data
            x.data = original + h
            up = _scalar(f(*inputs))
            x.data = original - h
            down = _scalar(f(*inputs))
            x.data = original
            g = (up - down) / (2 * h)
        grads.append(g)
    return grads


def analytic_gradients(f, inputs):
    """df/dx for each input, by backpropagation (copies, each with its input's shape)."""
    inputs = _inputs(inputs)
    zero_grad(inputs)
    out = f(*inputs)
    _scalar(out)
    out.backward()
    grads = []
    for i, x in enumerate(inputs):
        if x.grad is None:
            raise ValueError(f"gradcheck: {_label(inputs, i)} gets no gradient (it has requires_grad=False)")
        grads.append(np.array(x.grad, dtype=np.float64) if isinstance(x.grad, np.ndarray) else x.grad)
    return grads


def _first_bad(g):
    """The index (or None) of the first entry of ``g`` that is NaN or infinite."""
    array = np.asarray(g, dtype=np.float64)
    bad = ~np.isfinite(array)
    if not np.any(bad):
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return array[index], index


def gradcheck(f, inputs, h=1e-6):
    """The largest gap between backpropagated and numerical gradients of ``f``.

    ``f`` takes the ``inputs`` (Values or Tensors) as arguments and returns a
    single-number Value or Tensor. A correct backward pass gives a gap near
    1e-8 or smaller; a wrong derivative rule gives one near the size of the
    gradient itself. A gradient that is NaN or infinite, from backpropagation
    or from the differences, raises a ValueError naming the input; so does a
    gradient of another shape than its input.
    """
    inputs = _inputs(inputs)
    analytic = analytic_gradients(f, inputs)
    numeric = numerical_gradients(f, inputs, h)
    gaps = []
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        for how, g in (("backpropagation gives", a), ("finite differences give", n)):
            bad = _first_bad(g)
            if bad is not None:
                value, index = bad
                at = f" at index {index}" if index else ""
                raise ValueError(f"gradcheck: {how} {value} for the gradient of {_label(inputs, i)}{at}; "
                                 "a gradient that is not a finite number cannot be checked")
        if np.shape(a) != np.shape(n):
            raise ValueError(f"gradcheck: backpropagation gives a gradient of shape {np.shape(a)} for "
                             f"{_label(inputs, i)}, whose shape is {np.shape(n)}")
        gaps.append(float(np.max(np.abs(np.asarray(a) - np.asarray(n)), initial=0.0)))
    return max(gaps, default=0.0)
