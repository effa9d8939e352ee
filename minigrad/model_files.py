"""Model files: a trained network in one ``.npz`` file, and checkpoints to resume training.

Free functions over what a network says about itself, as in PyTorch: its
``config()`` (the settings that build it again, plain data) and its
``state_dict()`` (the arrays, by name: parameters and buffers such as a
batch norm's running statistics). :func:`save` writes both; :func:`load`
builds the network back with ``from_config`` and fills it with
``load_state_dict``. Any network of minigrad's tensor layers can be saved:
an MLP, a ``Sequential`` of convolutions, a transformer, containers within
containers, and modules of your own classes once :func:`register` ed.

The layers know nothing of files: this module imports them (to build them
back), never the other way round. ``model.save(path)`` and ``MLP.load(path)``
are thin methods of :class:`minigrad.module.Module` that call :func:`save` and
:func:`load`, which this module hands over to it when it is imported
(``set_file_functions``), so that no import goes back.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* ``minigrad.format`` = "minigrad-model" and ``minigrad.version`` = 2, so that
  loading recognises its own files and rejects everything else;
* ``model.kind``, the class of the network (one of :data:`KINDS`: "MLP",
  "Sequential", "Conv2d", ...), and ``model.config``, its config as JSON
  text. An MLP's is ``{"sizes": [2, 16, 1], "activations": ["relu",
  "linear"], "dtype": "float64"}``; a module inside a config is written
  ``{"module": "Conv2d", "config": {...}}``, so that the config of a
  Sequential describes the tree of modules, each by its class name and its
  settings. An MLP or a Sequential that uses one layer twice says so in
  ``"tied_layers"``, and loads back sharing it;
* ``model.state.<name>`` for each entry of the state dict
  (``model.state.layers.0.W``, ``model.state.layers.1.running_mean``, ...),
  in the dtype it had;
* if some modules are in evaluation mode, ``model.eval_modules``, their names
  (JSON); if some draw random numbers (dropout), ``model.generators``, the
  states of their generators (JSON), each once: modules that shared one
  share one after loading.

Loading builds only the classes of :data:`KINDS`, by name; it never imports
what a file names. A network holding a module of another class is refused
when saving, with a TypeError naming the class, before anything is written.
(Files of version 1, which listed ``model.sizes``, ``model.activations`` and
``layers.i.W``/``layers.i.b``, are still read; version 2 was first written for
MLPs and layers only, and a file of those is written as it was then.)

A checkpoint is a model file that also holds an optimizer's state (Adam's
``m``, ``v`` and step count ``t``; SGD's velocities), taken from
``optimizer.state_dict()``, and any ``info`` you add (the epoch, a random
generator's state, ...): everything needed for training to carry on exactly
as if it had never stopped.

The promises:

* Loading is safe: nothing but plain arrays is read (``allow_pickle=False``),
  so a file cannot run code; a file that is missing, truncated, damaged or
  not a minigrad model raises an error naming the file and the problem (a
  file you may not read raises PermissionError, as any file would). Nothing
  is allocated before it is checked against the file: each member's declared
  shape against the bytes that hold it, the config's size (the sum of what
  each module of the tree says it holds, ``config_size``) against the
  weights stored; a config's length and nesting are bounded. (A module of
  your own that cannot tell its size, None, is checked once built.)
* ``load(name)`` reads what ``save(name)`` wrote: ``name.npz`` (``.npz`` is
  added to a name without it), or ``name`` itself if there is no ``name.npz``.
* Saving checks the model first, with the very checks loading applies (it
  builds the network back from what it is about to write), so it never writes
  a file that ``load`` would refuse.
* Saving is all-or-nothing: the archive is written to a temporary file next to
  the target, flushed to disk (fsync), and only then renamed over it
  (``os.replace``, atomic). A save that fails or is interrupted half way
  (an error, Ctrl-C) leaves any previous file as it was, and removes its
  temporary file. The new file takes the old one's place in every other way:
  a file you may not write to is refused (PermissionError), the new file keeps
  the old one's mode, and a symbolic link stays a link (its target is replaced).
* Restoring a checkpoint is all-or-nothing too: everything is checked (the
  file, the model's architecture, that the optimizer optimizes that very model,
  the optimizer's state) before the model or the optimizer is changed.
"""
import contextlib
import errno
import json
import math
import numbers
import os
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from minigrad import tensor_nn as nn
from minigrad.module import Module, Sequential, checked_state, set_file_functions, shared_names
from minigrad.optim import Optimizer
from minigrad.tensor_attention import CausalSelfAttention, TransformerBlock
from minigrad.tensor_conv import Conv2d, Flatten, MaxPool2d
from minigrad.tensor_embedding import Embedding
from minigrad.tensor_norm import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "Checkpoint", "ModelFileError",
           "register", "FORMAT", "VERSION", "save_model", "load_model"]

