"""Gradient checking: compare backpropagation with finite differences.

For a function f of inputs x, the central difference

    (f(x + h) - f(x - h)) / 2h

approximates df/dx with an error of order h². If backpropagation disagrees
with it by much more than that, a derivative rule is wrong.

How much is "much more" depends on the size of the numbers: a gap of 100 is
nothing next to a gradient of 10¹³, and a gap of 10⁻¹¹ is everything next
to a gradient of 10⁻¹¹. So the gap is measured relatively: the largest
|backpropagated - numerical| over every entry of every input, divided by the
largest number involved (|f| itself or any entry of either gradient). |f| is
part of that scale because a difference quotient carries rounding errors of
about 10⁻¹⁶·|f|/h whatever the size of the gradient: an entry far smaller
than f can only be checked to that precision, by any method of differences.

A relative gap below ``TOLERANCE`` (10⁻⁶) is a pass; correct rules usually
give 10⁻⁹ or less, a wrong rule about 0.1 to 1. Where f and all of its
gradients are zero or nearly so, nothing sets a scale: check at another point.

A gradient that is not a finite number (NaN or infinity) on either side
cannot be compared: gradcheck says which input has it rather than report a gap.
Checking leaves the inputs' data and every gradient as they were.
"""
import math
import numbers
import warnings

import numpy as np

from minigrad.autograd import topological_order, zero_grad

#: A relative gap below this is a pass.
TOLERANCE = 1e-6
#: Below this step, rounding errors in f (about 1e-16·|f|/h) swamp the differences.
SMALLEST_STEP = 1e-8


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


def check_step(h, stacklevel=3):
    """``h`` as a float if it is a usable step, else a TypeError or ValueError.

    A step below ``SMALLEST_STEP`` is allowed but warned about: the gap it
    gives measures rounding errors, not the derivative rules.
    """
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"gradcheck: the step h must be a number, got {type(h).__name__} {h!r}")
    h = float(h)
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"gradcheck: the step h must be a positive finite number, got {h!r}")
    if h < SMALLEST_STEP:
        warnings.warn(f"gradcheck: the step h = {h:g} is so small that rounding errors in f "
                      f"(about 1e-16·|f|/h) swamp the differences; 1e-6, the default, is a good step",
                      RuntimeWarning, stacklevel=stacklevel)
    return h


def _vanishing_step(inputs, i, data, h):
    """A ValueError for the first entry of ``data`` that x ± h rounds back to x, if any."""
    data = np.asarray(data, dtype=np.float64)
    lost = (data + h == data) | (data - h == data)
    if np.any(lost):
        index = tuple(int(j) for j in np.argwhere(lost)[0])
        at = f" at index {index}" if index else ""
        raise ValueError(f"gradcheck: {_label(inputs, i)}{at} is {data[index]:g}, so large that x + h "
                         f"rounds back to x with h = {h:g}: use a larger step h")


def numerical_gradients(f, inputs, h=1e-6):
    """df/dx for each input, by central differences, each with its input's shape.

    The inputs' data are nudged one entry at a time and always put back,
    even if ``f`` raises; a read-only array is nudged in a copy.
    """
    inputs = _inputs(inputs)
    h = check_step(h)
    return _differences(f, inputs, h)


def _differences(f, inputs, h):
    grads = []
    for i, x in enumerate(inputs):
        original = x.data
        _vanishing_step(inputs, i, original, h)
        if isinstance(original, np.ndarray):
            if original.dtype != np.float64:
                raise TypeError(f"gradcheck needs float64 inputs for accurate differences, got {original.dtype}")
            data = original if original.flags.writeable else original.copy()
            if data is not original:
                x.data = data
            g = np.zeros_like(data)
            try:
                for index in np.ndindex(data.shape):
                    entry = data[index]
                    try:
                        data[index] = entry + h
                        up = _scalar(f(*inputs))
                        data[index] = entry - h
                        down = _scalar(f(*inputs))
                    finally:
                        data[index] = entry
                    g[index] = (up - down) / (2 * h)
            finally:
                if data is not original:
                    x.data = original
        else:
            try:
                x.data = original + h
                up = _scalar(f(*inputs))
                x.data = original - h
                down = _scalar(f(*inputs))
            finally:
                x.data = original
            g = (up - down) / (2 * h)
        grads.append(g)
    return grads


