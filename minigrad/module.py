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

    def parameters(self):
        return []

    def train(self, mode=True):
        """Set training mode (``mode=False``: evaluation) here and in every sub-module; returns self."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train(mode) takes True or False, got {mode!r}")
        for module in _modules(self):
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
        each name, as in PyTorch.
        """
        return {name: np.array(p.data) if isinstance(p.data, np.ndarray) else p.data
                for name, p in _named_all(self)}

    def load_state_dict(self, state):
        """Set the parameters to the values in ``state``, a ``state_dict()`` of this architecture.

        Names, shapes and dtypes must match exactly (a float32 model is not
        quietly made float64); all is checked before anything changes.
        """
        for p, value in checked_state(self, state):
            p.data = value


def _modules(module):
    """``module`` and every module reached from it through attributes, lists and tuples, each once."""
    found, stack = {}, [module]
    while stack:
        obj = stack.pop()
        if isinstance(obj, Module):
            if id(obj) in found:
                continue
            found[id(obj)] = obj
            stack.extend(reversed(list(getattr(obj, "__dict__", {}).values())))
        elif isinstance(obj, (list, tuple)):
            stack.extend(reversed(obj))
    return list(found.values())


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
    """``(parameter, new data)`` pairs that ``module.load_state_dict(state)`` sets, all checked first.

    Used by ``load_state_dict`` and by :mod:`minigrad.model_files`, which checks
    a model's new weights and its optimizer's new state before it changes either.
    """
    who = f"{type(module).__name__}.load_state_dict"
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(f"{who} takes a dict such as state_dict() returns, got a {type(state).__name__}")
    paths = _named_all(module)
    expected = [name for name, _ in paths]
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
            if not isinstance(value, np.ndarray):
                raise TypeError(f"{who}: {name} should be a NumPy array, got a {type(value).__name__}")
            if value.shape != p.data.shape:
                raise ValueError(f"{who}: {name} has shape {value.shape}, expected {p.data.shape}")
            if value.dtype != p.data.dtype:
                raise ValueError(f"{who}: {name} has dtype {value.dtype}, expected {p.data.dtype} "
                                 "(convert it first if you mean to)")
            updates.append((p, value.copy()))
        else:
            number = value[()] if isinstance(value, np.ndarray) and value.shape == () else value
            if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
                raise TypeError(f"{who}: {name} should be a number, got {value!r}")
            updates.append((p, float(number)))
    return updates