FORMAT = "minigrad-model"
VERSION = 2
# The classes a file may name, by name: nothing else is ever built from a file. register() adds
# classes of your own.
KINDS = {cls.__name__: cls for cls in (
    Sequential, Conv2d, MaxPool2d, Flatten, BatchNorm1d, BatchNorm2d, LayerNorm, Dropout, Embedding,
    CausalSelfAttention, TransformerBlock, nn.MLP, nn.Layer, nn.Linear)}
BUILT_IN = tuple(KINDS)
STATE = "model.state."  # the prefix of the state dict's entries in a file
EVALUATING = "model.eval_modules"  # the modules in evaluation mode, by name (absent: none)
GENERATORS = "model.generators"  # the states of the generators that modules draw from (dropout)
# What a file may ask of a reader, checked before anything is built from it:
MAX_CONFIG_CHARS = 1_000_000  # model.config's JSON text (an MLP of 1,000 layers takes ~20,000)
MAX_NESTING = 100  # brackets within brackets, in any JSON document of a file
DEFLATE_RATIO = 1032  # the most that deflate can expand a compressed member (zlib's bound)
# A config may describe this many numbers more than the file holds and still be built, so that
# load_state_dict can say which array is wrong; beyond it, it is refused before allocating.
CONFIG_SLACK = 1_000_000


class ModelFileError(ValueError):
    """A file that cannot be read as a minigrad model or checkpoint; the message says why."""


