"""Checks and constants that more than one part of minigrad relies on, each written once.

A mistake in a call should fail at once with a message that names the
argument and what was wrong with it, rather than deep inside a computation or,
worse, not at all.
"""
import numbers

import numpy as np

#: The number types a Tensor (and a Tensor network's parameters) may hold.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def check_float_dtype(dtype, what="a Tensor"):
    """``dtype`` as a NumPy dtype if it is float64 or float32, else a TypeError."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{what} holds float64 or float32 numbers; {dtype!r} is not a dtype") from None
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{what} holds float64 or float32 numbers, not {dtype}")
    return dtype


def check_name(name):
    """``name`` if it is a str (a node's label, for drawings and messages), else a TypeError."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (a label), got {type(name).__name__} {name!r}")
    return name


def check_positive_int(value, name):
    """``value`` as an int if it is a whole number of at least 1 (not a bool), else a ValueError."""
    if type(value) is int and value >= 1:  # the usual case, without the slower checks below
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_activation(name, choices):
    """``name`` if it is one of the activation ``choices``, else a ValueError listing them."""
    if not isinstance(name, str) or name not in choices:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(choices)}")
    return name


# ----- class labels (the losses, the datasets, the tensor engine's cross_entropy) -----

_LARGEST_INDEX = np.iinfo(np.intp).max
_KINDS = {"f": "float", "c": "complex", "U": "text", "S": "bytes", "O": "object", "M": "date", "m": "time"}


def _node_data(x):
    """A Value's number or a Tensor's array (graph nodes have ``_prev``); anything else as it is."""
    return x.data if hasattr(x, "_prev") and hasattr(x, "data") else x


def check_class_labels(labels, n, n_classes=None, what="targets", *, caller="cross_entropy", rows="rows of logits"):
    """``labels`` as an ``intp`` array of shape (n,) of class indices, else a ValueError.

    Class labels for classification are whole numbers 0, 1, ..., ``n_classes - 1``,
    one per example. They may come as integers, as whole numbers stored as
    floats (a Tensor holds floats, so a DataLoader serves labels that way) or
    as booleans (False/True for classes 0/1); as a list, an array or a Tensor.
    ``n`` is the number of examples (``None``: any number); with ``n_classes``
    given, a label of ``n_classes`` or more is refused too. ``what``, ``caller``
    and ``rows`` word the messages: "cross_entropy: 3 rows of logits but
    targets of shape (2,)", "cross_entropy: target 5 is not a class index in 0..2".
    """
    if n_classes is not None:
        n_classes = check_positive_int(n_classes, "n_classes")
    if type(labels) is np.ndarray:  # the usual case in a training loop: nothing to unwrap
        array = labels
    else:
        data = _node_data(labels)  # a Tensor's array
        if isinstance(data, (list, tuple)):
            data = [_node_data(x) for x in data]  # a list of Values
        try:
            array = np.asarray(data)
        except (TypeError, ValueError):
            raise ValueError(f"{caller}: {what} must be integer class indices, one per example, "
                             f"got {labels!r}") from None
    if n is not None and array.shape != (n,):
        hint = " (a column of labels? flatten it with .reshape(-1))" if array.shape == (n, 1) else ""
        counted = rows if n != 1 else rows.replace("rows", "row", 1)
        raise ValueError(f"{caller}: {n} {counted} but {what} of shape {array.shape}{hint}")
    if n is None and array.ndim != 1:
        raise ValueError(f"{caller}: {what} must hold one class index per example, shape (n,), "
                         f"got shape {array.shape}")
    if array.dtype.kind == "b":
        array = array.astype(np.intp)
    elif array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array))
        if not np.all(whole):
            raise ValueError(f"{caller}: {what} must be integer class indices, "
                             f"got float values such as {array[~whole][0].item()!r}")
    elif array.dtype.kind not in "iu":
        kind = _KINDS.get(array.dtype.kind, str(array.dtype))
        example = array.ravel()[0].item() if array.size else None
        raise ValueError(f"{caller}: {what} must be integer class indices, got {kind} values such as {example!r}")
    top = _LARGEST_INDEX if n_classes is None else n_classes - 1
    # Seen as unsigned numbers, negative labels are huge: for labels of the usual
    # kind (intp), one max() finds both kinds of bad label.
    if array.size and (array.dtype != np.intp or array.view(np.uintp).max() > top):
        low, high = array.min(), array.max()
        one = what[:-1] if what.endswith("s") else what
        if low < 0:
            where = f"in 0..{top}" if n_classes is not None else "(class indices start at 0)"
            raise ValueError(f"{caller}: {one} {int(low)} is not a class index {where}")
        if high > top:
            where = f"in 0..{top}" if n_classes is not None else "(too large)"
            raise ValueError(f"{caller}: {one} {int(high)} is not a class index {where}")
    return array.astype(np.intp, copy=False)


# ----- numbers that set up a computation: optimizers' settings, checkpoints' step counts -----

def _number(value):
    """``value`` as a Python number if it is a real number (a 0-d NumPy array counts), else None.

    A bool is no number here: ``lr=True`` is a mistake, not 1.0.
    """
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]  # what np.savez/np.load hand back for a stored number
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return value


def check_finite_real(value, name, low=None, high=None, *, low_open=False, high_open=False):
    """``value`` as a float if it is a finite real number within the bounds, else an error naming ``name``.

    ``low``/``high`` (None: no bound) are included unless ``low_open``/``high_open``:
    ``check_finite_real(b, "beta1", 0, 1, high_open=True)`` accepts 0 <= b < 1.
    A value that is no number (a string, a list, a bool) is a TypeError; NaN,
    an infinity or a number out of range is a ValueError.
    """
    number = _number(value)
    if number is None:
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    number = float(number)
    if low is not None and high is not None:
        wanted = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        wanted = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        wanted = f"{'<' if high_open else '<='} {high:g}"
    else:
        wanted = ""
    if (not np.isfinite(number)
            or (low is not None and (number <= low if low_open else number < low))
            or (high is not None and (number >= high if high_open else number > high))):
        raise ValueError(f"{name} must be a finite number{' ' + wanted if wanted else ''}, got {number!r}")
    return number


def check_nonnegative_int(value, name):
    """``value`` as an int if it is a whole number of at least 0 (not a bool), else an error naming ``name``."""
    number = _number(value)
    if number is None or not isinstance(number, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")
    if number < 0:
        raise ValueError(f"{name} must be 0 or more, got {value!r}")
    return int(number)
