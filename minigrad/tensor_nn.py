"""Networks of Tensors: a whole layer is one matrix product.

The scalar engine's layer (:mod:`minigrad.value_nn`) computes each neuron's
``act(w · x + b)`` one number at a time. Here the weights of all ``nout``
neurons form the columns of one matrix ``W`` of shape (nin, nout), and a batch
of inputs the rows of ``X`` of shape (batch, nin), so a layer is

    activation(X @ W + b)        shape (batch, nout)

in one NumPy call: neuron j of the scalar layer is column ``W[:, j]`` with
bias ``b[j]`` (:mod:`minigrad.convert` copies a network from one engine to the
other).
"""
import contextlib
import math
import numbers

import numpy as np

from minigrad.checks import FLOAT_DTYPES, check_activation, check_float_dtype, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor

__all__ = ["Linear", "Layer", "MLP", "ACTIVATIONS", "init_std", "manual_seed",
           "default_generator_kept"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "linear")

# Where initial weights come from when no seed is given; manual_seed() resets it.
_default_rng = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator that layers built without a ``seed`` draw their weights from."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


@contextlib.contextmanager
def default_generator_kept():
    """Run the ``with`` block, then put minigrad's default generator back in the state it had.

    Building a module only to load weights into draws placeholder weights
    from it; putting it back means that loading a model never changes what
    the next layer built without a seed draws.
    """
    generator = _default_rng
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state


def _generator(seed):
    """A NumPy Generator from ``seed``: None (the module's default), an int, or a Generator."""
    if seed is None:
        return _default_rng
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)




def init_std(nin, nout, activation):
    """The standard deviation of a layer's initial weights.

    The sum ``x @ W[:, j]`` adds ``nin`` terms, so its variance is ``nin``
    times that of one term. Glorot and Bengio (2010) keep the variance of
    signals (forward) and gradients (backward) about the same from layer to
    layer with Var(w) = 2 / (nin + nout): "Xavier" initialisation, for tanh,
    sigmoid and linear layers. A ReLU zeroes half of its inputs, halving the
    variance; He et al. (2015) make up for it with Var(w) = 2 / nin.
    """
    if activation == "relu":
        return math.sqrt(2.0 / nin)
    return math.sqrt(2.0 / (nin + nout))


def _activate(z, activation):
    if activation == "linear":
        return z
    if activation == "softmax":
        return z.softmax(axis=-1)
    return getattr(z, activation)()


def _as_input(x, nin, dtype, who):
    """``x`` as a Tensor whose last axis has ``nin`` entries, or a ValueError saying why not.

    Arrays and lists become Tensors with ``requires_grad=False`` (data is not
    learned), in the parameters' dtype; a Tensor is used as it is.
    """
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x, dtype=dtype), requires_grad=False)
    if x.data.ndim == 0:
        raise ValueError(f"{who} takes inputs of width {nin}, got a single number")
    if x.data.shape[-1] != nin:
        raise ValueError(f"{who} takes inputs of width {nin} (nin), got width {x.data.shape[-1]} "
                         f"(input of shape {x.data.shape})")
    return x


def _config_values(config, keys, kind):
    """The values of ``config`` (a dict with exactly ``keys``) in the order of ``keys``, or a clear error."""
    if not isinstance(config, dict):
        raise TypeError(f"a {kind}'s config is a dict, got a {type(config).__name__}")
    missing, unexpected = [k for k in keys if k not in config], sorted(map(str, set(config) - set(keys)))
    if missing or unexpected:
        raise ValueError(f"a {kind}'s config has the keys {', '.join(keys)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unexpected {', '.join(unexpected)}" if unexpected else ""))
    return [config[k] for k in keys]


