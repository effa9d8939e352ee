"""Gradient checking: compare backpropagation with finite differences.

For a function f of inputs x, the central difference

    (f(x + h) - f(x - h)) / 2h

approximates df/dx with an error of order h². If backpropagation disagrees
with it by much more than that, a derivative rule is wrong.
"""
import numpy as np

from minigrad.autograd import zero_grad


def _scalar(output):
    data = output.data
    if np.ndim(data) != 0:
        raise ValueError(f"gradcheck needs f to return a single number, got shape {np.shape(data)}")
    return float(data)


def numerical_gradients(f, inputs, h=1e-6):
    """df/dx for each input, by central differences, each with its input's shape."""
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
    """df/dx for each input, by backpropagation."""
    zero_grad(inputs)
    out = f(*inputs)
    _scalar(out)
    out.backward()
    return [x.grad for x in inputs]


def gradcheck(f, inputs, h=1e-6):
    """The largest gap between backpropagated and numerical gradients of ``f``.

    ``f`` takes the ``inputs`` (Values or Tensors) as arguments and returns a
    single-number Value or Tensor. A correct backward pass gives a gap near
    1e-8 or smaller; a wrong derivative rule gives one near the size of the
    gradient itself.
    """
    inputs = list(inputs)
    analytic = analytic_gradients(f, inputs)
    numeric = numerical_gradients(f, inputs, h)
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(n)))) for a, n in zip(analytic, numeric))
