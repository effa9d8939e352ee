"""Optimizers: rules for turning gradients into parameter updates.

Written once for any parameter with ``.data`` and ``.grad`` that support
arithmetic: floats (Values) and NumPy arrays (Tensors) alike. The updates are
made in place (``p.data -= ...``), so a float32 Tensor stays float32.

``state_dict()`` returns what an optimizer has learned along the way (its
settings, step count and per-parameter buffers) as a flat dict of numbers and
NumPy arrays, which ``np.savez`` can store; ``load_state_dict`` puts it back.
"""
import numpy as np

from minigrad.autograd import zero_grad


def _zeros_like(data):
    """0.0 for a float, an array of zeros of the same shape and dtype for an array."""
    return np.zeros_like(data) if isinstance(data, np.ndarray) else 0.0


class Optimizer:
    settings = ("lr",)  # the numbers that define the optimizer, saved by state_dict()
    buffers = ()        # the names of its per-parameter lists (one entry per parameter)

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        for i, p in enumerate(self.params):
            if getattr(p, "requires_grad", True) is False:
                raise ValueError(f"{type(self).__name__}: parameter {i} has requires_grad=False, "
                                 "so it never gets a gradient to learn from")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr!r}")
        self.lr = float(lr)  # a Python float: NumPy keeps a float32 array float32 when it multiplies it

    def zero_grad(self):
        zero_grad(self.params)

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
        """Restore a ``state_dict()`` (a dict, or the arrays loaded from an .npz file) for the same parameters."""
        expected = set(self.settings) | {f"{name}.{i}" for name in self.buffers for i in range(len(self.params))}
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state does not fit this optimizer "
                             f"and its {len(self.params)} parameters"
                             + (f"; missing {sorted(missing)}" if missing else "")
                             + (f"; unexpected {sorted(unexpected)}" if unexpected else ""))
        loaded = {}
        for name in self.buffers:
            values = []
            for i, p in enumerate(self.params):
                value = state[f"{name}.{i}"]
                if isinstance(p.data, np.ndarray):
                    value = np.array(value, dtype=p.data.dtype)
                    if value.shape != p.data.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: {name}.{i} has shape "
                                         f"{value.shape} but parameter {i} has shape {p.data.shape}")
                else:
                    value = float(value)
                values.append(value)
            loaded[name] = values
        for name in self.settings:  # numbers stored by np.savez come back as 0-d arrays
            value = state[name]
            loaded[name] = int(value) if isinstance(getattr(self, name), int) else float(value)
        for name, value in loaded.items():
            setattr(self, name, value)


class SGD(Optimizer):
    """Stochastic gradient descent: p ← p - lr·v, where v = momentum·v + g.

    With ``momentum=0`` that is plain p ← p - lr·g. ``weight_decay`` adds
    weight_decay·p to each gradient g (an L2 penalty on the weights).
    """

    settings = ("lr", "momentum", "weight_decay")
    buffers = ("velocities",)

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.velocities = [_zeros_like(p.data) for p in self.params]

    def step(self):
        if not self.momentum and not self.weight_decay:  # plain SGD
            for p in self.params:
                p.data -= self.lr * p.grad
            return
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                g = self.velocities[i] = self.momentum * self.velocities[i] + g
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam: a step along a running mean of gradients, scaled per parameter.

    m ← β1·m + (1-β1)·g and v ← β2·v + (1-β2)·g² track the first and second
    moments of the gradient; after correcting their bias towards 0 in the first
    steps (m̂ = m / (1-β1ᵗ), v̂ = v / (1-β2ᵗ)), p ← p - lr·m̂ / (√v̂ + eps).
    """

    settings = ("lr", "beta1", "beta2", "eps", "weight_decay", "t")
    buffers = ("m", "v")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = (float(beta) for beta in betas)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = [_zeros_like(p.data) for p in self.params]
        self.v = [_zeros_like(p.data) for p in self.params]

    def step(self):
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g * g
            m_hat = self.m[i] / correction1
            v_hat = self.v[i] / correction2
            p.data -= self.lr * m_hat / (v_hat ** 0.5 + self.eps)
