"""Your own scalar engine, written in the exercises of Part I.

Each block below is one exercise's answer, kept when its checker passed
(or, marked "the course's solution", filled in by a chapter's catch-up
cell for an exercise you skipped). Read it top to bottom: a Value that
records how it was made, one class per operation with its derivative rule,
backward() adding the rules' gradients in topological order, neurons,
layers and MLPs, an optimizer and a training loop.
"""
import math
import random


# chapter 2, exercise 2: a Value that records its inputs; -, ** and /
class Value:
    def __init__(self, data, _children=(), _op="", name=""):
        self.data = data
        self.grad = 0.0                 # d(result)/d(this value): not known
        self.name = name                # a label for printouts and drawings
        self._prev = tuple(_children)   # the Values it was computed from
        self._op = _op                  # the operation that computed it

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), "*")

    def __repr__(self):
        return (f"Value(data={self.data:.6g}, grad={self.grad:.6g}, "
                f"name={self.name!r})")


def sub(self, other):
    return Value(self.data - other.data, (self, other), "-")

def power(self, k):
    return Value(self.data ** k, (self,), f"**{k}")

def div(self, other):
    return self * other ** -1

Value.__sub__ = sub
Value.__pow__ = power
Value.__truediv__ = div


# chapter 2, exercise 3: the sigmoid, forward
def sigmoid(self):
    return Value(1 / (1 + math.exp(-self.data)), (self,), "sigmoid")

Value.sigmoid = sigmoid


# chapter 3, exercise 3: a topological sort without recursion
def topo_iterative(root):
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)                 # all its inputs are placed
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))         # come back to it later...
            for parent in reversed(node._prev):
                if parent not in visited:
                    stack.append((parent, False))  # ...after its inputs
    return order

topological_order = topo_iterative


# chapter 3, exercise 4: one class per operation, each with its rule
def as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Add(Value):
    def __init__(self, a, b):
        super().__init__(a.data + b.data, (a, b), "+")

    def _backward(self, grad):      # d(a+b)/da = 1,  d(a+b)/db = 1
        return grad, grad


class Mul(Value):
    def __init__(self, a, b):
        super().__init__(a.data * b.data, (a, b), "*")

    def _backward(self, grad):      # d(ab)/da = b,  d(ab)/db = a
        a, b = self._prev
        return grad * b.data, grad * a.data


class Pow(Value):
    def __init__(self, a, n):       # n: a plain number, no gradient
        super().__init__(a.data ** n, (a,), f"**{n}")
        self.n = n

    def _backward(self, grad):      # d(a^n)/da = n a^(n-1)
        (a,) = self._prev
        return (grad * self.n * a.data ** (self.n - 1),)


class Exp(Value):
    def __init__(self, a):
        super().__init__(math.exp(a.data), (a,), "exp")

    def _backward(self, grad):      # d(e^a)/da = e^a, this node's value
        return (grad * self.data,)


class Tanh(Value):
    def __init__(self, a):
        super().__init__(math.tanh(a.data), (a,), "tanh")

    def _backward(self, grad):      # d(tanh a)/da = 1 - tanh² a
        return (grad * (1 - self.data ** 2),)


def add(self, other):
    return Add(self, as_value(other))

def radd(self, other):              # other + self, other a number
    return Add(as_value(other), self)

def mul(self, other):
    return Mul(self, as_value(other))

def rmul(self, other):
    return Mul(as_value(other), self)

def power(self, n):
    return Pow(self, n)

def exp(self):
    return Exp(self)

def tanh(self):
    return Tanh(self)

Value.__add__ = add
Value.__radd__ = radd
Value.__mul__ = mul
Value.__rmul__ = rmul
Value.__pow__ = power
Value.exp = exp
Value.tanh = tanh


# chapter 3, exercise 5: backward(), with the adding in one place
def backward(self):
    order = topological_order(self)
    for node in order:
        if node._prev:
            node.grad = 0.0              # intermediate nodes start at 0
    self.grad = 1.0
    for node in reversed(order):
        if node._prev:                   # leaves have no rule
            local = node._backward(node.grad)
            for parent, local_gradient in zip(node._prev, local):
                parent.grad += local_gradient

Value.backward = backward


# chapter 4, exercise 4: the operations that are left
class Log(Value):
    def __init__(self, a):
        super().__init__(math.log(a.data), (a,), "log")

    def _backward(self, grad):      # d(ln a)/da = 1/a
        (a,) = self._prev
        return (grad / a.data,)


class ReLU(Value):
    def __init__(self, a):
        super().__init__(max(a.data, 0.0), (a,), "relu")

    def _backward(self, grad):      # 1 where a > 0, else 0
        (a,) = self._prev
        return (grad if a.data > 0 else 0.0,)


class Sigmoid(Value):
    def __init__(self, a):
        e = math.exp(-abs(a.data))  # never overflows
        s = 1 / (1 + e) if a.data >= 0 else e / (1 + e)
        super().__init__(s, (a,), "sigmoid")

    def _backward(self, grad):      # dσ/da = σ (1 - σ)
        return (grad * self.data * (1 - self.data),)


def neg(self):
    return self * -1

def sub(self, other):
    return self + (-other)

def rsub(self, other):              # other - self
    return other + (-self)

def div(self, other):
    return self * as_value(other) ** -1

def rdiv(self, other):              # other / self
    return other * self ** -1

def log(self):
    return Log(self)

def relu(self):
    return ReLU(self)

def sigmoid(self):
    return Sigmoid(self)

Value.__neg__ = neg
Value.__sub__ = sub
Value.__rsub__ = rsub
Value.__truediv__ = div
Value.__rtruediv__ = rdiv
Value.log = log
Value.relu = relu
Value.sigmoid = sigmoid


# chapter 4, exercise 5: neurons, layers and MLPs
def activate(z, activation):
    if activation == "relu":
        return z.relu()
    if activation == "tanh":
        return z.tanh()
    if activation == "sigmoid":
        return z.sigmoid()
    return z                     # "linear": no activation


class Neuron:
    def __init__(self, nin, activation="relu", rng=random):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x):
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        return activate(z, self.activation)

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, activation="relu", rng=random):
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts, activation="relu", seed=None):
        rng = random.Random(seed)
        sizes = [nin] + list(nouts)
        # the hidden layers use `activation`; the last layer is linear
        activations = [activation] * (len(nouts) - 1) + ["linear"]
        self.layers = [Layer(sizes[i], sizes[i + 1], activations[i], rng)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


# chapter 5, exercise 2: SGD with momentum
class SGD:
    def __init__(self, parameters, lr, momentum=0.0):
        self.parameters = list(parameters)
        self.lr = lr
        self.momentum = momentum
        self.velocities = [0.0] * len(self.parameters)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0.0

    def step(self):
        for i, p in enumerate(self.parameters):
            v = self.momentum * self.velocities[i] + p.grad
            self.velocities[i] = v
            p.data -= self.lr * v


# chapter 5, exercise 4: a loss and a training loop
def hinge_loss(scores, labels):
    # labels are ±1; the mean of max(0, 1 - label * score)
    losses = [(1 - label * score).relu()
              for score, label in zip(scores, labels)]
    return sum(losses) / len(losses)


def train(model, inputs, labels, optimizer, steps):
    losses = []
    for _ in range(steps):
        scores = [model(x) for x in inputs]          # forward
        loss = hinge_loss(scores, labels)             # loss
        optimizer.zero_grad()                         # backward
        loss.backward()
        optimizer.step()                              # update
        losses.append(loss.data)
    return losses
