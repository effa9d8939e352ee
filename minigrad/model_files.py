"""Model files: a trained network in one ``.npz`` file, and checkpoints to resume training.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* ``minigrad.format`` = "minigrad-model" and ``minigrad.version`` = 1, so that
  loading recognises its own files and rejects everything else;
* ``model.kind`` ("MLP", "Layer" or "Linear"), ``model.sizes`` = [nin, n1, n2, ...]
  and ``model.activations``, one name per layer: the architecture;
* ``layers.i.W`` and ``layers.i.b`` for each layer i, in the dtype they had.

A checkpoint is a model file that also holds an optimizer's state (Adam's
``m``, ``v`` and step count ``t``; SGD's velocities), taken from
``optimizer.state_dict()``, and any ``info`` you add (the epoch, a random
generator's state, ...): everything needed for training to carry on exactly
as if it had never stopped.

Two promises:

* Loading is safe: nothing but plain arrays is read (``allow_pickle=False``),
  so a file cannot run code; a file that is missing, truncated, damaged or
  not a minigrad model raises an error naming the file and the problem.
* Saving is all-or-nothing: the archive is written to a temporary file next to
  the target, flushed to disk (fsync), and only then renamed over it
  (``os.replace``, atomic). A save that fails half way leaves any previous
  file as it was.
"""
import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from minigrad import tensor_nn as nn

__all__ = ["save_model", "load_model", "save_checkpoint", "load_checkpoint", "Checkpoint",
           "ModelFileError", "FORMAT", "VERSION"]

FORMAT = "minigrad-model"
VERSION = 1
KINDS = {"MLP": nn.MLP, "Layer": nn.Layer, "Linear": nn.Linear}


class ModelFileError(ValueError):
    """A file that cannot be read as a minigrad model or checkpoint; the message says why."""


def model_path(path):
    """``path`` as a string, with ``.npz`` added if it does not end with it."""
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


# ----- writing ------------------------------------------------------------------

def _kind(model):
    for name in ("Linear", "MLP", "Layer"):  # Linear before Layer: it is a Layer too
        if isinstance(model, KINDS[name]):
            return name
    raise TypeError(f"can save a minigrad.tensor_nn MLP, Layer or Linear, not {type(model).__name__}")


def _model_arrays(model):
    kind = _kind(model)
    layers = model.layers if kind == "MLP" else [model]
    arrays = {
        "minigrad.format": np.array(FORMAT),
        "minigrad.version": np.array(VERSION),
        "model.kind": np.array(kind),
        "model.sizes": np.array([layers[0].nin] + [layer.nout for layer in layers], dtype=np.int64),
        "model.activations": np.array([layer.activation for layer in layers]),
    }
    for i, layer in enumerate(layers):
        arrays[f"layers.{i}.W"] = np.asarray(layer.W.data)
        arrays[f"layers.{i}.b"] = np.asarray(layer.b.data)
    return arrays


def _write_npz(file, arrays):
    """Write ``arrays`` as a compressed ``.npz`` archive to an open binary file."""
    np.savez_compressed(file, **arrays)


def _read_umask():
    mask = os.umask(0)  # the only portable way to read it is to set it, and set it back
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import, rather than while other threads may create files


