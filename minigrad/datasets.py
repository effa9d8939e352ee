"""Small datasets to learn from, made on the spot or shipped inside the package.

Every generator returns NumPy arrays: ``X`` of shape (n_samples, n_features),
one row per example, and ``y`` of shape (n_samples,), integer class labels for
the classification sets and floats for regression. Each takes a ``seed``: the
same seed gives the same data, and ``seed=None`` gives fresh data every call.
The classification generators give every class the same number of examples
(up to one, when ``n_samples`` does not divide evenly) and shuffle the rows.

Also here: the 8x8 handwritten digits (shipped with the package, see
``minigrad/data/DIGITS_LICENSE.txt``), ``train_test_split`` and ``DataLoader``,
which serves a dataset in shuffled mini-batches of Tensors.
"""
import gzip
import math
import numbers
from importlib import resources

import numpy as np

from minigrad.checks import check_class_labels, check_finite_real

__all__ = ["make_moons", "make_circles", "make_linear_regression", "make_spirals", "make_xor",
           "load_digits", "Digits", "load_names", "train_test_split", "DataLoader"]


# ----- argument checks --------------------------------------------------------

def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_real(value, name, low=0.0, high=math.inf, low_open=False, high_open=False):
    """``value`` as a float in the interval [low, high] (open at an end if asked)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return check_finite_real(value, name, low if math.isfinite(low) else None,
                             high if math.isfinite(high) else None,
                             low_open=low_open, high_open=high_open)


def _split_evenly(n, k):
    """``n`` items as ``k`` counts that differ by at most one: 10, 3 -> [4, 3, 3]."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _shuffled(rng, X, y):
    order = rng.permutation(len(X))
    return X[order], y[order]


# ----- synthetic datasets -----------------------------------------------------

