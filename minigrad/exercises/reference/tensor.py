"""Your own tensor engine, written in the exercises of Part II.

Each block below is one exercise's answer, kept when its checker passed
(or, marked "the course's solution", filled in by a chapter's catch-up
cell for an exercise you skipped). Read it top to bottom: a MiniTensor
that records how it was made, one class per operation with its local
gradients, one loop that adds them up in reverse topological order
(summing a broadcast gradient back to its input's shape), the matrix
product, cross-entropy, layers, Adam, mini-batches, files, and the
training loop of Part II's milestone.
"""
import os
import tempfile
import time

import numpy as np


# chapter 7, exercise 0: MiniTensor, its backward loop, its operations
class MiniTensor:
    """A node that holds an array: Part I's recipe, with arrays."""
    _op = ""               # a leaf was made by no operation
    _grad_zero = None      # "no gradient yet", which reads as zeros

    def __init__(self, data, name=""):
        self.data = np.array(data, dtype=np.float64)   # our own copy
        self.grad = None
        self.name = name
        self._prev = ()

    def _record(self, data, *inputs):
        """Every operation's constructor calls this: result, inputs."""
        self.data = data
        self.grad = None
        self.name = ""
        self._prev = inputs

    @property
    def shape(self):
        return self.data.shape

    def __add__(self, other):
        return Add(self, other)

    def __mul__(self, other):
        return Mul(self, other)

    def tanh(self):
        return Tanh(self)

    def relu(self):
        return Relu(self)

    def sum(self, axis=None):
        return Sum(self, axis)

    def mean(self, axis=None):
        return Mean(self, axis)

    def max(self, axis=None):
        return Max(self, axis)

    def reshape(self, *shape):
        return Reshape(self, shape)

    @property
    def T(self):
        return Transpose(self)

    def __getitem__(self, index):
        return GetItem(self, index)

    def backward(self):
        mini_backpropagate(self)

    def __repr__(self):
        return f"MiniTensor(shape={self.shape}, data={self.data})"


def topological_order(root):
    """Every node root depends on, each after all of its inputs."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)        # its inputs are all placed
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))    # comes back after its inputs
            for parent in node._prev:
                stack.append((parent, False))
    return order


def unbroadcast(grad, shape):
    """Sum grad back to shape: one term for every copy broadcasting made."""
    if grad.shape == shape:
        return grad
    added = grad.ndim - len(shape)             # 1. axes put in front
    grad = grad.sum(axis=tuple(range(added)))
    stretched = tuple(i for i, n in enumerate(shape)
                      if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True)  # 2. size-1 axes


def accumulate(node, g):
    """Add one contribution g to node.grad, summed to node's shape."""
    g = unbroadcast(g, node.shape)
    node.grad = g if node.grad is None else node.grad + g


def mini_backpropagate(root):
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = None          # operations' results start afresh
    root.grad = np.ones_like(root.data)   # dL/dL = 1
    for node in reversed(order):
        if not node._prev or node.grad is None:
            continue                  # a leaf: nothing to pass on
        local = node._backward(node.grad)
        for parent, g in zip(node._prev, local):
            if g is not None:
                accumulate(parent, g)


class Add(MiniTensor):
    _op = "+"

    def __init__(self, a, b):
        self._record(a.data + b.data, a, b)

    def _backward(self, grad):     # d(a+b)/da = d(a+b)/db = 1
        return grad, grad


class Mul(MiniTensor):
    _op = "*"

    def __init__(self, a, b):
        self._record(a.data * b.data, a, b)

    def _backward(self, grad):     # d(ab)/da = b,  d(ab)/db = a
        a, b = self._prev
        return grad * b.data, grad * a.data


class Tanh(MiniTensor):
    _op = "tanh"

    def __init__(self, a):
        self._record(np.tanh(a.data), a)

    def _backward(self, grad):     # d tanh(a)/da = 1 - tanh²(a)
        return (grad * (1 - self.data ** 2),)


class Relu(MiniTensor):
    _op = "relu"

    def __init__(self, a):
        self._record(np.maximum(a.data, 0.0), a)

    def _backward(self, grad):     # 1 where a > 0, else 0
        (a,) = self._prev
        return (grad * (a.data > 0),)


class Sum(MiniTensor):
    _op = "sum"

    def __init__(self, a, axis=None):
        self.axis = axis
        self._record(a.data.sum(axis=axis), a)

    def _backward(self, grad):     # every summed entry gets grad
        (a,) = self._prev
        if self.axis is not None:
            grad = np.expand_dims(grad, self.axis)  # the axis, back
        return (np.zeros_like(a.data) + grad,)      # copied along it


