"""Convolution and pooling on Tensors: images in, images out (chapter 12).

An image batch has shape (N, C, H, W): N images of C channels of H x W
pixels ("NCHW", PyTorch's order). A convolution with a weight of shape
(O, C, kh, kw) slides each of its O filters over the image; at every place
it stops, the output is the dot product of the filter with the kh x kw
window of all C channels under it, plus the filter's bias:

    out[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q w[o, c, p, q] x[n, c, s·i + p, s·j + q]

(s the stride, x padded with zeros). Written as loops this is six nested
loops. **im2col** turns it into one matrix product: copy every window into
a row of a matrix ``cols`` (one row per output pixel, C·kh·kw columns),
and the filters into the rows of a matrix (O, C·kh·kw); then

    out = cols @ weightᵀ + b          shape (N·OH·OW, O)

The gradient follows from the matrix product's rule: dL/dweight is
``gradᵀ @ cols``, dL/dcols is ``grad @ weight``, and **col2im** sends each
row of dL/dcols back to the pixels its window was copied from, adding where
windows overlapped (a pixel used by several windows collects a gradient from
each, as any input used twice does).

Max pooling keeps the largest number of each window; its gradient goes to
that number alone (to the first, if several tie, as in PyTorch).

The arrays are laid out in memory as (N, H, W, C), which is what the matrix
product gives, and handed out as the (N, C, H, W) view of it: no copy is made
to reorder them.
"""
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.checks import check_float_dtype, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor
from minigrad.tensor_nn import _generator

__all__ = ["conv2d", "max_pool2d", "flatten", "Conv2d", "MaxPool2d", "Flatten",
           "im2col", "col2im"]


# ----- im2col and col2im: windows as rows of a matrix, and back ------

def windows(x, kernel, stride):
    """Every kh x kw window of the images ``x`` (N, H, W, C).

    A view of shape (N, OH, OW, kh, kw, C).

    No number is copied: a view with made-up strides reads the same memory
    again. Moving one output pixel to the right moves the window ``sw``
    pixels to the right, so that axis steps ``sw`` times x's column stride;
    the window's own axes step like x's rows and columns. (The channels come
    last, where they lie next to each other in memory: copying the windows
    then moves C numbers at a time, not one.)
    """
    (kh, kw), (sh, sw) = kernel, stride
    n, h, w, c = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s_n, s_h, s_w, s_c = x.strides
    return as_strided(x, shape=(n, oh, ow, kh, kw, c),
                      strides=(s_n, s_h * sh, s_w * sw, s_h, s_w, s_c),
                      writeable=False)


def im2col(x, kernel, stride):
    """The matrix whose rows are the windows of ``x`` (N, H, W, C).

    Its shape is (N·OH·OW, kh·kw·C).

    Row ``(n·OH + i)·OW + j`` is the window under output pixel (i, j) of
    image n, read row by row, column by column, channel by channel: the
    order of ``weight.transpose(0, 2, 3, 1).reshape(O, -1)``, each filter's
    numbers in a row. Here the windows are copied, once: a pixel in several
    windows appears in several rows.
    """
    view = windows(x, kernel, stride)
    n, oh, ow, kh, kw, c = view.shape
    return view.reshape(n * oh * ow, kh * kw * c)


def col2im(grad_windows, shape, stride):
    """Add the gradients of windows back onto the pixels they came from.

    ``grad_windows`` has shape (N, OH, OW, kh, kw, C): dL/d(window entry).
    Returns dL/dx for images of ``shape`` (N, H, W, C): each pixel gets the
    sum of the gradients of every window entry that was a copy of it.

    That is what ``np.add.at(dx, index, grad)`` does entry by entry (an index
    that comes up twice must add twice, which plain ``dx[index] += grad``
    would not), done here in kh·kw whole-array steps instead: take one
    offset (p, q) inside the window; over all windows, the entries at that
    offset are copies of the pixels ``(s·i + p, s·j + q)``, all different.
    So for a fixed offset one sliced ``+=`` is safe, and the pixels shared
    by overlapping windows are summed by the loop over the offsets: kh·kw
    fast array additions instead of one slow call that adds number by
    number (the tests check that both give the same sums).
    """
    n, oh, ow, kh, kw, c = grad_windows.shape
    sh, sw = stride
    grad = np.zeros(shape, dtype=grad_windows.dtype)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + sh * oh, sh)
            cols = slice(q, q + sw * ow, sw)
            grad[:, rows, cols] += grad_windows[:, :, :, p, q]
    return grad


