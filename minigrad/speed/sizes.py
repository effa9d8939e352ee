"""Checks of the sizes every measurement is given: a clear error for a bad one."""
import numpy as np


def positive_int(value, what):
    """``value`` as an int if it is a whole number of at least 1, else a TypeError
    or a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive whole number, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def growing_sizes(values, what):
    """``values`` as a list of ints growing from left to right, else a TypeError or ValueError."""
    values = [positive_int(v, f"each of {what}") for v in values]
    if not values:
        raise ValueError(f"{what} lists no size")
    if sorted(set(values)) != values:
        raise ValueError(f"{what} must grow from left to right without repeats, got {values}")
    return values
