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
