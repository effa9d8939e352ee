"""Networks made of scalar ``Value`` nodes (Part I): a neuron, a layer of neurons, an MLP.

A neuron computes ``activation(w · x + b)`` one multiplication and one
addition at a time, so every step of it is a node of the graph, and can be
drawn. The tensor engine's networks (:mod:`minigrad.tensor_nn`) compute the
same thing with one matrix product per layer; the arguments are the same
(``activation=``, ``last_activation=``, ``seed=``).
"""
import random

from minigrad.checks import check_activation, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor
from minigrad.value import Value

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _random_source(seed):
    """A ``random.Random`` from ``seed``: None (Python's global generator), an int, or a Random."""
    if seed is None:
        return random
    if isinstance(seed, random.Random) or seed is random:
        return seed
    return random.Random(seed)


def _activation(activation, act):
    # `act=` is the spelling of seed 003 (and micrograd-style code); `activation=` is minigrad's.
    if act is not None:
        if activation is not None and activation != act:
            raise ValueError(f"activation={activation!r} and act={act!r} disagree; give one of them")
        return act
    return "relu" if activation is None else activation


class Neuron(Module):
    """``activation(w1 x1 + ... + wn xn + b)``.

    The weights are drawn uniformly from [-1, 1]; the bias starts at 0.
    """

    def __init__(self, nin, activation=None, seed=None, *, act=None):
        nin = check_positive_int(nin, "nin")
        rng = _random_source(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        activation = _activation(activation, act)
        self.activation = check_activation(activation, ACTIVATIONS)

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, "
                             f"got {len(x)}")
        total = self.b  # so that the graph is b + w1 x1 + w2 x2 + ...
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        if self.activation == "linear":
            return total
        return getattr(total, self.activation)()  # total.relu(), ...

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


def _check_example(x, nin, who):
    """Refuse a Tensor (or an array of a batch) given to a network of Values, saying what to do."""
    if isinstance(x, Tensor):
        raise TypeError(f"{who} works with Values (the scalar engine) and takes one example as a "
                        f"list of {nin} numbers or Values; got a Tensor of shape {x.shape}. For "
                        "Tensors use minigrad.MLP (the tensor engine), or pass x.data.tolist()")


class ValueLayer(Module):
    """``nout`` neurons that all read the same inputs; one output if ``nout == 1``."""

    def __init__(self, nin, nout, activation=None, seed=None, *, act=None):
        nout = check_positive_int(nout, "nout")
        rng = _random_source(seed)
        activation = _activation(activation, act)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x):
        _check_example(x, len(self.neurons[0].w), "a ValueLayer")
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"ValueLayer of [{', '.join(str(n) for n in self.neurons)}]"


class ValueMLP(Module):
    """Layers of neurons, each reading the last one's outputs.

    ``ValueMLP(2, [16, 16, 1])`` reads 2 numbers, has two hidden layers of 16
    neurons using ``activation`` and one output neuron. The last layer is
    linear (it outputs logits or scores) unless ``last_activation`` says
    otherwise. ``seed`` (an int or a ``random.Random``) makes the initial
    weights reproducible; without it they come from Python's global ``random``
    state. ``act=``/``last_act=`` are accepted as other spellings.
    """

    def __init__(self, nin, nouts, activation=None, last_activation=None, seed=None, *,
                 act=None, last_act=None):
        nin = check_positive_int(nin, "nin")
        if isinstance(nouts, int):
            raise ValueError(f"nouts must be a list of layer sizes, e.g. [16, 16, 1], got {nouts!r}")
        nouts = [check_positive_int(n, "each size in nouts") for n in nouts]
        if not nouts:
            raise ValueError("nouts must list at least one layer size")
        hidden = check_activation(_activation(activation, act), ACTIVATIONS)
        last = last_activation if last_act is None else _activation(last_activation, last_act)
        last = check_activation("linear" if last is None else last, ACTIVATIONS)
        rng = _random_source(seed)
        sizes = [nin] + nouts
        activations = [hidden] * (len(nouts) - 1) + [last]
        self.nin = nin
        self.layers = [ValueLayer(sizes[i], sizes[i + 1], activations[i], rng) for i in range(len(nouts))]

    def __call__(self, x):
        _check_example(x, self.nin, "a ValueMLP")
        if len(x) != self.nin:
            raise ValueError(f"this MLP takes {self.nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer(x)
            x = [x] if isinstance(x, Value) else x
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"ValueMLP of [{', '.join(str(layer) for layer in self.layers)}]"
