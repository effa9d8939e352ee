"""Optimizers: rules for turning gradients into parameter updates.

Written once for any parameter with ``.data`` and ``.grad`` that support
arithmetic: floats (Values) and NumPy arrays (Tensors) alike. The updates are
made in place (``p.data -= ...``), so a float32 Tensor stays float32.

``state_dict()`` returns what an optimizer has learned along the way (its
settings, step count and per-parameter buffers) as a flat dict of numbers and
NumPy arrays, which ``np.savez`` can store; ``load_state_dict`` puts it back.

Mistakes are refused when the optimizer is made, not discovered as a model
that never learns:

* ``params`` must be a list (or any iterable) of parameters, such as
  ``model.parameters()``: one Tensor on its own would be iterated row by row
  and the rows, new objects, would be stepped instead of the Tensor;
* each parameter once: one listed twice would be stepped twice per step.
  Like PyTorch, which refuses a parameter that appears twice in a parameter
  group, minigrad raises a ValueError naming both positions (a network whose
  layer is used twice lists that layer's parameters once in ``parameters()``);
* only leaves: a tensor computed from others (``W * 2``, it has ``_prev``) is
  made again by the next forward pass, so stepping it teaches nothing;
* the settings must be finite numbers in range: lr > 0, 0 <= beta < 1,
  eps > 0, momentum >= 0, weight_decay >= 0, and so must the ones that come
  back from a checkpoint through ``load_state_dict``.
"""
from collections.abc import Mapping

import numpy as np

from minigrad.autograd import zero_grad
from minigrad.checks import check_finite_real, check_nonnegative_int
from minigrad.module import Module

# The range each setting must lie in: (low, high, low excluded?, high excluded?); None: no bound.
_RANGES = {
    "lr": (0, None, True, False),
    "momentum": (0, None, False, False),
    "weight_decay": (0, None, False, False),
    "beta1": (0, 1, False, True),
    "beta2": (0, 1, False, True),
    "eps": (0, None, True, False),
}
_COUNTS = ("t",)  # settings that count steps: whole numbers, 0 or more


def _zeros_like(data):
    """0.0 for a float, an array of zeros of the same shape and dtype for an array."""
    return np.zeros_like(data) if isinstance(data, np.ndarray) else 0.0


def _has(obj, name):
    """Whether ``obj`` has the attribute ``name``, without computing it.

    (``Tensor.grad`` is a property that makes an array of zeros when read.)
    """
    return hasattr(type(obj), name) or name in getattr(obj, "__dict__", ())


def _is_parameter(obj):
    return _has(obj, "data") and _has(obj, "grad")


def _parameter_list(params, who):
    """``params`` as a list of distinct leaf parameters that can learn, or a clear error."""
    if _is_parameter(params):
        raise TypeError(f"{who} takes a list of parameters, got a single {type(params).__name__}: "
                        f"pass a list, e.g. {who}(model.parameters()) or {who}([W, b])")
    if isinstance(params, Module):
        raise TypeError(f"{who} takes a list of parameters, got the {type(params).__name__} itself: "
                        f"pass {who}(model.parameters())")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{who} takes a list of parameters, e.g. model.parameters(); "
                        f"got {params!r} ({type(params).__name__})") from None
    if not params:
        raise ValueError(f"{who} got no parameters to optimize")
    positions = {}
    for i, p in enumerate(params):
        if not _is_parameter(p):
            raise TypeError(f"{who}: parameter {i} is not a parameter (a Tensor or a Value, with .data "
                            f"and .grad) but a {type(p).__name__}")
        if id(p) in positions:
            raise ValueError(f"{who}: parameter {i} is parameter {positions[id(p)]} again; listed twice, it "
                             "would be stepped twice per step: list each parameter once")
        positions[id(p)] = i
        if getattr(p, "requires_grad", True) is False:
            raise ValueError(f"{who}: parameter {i} has requires_grad=False, "
                             "so it never gets a gradient to learn from")
        if getattr(p, "_prev", ()):
            raise ValueError(f"{who}: parameter {i} was computed from other values (by {p._op!r}), so the "
                             "next forward pass makes it anew and a step would teach nothing: optimize "
                             "the leaves it was computed from (the weights themselves)")
    return params


