"""``Module``: what every network of either engine has in common."""
import numbers

import numpy as np

from minigrad.autograd import zero_grad


class Module:
    """A function with learnable parameters.

    Subclasses compute their output in ``__call__`` and list their parameters in
    ``parameters()``; a module made of modules lists theirs in order.

    ``training`` says whether the module is being trained (the default) or
    evaluated: a few layers (dropout, batch normalisation) compute something
    else in each case. ``train()`` and ``eval()`` set it for the module and
    every module inside it, as in PyTorch.
    """

    training = True
    # Attributes holding arrays that are part of the module's state but that no optimizer
    # steps (batch normalisation's running statistics): state_dict() lists them too.
    buffer_names = ()
    # Attributes holding the NumPy Generator the module draws from as it runs (dropout's): a
    # checkpoint keeps its state, so that a resumed run draws what the run would have drawn.
    generator_names = ()

    def parameters(self):
        return []

    def train(self, mode=True):
        """Set training mode (``mode=False``: evaluation) here and in every sub-module; returns self."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train(mode) takes True or False, got {mode!r}")
        for _, module in _named_modules(self):
            module.training = bool(mode)
        return self

    def eval(self):
        """Set evaluation mode here and in every sub-module (``train(False)``); returns self."""
        return self.train(False)

    def zero_grad(self):
        """Forget the last backward pass's gradients (they would add up)."""
        zero_grad(self.parameters())

    def num_parameters(self):
        """How many numbers the module learns."""
        return sum(getattr(p, "size", 1) for p in self.parameters())

    def named_parameters(self):
        """``(name, parameter)`` pairs in the order of ``parameters()``, each parameter once.

        A name is the path of attributes from this module to the parameter:
        ``"layers.0.W"`` is ``self.layers[0].W``.
        """
        return _named_once(self)

    def state_dict(self):
        """The parameters' values by name, ``{"layers.0.W": array, ...}``: a snapshot (copies).

        A parameter reached by two paths (a layer used twice) is listed under
        each name, as in PyTorch. Buffers (see ``buffer_names``, e.g. a batch
        norm's ``running_mean``) follow the parameters, under their paths too.
        """
        state = {name: np.array(p.data) if isinstance(p.data, np.ndarray) else p.data
                 for name, p in _named_all(self)}
        state.update((name, np.array(getattr(owner, attribute)))
                     for name, owner, attribute in _named_buffers(self))
        return state

    def load_state_dict(self, state):
        """Set the parameters (and buffers) to the values in ``state``, a ``state_dict()`` of this
        architecture.

        Names, shapes and dtypes must match exactly (a float32 model is not
        quietly made float64); all is checked before anything changes.
        """
        for owner, attribute, value in checked_state(self, state):
            setattr(owner, attribute, value)

    def named_modules(self):
        """``(name, module)`` for this module (name ``""``) and every module inside it, each once.

        Names are attribute paths, as in ``named_parameters``: ``"layers.0"``.
        """
        return _named_modules(self)

    # ----- what a model file needs (minigrad.model_files) ------------------------------------

    def config(self):
        """The module's settings as plain data: the arguments that build it again, ``from_config``.

        Values are numbers, strings, booleans, None, lists of them, or modules
        (a container's parts). Each layer of minigrad defines it; a module of
        your own that a model file should hold defines it too.
        """
        raise TypeError(f"a {type(self).__name__} does not describe its settings, so a model file "
                        f"cannot hold it: give {type(self).__name__} a config() method that returns "
                        "the arguments that build it again (plain data or modules), and register "
                        "the class with minigrad.model_files.register")

    @classmethod
    def from_config(cls, config):
        """A module built from ``config`` (what :meth:`config` returned), ready for ``load_state_dict``.

        By default ``cls(**config)``.
        """
        return cls(**config)

    @classmethod
    def config_size(cls, config):
        """How many numbers a module of ``config`` holds itself (its parts that are modules
        of the config not included), computed without building it; None if unknown.

        Loading checks this against the numbers a file holds before building
        anything. A module of your own may leave it unknown (None): it is then
        checked once built.
        """
        return None

    def save(self, path):
        """Write the network (its architecture and every array) to ``path``; returns the path.

        ``.npz`` is added if missing. The same as ``minigrad.model_files.save(self, path)``.
        """
        return _file_function("save")(self, path)

    @classmethod
    def load(cls, path):
        """The network saved in ``path`` by :meth:`save`, which must be a ``cls``.

        The same as ``minigrad.model_files.load(path, expected=cls)``.
        """
        return _file_function("load")(path, expected=cls)