def model_path(path):
    """``path`` as a string, with ``.npz`` added if it does not end with it."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


# ----- one description of a sound model file, for saving and for loading ------------------

def _text(arrays, key, fail):
    value = arrays[key]
    if value.shape != () or value.dtype.kind != "U":
        raise fail(f"{key} should be a string")
    return str(value)


def _parse_json(text, what, fail, max_chars=None):
    """The JSON document ``text`` (``what`` names it), nested at most MAX_NESTING deep."""
    if max_chars is not None and len(text) > max_chars:
        raise fail(f"its {what} is {len(text):,} characters long, more than the "
                   f"{max_chars:,} a minigrad file ever needs")
    try:
        document = json.loads(text)
    except RecursionError:  # JSON's parser nests a call per bracket
        document, deep = None, True
    except ValueError as error:
        raise fail(f"its {what} is not valid JSON ({error})") from None
    else:
        deep = False
        stack = [(document, 1)]
        while stack and not deep:
            value, depth = stack.pop()
            if isinstance(value, (list, dict)):
                deep = depth > MAX_NESTING
                items = value.values() if isinstance(value, dict) else value
                stack.extend((item, depth + 1) for item in items)
    if deep:
        raise fail(f"its {what} is nested more than {MAX_NESTING} levels deep")
    return document


def _from_version_1(arrays, fail):
    """The kind, config and state dict stored in a version-1 file (model.sizes, layers.i.W, ...)."""
    for key in ("model.kind", "model.sizes", "model.activations"):
        if key not in arrays:
            raise fail(f"it lacks {key}")
    kind = _text(arrays, "model.kind", fail)
    sizes, activations = arrays["model.sizes"], arrays["model.activations"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or activations.ndim != 1 or activations.dtype.kind != "U":
        raise fail("model.sizes should list integers and model.activations names")
    sizes, activations = sizes.tolist(), activations.tolist()
    dtype = str(arrays["layers.0.W"].dtype) if "layers.0.W" in arrays else "float64"
    layers = {key: value for key, value in arrays.items() if key.startswith("layers.")}
    if kind == "MLP":
        return kind, {"sizes": sizes, "activations": activations, "dtype": dtype}, layers
    if len(sizes) != 2 or len(activations) != 1:
        raise fail(f"a {kind} has one layer, but model.sizes lists {len(sizes) - 1}")
    config = {"nin": sizes[0], "nout": sizes[1], "activation": activations[0], "dtype": dtype}
    if kind == "Linear":
        if config.pop("activation") != "linear":
            raise fail(f"a Linear layer cannot have activation {activations[0]!r}")
    return kind, config, {key[len("layers.0."):] if key.startswith("layers.0.") else key: value
                          for key, value in layers.items()}


def _build(arrays, fail):
    """The network that ``arrays`` (the contents of a model file) describe.

    ``fail(what)`` makes the exception to raise when they describe none:
    loading makes it a ModelFileError naming the file, saving a ValueError
    naming the model. Saving calls this on what it is about to write, so
    that it never writes a file that loading would refuse.
    """
    version = arrays.get("minigrad.version")
    if version is None or version.shape != () or version.dtype.kind not in "iu" or int(version) < 1:
        raise fail("it has no format version")
    if int(version) > VERSION:
        raise fail(f"it was written by a newer minigrad (file format version {int(version)}; "
                   f"this one reads up to {VERSION})")
    if int(version) == 1:
        kind, config, state = _from_version_1(arrays, fail)
    else:
        for key in ("model.kind", "model.config"):
            if key not in arrays:
                raise fail(f"it lacks {key}")
        kind = _text(arrays, "model.kind", fail)
        config = _parse_json(_text(arrays, "model.config", fail), "model.config", fail, MAX_CONFIG_CHARS)
        state = {key[len(STATE):]: value for key, value in arrays.items() if key.startswith(STATE)}
    if kind not in KINDS:
        raise fail(f"unknown model kind {kind!r}; a model file holds one of minigrad's layers "
                   f"({', '.join(BUILT_IN)}) or a class given to minigrad.model_files.register")
    try:  # before building: a config must not make us allocate more than the file holds
        needed = _config_size(kind, config)
    except (TypeError, ValueError, KeyError) as error:
        raise fail(f"its config {_shorten(config)} does not describe a {kind}: {_reason(error)}") from None
    held = sum(value.size for value in state.values())
    if needed > held + CONFIG_SLACK:
        raise fail(f"its config describes a {kind} of {needed:,} numbers, but its weights hold "
                   f"only {held:,}")
    try:
        with nn.default_generator_kept():
            model = _from_config(kind, config)
    except (TypeError, ValueError, KeyError) as error:
        raise fail(f"its config {_shorten(config)} does not describe a {kind}: {_reason(error)}") from None
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise fail(f"its weights do not fit the {kind} its config describes: {error}") from None
    if EVALUATING in arrays:
        _set_evaluating(model, _parse_json(_text(arrays, EVALUATING, fail), EVALUATING, fail,
                                           MAX_CONFIG_CHARS), fail)
    if GENERATORS in arrays:
        _set_generators(model, _parse_json(_text(arrays, GENERATORS, fail), GENERATORS, fail,
                                           MAX_CONFIG_CHARS), fail)
    return model


def _reason(error):
    if isinstance(error, KeyError):  # a setting a config lacks
        return f"it lacks the setting {error.args[0]!r}" if error.args else "it lacks a setting"
    return error


# A module inside a config is a node {"module": class name, "config": its config}.

def _is_node(value):
    return isinstance(value, dict) and set(value) == {"module", "config"}


def _parts(config, kind):
    """``(path, node)`` for each module among the settings of ``config`` (in lists too), once
    checked that the rest is plain data: a dict is a config's only dict, and a node's."""
    if not isinstance(config, dict):
        raise TypeError(f"a {kind}'s config is a dict, got a {type(config).__name__}")
    parts, stack = [], [(str(key), value) for key, value in reversed(config.items())]
    while stack:
        path, value = stack.pop()
        if _is_node(value):
            parts.append((path, value))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}", item) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, dict):
            raise ValueError(f"a {kind}'s settings are numbers, strings, lists or modules; "
                             f"its {path} is {_shorten(value, 80)}")
    return parts


def _part_kind(path, node):
    kind = node["module"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"{path} is of an unknown module class {_shorten(kind, 80)}; a model file holds "
                         f"minigrad's layers ({', '.join(BUILT_IN)}) and classes given to "
                         "minigrad.model_files.register")
    return kind


def _in_part(path, kind, error):
    """The error of a module inside a config, saying where it is: a ValueError."""
    return ValueError(f"{path} (a {kind}): {_reason(error)}")


def _config_size(kind, config):
    """How many numbers building ``config`` allocates (modules of unknown size count 0)."""
    cls = KINDS[kind]
    if cls in (nn.MLP, nn.Layer, nn.Linear):  # their configs hold no modules
        return cls.config_size(config)
    total = 0
    for path, node in _parts(config, kind):
        part = _part_kind(path, node)
        try:
            total += _config_size(part, node["config"])
        except (TypeError, ValueError, KeyError) as error:
            raise _in_part(path, part, error) from None
    return total + (cls.config_size(config) or 0)


def _from_config(kind, config):
    """The module of class ``kind`` that ``config`` describes, its parts built first."""
    cls = KINDS[kind]
    if cls in (nn.MLP, nn.Layer, nn.Linear):
        return cls.from_config(config)
    built = {id(node): (path, node) for path, node in _parts(config, kind)}
    for key, (path, node) in built.items():
        part = _part_kind(path, node)
        try:
            built[key] = _from_config(part, node["config"])
        except (TypeError, ValueError, KeyError) as error:
            raise _in_part(path, part, error) from None

    def settings(value):
        if isinstance(value, dict):  # a node: _parts allows no other dict
            return built[id(value)]
        return [settings(item) for item in value] if isinstance(value, list) else value

    module = cls.from_config({key: settings(value) for key, value in config.items()})
    if type(module) is not cls:
        raise TypeError(f"{kind}.from_config built a {type(module).__name__}, not a {kind}")
    return module


def _generator_uses(model):
    """``(module name, attribute, generator)`` for each generator that ``model``'s modules draw from."""
    return [(name, attribute, getattr(module, attribute)) for name, module in model.named_modules()
            for attribute in type(module).generator_names]