class Optimizer:
    """What SGD and Adam share: the parameter list, checked settings, zero_grad, state_dict.

    A subclass passes its settings to ``__init__`` by name; each is checked
    (against ``_RANGES``) and becomes an attribute, saved by ``state_dict()``.
    """

    settings = ("lr",)  # the numbers that define the optimizer, saved by state_dict()
    buffers = ()        # the names of its per-parameter lists (one entry per parameter)

    def __init__(self, params, lr, **settings):
        self.params = _parameter_list(params, type(self).__name__)
        for name, value in {"lr": lr, **settings}.items():
            setattr(self, name, self._check_setting(name, value))

    def _check_setting(self, name, value):
        """``value`` for the setting ``name`` as a Python number, or an error naming both.

        The same check for the constructor and for ``load_state_dict``. A
        Python float, not a NumPy scalar: NumPy keeps a float32 array float32
        when it multiplies it by a float.
        """
        who = f"{type(self).__name__}: {name}"
        if name in _COUNTS:
            return check_nonnegative_int(value, who)
        low, high, low_open, high_open = _RANGES.get(name, (None, None, False, False))
        return check_finite_real(value, who, low, high, low_open=low_open, high_open=high_open)

    def zero_grad(self):
        zero_grad(self.params)

    def _gradient(self, p):
        """The gradient a step follows: ``p.grad``, plus weight_decay·p if set.

        Weight decay is the gradient of an L2 penalty (weight_decay/2)·p².
        """
        if self.weight_decay:
            return p.grad + self.weight_decay * p.data
        return p.grad

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """The optimizer's state as a flat dict: ``{"lr": 0.01, ..., "velocities.0": array, ...}``."""
        state = {name: getattr(self, name) for name in self.settings}
        for name in self.buffers:
            for i, buffer in enumerate(getattr(self, name)):
                state[f"{name}.{i}"] = np.array(buffer) if isinstance(buffer, np.ndarray) else float(buffer)
        return state

    def load_state_dict(self, state):
        """Restore a ``state_dict()`` (a dict, or the arrays loaded from an .npz file) for the same parameters.

        Everything is checked before anything changes: a state that does not
        fit leaves the optimizer as it was.
        """
        for name, value in self._checked_state(state).items():
            setattr(self, name, value)

    def _checked_state(self, state):
        """The attributes ``load_state_dict(state)`` would set, checked, without setting them."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{who} takes a dict such as state_dict() returns, got a {type(state).__name__}")
        expected = set(self.settings) | {f"{name}.{i}" for name in self.buffers for i in range(len(self.params))}
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise ValueError(f"{who}: the state does not fit this optimizer "
                             f"and its {len(self.params)} parameters"
                             + (f"; missing {sorted(missing)}" if missing else "")
                             + (f"; unexpected {sorted(unexpected, key=str)}" if unexpected else ""))
        loaded = {name: self._check_setting(name, state[name]) for name in self.settings}
        for name in self.buffers:
            values = []
            for i, p in enumerate(self.params):
                key, value = f"{name}.{i}", state[f"{name}.{i}"]
                array = np.asarray(value)
                if array.dtype.kind not in "fiu":
                    raise TypeError(f"{who}: {key} should hold numbers, got {type(value).__name__} "
                                    f"of dtype {array.dtype}")
                if isinstance(p.data, np.ndarray):
                    if array.shape != p.data.shape:
                        raise ValueError(f"{who}: {key} has shape {array.shape} "
                                         f"but parameter {i} has shape {p.data.shape}")
                    values.append(array.astype(p.data.dtype, copy=True))
                else:
                    if array.shape != ():
                        raise ValueError(f"{who}: {key} should be one number (parameter {i} is a "
                                         f"{type(p).__name__}), got an array of shape {array.shape}")
                    values.append(float(array))
            loaded[name] = values
        return loaded


class SGD(Optimizer):
    """Stochastic gradient descent: p ← p - lr·v, where v = momentum·v + g.

    With ``momentum=0`` that is plain p ← p - lr·g. ``weight_decay`` adds
    weight_decay·p to each gradient g (an L2 penalty on the weights).
    """

    settings = ("lr", "momentum", "weight_decay")
    buffers = ("velocities",)

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, momentum=momentum,
                         weight_decay=weight_decay)
        self.velocities = [_zeros_like(p.data) for p in self.params]

    def step(self):
        lr = self.lr
        if not self.momentum and not self.weight_decay:  # plain SGD
            for p in self.params:
                p.data -= lr * p.grad
            return
        for i, p in enumerate(self.params):
            g = self._gradient(p)
            if self.momentum:
                g = self.momentum * self.velocities[i] + g
                self.velocities[i] = g
            p.data -= lr * g


def _pair(betas, who):
    """``(beta1, beta2)`` from ``betas``, or a TypeError if it is not two numbers."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"{who}: betas must be a pair of numbers (beta1, beta2), got {betas!r}") from None
    return beta1, beta2


class Adam(Optimizer):
    """Adam: a step along a running mean of gradients, scaled per parameter.

    m ← β1·m + (1-β1)·g and v ← β2·v + (1-β2)·g² track the first and second
    moments of the gradient; after correcting their bias towards 0 in the first
    steps (m̂ = m / (1-β1ᵗ), v̂ = v / (1-β2ᵗ)), p ← p - lr·m̂ / (√v̂ + eps).
    """

    settings = ("lr", "beta1", "beta2", "eps", "weight_decay", "t")
    buffers = ("m", "v")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = _pair(betas, "Adam")
        super().__init__(params, lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        self.t = 0
        self.m = [_zeros_like(p.data) for p in self.params]
        self.v = [_zeros_like(p.data) for p in self.params]

    def step(self):
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        for i, p in enumerate(self.params):
            g = self._gradient(p)
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / correction1
            v_hat = self.v[i] / correction2
            p.data -= self.lr * m_hat / (v_hat ** 0.5 + self.eps)