def _channels_last(x):
    """(N, C, H, W) -> the (N, H, W, C) view of the same numbers."""
    return x.transpose(0, 2, 3, 1)


def _channels_first(x):
    """(N, H, W, C) -> the (N, C, H, W) view of the same numbers."""
    return x.transpose(0, 3, 1, 2)


# ----- the operations ------------------------------------------------

class Conv2dOp(Tensor):
    """``conv2d(x, weight, bias)`` as one operation.

    Forward: im2col, then one matrix product. Backward: two matrix
    products, then col2im.

    See :func:`conv2d`. The rows of im2col are kept for the backward pass,
    which needs them for dL/dweight.
    """

    __slots__ = ("stride", "padding", "cols")
    _op = "conv2d"

    def __init__(self, x, weight, bias, stride, padding):
        self.stride, self.padding = stride, padding
        image, w = _channels_last(x._data), weight._data
        out_channels = w.shape[0]
        ph, pw = padding
        if ph or pw:  # zeros around the images, the images inside
            n, h, wd, c = image.shape
            padded = np.zeros((n, h + 2 * ph, wd + 2 * pw, c), image.dtype)
            padded[:, ph:ph + h, pw:pw + wd] = image
            image = padded
        view = windows(image, w.shape[2:], stride)
        n, oh, ow = view.shape[:3]
        self.cols = cols = view.reshape(n * oh * ow, -1)
        out = cols @ _filters(w).T  # (N·OH·OW, O)
        inputs = (x, weight)
        if bias is not None:
            out += bias._data
            inputs = (x, weight, bias)
        out = _channels_first(out.reshape(n, oh, ow, out_channels))
        self._record(out, *inputs)

    def _backward(self, grad):
        x, weight = self._prev[0], self._prev[1]
        w = weight._data
        out_channels, c, kh, kw = w.shape
        # one row per output pixel: free when grad has this node's own
        # (N, OH, OW, O) memory layout, as a ReLU's or a pooling's has
        g = _channels_last(grad).reshape(-1, out_channels)
        grad_w = None
        if weight.requires_grad:  # dL/dW = gradᵀ @ cols, as (O, C, kh, kw)
            grad_w = (g.T @ self.cols).reshape(out_channels, kh, kw, c)
            grad_w = grad_w.transpose(0, 3, 1, 2)
        grad_x = None
        if x.requires_grad:  # dL/dcols = grad @ W, then col2im
            n, _, h, wd = x.shape
            (ph, pw), (oh, ow) = self.padding, grad.shape[2:]
            grad_cols = (g @ _filters(w)).reshape(n, oh, ow, kh, kw, c)
            padded = (n, h + 2 * ph, wd + 2 * pw, c)
            grad_x = col2im(grad_cols, padded, self.stride)
            # the padding's zeros were constants: their share is dropped
            grad_x = _channels_first(grad_x[:, ph:ph + h, pw:pw + wd])
        if len(self._prev) == 2:
            return grad_x, grad_w
        # dL/db[o]: the sum over every output pixel of channel o
        return grad_x, grad_w, np.add.reduce(g, axis=0)