def _generator_states(model):
    """``{"states": [...], "uses": [[module name, attribute, index], ...]}``: each generator's
    state once (modules that share a generator share it after loading too); None if none."""
    states, index, uses = [], {}, []
    for name, attribute, generator in _generator_uses(model):
        if id(generator) not in index:
            bits = getattr(generator, "bit_generator", generator)
            if type(bits) is not np.random.PCG64:
                where = f"{name}.{attribute}" if name else attribute
                raise TypeError(f"cannot save the generator {where}, which draws from a "
                                f"{type(bits).__name__}: a model file keeps NumPy Generators of "
                                "PCG64 (np.random.default_rng's)")
            index[id(generator)] = len(states)
            states.append(generator.bit_generator.state)
        uses.append([name, attribute, index[id(generator)]])
    return {"states": states, "uses": uses} if uses else None


def _generator(state):
    """A new PCG64 Generator in ``state`` (a PCG64 state as JSON gave it), every field checked."""
    def bounded(value, bits):
        return type(value) is int and 0 <= value < 2 ** bits

    if not (isinstance(state, dict) and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"}
            and state["bit_generator"] == "PCG64" and isinstance(state["state"], dict)
            and set(state["state"]) == {"state", "inc"}
            and all(bounded(v, 128) for v in state["state"].values())
            and state["has_uint32"] in (0, 1) and bounded(state["uinteger"], 32)):
        raise ValueError(f"{_shorten(state, 80)} is not the state of a PCG64 generator")
    generator = np.random.Generator(np.random.PCG64(0))
    generator.bit_generator.state = state
    return generator


def _set_generators(model, stored, fail):
    try:
        if not isinstance(stored, dict) or set(stored) != {"states", "uses"}:
            raise ValueError("it should hold states and uses")
        generators = [_generator(state) for state in stored["states"]]
        wanted = sorted((name, attribute) for name, attribute, _ in _generator_uses(model))
        uses = stored["uses"]
        if not (isinstance(uses, list) and all(
                isinstance(use, list) and len(use) == 3 and type(use[2]) is int
                and 0 <= use[2] < len(generators) for use in uses)
                and sorted((name, attribute) for name, attribute, _ in uses) == wanted):
            raise ValueError(f"its uses should name each of the model's generators {wanted} once")
    except (TypeError, ValueError) as error:
        raise fail(f"its {GENERATORS} entry is damaged: {error}") from None
    modules = dict(model.named_modules())
    for name, attribute, i in uses:
        setattr(modules[name], attribute, generators[i])


def _set_evaluating(model, names, fail):
    modules = dict(model.named_modules())
    if not isinstance(names, list) or not all(isinstance(name, str) and name in modules
                                              for name in names):
        raise fail(f"its {EVALUATING} should list modules of the model, got {_shorten(names)}")
    for name in names:
        modules[name].training = False


def _shorten(value, limit=300):
    """``repr(value)``, cut to ``limit`` characters: a message quotes a crafted config in part."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ----- writing ------------------------------------------------------------------

def _target(path):
    """The file that saving to ``path`` writes: ``path``, with ``.npz`` added if it lacks it.

    A name that can only mean a directory ("runs/", ".", "..") or that names an
    existing directory is refused: ``runs/`` would otherwise become a hidden
    file ``runs/.npz``.
    """
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if os.path.basename(path) in ("", ".", ".."):
        example = os.path.join(path, "model.npz")
        raise ValueError(f"cannot save to {path!r}: that names a directory, not a file; "
                         f"give a file name, such as {example!r}")
    path = model_path(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {path}: it is a directory, not a file")
    return path


def _kind(module, where=""):
    """The name under which a file holds ``module``'s class: a known class, exactly."""
    name = type(module).__name__
    if KINDS.get(name) is not type(module):
        what = f"this network: its {where} is a {name};" if where else f"a {name}:"
        raise TypeError(f"cannot save {what} a model file holds networks built from minigrad's "
                        f"tensor layers ({', '.join(BUILT_IN[:-1])} or {BUILT_IN[-1]}, "
                        f"not {name}) "
                        "and modules of classes given to minigrad.model_files.register (each "
                        "describing itself with a config() method)")
    return name


def _described(module, where=""):
    """``(kind, config)`` of ``module`` as plain JSON data, its parts as nodes."""
    kind = _kind(module, where)
    config = module.config()
    if not isinstance(config, dict) or not all(isinstance(key, str) for key in config):
        raise TypeError(f"{kind}.config() should return a dict with str keys, got {_shorten(config, 80)}")

    def plain(value, name):
        if isinstance(value, Module):
            part_kind, part_config = _described(value, name)
            return {"module": part_kind, "config": part_config}
        if isinstance(value, (list, tuple)):
            return [plain(item, f"{name}.{i}") for i, item in enumerate(value)]
        if value is None or isinstance(value, (bool, str, np.bool_)):
            return bool(value) if isinstance(value, np.bool_) else value
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real) and math.isfinite(value):
            return float(value)
        raise TypeError(f"cannot save a {kind}: its setting {name} is {_shorten(value, 80)} "
                        f"(a {type(value).__name__}); a model file keeps settings that are numbers, "
                        "strings, booleans, None, lists of them, or modules")

    prefix = f"{where}." if where else ""
    return kind, {key: plain(value, prefix + str(key)) for key, value in config.items()}


