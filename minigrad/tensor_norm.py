"""Training deeper networks: normalisation and dropout (chapter 13).

Normalising a tensor over some of its axes means subtracting their mean and
dividing by their standard deviation:

    x̂ = (x - μ) / √(σ² + ε)        μ, σ² the mean and (biased) variance

after which every group has mean 0 and variance about 1, however the
numbers drifted in the layers before. A learned scale γ and shift β give
the layer back the freedom to choose another mean and spread: y = γ x̂ + β.

* **Batch normalisation** (Ioffe & Szegedy, 2015) normalises each channel
  over the batch (and over the pixels of an image). While training it uses
  the batch's own μ and σ², and keeps running averages of them; evaluating,
  it uses those averages, so that an example's output does not depend on
  the others in its batch.
* **Layer normalisation** (Ba et al., 2016) normalises each example over its
  own last axes: the same in training and evaluation.
* **Dropout** (Srivastava et al., 2014) zeroes each number with probability
  p while training and multiplies the others by 1/(1 - p), so the expected
  output is unchanged; evaluating, it passes its input through.

The gradient of the normalisation, one operation (:class:`Normalize`), is
derived in its ``_backward``; γ and β are an ordinary product and sum.
"""
import math
import numbers

import numpy as np

from minigrad.checks import check_finite_real, check_float_dtype, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor, _axes
from minigrad.tensor_nn import _generator

__all__ = ["Normalize", "normalize", "batch_norm", "layer_norm", "dropout",
           "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout"]


class Normalize(Tensor):
    """``(x - mean) / √(var + eps)`` over ``axes``.

    Every group then has mean 0 and variance close to 1.

    The mean and the (biased) variance of each group are kept as ``mean``
    and ``var``, for batch normalisation's running averages.
    """

    __slots__ = ("axes", "inv_std", "mean", "var")
    _op = "normalize"

    def __init__(self, a, axes, eps):
        x = a._data
        self.axes = axes
        self.mean = mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        self.var = var = (centred * centred).mean(axis=axes, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + eps)
        self._record(centred * self.inv_std, a)

    def _backward(self, grad):
        # With m numbers in a group, x̂ = (x - μ)·r, r = 1/√(σ² + ε):
        # dμ/dx_j = 1/m and dσ²/dx_j = 2(x_j - μ)/m, so
        #   dL/dx_j = r · (g_j - mean(g) - x̂_j · mean(g · x̂))
        # the gradient with its mean and its part along x̂ taken out (the
        # output's mean and variance are fixed, whatever x does).
        x_hat, axes = self._data, self.axes
        centred_grad = grad - grad.mean(axis=axes, keepdims=True)
        along = (grad * x_hat).mean(axis=axes, keepdims=True)
        return (self.inv_std * (centred_grad - x_hat * along),)


def normalize(x, axes, eps=1e-5):
    """``x`` normalised over ``axes`` (an int or a tuple): see :class:`Normalize`."""
    if not isinstance(x, Tensor):
        x = Tensor(x, requires_grad=False)
    return Normalize(x, _axes(axes, x.ndim), check_finite_real(eps, "eps", 0, low_open=True))


