"""The network, the data and one training step in each engine, all from the same weights.

Every engine trains an ``MLP(2, [width, width, 1])`` with ReLU hidden layers
and a linear output on ``batch`` points of the two-moons data set, with the
mean hinge loss and plain SGD. The scalar network is a copy of the tensor one
(:func:`minigrad.convert.to_scalar`), PyTorch's (when it is installed) takes
the same arrays, so all start from the same weights and compute the same
losses, up to rounding: :func:`agreement` checks it.
"""
import os
import sys

import numpy as np

from minigrad.convert import to_scalar
from minigrad.datasets import make_moons
from minigrad.losses import hinge_loss
from minigrad.optim import SGD
from minigrad.speed.sizes import positive_int
from minigrad.tensor_nn import MLP
from minigrad.value import Value

ENGINES = ("scalar", "tensor", "torch")
LR = 0.05


class Problem:
    """The data and the starting network of one comparison, shared by every engine.

    ``X`` has shape (batch, 2), ``labels`` shape (batch, 1) with entries -1.0 or
    +1.0; ``model`` is a tensor MLP whose weights every engine copies.
    """

    def __init__(self, width, batch, seed=0):
        self.width = positive_int(width, "width")
        self.batch = positive_int(batch, "batch")
        X, y = make_moons(max(self.batch, 2), noise=0.1, seed=seed)  # it makes 2 or more
        X, y = X[:self.batch], y[:self.batch]
        self.X = X.astype(np.float64)
        self.labels = (2.0 * y - 1.0).astype(np.float64).reshape(-1, 1)
        self.model = MLP(2, [self.width, self.width, 1], activation="relu", seed=seed)

    def weights(self):
        """The starting weights as (W, b) arrays, one pair per layer (copies)."""
        return [(layer.W.data.copy(), layer.b.data.copy()) for layer in self.model.layers]

    def __repr__(self):
        return f"Problem(width={self.width}, batch={self.batch})"


def make_problem(width, batch, seed=0):
    """The moons data (``batch`` points) and an ``MLP(2, [width, width, 1])`` to train on it."""
    return Problem(width, batch, seed)


def scalar_step(model, inputs, labels, optimizer):
    """One training step of the scalar engine; returns the loss.

    ``inputs`` is a list of points, each a list of Values; ``labels``
    a list of numbers. Every multiplication and addition is a node.
    """
    scores = [model(x) for x in inputs]
    loss = hinge_loss(scores, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data


def tensor_step(model, X, labels, optimizer):
    """One training step of the tensor engine; returns the loss.

    ``X`` is an array of shape (batch, 2), ``labels`` one of shape
    (batch, 1). Each layer is a handful of nodes, whatever the sizes.
    """
    scores = model(X)
    loss = hinge_loss(scores, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


class _ScalarEngine:
    name = "scalar"

    def __init__(self, problem):
        self.model = to_scalar(_copy_model(problem))
        # The inputs are leaves made once, as a training loop would make them.
        self.inputs = [[Value(float(a)), Value(float(b))] for a, b in problem.X]
        self.labels = [float(t) for t in problem.labels[:, 0]]
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def step(self):
        return scalar_step(self.model, self.inputs, self.labels, self.optimizer)

    def graph(self):
        return hinge_loss([self.model(x) for x in self.inputs], self.labels)


class _TensorEngine:
    name = "tensor"

    def __init__(self, problem):
        self.model = _copy_model(problem)
        self.X, self.labels = problem.X.copy(), problem.labels.copy()
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def step(self):
        return tensor_step(self.model, self.X, self.labels, self.optimizer)

    def graph(self):
        return hinge_loss(self.model(self.X), self.labels)


class _TorchEngine:
    """The same step in PyTorch (float64, one thread), for reference."""

    name = "torch"

    def __init__(self, problem):
        torch = import_torch()
        if torch is None:
            raise ValueError("the torch engine needs PyTorch, which is not installed")
        self.torch = torch
        self.params = []
        for W, b in problem.weights():
            self.params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
        self.X = torch.tensor(problem.X)
        self.labels = torch.tensor(problem.labels)
        self.optimizer = torch.optim.SGD(self.params, lr=LR)

    def _loss(self):
        h = self.X
        last = len(self.params) // 2 - 1
        for i in range(0, len(self.params), 2):
            h = h @ self.params[i] + self.params[i + 1]
            if i // 2 < last:
                h = self.torch.relu(h)
        return self.torch.relu(1 - h * self.labels).mean()

    def step(self):
        loss = self._loss()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def graph(self):
        return None


_ENGINE_CLASSES = {"scalar": _ScalarEngine, "tensor": _TensorEngine, "torch": _TorchEngine}


def make_step(engine, problem):
    """An object whose ``step()`` runs one training step of ``engine`` on ``problem``."""
    if engine not in _ENGINE_CLASSES:
        raise ValueError(f"unknown engine {engine!r}; the engines are {', '.join(ENGINES)}")
    if not isinstance(problem, Problem):
        raise TypeError(f"make_step needs a Problem (from make_problem), got {type(problem).__name__}")
    return _ENGINE_CLASSES[engine](problem)


def _copy_model(problem):
    return MLP.from_layers(type(layer)._from_arrays(layer.W.data, layer.b.data, layer.activation)
                           for layer in problem.model.layers)


def import_torch(threads=1):
    """PyTorch limited to ``threads`` threads (0: its default), or None when it is not installed.

    With its default thread pool, PyTorch's OpenMP threads keep spinning for a
    while after each operation and slow down NumPy running next to it in the
    same process (on a small machine by up to tenfold); one thread keeps the
    comparison fair to both. The count is best set before PyTorch is first
    imported, through OMP_NUM_THREADS.
    """
    if threads and "torch" not in sys.modules:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def torch_available():
    """Whether PyTorch can be imported here.

    (``sys.modules["torch"] = None`` is Python's way to make ``import torch``
    fail, as if it were not installed: the tests' MINIGRAD_TORCH=0 does so.)
    """
    if sys.modules.get("torch") is not None:
        return True
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def agreement(width=8, batch=16, steps=5, engines=("scalar", "tensor"), seed=0):
    """Train each engine ``steps`` steps from the same weights; their losses step by step.

    Returns ``{"losses": {engine: [loss, ...]}, "max_gap": g}`` where ``g`` is
    the largest relative difference between any engine's loss and the scalar
    engine's (the first engine's) at the same step.
    """
    steps = positive_int(steps, "steps")
    problem = make_problem(width, batch, seed)
    losses = {}
    for engine in engines:
        runner = make_step(engine, problem)
        losses[engine] = [runner.step() for _ in range(steps)]
    first = losses[engines[0]]
    gap = 0.0
    for engine in engines[1:]:
        for a, b in zip(first, losses[engine]):
            gap = max(gap, abs(a - b) / max(abs(a), abs(b), 1e-300))
    return {"width": width, "batch": batch, "steps": steps, "losses": losses, "max_gap": gap}