def _model_arrays(model, path="the file"):
    """What a model file holds for ``model``, checked with the checks loading applies."""
    kind = _kind(model)

    def fail(what):
        return ValueError(f"cannot save this {kind} to {path}: {what}")

    try:
        _, config = _described(model)
    except ValueError as error:
        raise fail(error) from None
    arrays = {
        "minigrad.format": np.array(FORMAT),
        "minigrad.version": np.array(VERSION),
        "model.kind": np.array(kind),
        "model.config": np.array(json.dumps(config)),
    }
    arrays.update({STATE + name: np.asarray(value) for name, value in model.state_dict().items()})
    evaluating = [name for name, module in model.named_modules() if not module.training]
    if evaluating:
        arrays[EVALUATING] = np.array(json.dumps(evaluating))
    generators = _generator_states(model)
    if generators:
        arrays[GENERATORS] = np.array(json.dumps(generators))
    built = _build(arrays, lambda what: fail(f"the file would not load back: {what}"))
    if shared_names(built) != shared_names(model):  # sharing a file cannot express
        pairs = ", ".join(f"{name} is {first}" for name, first in shared_names(model).items())
        raise fail(f"some of its parameters are shared ({pairs}); a model file keeps sharing only "
                   "of whole layers, an MLP's layer used more than once (MLP.from_layers([L, L])), "
                   "or a Sequential's (Sequential(L, L))")
    return arrays