def _channel_shape(x, channels):
    """The shape that lines a (C,) vector up with axis 1 of ``x``: (C,), (C, 1) or (C, 1, 1)."""
    return (channels,) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of ``x`` (N, C, ...) over every axis but the channels (axis 1).

    Training: normalise with the batch's mean and variance, and update the
    NumPy arrays ``running_mean`` and ``running_var`` in place (if not None):
    ``running = (1 - momentum)·running + momentum·batch``, with the unbiased
    variance (÷ (n - 1)), as PyTorch does. Evaluating: normalise with the
    running statistics, which are constants. Then ``weight·x̂ + bias``
    (each (C,), per channel) when given.
    """
    channels = x.shape[1]
    shape = _channel_shape(x, channels)
    if training:
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // channels
        if count < 2:
            raise ValueError(f"batch_norm: in training, each channel needs more than one number to "
                             f"normalise over; the input of shape {x.shape} has {count}")
        out = Normalize(x, axes, eps)
        if running_mean is not None:
            unbiased = out.var.reshape(channels) * (count / (count - 1))
            running_mean *= 1 - momentum
            running_mean += momentum * out.mean.reshape(channels)
            running_var *= 1 - momentum
            running_var += momentum * unbiased
    else:
        scale = 1.0 / np.sqrt(running_var + eps)
        shift = Tensor((running_mean * scale).reshape(shape), requires_grad=False)
        out = x * Tensor(scale.reshape(shape), requires_grad=False) - shift
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation: each example normalised over its last axes, of shape ``normalized_shape``.

    Then ``weight·x̂ + bias`` (both of shape ``normalized_shape``) when given.
    """
    shape = tuple(normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"layer_norm: the input of shape {x.shape} does not end in the normalized "
                         f"shape {shape}")
    out = Normalize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(x, p, rng, training=True):
    """Each number of ``x`` zeroed with probability ``p``, the others divided by (1 - p), if ``training``.

    ``rng`` is a NumPy Generator: the same generator state drops the same
    numbers. ``p = 1`` drops everything (the result is zeros).
    """
    if not training or p == 0:
        return x
    keep = rng.random(x.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return x * Tensor(keep * np.asarray(scale, dtype=x.dtype), requires_grad=False)


# ----- layers -----------------------------------------------------------------------------

class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the shapes they accept."""

    ndims, shapes = (), ""
    buffer_names = ("running_mean", "running_var")  # part of the state, stepped by no optimizer

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float64):
        self.num_features = check_positive_int(num_features, "num_features")
        self.eps = check_finite_real(eps, "eps", 0, low_open=True)
        self.momentum = check_finite_real(momentum, "momentum", 0, 1)
        dtype = check_float_dtype(dtype, "a layer's parameters")
        self.weight = Tensor(np.ones(num_features, dtype=dtype), name="weight") if affine else None
        self.bias = Tensor(np.zeros(num_features, dtype=dtype), name="bias") if affine else None
        # statistics, not parameters: no optimizer changes them
        self.running_mean = np.zeros(num_features, dtype=dtype) if track_running_stats else None
        self.running_var = np.ones(num_features, dtype=dtype) if track_running_stats else None

    def __call__(self, x):
        name = type(self).__name__
        if not isinstance(x, Tensor):
            dtype = self.weight.dtype if self.weight is not None else None
            x = Tensor(np.asarray(x, dtype=dtype), requires_grad=False)
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}) takes inputs of shape {self.shapes} with "
                             f"C = {self.num_features}, got shape {x.shape}")
        use_batch = self.training or self.running_mean is None
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch, momentum=self.momentum, eps=self.eps)

    def parameters(self):
        return [] if self.weight is None else [self.weight, self.bias]

    def config(self):
        """The arguments that build this layer again (see ``Module.config``)."""
        arrays = [a for a in (getattr(self.weight, "data", None), self.running_mean) if a is not None]
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.weight is not None, "track_running_stats": self.running_mean is not None,
                "dtype": str(arrays[0].dtype) if arrays else "float64"}

    @classmethod
    def config_size(cls, config):
        """γ and β (if affine), the running mean and variance (if tracked): C numbers each."""
        count = bool(config.get("affine", True)) * 2 + bool(config.get("track_running_stats", True)) * 2
        return count * check_positive_int(config["num_features"], "num_features")

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per feature C.

    ``weight`` (γ) starts at ones and ``bias`` (β) at zeros, as in PyTorch;
    ``running_mean`` and ``running_var`` (NumPy arrays, starting at 0 and 1)
    follow each training batch with ``momentum`` (0.1: each new batch counts
    for a tenth). ``model.eval()`` makes the layer use them.
    """

    ndims, shapes = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel over the batch and all pixels.

    As :class:`BatchNorm1d` otherwise.
    """

    ndims, shapes = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the last axes, of shape ``normalized_shape`` (an int or a tuple).

    ``weight`` starts at ones and ``bias`` at zeros, as in PyTorch. The same
    computation in training and in evaluation.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=np.float64):
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(check_positive_int(n, "each size in normalized_shape")
                                      for n in normalized_shape)
        self.eps = check_finite_real(eps, "eps", 0, low_open=True)
        dtype = check_float_dtype(dtype, "a layer's parameters")
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Tensor(np.ones(self.normalized_shape, dtype=dtype), name="weight")
            self.bias = Tensor(np.zeros(self.normalized_shape, dtype=dtype), name="bias")

    def __call__(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x, requires_grad=False)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def parameters(self):
        return [] if self.weight is None else [self.weight, self.bias]

    def config(self):
        """The arguments that build this layer again (see ``Module.config``)."""
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.weight is not None,
                "dtype": str(self.weight.dtype) if self.weight is not None else "float64"}

    @classmethod
    def config_size(cls, config):
        shape = config["normalized_shape"]
        shape = [shape] if isinstance(shape, numbers.Integral) else shape
        size = math.prod(check_positive_int(n, "each size in normalized_shape") for n in shape)
        return 2 * size * bool(config.get("elementwise_affine", True))

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape}, eps={self.eps:g})"


class Dropout(Module):
    """Zeroes each number with probability ``p`` while training (scaling the rest by 1/(1 - p)).

    Evaluating (``model.eval()``), it passes its input through unchanged.
    Which numbers are dropped comes from a NumPy Generator made from ``seed``
    (an int, a Generator, or None for minigrad's default generator): two
    layers made with the same seed drop the same numbers, call after call.
    """

    generator_names = ("rng",)

    def __init__(self, p=0.5, seed=None):
        self.p = check_finite_real(p, "p", 0, 1)
        self.rng = _generator(seed)

    def __call__(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x, requires_grad=False)
        return dropout(x, self.p, self.rng, self.training)

    def config(self):
        """``{"p": p}``; a model file keeps the state of its generator apart (``generator_names``)."""
        return {"p": self.p}

    @classmethod
    def config_size(cls, config):
        return 0

    def __repr__(self):
        return f"Dropout(p={self.p:g})"