def _filters(w):
    """The filters (O, C, kh, kw) as rows, in im2col's column order."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


class MaxPool2dOp(Tensor):
    """``max_pool2d(x, kernel_size, stride)``: see :func:`max_pool2d`."""

    __slots__ = ("kernel", "stride", "winners")
    _op = "max_pool2d"

    def __init__(self, x, kernel, stride):
        self.kernel, self.stride = kernel, stride
        view = windows(_channels_last(x._data), kernel, stride)
        n, oh, ow, kh, kw, c = view.shape
        # a copy: each window's kh·kw numbers along axis 3
        flat = view.reshape(n, oh, ow, kh * kw, c)
        # the first largest entry of each window (PyTorch's choice)
        self.winners = winners = flat.argmax(axis=3)[:, :, :, None]
        best = np.take_along_axis(flat, winners, axis=3)
        self._record(_channels_first(best.reshape(n, oh, ow, c)), x)

    def _backward(self, grad):  # 1 for the largest entry, 0 for the rest
        kh, kw = self.kernel
        positions = np.arange(kh * kw, dtype=self.winners.dtype)[:, None]
        g = (positions == self.winners) * _channels_last(grad)[:, :, :, None]
        n, oh, ow, _, c = g.shape
        shape = _channels_last(self._prev[0]._data).shape
        g = col2im(g.reshape(n, oh, ow, kh, kw, c), shape, self.stride)
        return (_channels_first(g),)


# ----- functions, checked --------------------------------------------------------------

def _pair(value, name, minimum=1):
    """``value`` (an int, or a pair of ints) as a pair (rows, columns) of ints >= ``minimum``."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)
                             or v < minimum for v in pair):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _image_batch(x, who, dtype=None):
    """``x`` as a Tensor of shape (N, C, H, W), or a ValueError naming its shape."""
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x, dtype=dtype), requires_grad=False)
    if x.ndim != 4:
        hints = {3: " (one image? add a batch axis: x.reshape(1, *x.shape))",
                 2: " (one channel of one image? make it x.reshape(1, 1, *x.shape))"}
        hint = hints.get(x.ndim, "")
        raise ValueError(f"{who} takes a batch of images of shape (N, C, H, W), "
                         f"got shape {x.shape}{hint}")
    return x


def _output_size(size, kernel, stride, padding, what, who, shape):
    padded = size + 2 * padding
    if padded < kernel:
        raise ValueError(f"{who}: the {what} {size} (padded: {padded}) of the input of shape {shape} "
                         f"is smaller than the kernel's {kernel}")
    return (padded - kernel) // stride + 1


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """The 2-D convolution (a cross-correlation, as in every framework) of a batch of images.

    ``x`` (N, C, H, W); ``weight`` (O, C, kh, kw), one filter per output
    channel; ``bias`` (O,) or None; ``stride`` and ``padding`` an int or a
    pair (rows, columns). Returns (N, O, OH, OW) with
    ``OH = (H + 2·padding - kh) // stride + 1`` (likewise OW). Zeros are
    added around the image when ``padding`` > 0.
    """
    x = _image_batch(x, "conv2d")
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ValueError(f"conv2d: the weight must be a Tensor of shape (out_channels, in_channels, "
                         f"kh, kw), got {getattr(weight, 'shape', type(weight).__name__)}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: the input of shape {x.shape} has {x.shape[1]} channels, but the "
                         f"weight of shape {weight.shape} expects {weight.shape[1]}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != weight.shape[:1]):
        raise ValueError(f"conv2d: the bias must be a Tensor of shape ({weight.shape[0]},), one number "
                         f"per output channel, got {getattr(bias, 'shape', type(bias).__name__)}")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: the input holds {x.dtype} and the weight {weight.dtype} numbers")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding", 0)
    for axis, what in ((0, "height"), (1, "width")):
        _output_size(x.shape[2 + axis], weight.shape[2 + axis], stride[axis], padding[axis], what,
                     "conv2d", x.shape)
    return Conv2dOp(x, weight, bias, stride, padding)