def register(cls):
    """Let model files hold modules of ``cls``, a Module subclass of your own; returns ``cls``.

    The class describes itself as minigrad's layers do: ``config()`` returns
    the arguments that build it again (numbers, strings, lists, or modules),
    and ``cls.from_config(config)`` (by default ``cls(**config)``) builds it.
    Register it before saving and before loading: loading builds only the
    classes it knows by name, never imports one a file names. Usable as a
    class decorator.
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register takes a subclass of minigrad.Module, got {cls!r}")
    if cls.__name__ in BUILT_IN and KINDS[cls.__name__] is not cls:
        raise ValueError(f"cannot register {cls.__module__}.{cls.__qualname__}: a file names a class by "
                         f"its name, and {cls.__name__!r} means minigrad's {KINDS[cls.__name__]}")
    KINDS[cls.__name__] = cls  # a class of yours defined again (a notebook cell run twice) replaces it
    return cls


def _write_npz(file, arrays):
    """Write ``arrays`` as a compressed ``.npz`` archive to an open binary file."""
    np.savez_compressed(file, **arrays)


def _read_umask():
    mask = os.umask(0)  # the only portable way to read it is to set it, and set it back
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import, rather than while other threads may create files


def _replaceable(path):
    """The file that saving to ``path`` replaces (through a symlink, its target) and the
    mode to give the new one: the old file's, else a new file's. A PermissionError if
    the file exists and we may not write to it (it is read-only, for instance)."""
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return target, 0o666 & ~_UMASK
    effective = os.access in os.supports_effective_ids
    if not os.access(target, os.W_OK, effective_ids=effective):
        raise PermissionError(errno.EACCES, f"cannot save to {path}: you may not write to "
                              f"this file (mode {mode:04o}); make it writable (chmod u+w) "
                              "to replace it, or save elsewhere")
    return target, mode


def _atomic_write(path, arrays):
    """Write the archive to a temporary file beside ``path``, fsync, rename.

    Whatever stops the write (an error, KeyboardInterrupt, SystemExit), the
    temporary file is removed and any previous file at ``path`` is untouched.
    A file there keeps its mode; a symlink stays, its target is replaced.
    """
    target, mode = _replaceable(path)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot save to {path}: there is no directory {directory}")
    temporary = None
    try:
        try:
            fd, temporary = tempfile.mkstemp(
                prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                dir=directory)
        except OSError as error:  # e.g. no permission to write there
            raise OSError(error.errno, f"cannot save to {path}: "
                          f"{error.strerror} (creating a file in "
                          f"{directory})") from None
        try:
            file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)  # mkstemp's is private (0600)
        os.replace(temporary, target)
        temporary = None  # it is the file at `target` now
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(model, path):
    """Save ``model`` (a network of minigrad's tensor layers, see :data:`KINDS`) to ``path``.

    ``.npz`` is added to the name if it is missing. Returns the path written.
    A model that could not be loaded back (say, a bias replaced by one of the
    wrong shape, or layers of mixed dtypes) is refused with a ValueError
    before anything is written.
    """
    path = _target(path)
    _atomic_write(path, _model_arrays(model, path))
    return path


# ----- reading ------------------------------------------------------------------

def _resolve(path):
    """The file to read for ``path``: the one :func:`save` writes for that name, ``path.npz``;
    else ``path`` itself. A directory is not a file: ``load("runs")`` reads ``runs.npz`` even
    when there is a directory ``runs`` too."""
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    candidates = [path] if path.endswith(".npz") else [path + ".npz", path]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate  # a directory: reading it says so
    tried = " or ".join(reversed(candidates))
    raise FileNotFoundError(errno.ENOENT, f"cannot load a minigrad model: there is no file {tried}")


_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first member, or an empty zip
_NPY_START = b"\x93NUMPY"
# What the zip and .npy readers raise on damaged bytes (OSError: a seek to a damaged offset)
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError,
           NotImplementedError, RuntimeError, struct.error, OverflowError, IndexError)


def _read_archive(path):
    """Every array in the ``.npz`` file ``path``, as a dict, or a ModelFileError saying what is wrong.

    Each member is checked before it is read: how it is compressed, and that
    the size its header declares is what it holds, so that a damaged or
    crafted file cannot make us allocate more than its own bytes expand to.
    Problems of access (no permission to read the file) are not problems of
    the file: they raise the OSError that ``open`` raises, which names the file.
    """
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a minigrad model file")
    with open(path, "rb") as file:
        start = file.read(len(_NPY_START))
        if not start:
            raise ModelFileError(f"{path} is empty: not a minigrad model file (was its saving interrupted?)")
        if start.startswith(_NPY_START):
            raise ModelFileError(f"{path} holds a single NumPy array (.npy), not a minigrad model "
                                 "(.npz archive)")
        if not start.startswith(_ZIP_STARTS):
            raise ModelFileError(f"{path} is not a NumPy .npz archive (it is neither a zip of arrays nor "
                                 "a NumPy array file): not a minigrad model file")
        size = os.fstat(file.fileno()).st_size
        listed = _listed_count(file, size)
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                members = _members(archive, path, size, listed)
                if "minigrad.format" not in members:  # say so before reading anything else
                    names = ", ".join(sorted(members)[:8]) or "nothing"
                    raise ModelFileError(f"{path} is an .npz archive but not a minigrad model file: it holds "
                                         f"{names}, without the minigrad.format marker")
                return {name: _read_member(archive, info, path) for name, info in members.items()}
        except ModelFileError:
            raise
        except _DAMAGE as error:
            raise ModelFileError(f"{path} is truncated or damaged, not a readable .npz archive "
                                 f"({error})") from None


def _listed_count(file, size):
    """How many members the end record of the zip in ``file`` says it lists, if it is where a
    zip without a comment has it (NumPy's are such), else None."""
    if size < 22:
        return None
    file.seek(size - 22)
    end = file.read(22)
    signature, _, _, on_disk, total, _, _, comment = struct.unpack("<4s4H2LH", end)
    if signature != b"PK\x05\x06" or comment != 0 or total == 0xFFFF:
        return None
    return total if on_disk == total else -1


def _members(archive, path, size, listed):
    """The archive's members by array name, each checked before any of it is read."""
    if listed is not None and listed != len(archive.infolist()):
        # a damaged end record can make a zip reader skip members without an error
        raise ModelFileError(f"{path} is damaged: its zip directory lists {len(archive.infolist())} "
                             f"members where its end record says {listed}")
    members = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy") or info.is_dir():
            raise ModelFileError(f"{path} is a zip archive holding something other than NumPy arrays "
                                 f"({name!r} is not an array): not a minigrad model file")
        name = name[:-len(".npy")]
        if name in members:
            raise ModelFileError(f"{path} is damaged: it holds {name!r} twice")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path} is damaged or not a minigrad model file: its member {name!r} "
                                 "is marked as encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path} is damaged or not a minigrad model file: its member {name!r} "
                                 f"uses compression method {info.compress_type}, which NumPy never writes")
        expands = 1 if info.compress_type == zipfile.ZIP_STORED else DEFLATE_RATIO
        if info.compress_size > size or info.file_size > expands * info.compress_size + 64:
            raise ModelFileError(f"{path} is damaged: its member {name!r} declares {info.file_size:,} "
                                 f"bytes, more than its {info.compress_size:,} stored bytes can hold")
        members[name] = info
    return members


