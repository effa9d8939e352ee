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


def check_positive_int(value, name):
    """``value`` as an int if it is a whole number of at least 1 (not a bool), else a ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_activation(name, choices):
    """``name`` if it is one of the activation ``choices``, else a ValueError listing them."""
    if not isinstance(name, str) or name not in choices:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(choices)}")
    return name


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