class Layer(Module):
    """A fully connected layer: ``activation(x @ W + b)``, for one input or a batch.

    ``W`` has shape (nin, nout), drawn from a normal distribution with the
    standard deviation of :func:`init_std` (He for relu, Xavier otherwise);
    ``b`` has shape (nout,) and starts at zero. ``x`` of shape (nin,) gives an
    output of shape (nout,); a batch of shape (batch, nin) gives (batch, nout).
    ``seed`` (an int, or a NumPy Generator) makes the initial weights
    reproducible; without it they come from this module's default generator.
    """

    def __init__(self, nin, nout, activation="relu", seed=None, dtype=np.float64):
        nin, nout = check_positive_int(nin, "nin"), check_positive_int(nout, "nout")
        self.activation = check_activation(activation, ACTIVATIONS)
        dtype = check_float_dtype(dtype, "a layer's parameters")
        weights = _generator(seed).normal(0.0, init_std(nin, nout, activation), size=(nin, nout))
        self.W = Tensor(weights.astype(dtype), name="W")
        self.b = Tensor(np.zeros(nout, dtype=dtype), name="b")

    @classmethod
    def _from_arrays(cls, W, b, activation):
        """A layer holding copies of ``W`` and ``b`` (used to load and to convert models)."""
        layer = cls.__new__(cls)
        layer.activation = check_activation(activation, ACTIVATIONS)
        layer.W = Tensor(np.array(W), name="W")
        layer.b = Tensor(np.array(b), name="b")
        return layer

    def config(self):
        """The architecture, as plain data: ``{"nin": 4, "nout": 3, "activation": "tanh", "dtype": "float64"}``.

        With ``state_dict()`` (the arrays), all it takes to build the layer
        again (:meth:`from_config`). A ValueError if the layer's arrays no
        longer fit together (a ``W`` or ``b`` replaced by one of another shape
        or dtype): such a layer could not be built again.
        """
        W, b = self.W.data, self.b.data
        if W.ndim != 2 or b.shape != W.shape[1:] or W.dtype not in FLOAT_DTYPES or b.dtype != W.dtype:
            raise ValueError(f"the {type(self).__name__}'s arrays do not fit together: W should have shape "
                             f"(nin, nout) and b shape (nout,), both float64 or both float32; found W of shape "
                             f"{W.shape} ({W.dtype}) and b of shape {b.shape} ({b.dtype})")
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation, "dtype": str(self.dtype)}

    @classmethod
    def _parsed_config(cls, config):
        """``(nin, nout, activation, dtype)`` from a layer's config, each checked."""
        keys = ("nin", "nout", "activation", "dtype")
        nin, nout, activation, dtype = _config_values(config, keys, cls.__name__)
        nin, nout = check_positive_int(nin, "nin"), check_positive_int(nout, "nout")
        check_activation(activation, ACTIVATIONS)
        return nin, nout, activation, check_float_dtype(dtype, "a layer's parameters")

    @classmethod
    def config_size(cls, config):
        """How many numbers a layer of the architecture ``config`` holds, ``nin * nout + nout``.

        Computed from the config alone, nothing allocated: loading checks it
        against the numbers a file holds before building anything.
        """
        nin, nout, _, _ = cls._parsed_config(config)
        return nin * nout + nout

    @classmethod
    def from_config(cls, config):
        """A layer of the architecture ``config`` (see :meth:`config`), its weights all zero.

        Fill them with ``load_state_dict``. No random numbers are drawn, so
        building a layer to load into does not move the default generator.
        """
        nin, nout, activation, dtype = cls._parsed_config(config)
        return cls._from_arrays(np.zeros((nin, nout), dtype), np.zeros(nout, dtype), activation)

    @property
    def nin(self):
        return self.W.data.shape[0]

    @property
    def nout(self):
        return self.W.data.shape[1]

    @property
    def dtype(self):
        return self.W.data.dtype

    def __call__(self, x):
        x = _as_input(x, self.nin, self.dtype, type(self).__name__)
        return _activate(x @ self.W + self.b, self.activation)

    def parameters(self):
        return [self.W, self.b]

    def __repr__(self):
        return f"{type(self).__name__}(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class Linear(Layer):
    """``x @ W + b`` with no activation (a :class:`Layer` with ``activation='linear'``), Xavier-initialised."""

    def __init__(self, nin, nout, seed=None, dtype=np.float64):
        super().__init__(nin, nout, activation="linear", seed=seed, dtype=dtype)

    @classmethod
    def _from_arrays(cls, W, b, activation="linear"):
        if activation != "linear":
            raise ValueError(f"a Linear layer has no activation, got {activation!r}")
        return super()._from_arrays(W, b, activation)

    def config(self):
        """``{"nin": 4, "nout": 3, "dtype": "float64"}``: a Linear layer's activation is always linear."""
        config = super().config()
        del config["activation"]
        return config

    @classmethod
    def _parsed_config(cls, config):
        nin, nout, dtype = _config_values(config, ("nin", "nout", "dtype"), cls.__name__)
        return super()._parsed_config({"nin": nin, "nout": nout, "activation": "linear", "dtype": dtype})

    def __repr__(self):
        return f"Linear(nin={self.nin}, nout={self.nout})"