def _read_member(archive, info, path):
    """The array in one member, its declared shape checked against its size before reading."""
    name = info.filename[:-len(".npy")]
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
        except ValueError:
            raise ModelFileError(f"{path} is a zip archive holding something other than NumPy arrays "
                                 f"({name!r} is not an array): not a minigrad model file") from None
        if version not in ((1, 0), (2, 0)):
            raise ModelFileError(f"{path} is damaged or not a minigrad model file: its array {name!r} is "
                                 f"in .npy format {version}, which minigrad never writes")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(member)
        if dtype.hasobject:
            raise ModelFileError(f"{path} holds pickled Python objects, which minigrad never loads "
                                 "(unpickling can run arbitrary code): not a minigrad model file")
        count = math.prod(shape)
        needed, held = count * dtype.itemsize, info.file_size - member.tell()
        if needed != held:
            raise ModelFileError(f"{path} is damaged: its array {name!r} declares shape {shape} of "
                                 f"{dtype} ({needed:,} bytes), but holds {held:,} bytes")
        data = member.read(needed)  # reading to the end checks the member's CRC
        if len(data) != needed:
            raise ModelFileError(f"{path} is truncated: its array {name!r} ends early")
    array = np.frombuffer(bytearray(data), dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran_order else "C")


def _read_model(path):
    """The file found for ``path``, its arrays, and the network it holds."""
    path = _resolve(path)
    arrays = _read_archive(path)

    def fail(what):
        return ModelFileError(f"{path} is not a valid minigrad model file: {what}")

    if _text(arrays, "minigrad.format", fail) != FORMAT:
        raise ModelFileError(f"{path} is not a minigrad model file: its format is "
                             f"{_text(arrays, 'minigrad.format', fail)!r}, not {FORMAT!r}")
    return path, arrays, _build(arrays, fail)


def load(path, expected=None):
    """The model saved in ``path`` (a ``.npz`` file; ``.npz`` may be left off the name).

    With ``expected`` (a class such as ``MLP``), the file must hold one of those.
    Raises FileNotFoundError for a missing file and :class:`ModelFileError`
    (a ValueError) for a file that is not a sound minigrad model.
    """
    path, _, model = _read_model(path)
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a {expected.__name__}; "
                             f"use {type(model).__name__}.load or minigrad.model_files.load")
    return model


# Other names for the same functions, kept for code written before save/load.
save_model = save
load_model = load


# ----- checkpoints: model + optimizer state + your own info ----------------------------