def _backpropagated(f, inputs):
    """f's value and df/dx for each input (copies), leaving every gradient as it was."""
    out = f(*inputs)
    value = _scalar(out)
    nodes = {id(x): x for x in inputs}
    for node in topological_order(out):
        if not node._prev:  # a leaf: backward() adds into its grad
            nodes.setdefault(id(node), node)
    nodes = list(nodes.values())
    saved = [node.grad for node in nodes]
    try:
        zero_grad(nodes)  # new gradients: the caller's stay untouched, even if changed in place
        out.backward()
        grads = []
        for i, x in enumerate(inputs):
            if x.grad is None:
                raise ValueError(f"gradcheck: {_label(inputs, i)} gets no gradient (it has requires_grad=False)")
            grads.append(np.array(x.grad, dtype=np.float64) if isinstance(x.grad, np.ndarray) else x.grad)
    finally:
        for node, grad in zip(nodes, saved):
            node.grad = grad
    return value, grads


def analytic_gradients(f, inputs):
    """df/dx for each input, by backpropagation, each with its input's shape.

    The gradients are copies: every ``grad`` in f's graph is left as it was.
    """
    return _backpropagated(f, _inputs(inputs))[1]


def relative_gaps(analytic, numeric, value):
    """For each input, the largest |analytic - numeric| over its entries, relative to the scale.

    The scale is the largest of |value| (f's value) and every entry of both
    gradients, of all inputs: see the module's docstring. All zero: gaps 0.
    """
    analytic = [np.asarray(a, dtype=np.float64) for a in analytic]
    numeric = [np.asarray(n, dtype=np.float64) for n in numeric]
    scale = max([abs(float(value))] + [float(np.max(np.abs(g), initial=0.0))
                                       for g in analytic + numeric])
    gaps = []
    for a, n in zip(analytic, numeric):
        gap = float(np.max(np.abs(a - n), initial=0.0)) if a.shape == n.shape else math.inf
        gaps.append(gap / scale if scale > 0 else gap)
    return gaps


def _first_bad(g):
    """The index (or None) of the first entry of ``g`` that is NaN or infinite."""
    array = np.asarray(g, dtype=np.float64)
    bad = ~np.isfinite(array)
    if not np.any(bad):
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return array[index], index


def gradcheck(f, inputs, h=1e-6):
    """The relative gap between backpropagated and numerical gradients of ``f``.

    ``f`` takes the ``inputs`` (Values or Tensors) as arguments and returns a
    single-number Value or Tensor. The gap is the largest difference between
    the two gradients, over every entry of every input, divided by the
    largest number among |f| and the entries of both gradients. **A pass is a
    gap below** ``TOLERANCE`` **(1e-6)**: a correct backward pass gives 1e-9 or
    less, a wrong derivative rule 0.1 to 1. ``h`` is the step of the central
    differences (a positive number; below 1e-8 it draws a warning).

    A gradient that is NaN or infinite, from backpropagation or from the
    differences, raises a ValueError naming the input; so does a gradient of
    another shape than its input. The inputs' data, and every gradient in
    f's graph, are left as they were.
    """
    inputs = _inputs(inputs)
    h = check_step(h)
    value, analytic = _backpropagated(f, inputs)
    if not math.isfinite(value):
        raise ValueError(f"gradcheck: f gives {value} at these inputs; its gradients cannot be checked there")
    numeric = _differences(f, inputs, h)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        for how, g in (("backpropagation gives", a), ("finite differences give", n)):
            bad = _first_bad(g)
            if bad is not None:
                number, index = bad
                at = f" at index {index}" if index else ""
                raise ValueError(f"gradcheck: {how} {number} for the gradient of {_label(inputs, i)}{at}; "
                                 "a gradient that is not a finite number cannot be checked")
        if np.shape(a) != np.shape(n):
            raise ValueError(f"gradcheck: backpropagation gives a gradient of shape {np.shape(a)} for "
                             f"{_label(inputs, i)}, whose shape is {np.shape(n)}")
    return max(relative_gaps(analytic, numeric, value), default=0.0)