class MLP(Module):
    """A multi-layer perceptron: layers applied one after another.

    ``MLP(2, [16, 16, 1])`` reads inputs of width 2, has two hidden layers of
    16 units using ``activation`` and one output unit. The last layer uses
    ``last_activation``, linear by default (the output is then a score or
    logit for a loss to interpret). ``seed`` makes the initial weights
    reproducible: all layers draw from one generator made from it.
    """

    def __init__(self, nin, nouts, activation="relu", last_activation="linear", seed=None, dtype=np.float64):
        nin = check_positive_int(nin, "nin")
        if isinstance(nouts, numbers.Integral):
            raise ValueError(f"nouts must be a list of layer sizes, e.g. [16, 16, 1], got {nouts!r}")
        nouts = [check_positive_int(n, "each size in nouts") for n in nouts]
        if not nouts:
            raise ValueError("nouts must list at least one layer size")
        check_activation(activation, ACTIVATIONS)
        check_activation(last_activation, ACTIVATIONS)
        rng = _generator(seed)
        sizes = [nin] + nouts
        activations = [activation] * (len(nouts) - 1) + [last_activation]
        self.layers = [Layer(sizes[i], sizes[i + 1], activations[i], seed=rng, dtype=dtype)
                       for i in range(len(nouts))]

    @classmethod
    def from_layers(cls, layers):
        """An MLP made of the given layers, which must fit together (each nin = the last nout)."""
        layers = list(layers)
        if not layers:
            raise ValueError("an MLP needs at least one layer")
        for i in range(1, len(layers)):
            if layers[i].nin != layers[i - 1].nout:
                raise ValueError(f"layer {i} takes inputs of width {layers[i].nin}, "
                                 f"but layer {i - 1} outputs width {layers[i - 1].nout}")
        model = cls.__new__(cls)
        model.layers = layers
        return model

    @property
    def nin(self):
        return self.layers[0].nin

    @property
    def sizes(self):
        """The widths of the input and of every layer's output: ``[nin, *nouts]``."""
        return [self.nin] + [layer.nout for layer in self.layers]

    @property
    def activations(self):
        return [layer.activation for layer in self.layers]

    @property
    def dtype(self):
        return self.layers[0].dtype

    def __call__(self, x):
        x = _as_input(x, self.nin, self.dtype, "MLP")
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        # each parameter once, even when one layer is used twice: an optimizer must step it once
        return list({id(p): p for layer in self.layers for p in layer.parameters()}.values())

    def config(self):
        """The architecture: ``{"sizes": [nin, n1, ...], "activations": [...], "dtype": "float64"}``.

        With ``state_dict()`` (the arrays), all it takes to build the MLP again
        (:meth:`from_config`). A ValueError if its layers no longer fit
        together (widths, or dtypes: an MLP holds one dtype). A layer used
        more than once (``MLP.from_layers([L, L])``) is listed in
        ``"tied_layers"``: ``[[1, 0]]`` says that layer 1 is layer 0, one
        layer whose weights are shared.
        """
        configs = []
        for i, layer in enumerate(self.layers):
            try:
                configs.append(layer.config())
            except ValueError as error:
                raise ValueError(f"layer {i}: {error}") from None
        for i in range(1, len(configs)):
            if configs[i]["nin"] != configs[i - 1]["nout"]:
                raise ValueError(f"layer {i} takes inputs of width {configs[i]['nin']}, "
                                 f"but layer {i - 1} outputs width {configs[i - 1]['nout']}")
            if configs[i]["dtype"] != configs[0]["dtype"]:
                raise ValueError(f"layer {i} holds {configs[i]['dtype']} numbers and layer 0 "
                                 f"{configs[0]['dtype']}: an MLP holds one dtype")
        config = {"sizes": self.sizes, "activations": self.activations, "dtype": configs[0]["dtype"]}
        first = {}
        tied = [[i, first.setdefault(id(layer), i)] for i, layer in enumerate(self.layers)]
        tied = [pair for pair in tied if pair[0] != pair[1]]
        if tied:
            config["tied_layers"] = tied
        return config

    @classmethod
    def _layer_configs(cls, config):
        """Each layer's config, and for each layer the index of the layer it is (itself, or an
        earlier one it is tied to), from an MLP's config, all checked."""
        keys = ("sizes", "activations", "dtype") + (("tied_layers",) if isinstance(config, dict)
                                                     and "tied_layers" in config else ())
        sizes, activations, dtype, *tied = _config_values(config, keys, cls.__name__)
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"an MLP's sizes list its input width and at least one layer's, got {sizes!r}")
        sizes = [check_positive_int(n, "each of an MLP's sizes") for n in sizes]
        if not isinstance(activations, (list, tuple)) or len(activations) != len(sizes) - 1:
            raise ValueError(f"an MLP's activations name one activation for each of its {len(sizes) - 1} "
                             f"layers, got {activations!r}")
        configs = [{"nin": sizes[i], "nout": sizes[i + 1], "activation": activations[i], "dtype": dtype}
                   for i in range(len(sizes) - 1)]
        for layer_config in configs:
            Layer._parsed_config(layer_config)
        same = list(range(len(configs)))
        for pair in (tied[0] if tied else []):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                    and all(type(i) is int and 0 <= i < len(configs) for i in pair) and pair[1] < pair[0]):
                raise ValueError(f"an MLP's tied_layers are pairs [later, earlier] of layer indices, "
                                 f"got {tied[0]!r}")
            later, earlier = pair
            if configs[later] != configs[earlier] or same[later] != later or same[earlier] != earlier:
                raise ValueError(f"an MLP's tied layers are one layer used twice, so of one architecture, "
                                 f"each tied once: cannot tie layer {later} ({configs[later]}) to layer "
                                 f"{earlier} ({configs[earlier]})")
            same[later] = earlier
        return configs, same

    @classmethod
    def config_size(cls, config):
        """How many numbers an MLP of the architecture ``config`` holds (a tied layer counts once).

        Computed from the config alone, nothing allocated: loading checks it
        against the numbers a file holds before building anything.
        """
        configs, same = cls._layer_configs(config)
        return sum(Layer.config_size(c) for i, c in enumerate(configs) if same[i] == i)

    @classmethod
    def from_config(cls, config):
        """An MLP of the architecture ``config`` (see :meth:`config`), its weights all zero.

        Fill them with ``load_state_dict``. No random numbers are drawn.
        """
        configs, same = cls._layer_configs(config)
        layers = []
        for i, layer_config in enumerate(configs):
            layers.append(layers[same[i]] if same[i] != i else Layer.from_config(layer_config))
        return cls.from_layers(layers)

    def __repr__(self):
        return f"MLP({self.nin}, {self.sizes[1:]}, activations={self.activations})"