def _encode(value, arrays, depth=1):
    """``value`` as JSON-ready data; NumPy arrays and scalars go to ``arrays`` and are
    referenced by index, so that they are stored bit for bit, dtype included."""
    if depth > MAX_NESTING // 3:  # a dict is three levels of JSON: {"__dict__": [[key, ...
        raise ValueError(f"cannot save data nested more than {MAX_NESTING // 3} levels deep "
                         "in a checkpoint")
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("cannot save an array of Python objects in a checkpoint")
        arrays.append(value)
        return {"__array__": len(arrays) - 1}
    if isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"__scalar__": len(arrays) - 1}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"checkpoint dictionaries need str or int keys, got {key!r}")
        return {"__dict__": [[key, _encode(v, arrays, depth + 1)] for key, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save a {type(value).__name__} in a checkpoint; use numbers, strings, "
                    "lists, tuples, dicts and NumPy arrays")


def _decode(data, arrays):
    if isinstance(data, list):
        return [_decode(v, arrays) for v in data]
    if isinstance(data, dict):
        if "__array__" in data:
            return arrays[_index(data["__array__"], arrays)].copy()
        if "__scalar__" in data:
            return arrays[_index(data["__scalar__"], arrays)][()]
        if "__tuple__" in data:
            return tuple(_decode(v, arrays) for v in data["__tuple__"])
        if "__dict__" in data:
            return {key: _decode(v, arrays) for key, v in data["__dict__"]}
        raise ValueError(f"unexpected entry {data!r}")
    return data


def _index(i, arrays):
    if type(i) is not int or not 0 <= i < len(arrays):
        raise ValueError(f"no stored array {i!r}")
    return i


def _pack(prefix, value):
    arrays = []
    document = json.dumps(_encode(value, arrays))
    packed = {f"{prefix}.json": np.array(document)}
    packed.update({f"{prefix}.{i}": array for i, array in enumerate(arrays)})
    return packed


def _unpack(prefix, stored, path):
    def fail(what):
        return ModelFileError(f"{path} is not a valid minigrad checkpoint: {what}")

    try:
        document = _parse_json(_text(stored, f"{prefix}.json", fail), f"{prefix} entry", fail)
        count = sum(1 for key in stored if key.startswith(prefix + ".") and key != f"{prefix}.json")
        return _decode(document, [stored[f"{prefix}.{i}"] for i in range(count)])
    except ModelFileError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise fail(f"its {prefix} entry is damaged ({error})") from None


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read: the model, the optimizer's state and your info."""

    model: object
    optimizer_state: object = None
    optimizer_type: str = None
    info: dict = field(default_factory=dict)


def _check_optimizes(optimizer, model, context):
    """A clear error unless ``optimizer`` steps exactly ``model.parameters()``: the same objects, in order.

    The optimizer's state is stored parameter by parameter, by position; an
    optimizer over another model (or over other copies of its weights) would
    be restored, or saved, against the wrong parameters.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{context}: optimizer should be a minigrad optimizer (SGD, Adam), "
                        f"got a {type(optimizer).__name__}")
    ours, theirs = [id(p) for p in model.parameters()], [id(p) for p in optimizer.params]
    if ours != theirs:
        shared = len(set(ours) & set(theirs))
        raise ValueError(f"{context}: the {type(optimizer).__name__} given does not optimize the model given: "
                         "its parameters must be model.parameters(), the same objects in the same order "
                         f"(it has {len(theirs)} parameters, the model {len(ours)}, {shared} in common)")


def save_checkpoint(model, optimizer, path, **info):
    """Save ``model``, ``optimizer.state_dict()`` and ``info`` (keyword arguments) to ``path``.

    ``optimizer`` (or None) must be the optimizer of ``model``: built over
    ``model.parameters()``. ``info`` may hold numbers, strings, lists, tuples,
    dicts and NumPy arrays: the epoch, the step, a generator's
    ``bit_generator.state``... Everything is stored exactly, so that training
    resumed from the file continues exactly. ``.npz`` is added if missing;
    returns the path.
    """
    path = _target(path)
    arrays = _model_arrays(model, path)
    if optimizer is not None:
        _check_optimizes(optimizer, model, f"cannot save a checkpoint to {path}")
        state = optimizer.state_dict()
        try:
            optimizer._checked_state(state)  # the checks load_checkpoint will apply
        except (TypeError, ValueError) as error:
            raise ValueError(f"cannot save a checkpoint to {path}: the optimizer's state would not load "
                             f"back: {error}") from None
        arrays["optimizer.type"] = np.array(type(optimizer).__name__)
        arrays.update(_pack("optimizer.state", state))
    arrays.update(_pack("info", info))
    _atomic_write(path, arrays)
    return path


def load_checkpoint(path, model=None, optimizer=None):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Without ``model``, a new model is built from the file (``.model``).
    Given ``model``, its weights are replaced by the saved ones (the
    architecture and dtype must match). Given ``optimizer`` too (it must be
    built over that model's parameters), its state is restored with
    ``load_state_dict``: a model and its optimizer are restored together, so
    ``optimizer`` without ``model`` is refused. Everything is checked before
    anything changes: a checkpoint that fails to restore leaves ``model`` and
    ``optimizer`` as they were. Returns a :class:`Checkpoint` with ``.model``,
    ``.optimizer_state``, ``.optimizer_type`` and ``.info``.
    """
    if optimizer is not None:
        if model is None:
            raise ValueError("load_checkpoint(path, optimizer=...) needs model= too, the model the optimizer "
                             "optimizes: its weights are restored with the optimizer's state (restoring the "
                             "state alone would leave the optimizer stepping weights the checkpoint never "
                             "restored)")
        _check_optimizes(optimizer, model, f"cannot restore {os.fspath(path)}")
    path, arrays, saved = _read_model(path)
    info = _unpack("info", arrays, path) if "info.json" in arrays else {}
    state = kind = None
    if "optimizer.state.json" in arrays:
        kind = _text(arrays, "optimizer.type", lambda what: ModelFileError(
            f"{path} is not a valid minigrad checkpoint: {what}")) if "optimizer.type" in arrays else None
        state = _unpack("optimizer.state", arrays, path)
    if model is None:
        return Checkpoint(saved, state, kind, info)

    # check everything first ...
    if _described(saved) != _described(model):
        raise ValueError(f"{path} holds {_summary(saved)}, which does not match the model given, "
                         f"{_summary(model)}")
    weights = checked_state(model, saved.state_dict())
    optimizer_state = None
    if optimizer is not None:
        if state is None:
            raise ModelFileError(f"{path} holds no optimizer state (it was saved without an optimizer)")
        if kind != type(optimizer).__name__:
            raise ValueError(f"{path} holds the state of a {kind} optimizer, not of a {type(optimizer).__name__}")
        try:
            optimizer_state = optimizer._checked_state(state)
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{path} holds an optimizer state that cannot be restored: {error}") from None
    # ... then change everything
    for owner, attribute, value in weights:
        setattr(owner, attribute, value)
    for (_, module), (_, saved_module) in zip(model.named_modules(), saved.named_modules()):
        module.training = saved_module.training
        for attribute in type(module).generator_names:  # new generators, shared as they were
            setattr(module, attribute, getattr(saved_module, attribute))
    for name, value in (optimizer_state or {}).items():
        setattr(optimizer, name, value)
    return Checkpoint(model, state, kind, info)


def _summary(model):
    dtype = getattr(model, "dtype", None)
    return f"{model!r} ({dtype})" if dtype is not None else repr(model)


set_file_functions(save, load)  # Module.save and Module.load call these