def max_pool2d(x, kernel_size, stride=None):
    """The largest number in each ``kernel_size`` window of each channel.

    ``x`` (N, C, H, W); ``stride`` defaults to ``kernel_size`` (windows side
    by side, not overlapping). Returns (N, C, OH, OW) with
    ``OH = (H - kh) // stride + 1``: rows or columns left over at the edge
    are dropped, as in PyTorch.
    """
    x = _image_batch(x, "max_pool2d")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    for axis, what in ((0, "height"), (1, "width")):
        _output_size(x.shape[2 + axis], kernel[axis], stride[axis], 0, what, "max_pool2d", x.shape)
    return MaxPool2dOp(x, kernel, stride)


def flatten(x, start_dim=1, end_dim=-1):
    """``x`` with the axes ``start_dim`` .. ``end_dim`` merged into one (a Reshape)."""
    if not isinstance(x, Tensor):
        x = Tensor(x, requires_grad=False)
    ndim = max(x.ndim, 1)
    start, end = start_dim % ndim, end_dim % ndim
    if not (-ndim <= start_dim < ndim and -ndim <= end_dim < ndim) or start > end:
        raise ValueError(f"flatten: cannot merge axes {start_dim}..{end_dim} of a tensor of shape {x.shape}")
    shape = x.shape
    return x.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


# ----- layers ----------------------------------------------------------------------------

class Conv2d(Module):
    """A convolutional layer: ``conv2d(x, weight, bias, stride, padding)`` with learned filters.

    ``weight`` (out_channels, in_channels, kh, kw) is drawn from a normal
    distribution with standard deviation √(2 / fan_in), fan_in =
    in_channels·kh·kw, the number of inputs each output adds up: He et al.'s
    (2015) initialisation for a layer followed by a ReLU, as minigrad's
    :class:`~minigrad.tensor_nn.Layer` uses. (PyTorch draws uniformly from
    ±1/√fan_in, a smaller scale.) ``bias`` (out_channels,) starts at zero.
    ``seed`` (an int or a NumPy Generator) makes them reproducible.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 seed=None, dtype=np.float64):
        in_channels = check_positive_int(in_channels, "in_channels")
        out_channels = check_positive_int(out_channels, "out_channels")
        kh, kw = _pair(kernel_size, "kernel_size")
        self.stride, self.padding = _pair(stride, "stride"), _pair(padding, "padding", 0)
        dtype = check_float_dtype(dtype, "a layer's parameters")
        fan_in = in_channels * kh * kw
        weight = _generator(seed).normal(0.0, math.sqrt(2.0 / fan_in),
                                         size=(out_channels, in_channels, kh, kw))
        self.weight = Tensor(weight.astype(dtype), name="weight")
        self.bias = Tensor(np.zeros(out_channels, dtype=dtype), name="bias") if bias else None

    def __call__(self, x):
        x = _image_batch(x, type(self).__name__, self.weight.dtype)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def config(self):
        """The arguments that build this layer again (see ``Module.config``)."""
        out_channels, in_channels, kh, kw = self.weight.shape
        return {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": [kh, kw],
                "stride": list(self.stride), "padding": list(self.padding),
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    @classmethod
    def config_size(cls, config):
        kh, kw = _pair(config["kernel_size"], "kernel_size")
        out_channels = check_positive_int(config["out_channels"], "out_channels")
        in_channels = check_positive_int(config["in_channels"], "in_channels")
        return out_channels * in_channels * kh * kw + out_channels * bool(config.get("bias", True))

    def __repr__(self):
        out_channels, in_channels, kh, kw = self.weight.shape
        return (f"Conv2d({in_channels}, {out_channels}, kernel_size={(kh, kw)}, stride={self.stride}, "
                f"padding={self.padding}{', bias=False' if self.bias is None else ''})")


class MaxPool2d(Module):
    """``max_pool2d(x, kernel_size, stride)`` as a layer (it learns nothing)."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")

    def __call__(self, x):
        return max_pool2d(x, self.kernel_size, self.stride)

    def config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    @classmethod
    def config_size(cls, config):
        return 0

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


class Flatten(Module):
    """Merges the axes ``start_dim`` .. ``end_dim``: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def __call__(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    @classmethod
    def config_size(cls, config):
        return 0

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