def _atomic_write(path, arrays):
    """Write the archive to a temporary file in the same directory, fsync it, then rename it to ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: there is no directory {directory}")
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; give it a normal file's mode
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
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


def save_model(model, path):
    """Save ``model`` (a :class:`minigrad.tensor_nn.MLP`, ``Layer`` or ``Linear``) to ``path``.

    ``.npz`` is added to the name if it is missing. Returns the path written.
    """
    path = model_path(path)
    _atomic_write(path, _model_arrays(model))
    return path


# ----- reading ------------------------------------------------------------------

def _resolve(path):
    """The file to read: ``path`` itself if it exists, else ``path + '.npz'``."""
    path = os.fspath(path)
    if os.path.exists(path):
        return path
    with_suffix = model_path(path)
    if with_suffix != path and os.path.exists(with_suffix):
        return with_suffix
    tried = path if with_suffix == path else f"{path} or {with_suffix}"
    raise FileNotFoundError(f"cannot load a minigrad model: there is no file {tried}")


def _read_archive(path):
    """Every array in the ``.npz`` file ``path``, as a dict, or a ModelFileError saying what is wrong."""
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory, not a minigrad model file")
    if os.path.getsize(path) == 0:
        raise ModelFileError(f"{path} is empty: not a minigrad model file (was its saving interrupted?)")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path} holds a single NumPy array (.npy), not a minigrad model (.npz archive)")
        with archive:
            if "minigrad.format" not in archive.files:  # say so before reading anything else
                names = ", ".join(sorted(archive.files)[:8]) or "nothing"
                raise ModelFileError(f"{path} is an .npz archive but not a minigrad model file: it holds "
                                     f"{names}, without the minigrad.format marker")
            arrays = {name: archive[name] for name in archive.files}
        for name, value in arrays.items():
            if not isinstance(value, np.ndarray):  # NumPy hands back a member that is no array as bytes
                raise ModelFileError(f"{path} is a zip archive holding something other than NumPy arrays "
                                     f"({name!r} is not an array): not a minigrad model file")
        return arrays
    except ModelFileError:
        raise
    except ValueError as error:
        is_zip = open(path, "rb").read(2) == b"PK"
        if "pickle" in str(error) and is_zip:
            raise ModelFileError(f"{path} holds pickled Python objects, which minigrad never loads "
                                 "(unpickling can run arbitrary code): not a minigrad model file") from None
        if "pickle" in str(error):
            raise ModelFileError(f"{path} is not a NumPy .npz archive (it is neither a zip of arrays nor a "
                                 "NumPy array file): not a minigrad model file") from None
        if is_zip:
            raise ModelFileError(f"{path} is a zip archive holding something other than NumPy arrays, or "
                                 f"damaged ones ({error}): not a minigrad model file") from None
        raise ModelFileError(f"{path} is damaged: {error}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as error:
        raise ModelFileError(f"{path} is truncated or damaged, not a readable .npz archive ({error})") from None


def _text(arrays, key, path):
    value = arrays[key]
    if value.shape != () or value.dtype.kind != "U":
        raise ModelFileError(f"{path} is not a valid minigrad model file: {key} should be a string")
    return str(value)


def _check_header(arrays, path):
    if _text(arrays, "minigrad.format", path) != FORMAT:
        raise ModelFileError(f"{path} is not a minigrad model file: its format is "
                             f"{_text(arrays, 'minigrad.format', path)!r}, not {FORMAT!r}")
    version = arrays.get("minigrad.version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise ModelFileError(f"{path} is not a valid minigrad model file: it has no format version")
    if int(version) > VERSION:
        raise ModelFileError(f"{path} was written by a newer minigrad (file format version {int(version)}; "
                             f"this one reads up to {VERSION})")


def _build_model(arrays, path):
    def bad(what):
        return ModelFileError(f"{path} is not a valid minigrad model file: {what}")

    for key in ("model.kind", "model.sizes", "model.activations"):
        if key not in arrays:
            raise bad(f"it lacks {key}")
    kind = _text(arrays, "model.kind", path)
    if kind not in KINDS:
        raise bad(f"unknown model kind {kind!r}")
    sizes, activations = arrays["model.sizes"], arrays["model.activations"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2 or np.any(sizes < 1):
        raise bad(f"model.sizes should list two or more positive integers, got {sizes.tolist()}")
    if activations.dtype.kind != "U" or activations.shape != (len(sizes) - 1,):
        raise bad(f"model.activations should name one activation for each of the {len(sizes) - 1} layers")
    if kind != "MLP" and len(sizes) != 2:
        raise bad(f"a {kind} has one layer, but model.sizes lists {len(sizes) - 1}")
    layers = []
    for i, activation in enumerate(activations.tolist()):
        if activation not in nn.ACTIVATIONS:
            raise bad(f"layer {i} has unknown activation {activation!r}")
        try:
            W, b = arrays[f"layers.{i}.W"], arrays[f"layers.{i}.b"]
        except KeyError as missing:
            raise bad(f"the weights {missing.args[0]} are missing") from None
        if W.shape != (sizes[i], sizes[i + 1]) or b.shape != (sizes[i + 1],):
            raise bad(f"layer {i} should have W of shape {(int(sizes[i]), int(sizes[i + 1]))} and b of shape "
                      f"{(int(sizes[i + 1]),)}, found {W.shape} and {b.shape}")
        if W.dtype not in (np.float32, np.float64) or b.dtype != W.dtype:
            raise bad(f"layer {i} has weights of dtype {W.dtype} and {b.dtype}; expected float32 or float64")
        if kind == "Linear" and activation != "linear":
            raise bad(f"a Linear layer cannot have activation {activation!r}")
        layers.append(KINDS["Layer" if kind == "MLP" else kind]._from_arrays(W, b, activation))
    return nn.MLP.from_layers(layers) if kind == "MLP" else layers[0]


def load_model(path, expected=None):
    """The model saved in ``path`` (a ``.npz`` file; ``.npz`` may be left off the name).

    With ``expected`` (a class such as ``MLP``), the file must hold one of those.
    Raises FileNotFoundError for a missing file and :class:`ModelFileError`
    (a ValueError) for a file that is not a sound minigrad model.
    """
    path = _resolve(path)
    arrays = _read_archive(path)
    _check_header(arrays, path)
    model = _build_model(arrays, path)
    if expected is not None and not isinstance(model, expected):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a {expected.__name__}; "
                             f"use {type(model).__name__}.load or minigrad.model_files.load_model")
    return model


# ----- checkpoints: model + optimizer state + your own info ----------------------------

def _encode(value, arrays):
    """``value`` as JSON-ready data; NumPy arrays and scalars go to ``arrays`` and are
    referenced by index, so that they are stored bit for bit, dtype included."""
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
        return {"__dict__": [[key, _encode(v, arrays)] for key, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save a {type(value).__name__} in a checkpoint; use numbers, strings, "
                    "lists, tuples, dicts and NumPy arrays")


def _decode(data, arrays):
    if isinstance(data, list):
        return [_decode(v, arrays) for v in data]
    if isinstance(data, dict):
        if "__array__" in data:
            return arrays[data["__array__"]].copy()
        if "__scalar__" in data:
            return arrays[data["__scalar__"]][()]
        if "__tuple__" in data:
            return tuple(_decode(v, arrays) for v in data["__tuple__"])
        if "__dict__" in data:
            return {key: _decode(v, arrays) for key, v in data["__dict__"]}
        raise ValueError(f"unexpected entry {data!r}")
    return data


def _pack(prefix, value):
    arrays = []
    document = json.dumps(_encode(value, arrays))
    packed = {f"{prefix}.json": np.array(document)}
    packed.update({f"{prefix}.{i}": array for i, array in enumerate(arrays)})
    return packed


def _unpack(prefix, stored, path):
    try:
        document = json.loads(_text(stored, f"{prefix}.json", path))
        count = sum(1 for key in stored if key.startswith(prefix + ".") and key != f"{prefix}.json")
        return _decode(document, [stored[f"{prefix}.{i}"] for i in range(count)])
    except (ValueError, KeyError, TypeError, IndexError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{path} is not a valid minigrad checkpoint: its {prefix} entry is damaged "
                             f"({error})") from None


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read: the model, the optimizer's state and your info."""

    model: object
    optimizer_state: object = None
    optimizer_type: str = None
    info: dict = field(default_factory=dict)


