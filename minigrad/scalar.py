"""Networks made of scalar ``Value`` nodes: a neuron, a layer of neurons, an MLP.

A neuron computes ``act(w · x + b)`` one multiplication and one addition at a
time, so every step of it is a node of the graph, and can be drawn.
"""
import random

from minigrad.module import Module, check_activation
from minigrad.value import Value

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


class Neuron(Module):
    """``act(w1 x1 + ... + wn xn + b)``, weights drawn uniformly from [-1, 1], bias 0."""

    def __init__(self, nin, act="relu", rng=random):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.act = check_activation(act, ACTIVATIONS)

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        total = self.b  # so that the graph is b + w1 x1 + w2 x2 + ...
        for wi, xi in zip(self.w, x):
            total = total + wi * xi
        return total if self.act == "linear" else getattr(total, self.act)()

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"Neuron({len(self.w)}, act={self.act!r})"


class Layer(Module):
    """``nout`` neurons that all read the same inputs; one output if ``nout == 1``."""

    def __init__(self, nin, nout, act="relu", rng=random):
        self.neurons = [Neuron(nin, act, rng) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of neurons, each reading the last one's outputs.

    ``MLP(2, [16, 16, 1])`` reads 2 numbers, has two hidden layers of 16
    neurons using ``act``, and one output neuron. The last layer is linear
    (it outputs logits or scores) unless ``last_act`` says otherwise.
    ``seed`` makes the initial weights reproducible; without it they come from
    Python's global ``random`` state.
    """

    def __init__(self, nin, nouts, act="relu", last_act="linear", seed=None):
        rng = random if seed is None else random.Random(seed)
        sizes = [nin] + list(nouts)
        acts = [act] * (len(nouts) - 1) + [last_act]
        self.nin = nin
        self.layers = [Layer(sizes[i], sizes[i + 1], acts[i], rng) for i in range(len(nouts))]

    def __call__(self, x):
        if len(x) != self.nin:
            raise ValueError(f"this MLP takes {self.nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer(x)
            x = [x] if isinstance(x, Value) else x
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