# minigrad.model_files reads and writes model files; it imports the layers, to build them
# back, so no module of layers imports it. It hands its save and load over to Module.save and
# Module.load when it is imported (minigrad's __init__ imports it).
_FILE_FUNCTIONS = {}


def set_file_functions(save, load):
    """Make ``Module.save`` and ``Module.load`` call ``save(module, path)`` and
    ``load(path, expected=cls)``."""
    _FILE_FUNCTIONS.update(save=save, load=load)


def _file_function(name):
    if name not in _FILE_FUNCTIONS:
        raise RuntimeError("model files are written and read by minigrad.model_files; "
                           "import minigrad (or minigrad.model_files) first")
    return _FILE_FUNCTIONS[name]


def _named_modules(module):
    """``(name, module)`` for ``module`` and every module reached from it, each once, first path."""
    found, stack = {}, [("", module)]
    while stack:
        name, obj = stack.pop()
        if isinstance(obj, Module):
            if id(obj) in found:
                continue
            found[id(obj)] = (name, obj)
            items = list(getattr(obj, "__dict__", {}).items())
        elif isinstance(obj, (list, tuple)):
            items = [(str(i), value) for i, value in enumerate(obj)]
        else:
            continue
        stack.extend((f"{name}.{key}" if name else key, value) for key, value in reversed(items))
    return list(found.values())


def _named_buffers(module):
    """``(name, owner, attribute)`` for each buffer of ``module`` and its sub-modules (not None)."""
    return [(f"{prefix}.{attribute}" if prefix else attribute, owner, attribute)
            for prefix, owner in _named_modules(module)
            for attribute in type(owner).buffer_names if getattr(owner, attribute) is not None]


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x)`` is ``c(b(a(x)))``.

    Its parameters are those of its modules, in order, each once (a module
    used twice is stepped once per step). ``model[i]`` is the i-th module.
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not callable(m) or not hasattr(m, "parameters"):
                raise TypeError(f"Sequential takes modules (layers with parameters()), but item {i} "
                                f"is {m!r} ({type(m).__name__})")
        self.layers = list(modules)

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            try:
                x = layer(x)
            except ValueError as error:  # say which layer refused
                raise ValueError(f"Sequential layer {i} ({type(layer).__name__}): {error}") from error
        return x

    def parameters(self):
        return list({id(p): p for layer in self.layers for p in layer.parameters()}.values())

    def config(self):
        """``{"layers": [module, ...]}``; a module used again is None there, and listed in
        ``"tied_layers"``: ``[[2, 0]]`` says that layer 2 is layer 0 (as an MLP's config says)."""
        first, layers, tied = {}, [], []
        for i, layer in enumerate(self.layers):
            earlier = first.setdefault(id(layer), i)
            layers.append(layer if earlier == i else None)
            if earlier != i:
                tied.append([i, earlier])
        return {"layers": layers, "tied_layers": tied} if tied else {"layers": layers}

    @classmethod
    def from_config(cls, config):
        """The Sequential that ``config`` describes, its layers already built (None where tied)."""
        if not isinstance(config, dict) or set(config) - {"tied_layers"} != {"layers"}:
            got = sorted(map(str, config)) if isinstance(config, dict) else repr(config)
            raise ValueError(f"a Sequential's config has the keys layers and (if any are tied) "
                             f"tied_layers, got {got}")
        layers, tied = list(config["layers"]), config.get("tied_layers", [])
        if not isinstance(tied, list):
            raise ValueError(f"a Sequential's tied_layers are pairs [later, earlier], got {tied!r}")
        for pair in tied:
            if not (isinstance(pair, list) and len(pair) == 2 and all(type(i) is int for i in pair)
                    and 0 <= pair[1] < pair[0] < len(layers)
                    and layers[pair[0]] is None and layers[pair[1]] is not None):
                raise ValueError(f"a Sequential's tied_layers are pairs [later, earlier] of layer "
                                 f"indices, the later one left empty (None), got {tied!r}")
            layers[pair[0]] = layers[pair[1]]
        empty = [i for i, layer in enumerate(layers) if layer is None]
        if empty:
            raise ValueError(f"a Sequential's layers {empty} are empty (None) but tied to none")
        return cls(*layers)

    @classmethod
    def config_size(cls, config):
        return 0  # its layers count for themselves

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inside = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inside}\n)" if inside else "Sequential()"