def save_checkpoint(model, optimizer, path, **info):
    """Save ``model``, ``optimizer.state_dict()`` and ``info`` (keyword arguments) to ``path``.

    ``info`` may hold numbers, strings, lists, tuples, dicts and NumPy arrays:
    the epoch, the step, a generator's ``bit_generator.state``... Everything is
    stored exactly, so that training resumed from the file continues exactly.
    ``optimizer`` may be None. ``.npz`` is added if missing; returns the path.
    """
    path = model_path(path)
    arrays = _model_arrays(model)
    if optimizer is not None:
        arrays["optimizer.type"] = np.array(type(optimizer).__name__)
        arrays.update(_pack("optimizer.state", optimizer.state_dict()))
    arrays.update(_pack("info", info))
    _atomic_write(path, arrays)
    return path


def _copy_weights(source, target, path):
    source_layers = source.layers if isinstance(source, nn.MLP) else [source]
    target_layers = target.layers if isinstance(target, nn.MLP) else [target]
    shape = [(layer.W.data.shape, layer.activation, layer.W.data.dtype) for layer in source_layers]
    wanted = [(layer.W.data.shape, layer.activation, layer.W.data.dtype) for layer in target_layers]
    if type(source) is not type(target) or shape != wanted:
        raise ValueError(f"{path} holds {source!r} ({source.dtype}), which does not match the model given, "
                         f"{target!r} ({target.dtype})")
    for p, q in zip(target.parameters(), source.parameters()):
        p.data = q.data.copy()


def load_checkpoint(path, model=None, optimizer=None):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Given ``model``, its weights are replaced by the saved ones (the
    architecture must match); otherwise a new model is built. Given
    ``optimizer`` (built over that model's parameters), its state is restored
    with ``load_state_dict`` (given an optimizer but no model, only the
    optimizer's state is restored). Returns a :class:`Checkpoint` with ``.model``,
    ``.optimizer_state``, ``.optimizer_type`` and ``.info``.
    """
    path = _resolve(path)
    arrays = _read_archive(path)
    _check_header(arrays, path)
    saved = _build_model(arrays, path)
    info = _unpack("info", arrays, path) if "info.json" in arrays else {}
    state = kind = None
    if "optimizer.state.json" in arrays:
        kind = _text(arrays, "optimizer.type", path) if "optimizer.type" in arrays else None
        state = _unpack("optimizer.state", arrays, path)
    if model is not None:
        _copy_weights(saved, model, path)
    else:
        model = saved
    if optimizer is not None:
        if state is None:
            raise ModelFileError(f"{path} holds no optimizer state (it was saved without an optimizer)")
        if kind != type(optimizer).__name__:
            raise ValueError(f"{path} holds the state of a {kind} optimizer, not of a {type(optimizer).__name__}")
        optimizer.load_state_dict(state)
    return Checkpoint(model, state, kind, info)