def make_moons(n_samples=100, noise=0.1, seed=None):
    """Two interleaving half circles in the plane: a classic nonlinear two-class task.

    Class 0 is the upper arc (cos t, sin t) and class 1 the lower one
    (1 - cos t, 1/2 - sin t), for t in [0, π]; ``noise`` is the standard
    deviation of the Gaussian noise added to each coordinate.
    Returns ``X`` of shape (n_samples, 2) and labels ``y`` in {0, 1}.
    """
    n_samples = _check_int(n_samples, "n_samples", 2)
    noise = _check_real(noise, "noise")
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.vstack([upper, lower])
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_circles(n_samples=100, noise=0.05, factor=0.5, seed=None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    No straight line separates them; a circle does, so a network must learn
    something like x1² + x2². Points are evenly spaced around each circle, then
    Gaussian noise of standard deviation ``noise`` is added to each coordinate.
    Returns ``X`` of shape (n_samples, 2) and labels ``y`` in {0, 1}.
    """
    n_samples = _check_int(n_samples, "n_samples", 2)
    noise = _check_real(noise, "noise")
    factor = _check_real(factor, "factor", 0.0, 1.0, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for label, (count, radius) in enumerate(zip(_split_evenly(n_samples, 2), (1.0, factor))):
        angle = np.linspace(0, 2 * np.pi, count, endpoint=False)
        parts.append(radius * np.column_stack([np.cos(angle), np.sin(angle)]))
        labels.append(np.full(count, label, dtype=np.int64))
    X = np.vstack(parts)
    X += rng.normal(scale=noise, size=X.shape)
    return _shuffled(rng, X, np.concatenate(labels))


def make_linear_regression(n_samples=100, n_features=1, noise=0.1, coef=None, bias=0.0, seed=None):
    """Targets that are a linear function of the inputs plus noise: y = X·w + bias + ε.

    The inputs are standard normal, ``X`` of shape (n_samples, n_features), and
    ε is Gaussian with standard deviation ``noise``. The true coefficients w:

    * ``coef=None`` or ``False``: drawn uniformly from [-2, 2]; returns ``X, y``;
    * ``coef=True``: drawn the same way; returns ``X, y, w`` so you can compare
      the weights a model learns with the true ones;
    * ``coef=`` a sequence of n_features numbers: those are w; returns ``X, y``.

    ``y`` has shape (n_samples,) and ``w`` shape (n_features,), all float64.
    """
    n_samples = _check_int(n_samples, "n_samples", 1)
    n_features = _check_int(n_features, "n_features", 1)
    noise = _check_real(noise, "noise")
    bias = _check_real(bias, "bias", -math.inf)
    rng = np.random.default_rng(seed)
    return_coef = coef is True or coef is np.True_
    if coef is None or isinstance(coef, (bool, np.bool_)):
        w = rng.uniform(-2.0, 2.0, size=n_features)
    else:
        try:
            if isinstance(coef, (str, bytes)) or np.asarray(coef).dtype.kind not in "iuf":
                raise TypeError  # "1" would be read as the number 1.0 by NumPy
            w = np.atleast_1d(np.asarray(coef, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"coef must be None, True, False or {n_features} numbers, got {coef!r}") from None
        if w.shape != (n_features,):
            raise ValueError(f"coef must hold n_features = {n_features} numbers, got shape {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError(f"coef must be finite numbers, got {coef!r}")
    X = rng.normal(size=(n_samples, n_features))
    y = X @ w + bias + rng.normal(scale=noise, size=n_samples)
    return (X, y, w.copy()) if return_coef else (X, y)


def make_spirals(n_samples=100, n_classes=2, noise=0.1, rotations=1.0, seed=None):
    """``n_classes`` spiral arms wound around the origin, one class per arm.

    Arm k is the curve r·(cos θ, sin θ) with θ = 2π·rotations·r + 2πk/n_classes,
    for radii r evenly spaced in [0, 1]: the arms are the same spiral turned by
    equal angles. More ``rotations`` (turns of each arm) make the boundary
    harder to learn. ``noise`` is the standard deviation of the Gaussian noise
    added to each coordinate.
    Returns ``X`` of shape (n_samples, 2) and labels ``y`` in {0, ..., n_classes - 1}.
    """
    n_classes = _check_int(n_classes, "n_classes", 2)
    n_samples = _check_int(n_samples, "n_samples", n_classes)
    noise = _check_real(noise, "noise")
    rotations = _check_real(rotations, "rotations", 0.0, low_open=True)
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for k, count in enumerate(_split_evenly(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, count)
        theta = 2 * np.pi * rotations * r + 2 * np.pi * k / n_classes
        parts.append(r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))
        labels.append(np.full(count, k, dtype=np.int64))
    X = np.vstack(parts)
    X += rng.normal(scale=noise, size=X.shape)
    return _shuffled(rng, X, np.concatenate(labels))


def make_xor(n_samples=200, noise=0.1, seed=None):
    """Exclusive or: points near the corners of the unit square, labelled x1 XOR x2.

    The four corners (0, 0), (0, 1), (1, 0), (1, 1), with labels 0, 1, 1, 0,
    take turns (so each class gets half the points), and Gaussian noise of
    standard deviation ``noise`` is added to each coordinate. No single line
    separates the classes: the smallest problem that needs a hidden layer.
    ``make_xor(4, noise=0)`` is the truth table itself, in shuffled order.
    Returns ``X`` of shape (n_samples, 2) and labels ``y`` in {0, 1}.
    """
    n_samples = _check_int(n_samples, "n_samples", 4)
    noise = _check_real(noise, "noise")
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    corner = np.arange(n_samples) % 4
    X = corners[corner] + rng.normal(scale=noise, size=(n_samples, 2))
    y = (corners[corner, 0] != corners[corner, 1]).astype(np.int64)
    return _shuffled(rng, X, y)


# ----- handwritten digits -----------------------------------------------------

class Digits:
    """The digits dataset: ``images`` (n, 8, 8), ``data`` (n, 64) and ``target`` (n,).

    ``data`` holds the same numbers as ``images``, each image read row by row.
    Pixels are float64 in 0..16 (how many of the 16 pixels of a 4x4 block of
    the original bitmap were dark); ``target`` holds the digits 0..9 as int64.
    It unpacks as ``X, y = load_digits()``.
    """

    def __init__(self, data, target):
        self.data = data
        self.target = target
        self.images = data.reshape(-1, 8, 8)
        self.target_names = np.arange(10)
        self.feature_names = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]

    def __iter__(self):
        return iter((self.data, self.target))

    def __len__(self):
        return len(self.target)

    def __repr__(self):
        return f"Digits({len(self)} images of 8x8 pixels, digits 0-9)"

    @property
    def DESCR(self):
        """Where the data comes from and how to cite it: the shipped licence file."""
        return resources.files("minigrad").joinpath("data", "DIGITS_LICENSE.txt").read_text(encoding="utf-8")


DIGITS_FILE = "digits.csv.gz"


def load_digits():
    """The 1,797 handwritten digits of the UCI "Optical Recognition of Handwritten
    Digits" data set (Alpaydin & Kaynak, 1998; licence CC BY 4.0), as 8x8 images.

    The file ships inside the package (``minigrad/data/digits.csv.gz``); nothing
    is downloaded. Returns a fresh :class:`Digits` each call, so changing its
    arrays changes no later call's.
    """
    source = resources.files("minigrad").joinpath("data", DIGITS_FILE)
    try:
        with source.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.float64, ndmin=2)
    except FileNotFoundError:
        raise FileNotFoundError(f"the digits data file {source} is missing: minigrad ships it in "
                                "minigrad/data/; reinstall the package") from None
    except (OSError, EOFError, ValueError) as error:
        raise ValueError(f"the digits data file {source} is damaged ({error}); reinstall the package") from None
    if table.shape != (1797, 65):
        raise ValueError(f"the digits data file {source} should hold 1797 rows of 65 numbers, "
                         f"found shape {table.shape}; reinstall the package")
    try:  # the last column: the digit each image shows, a whole number 0..9
        labels = check_class_labels(table[:, 64], len(table), 10, what="labels", caller=f"the digits data file {source}",
                                    rows="rows")
    except ValueError as error:
        raise ValueError(f"{error}: the file is damaged; reinstall the package") from None
    return Digits(np.ascontiguousarray(table[:, :64]), labels.astype(np.int64))


# ----- splitting and batching ---------------------------------------------------

def _check_pair(X, y, what):
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{what}: X must have one row per example, got a single number")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0:
            raise ValueError(f"{what}: y must have one entry per example, got a single number")
        if len(X) != len(y):
            raise ValueError(f"{what}: X has {len(X)} examples but y has {len(y)}")
    return X, y


def train_test_split(X, y, test_size=0.25, random_state=None, *, seed=None):
    """Shuffle the examples, then split them into a training and a test set.

    ``test_size`` is a fraction in (0, 1) (the test set gets ⌈fraction·n⌉
    examples) or a number of examples in [1, n - 1]. ``random_state`` (the
    name scikit-learn uses) or ``seed`` fixes the shuffle.
    Returns ``X_train, X_test, y_train, y_test``.
    """
    X, y = _check_pair(X, y, "train_test_split")
    if y is None:
        raise ValueError("train_test_split: y is required")
    if random_state is not None and seed is not None:
        raise ValueError("train_test_split: give random_state or seed, not both")
    n = len(X)
    if n < 2:
        raise ValueError(f"train_test_split: need at least 2 examples to split, got {n}")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, (bool, np.bool_)):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"train_test_split: test_size={n_test} examples must be in [1, {n - 1}] for {n} examples")
    else:
        fraction = _check_real(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True)
        n_test = math.ceil(fraction * n)
        if n_test > n - 1:
            raise ValueError(f"train_test_split: test_size={fraction} leaves no training examples out of {n}")
    order = np.random.default_rng(seed if random_state is None else random_state).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


class DataLoader:
    """Serves ``X`` (and ``y``) in mini-batches of ``batch_size`` rows, as Tensors.

    Each pass (``for xb, yb in loader:``) is one epoch over all examples; the
    batches are Tensors with ``requires_grad=False``, since data is not
    something we learn. With ``shuffle=True`` every epoch visits the examples
    in a new order, and that order depends only on ``seed`` and the epoch
    number ``loader.epoch``: set ``loader.epoch`` back to a saved value and the
    same batches come again, which is what resuming from a checkpoint needs.
    ``drop_last=True`` skips a final batch smaller than ``batch_size``.
    Without ``y``, each batch is a single Tensor. (A Tensor holds floats, so
    integer labels arrive as whole numbers in a float Tensor; the losses
    accept those as class indices.)
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=True, drop_last=False, seed=None):
        self.X, self.y = _check_pair(X, y, "DataLoader")
        self.batch_size = _check_int(batch_size, "batch_size", 1)
        if len(self.X) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        if drop_last and self.batch_size > len(self.X):
            raise ValueError(f"DataLoader: batch_size={self.batch_size} with drop_last=True "
                             f"gives no batch from {len(self.X)} examples")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = np.random.SeedSequence().entropy if seed is None else _check_int(seed, "seed", 0)
        self.epoch = 0

    def __len__(self):
        """The number of batches in one epoch."""
        full, rest = divmod(len(self.X), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self, epoch):
        """The order in which epoch number ``epoch`` visits the examples."""
        if not self.shuffle:
            return np.arange(len(self.X))
        rng = np.random.default_rng([self.seed, epoch])
        return rng.permutation(len(self.X))

    def __iter__(self):
        from minigrad.tensor import Tensor

        order = self.order(self.epoch)
        self.epoch += 1
        size = self.batch_size
        for batch in range(len(self)):
            rows = order[batch * size:(batch + 1) * size]
            xb = Tensor(self.X[rows], requires_grad=False)
            if self.y is None:
                yield xb
            else:
                yield xb, Tensor(self.y[rows], requires_grad=False)