def _named_all(module):
    """``(name, parameter)`` for every path of attributes from ``module`` to one of its parameters.

    Attributes are followed into sub-modules and into lists and tuples; a
    parameter is anything ``module.parameters()`` lists. A parameter reached
    twice (a shared layer) appears under each of its names. A ValueError if
    some parameter is reached by no path (it would have no name).
    """
    parameters = module.parameters()
    wanted = {id(p) for p in parameters}
    paths, visiting = [], set()

    def walk(obj, prefix):
        if id(obj) in wanted:
            paths.append((prefix, obj))
        elif isinstance(obj, Module):
            if id(obj) in visiting:  # a module that refers back to one that holds it
                return
            visiting.add(id(obj))
            for name, value in getattr(obj, "__dict__", {}).items():
                walk(value, f"{prefix}.{name}" if prefix else name)
            visiting.discard(id(obj))
        elif isinstance(obj, (list, tuple)):
            for i, value in enumerate(obj):
                walk(value, f"{prefix}.{i}")

    walk(module, "")
    reached = {id(p) for _, p in paths}
    for i, p in enumerate(parameters):
        if id(p) not in reached:
            raise ValueError(f"parameter {i} of the {type(module).__name__} is not held by any of its "
                             "attributes (or lists of them), so it has no name")
    return paths


def shared_names(module):
    """``{name: first name}`` for every parameter name of ``module`` that names a parameter
    already named before (a layer used twice): which entries of ``state_dict()`` are one."""
    first, shared = {}, {}
    for name, p in _named_all(module):
        earlier = first.setdefault(id(p), name)
        if earlier != name:
            shared[name] = earlier
    return shared


def _same_value(a, b):
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # not numbers: NaN means nothing for them
        return a is b


def _named_once(module):
    names = {}
    for name, p in _named_all(module):
        names.setdefault(id(p), name)
    pairs, seen = [], set()
    for p in module.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            pairs.append((names[id(p)], p))
    return pairs


def checked_state(module, state):
    """``(owner, attribute, new value)`` triples that ``module.load_state_dict(state)`` sets, all
    checked first: ``setattr(owner, attribute, value)`` for each (a parameter's ``data``, a buffer).

    Used by ``load_state_dict`` and by :mod:`minigrad.model_files`, which checks
    a model's new weights and its optimizer's new state before it changes either.
    """
    who = f"{type(module).__name__}.load_state_dict"
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(f"{who} takes a dict such as state_dict() returns, got a {type(state).__name__}")
    paths = _named_all(module)
    buffers = _named_buffers(module)
    expected = [name for name, _ in paths] + [name for name, _, _ in buffers]
    missing = [name for name in expected if name not in state]
    unexpected = sorted(str(name) for name in set(state.keys()) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{who}: the state does not fit this {type(module).__name__}"
                         + (f"; missing {missing}" if missing else "")
                         + (f"; unexpected {unexpected}" if unexpected else ""))
    updates, first = [], {}
    for name, p in paths:
        value = state[name]
        earlier = first.setdefault(id(p), name)
        if earlier != name:  # one parameter under two names: they must agree
            if not _same_value(value, state[earlier]):
                raise ValueError(f"{who}: {name} and {earlier} name one shared parameter, "
                                 "but the state gives them different values")
            continue
        if isinstance(p.data, np.ndarray):
            updates.append((p, "data", _checked_array(who, name, value, p.data)))
        else:
            number = value[()] if isinstance(value, np.ndarray) and value.shape == () else value
            if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
                raise TypeError(f"{who}: {name} should be a number, got {value!r}")
            updates.append((p, "data", float(number)))
    for name, owner, attribute in buffers:
        current = getattr(owner, attribute)
        updates.append((owner, attribute, _checked_array(who, name, state[name], current)))
    return updates


def _checked_array(who, name, value, current):
    """A copy of ``value``, which is to replace the array ``current``: same shape and dtype."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{who}: {name} should be a NumPy array, got a {type(value).__name__}")
    if value.shape != current.shape:
        raise ValueError(f"{who}: {name} has shape {value.shape}, expected {current.shape}")
    if value.dtype != current.dtype:
        raise ValueError(f"{who}: {name} has dtype {value.dtype}, expected {current.dtype} "
                         "(convert it first if you mean to)")
    return value.copy()
