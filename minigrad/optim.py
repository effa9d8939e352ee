"""Optimizers: rules for turning gradients into parameter updates.

Written once for any parameter with ``.data`` and ``.grad`` that support
arithmetic: floats (Values) and NumPy arrays (Tensors) alike.
"""
from minigrad.autograd import zero_grad


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr!r}")
        self.lr = lr

    def zero_grad(self):
        zero_grad(self.params)

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: p ← p - lr·v, where v = momentum·v + g.

    With ``momentum=0`` that is plain p ← p - lr·g. ``weight_decay`` adds
    weight_decay·p to each gradient g (an L2 penalty on the weights).
    """

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocities = [0 * p.data for p in self.params]

    def step(self):
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

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = [0 * p.data for p in self.params]
        self.v = [0 * p.data for p in self.params]

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