class Mean(MiniTensor):
    _op = "mean"

    def __init__(self, a, axis=None):
        self.axis = axis
        self._record(a.data.mean(axis=axis), a)

    def _backward(self, grad):     # each of the n entries: grad / n
        (a,) = self._prev
        n = a.data.size // self.data.size    # how many were averaged
        if self.axis is not None:
            grad = np.expand_dims(grad, self.axis)
        return (np.zeros_like(a.data) + grad / n,)


class Max(MiniTensor):
    _op = "max"

    def __init__(self, a, axis=None):
        self.axis = axis
        self._record(a.data.max(axis=axis), a)

    def _backward(self, grad):     # to the largest entry (or entries)
        (a,) = self._prev
        top = self.data
        if self.axis is not None:
            top = np.expand_dims(top, self.axis)
            grad = np.expand_dims(grad, self.axis)
        winners = a.data == top                  # True at the maximum
        share = winners / winners.sum(axis=self.axis, keepdims=True)
        return (grad * share,)


class Reshape(MiniTensor):
    _op = "reshape"

    def __init__(self, a, shape):
        self._record(a.data.reshape(shape), a)

    def _backward(self, grad):     # the same numbers, shaped back
        (a,) = self._prev
        return (grad.reshape(a.shape),)


class Transpose(MiniTensor):       # reverses the axes, as a.T does
    _op = "T"

    def __init__(self, a):
        self._record(a.data.T, a)

    def _backward(self, grad):     # out[j, i] = a[i, j]
        return (grad.T,)


class GetItem(MiniTensor):
    _op = "[]"

    def __init__(self, a, index):
        self.index = index
        self._record(a.data[index], a)

    def _backward(self, grad):     # to the picked entries, 0 elsewhere
        (a,) = self._prev
        g = np.zeros_like(a.data)
        np.add.at(g, self.index, grad)   # picked twice: both count
        return (g,)


# chapter 7, exercise 1: division, with broadcasting
class Div(MiniTensor):
    _op = "/"

    def __init__(self, a, b):
        self._record(a.data / b.data, a, b)

    def _backward(self, grad):     # d(a/b)/da = 1/b,  d(a/b)/db = -a/b²
        a, b = self._prev
        return grad / b.data, -grad * a.data / b.data ** 2


# chapter 7, exercise 2: transposing any axes
class Permute(MiniTensor):
    _op = "permute"

    def __init__(self, a, axes):
        self.axes = tuple(axes)
        self._record(np.transpose(a.data, self.axes), a)

    def _backward(self, grad):
        # Axis k of out is axis axes[k] of a. To undo it, axis i of a must
        # come from the axis k of grad with axes[k] == i: the inverse
        # permutation, which np.argsort computes. (For (1, 2, 0) it is
        # (2, 0, 1): applying (1, 2, 0) twice would be wrong.)
        return (np.transpose(grad, np.argsort(self.axes)),)


# chapter 8, exercise 1: a matrix product, for stacks of matrices too
class MatMul(MiniTensor):
    _op = "@"

    def __init__(self, a, b):
        self._record(a.data @ b.data, a, b)

    def _backward(self, grad):
        a, b = self._prev
        # The same two products as for one matrix, done for every matrix of
        # the stack: only the last two axes are transposed.
        grad_a = grad @ np.swapaxes(b.data, -1, -2)      # (batch, n, k)
        grad_b = np.swapaxes(a.data, -1, -2) @ grad      # (batch, k, m)
        # A shared b of shape (k, m) was used by every matrix of the stack:
        # broadcasting. Returning one gradient per use, (batch, k, m), is
        # right; the shared loop sums them over the batch (unbroadcast).
        return grad_a, grad_b


# chapter 8, exercise 3: cross-entropy and layers
class CrossEntropy(MiniTensor):
    """The mean over the rows of -log softmax(logits)[target]."""
    _op = "cross_entropy"

    def __init__(self, logits, targets):
        z = logits.data
        self.targets = np.asarray(targets).astype(int)
        rows = np.arange(len(z))
        shifted = z - z.max(axis=1, keepdims=True)   # exponents <= 0
        log_sum = np.log(np.exp(shifted).sum(axis=1))
        self.softmax = np.exp(shifted - log_sum[:, None])
        loss = np.mean(log_sum - shifted[rows, self.targets])
        self._record(np.array(loss), logits)

    def _backward(self, grad):     # (softmax - one-hot) / rows
        g = self.softmax.copy()
        g[np.arange(len(g)), self.targets] -= 1.0
        return (grad * g / len(g),)


class Linear:
    """x @ W + b: nout neurons at once, then a ReLU unless relu=False."""

    def __init__(self, nin, nout, rng, relu=True):
        # He's scale before a ReLU, Xavier's for the last layer's scores
        std = np.sqrt(2.0 / nin) if relu else np.sqrt(2.0 / (nin + nout))
        self.W = MiniTensor(rng.normal(0.0, std, size=(nin, nout)), "W")
        self.b = MiniTensor(np.zeros(nout), "b")
        self.relu = relu

    def __call__(self, x):
        out = MatMul(x, self.W) + self.b
        return out.relu() if self.relu else out

    def parameters(self):
        return [self.W, self.b]