# ----- surnames (chapters 14 and 15) -------------------------------------------

SURNAMES_FILE = "surnames.txt.gz"
SURNAMES_COUNT = 88799
NAMES_SPLIT_SEED = 1990
NAMES_SPLITS = ("train", "val", "test")


def load_names(split=None):
    """The 88,799 surnames of the 1990 US census, lower case (public domain; see
    ``minigrad/data/SURNAMES_LICENSE.txt``), as a list of strings.

    ``split=None`` gives them all, most frequent first. ``"train"``, ``"val"``
    or ``"test"`` gives one part of a fixed 80/10/10 split: the names are
    shuffled by ``np.random.default_rng(NAMES_SPLIT_SEED)`` (1990), and the
    first 80% (71,039 names) train, the next 10% (8,879) validate, the rest
    (8,881) test. Each name is in exactly one part, on every machine. The
    file ships inside the package; nothing is downloaded.
    """
    if split is not None and split not in NAMES_SPLITS:
        raise ValueError(f"load_names: split must be None (all names) or one of "
                         f"{', '.join(NAMES_SPLITS)}, got {split!r}")
    source = resources.files("minigrad").joinpath("data", SURNAMES_FILE)
    try:
        with source.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
            names = text.read().split("\n")
    except FileNotFoundError:
        raise FileNotFoundError(f"the surnames file {source} is missing: minigrad ships it in "
                                "minigrad/data/; reinstall the package") from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ValueError(f"the surnames file {source} is damaged ({error}); reinstall the package") from None
    if names and names[-1] == "":
        names.pop()
    if (len(names) != SURNAMES_COUNT or len(set(names)) != SURNAMES_COUNT
            or not all(name.isalpha() and name.islower() and name.isascii() for name in names)):
        raise ValueError(f"the surnames file {source} should hold {SURNAMES_COUNT} different lower-case "
                         f"names of letters a-z, one per line; it does not: reinstall the package")
    if split is None:
        return names
    order = np.random.default_rng(NAMES_SPLIT_SEED).permutation(len(names))
    n_train, n_val = int(0.8 * len(names)), int(0.1 * len(names))
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val),
              "test": (n_train + n_val, len(names))}[split]
    return [names[i] for i in order[bounds[0]:bounds[1]]]