class MLP:
    """Linear layers in a row, with a ReLU after each but the last."""

    def __init__(self, nin, sizes, seed=0):
        rng = np.random.default_rng(seed)
        ins = [nin] + list(sizes[:-1])
        last = len(sizes) - 1
        self.layers = [Linear(i, o, rng, relu=k < last)
                       for k, (i, o) in enumerate(zip(ins, sizes))]

    def __call__(self, x):
        if not isinstance(x, MiniTensor):
            x = MiniTensor(x)          # data: an array of examples
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# chapter 9, exercise 3: one Adam step
def adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)        # undo the start at zero
    v_hat = v / (1 - beta2 ** t)
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


# chapter 9, exercise 4: Adam and mini-batches
class Adam:
    """adam_step on every parameter, each with its own m and v."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue              # this loss does not depend on p
            p.data, self.m[i], self.v[i] = adam_step(
                p.data, p.grad, self.m[i], self.v[i], self.t,
                self.lr, self.beta1, self.beta2, self.eps)

    def state_dict(self):
        state = {"lr": self.lr, "beta1": self.beta1,
                 "beta2": self.beta2, "eps": self.eps, "t": self.t}
        for i in range(len(self.params)):
            state[f"m.{i}"], state[f"v.{i}"] = self.m[i], self.v[i]
        return state

    def load_state_dict(self, state):
        self.lr, self.eps = float(state["lr"]), float(state["eps"])
        self.beta1 = float(state["beta1"])
        self.beta2 = float(state["beta2"])
        self.t = int(state["t"])
        self.m = [np.array(state[f"m.{i}"]) for i in range(len(self.m))]
        self.v = [np.array(state[f"v.{i}"]) for i in range(len(self.v))]


class Batches:
    """(X, y) in mini-batches, each epoch in its own shuffled order."""

    def __init__(self, X, y, batch_size, seed):
        self.X, self.y = np.asarray(X), np.asarray(y)
        self.batch_size, self.seed = batch_size, seed
        self.epoch = 0       # the order depends on the seed and the epoch

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.X))
        self.epoch += 1
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            yield self.X[rows], self.y[rows]


# chapter 10, exercise 1: weights to a file and back
def save_weights(model, path):
    arrays = {f"p{i}": p.data for i, p in enumerate(model.parameters())}
    np.savez(path, **arrays)


def load_weights(model, path):
    params = model.parameters()
    with np.load(path, allow_pickle=False) as archive:
        if sorted(archive.files) != sorted(f"p{i}"
                                           for i in range(len(params))):
            raise ValueError(f"{path} holds {len(archive.files)} arrays; "
                             f"the model has {len(params)} parameters")
        arrays = [archive[f"p{i}"] for i in range(len(params))]
    for i, (p, a) in enumerate(zip(params, arrays)):   # check everything
        if a.shape != p.data.shape:
            raise ValueError(f"{path}: p{i} has shape {a.shape}, the "
                             f"model's parameter {i} {p.data.shape}")
    for p, a in zip(params, arrays):                   # then change things
        p.data = a


# chapter 10, exercise 2: an atomic save
def atomic_save(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()                  # from Python's buffer to the OS
            os.fsync(file.fileno())       # from the OS to the disk
        os.replace(temporary, path)       # atomic, in one directory
    except BaseException:                 # KeyboardInterrupt included
        os.unlink(temporary)
        raise


# chapter 10, exercise 3: a checkpoint
def save_state(path, model, optimizer, loader):
    arrays = {f"param.{i}": p.data
              for i, p in enumerate(model.parameters())}
    for key, value in optimizer.state_dict().items():
        arrays[f"optimizer.{key}"] = value     # m.0, v.0, ..., t, lr, ...
    arrays["loader.epoch"] = loader.epoch      # the data order
    np.savez(path, **arrays)


def restore_state(path, model, optimizer, loader):
    with np.load(path, allow_pickle=False) as archive:
        for i, p in enumerate(model.parameters()):
            p.data = archive[f"param.{i}"]
        state = {key[len("optimizer."):]: archive[key]
                 for key in archive.files if key.startswith("optimizer.")}
        optimizer.load_state_dict(state)
        loader.epoch = int(archive["loader.epoch"])


# chapter 11, exercise 4: the milestone: training, timed
def train(model, optimizer, batches, epochs):
    """Train for `epochs` passes over the batches; return the seconds
    that each epoch took."""
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for xb, yb in batches:
            loss = CrossEntropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds
