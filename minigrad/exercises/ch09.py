"""Checkers for the exercises of chapter 9, Training for real.

Each prints PASS, or FAIL with what is wrong (which call, which entry),
without printing the expected answer; each also returns True or False.
Answers are tried on a case named in the messages and on cases drawn afresh
on every run (whose messages name no drawn number); the package's (and
scikit-learn's, if imported) ready-made versions are traps while they run.
"""
import sys

import numpy as np

from minigrad import datasets, optim
from minigrad.exercises.your_engine import keep
from minigrad.exercises import (NOT_FILLED_IN_CODE as NOT_FILLED_IN, as_numbers, describe_error,
                                forbidding, fresh_rng, is_placeholder, report, report_raised,
                                reports_forbidden, unusable_function)
from minigrad.exercises.what_runs import without_engines

__all__ = ["check_stratified_split", "check_precision_recall", "check_adam_step",
           "check_optimizer"]

WRITE_IT = "the exercise asks you to write it with NumPy"


def _library_entries(sklearn_names):
    """The package's split, and scikit-learn's ``sklearn_names`` if the reader imported it."""
    entries = [(datasets, "train_test_split", "minigrad's train_test_split")]
    for module_name, names in sklearn_names:
        library = sys.modules.get(module_name)
        entries += [(library, name, f"scikit-learn's {name}") for name in names
                    if library is not None]
    return entries


# ----- exercise 9.1: a stratified split ------------------------------------------------

def _split_problem(result, y, fraction, call, named=True):
    """What is wrong with ``result`` as a stratified split of ``y`` (a sentence), or None;
    unless ``named``, the sentence names no example, class or count (they are drawn)."""
    try:
        train, test = (np.asarray(part) for part in result)
    except (TypeError, ValueError):
        return f"{call} should return two index arrays, (train, test)"
    for name, part in (("train", train), ("test", test)):
        if part.ndim != 1 or (part.size and part.dtype.kind not in "iu"):
            return (f"{call}: the {name} indices should be a 1-d array of integers, got shape "
                    f"{part.shape} of dtype {part.dtype}")
    n = len(y)
    everything = np.concatenate([train, test])
    if everything.size and (everything.min() < 0 or everything.max() >= n):
        return f"{call}: an index lies outside " + (f"0..{n - 1}" if named else "the examples")
    counts = np.bincount(everything, minlength=n)
    if np.any(counts > 1):
        where = "in both sets" if np.intersect1d(train, test).size else "twice in one set"
        which = f"example {int(np.argmax(counts > 1))}" if named else "an example"
        return f"{call}: {which} appears {where}"
    if np.any(counts == 0):
        which = f"example {int(np.argmax(counts == 0))}" if named else "an example"
        return f"{call}: {which} is in neither set"
    for c in np.unique(y):
        in_class = int(np.sum(y == c))
        in_test = int(np.sum(y[test] == c))
        if abs(in_test - fraction * in_class) >= 1:
            if not named:
                how = "many" if in_test > fraction * in_class else "few"
                return (f"{call}: a class has too {how} of its examples in the test set; a "
                        f"fraction {fraction} of each class should be (up to rounding)")
            return (f"{call}: class {c} has {in_class} examples and {in_test} of them in the test "
                    f"set; a fraction {fraction} of each class should be (up to rounding)")
    return None


def _split_cases(rng):
    """(labels, fraction, description, named): labels sorted by class, named in messages;
    then shuffled labels with a class of one example, and ten classes, drawn per run."""
    sorted_labels = np.repeat(np.arange(3), [50, 30, 20])
    counts = np.concatenate([rng.integers(5, 45, size=4), [1]])
    shuffled = rng.permutation(np.repeat(rng.permutation(5), counts))
    return [(sorted_labels, 0.2, "100 labels sorted by class", True),
            (shuffled, 0.25, "shuffled labels of 5 classes, one of them a single example", False),
            (rng.integers(0, 10, size=int(rng.integers(200, 400))), 0.3,
             "labels of 10 classes drawn at random", False)]


@reports_forbidden("stratified_split")
def check_stratified_split(stratified_split):
    """Exercise 9.1: ``stratified_split(y, test_fraction, rng)`` returns index arrays
    ``(train, test)`` that split the examples so that every class puts (up to rounding) the
    fraction ``test_fraction`` of its examples in the test set, chosen at random with ``rng``."""
    what = "stratified_split"
    unusable = unusable_function(what, stratified_split, "stratified_split", NOT_FILLED_IN)
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    seed, other_seed = (int(n) for n in rng.choice(2**31, size=2, replace=False))
    entries = _library_entries([("sklearn.model_selection",
                                 ("train_test_split", "StratifiedShuffleSplit"))])

    def split(y, fraction, seed):
        with forbidding(entries, [stratified_split], WRITE_IT):
            return without_engines(WRITE_IT, stratified_split, y.copy(), fraction,
                                   np.random.default_rng(seed))

    cases = _split_cases(rng)
    for y, fraction, description, named in cases:
        call = f"stratified_split(y, {fraction}, rng) for {description}"
        try:
            result = split(y, fraction, seed)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report_raised(what, call, error)
        if is_placeholder(result) or (isinstance(result, tuple)
                                      and any(is_placeholder(r) for r in result)):
            return report(False, what, f"{call} returned {result!r}: " + NOT_FILLED_IN)
        problem = _split_problem(result, y, fraction, call, named)
        if problem:
            return report(False, what, problem)
    y, fraction = cases[0][0], 0.2
    try:
        first, again, other = (np.sort(split(y, fraction, s)[1]) for s in (seed, seed, other_seed))
    except Exception as error:
        return report_raised(what, "stratified_split(y, 0.2, rng)", error)
    shares = [(0, 10), (1, 6), (2, 4)]
    ends = [np.sort(np.concatenate([np.flatnonzero(y == c)[:k] for c, k in shares])),
            np.sort(np.concatenate([np.flatnonzero(y == c)[-k:] for c, k in shares]))]
    if any(np.array_equal(first, end) for end in ends):
        return report(False, what, "for labels sorted by class, the test set takes the first (or "
                                   "last) examples of each class: choose them at random with rng")
    if not np.array_equal(first, again):
        return report(False, what, "two generators made from the same seed gave different test "
                                   "sets: draw from the rng argument, not from another source of "
                                   "randomness")
    if np.array_equal(first, other):
        return report(False, what, "generators made from different seeds gave the same test set: "
                                   "the choice should come from rng")
    return report(True, what + ": every class split in the right proportion, at random, "
                               "reproducibly")


# ----- exercise 9.2: precision and recall ----------------------------------------------

def _precision_recall(matrix):
    """Precision: the diagonal over the column sums; recall: over the row sums; 0 where a
    sum is 0. Plain NumPy, as the exercise asks."""
    matrix = np.asarray(matrix, dtype=float)
    diagonal = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(diagonal, predicted, out=np.zeros_like(diagonal), where=predicted > 0)
    recall = np.divide(diagonal, actual, out=np.zeros_like(diagonal), where=actual > 0)
    return precision, recall


def _confusion_matrices(rng):
    """(matrix, description, named): a 3x3 matrix named in messages, then a 10x10 and a
    4x4 with a class never predicted (2) and one that never occurs (3), drawn per run."""
    named = np.random.default_rng(9)
    found = []
    for k, generator in ((3, named), (10, rng), (4, rng)):
        matrix = generator.integers(0, 6, size=(k, k)) + np.diag(generator.integers(5, 40, size=k))
        description = f"precision_recall(C) for a {k}x{k} confusion matrix"
        if k == 4:
            matrix[:, 2] = 0  # class 2 is never predicted
            matrix[3, :] = 0  # class 3 never occurs
            description += " with a class never predicted and a class that never occurs"
        if generator is rng:
            description += " drawn at random"
        found.append((matrix, description, generator is named))
    return found


@reports_forbidden("precision_recall")
def check_precision_recall(precision_recall):
    """Exercise 9.2: ``precision_recall(C)`` returns ``(precision, recall)``, one number per
    class, from a confusion matrix ``C`` whose entry [i, j] counts the examples of true class
    i predicted as j. Precision of class j: the fraction of the examples predicted j that are
    j; recall of class i: the fraction of the examples of class i predicted i. A class that
    is never predicted (or never occurs) gets a precision (or recall) of 0."""
    what = "precision_recall"
    unusable = unusable_function(what, precision_recall, "precision_recall", NOT_FILLED_IN)
    if unusable is not None:
        return unusable
    entries = _library_entries([("sklearn.metrics", ("precision_recall_fscore_support",
                                                     "precision_score", "recall_score"))])
    cases = _confusion_matrices(fresh_rng())
    for matrix, call, named in cases:
        k = len(matrix)
        try:
            with forbidding(entries, [precision_recall], WRITE_IT):
                result = without_engines(WRITE_IT, precision_recall, matrix.copy())
        except Exception as error:
            return report_raised(what, call, error)
        if is_placeholder(result) or (isinstance(result, tuple)
                                      and any(is_placeholder(r) for r in result)):
            return report(False, what, f"{call} returned {result!r}: " + NOT_FILLED_IN)
        try:
            precision, recall = (np.asarray(part, dtype=float) for part in result)
        except (TypeError, ValueError):
            return report(False, what, f"{call} should return two arrays, (precision, recall)")
        expected_precision, expected_recall = _precision_recall(matrix)
        for name, got in (("precision", precision), ("recall", recall)):
            if got.shape != (k,):
                return report(False, what, f"{call}: {name} has shape {got.shape}; it should hold "
                                           f"one number per class, shape ({k},)")
        if np.allclose(precision, expected_recall) and np.allclose(recall, expected_precision) \
                and not np.allclose(precision, expected_precision):
            return report(False, what, f"{call}: precision and recall are swapped (rows of C are "
                                       "the true classes, columns the predictions)")
        for name, got, expected in (("precision", precision, expected_precision),
                                    ("recall", recall, expected_recall)):
            if np.any(np.isnan(got)):
                j = int(np.argmax(np.isnan(got)))  # only where a sum is 0: a class named above
                return report(False, what, f"{call}: the {name} of class {j} is nan; a class with "
                                           "nothing to divide by gets 0")
            if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                j = int(np.argmax(~np.isclose(got, expected, rtol=1e-9, atol=1e-12)))
                which = f"class {j}" if named else "some class"
                return report(False, what, f"{call}: the {name} of {which} is wrong")
    return report(True, what + f": right for all {len(cases)} confusion matrices")


# ----- exercise 9.3: one Adam step ---------------------------------------------------

def _adam_reference(p, g, m, v, t, lr, beta1, beta2, eps):
    """Adam's update number t, written here in plain NumPy (not taken from minigrad.optim)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _optimizer_entries():
    entries = [(optim.Adam, "__init__", "minigrad's Adam"),
               (optim.Adam, "step", "minigrad's Adam.step()")]
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch.optim.Adam, "__init__", "PyTorch's Adam"))
    return entries


WRITE_THE_STEP = "the exercise asks you to write the step"


def check_adam_step(adam_step):
    """Exercise 9.3, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 9, 3, _check_adam_step, adam_step=adam_step)


@reports_forbidden("adam_step")
def _check_adam_step(adam_step):
    """Exercise 9.3: ``adam_step(p, g, m, v, t, lr, beta1, beta2, eps)`` returns the new
    ``(p, m, v)`` after Adam's update number ``t`` (counted from 1), as NumPy arrays.

    Five steps on a problem whose parameters have gradients of very different sizes
    (its target and start drawn at random on each run) are compared, step by step, with
    Adam's equations written out here; minigrad's ``Adam`` is a trap while it runs.
    """
    what = "adam_step"
    unusable = unusable_function(what, adam_step, "adam_step", NOT_FILLED_IN)
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    scales = np.array([[100.0, 1.0, 0.01], [3.0, 0.3, 30.0]])  # gradients of very different sizes
    target = rng.normal(size=(2, 3))
    lr, beta1, beta2, eps = 0.05, 0.8, 0.99, 1e-8

    def gradient(p):
        return 2 * scales * (p - target)  # of sum(scales * (p - target)²)

    start = rng.normal(size=(2, 3))
    reference = (start.copy(), np.zeros((2, 3)), np.zeros((2, 3)))
    p, m, v = start.copy(), np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(1, 6):
        g = gradient(p)
        call = f"adam_step(p, g, m, v, t={t}, ...)"
        previous = p.copy()
        try:
            with forbidding(_optimizer_entries(), [adam_step], WRITE_THE_STEP):
                result = without_engines(WRITE_THE_STEP, adam_step, p.copy(), g.copy(),
                                         m.copy(), v.copy(), t, lr, beta1, beta2, eps)
        except Exception as error:
            return report_raised(what, call, error)
        # the step expected, worked out only now: not in the checker's frame while it ran
        reference = _adam_reference(reference[0], gradient(reference[0]), reference[1],
                                    reference[2], t, lr, beta1, beta2, eps)
        if is_placeholder(result):
            return report(False, what, f"{call} returned {result!r}: " + NOT_FILLED_IN)
        try:
            p, m, v = (np.asarray(x, dtype=float) for x in result)
        except (TypeError, ValueError):
            return report(False, what, f"{call} should return the three arrays (p, m, v)")
        for name, got, expected in (("m", m, reference[1]), ("v", v, reference[2]),
                                    ("p", p, reference[0])):
            if got.shape != expected.shape:
                return report(False, what, f"{call}: the new {name} has shape {got.shape}, not "
                                           f"{expected.shape}")
            if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                detail = {"m": "m (the running average of the gradients)",
                          "v": "v (the running average of the squared gradients)",
                          "p": "the new p"}[name]
                hint = ""
                m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
                eps_inside = previous - lr * m_hat / np.sqrt(v_hat + eps)
                if name == "p" and np.allclose(got, eps_inside, rtol=1e-9, atol=1e-12):
                    hint = ("; m and v agree, and so does the bias correction: the difference "
                            "is where eps goes (it is added after the square root is taken, not "
                            "inside it)")
                elif name == "p" and t == 1:
                    hint = ("; m and v agree, so look at the step itself (is each average "
                            "corrected for its start at 0?)")
                elif name == "p":
                    hint = "; m and v agree, so look at the step itself"
                return report(False, what, f"after step {t}, {detail} differs from Adam's{hint}")
    return report(True, what, "five steps agree with Adam's equations")


# ----- exercise 9.4: your engine's Adam and mini-batches -------------------------------

OPTIMIZER = "Adam and Batches"


class _Parameter:
    """What an optimizer updates: ``data``, and the ``grad`` a backward pass left."""

    def __init__(self, data):
        self.data, self.grad = data, None


def _adam_problem(Adam, rng):
    """What is wrong with the reader's Adam (a sentence), or None: five steps with
    gradients drawn at random (the second parameter's missing in step 3) against Adam's
    equations, ``zero_grad``, and ``state_dict`` carried into a new Adam."""
    lr, betas, eps = 0.05, (0.8, 0.99), 1e-8
    starts = [rng.normal(size=(2, 3)), rng.normal(size=4)]
    params = [_Parameter(start.copy()) for start in starts]
    reference = [[start.copy(), np.zeros_like(start), np.zeros_like(start)] for start in starts]
    try:
        optimizer = Adam(params, lr=lr, betas=betas, eps=eps)
    except Exception as error:
        return f"Adam(params, lr=..., betas=..., eps=...) raised {describe_error(error)}"
    if not vars(optimizer):
        return "Adam's __init__ keeps nothing (not filled in yet?)"
    for t in range(1, 6):
        grads = [rng.normal(size=s.shape) * scale for s, scale in zip(starts, (100.0, 0.01))]
        if t == 3:
            grads[1] = None  # a parameter this loss does not use
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.copy()
        try:
            optimizer.step()
        except Exception as error:
            return f"step {t} raised {describe_error(error)}"
        for i, (p, g) in enumerate(zip(params, grads)):
            if g is not None:
                reference[i] = list(_adam_reference(*reference[i][:1], g, *reference[i][1:], t,
                                                    lr, *betas, eps))
            expected = reference[i][0]
            got = as_numbers(p.data)
            if got is None or got.shape != expected.shape or \
                    not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                if g is None:
                    return (f"in step {t}, a parameter whose grad is None changed: a loss that "
                            "does not use it leaves it, and its averages, alone")
                return (f"after step {t}, parameter {i} differs from Adam's equations (t counts "
                        "the steps from 1; every parameter has its own m and v)")
    try:
        optimizer.zero_grad()
    except Exception as error:
        return f"zero_grad() raised {describe_error(error)}"
    if any(p.grad is not None and np.any(p.grad) for p in params):
        return "after zero_grad(), a parameter still holds a gradient"
    try:
        state = optimizer.state_dict()
        copies = [_Parameter(p.data.copy()) for p in params]
        resumed = Adam(copies, lr=0.5, betas=(0.5, 0.5), eps=1.0)
        resumed.load_state_dict({key: np.asarray(value) for key, value in state.items()})
    except Exception as error:
        return f"state_dict() or load_state_dict() raised {describe_error(error)}"
    if any(np.asarray(value).dtype == object for value in state.values()):
        return "state_dict() should hold numbers and arrays only, which np.savez stores"
    for t in range(2):
        grads = [rng.normal(size=s.shape) for s in starts]
        for group in (params, copies):
            for p, g in zip(group, grads):
                p.grad = g.copy()
        optimizer.step()
        resumed.step()
    if not all(np.array_equal(p.data, q.data) for p, q in zip(params, copies)):
        return ("an Adam given the first one's state_dict() (with other settings to start "
                "with) does not carry on as the first one does: the state must hold every "
                "setting, the step count and each parameter's m and v")
    return None


def _batches_problem(Batches, rng):
    """What is wrong with the reader's Batches (a sentence), or None."""
    n, size = int(rng.integers(40, 80)), 8
    X = rng.normal(size=(n, 3))
    X[:, 0] = np.arange(n)  # each row knows its number
    y = np.arange(n) * 10
    seed = int(rng.integers(2**31))
    call = f"Batches(X, y, {size}, seed)"
    try:
        batches, other = Batches(X.copy(), y.copy(), size, seed), Batches(X.copy(), y.copy(),
                                                                            size, seed + 1)
        if not vars(batches):
            return "Batches' __init__ keeps nothing (not filled in yet?)"
        epochs = [[(np.asarray(xb), np.asarray(yb)) for xb, yb in batches] for _ in range(2)]
        batches.epoch = 1
        again = [(np.asarray(xb), np.asarray(yb)) for xb, yb in batches]
        elsewhere = [(np.asarray(xb), np.asarray(yb)) for xb, yb in other]
    except Exception as error:
        return f"{call} raised {describe_error(error)}"
    for number, epoch in enumerate(epochs):
        sizes = [len(xb) for xb, _ in epoch]
        if not sizes or any(s != size for s in sizes[:-1]) or not 0 < sizes[-1] <= size:
            return f"an epoch of {call} should be batches of {size} rows (the last may be smaller)"
        rows = np.concatenate([xb[:, 0] for xb, _ in epoch]).astype(int)
        if sorted(rows.tolist()) != list(range(n)):
            return f"an epoch of {call} should give every example exactly once"
        labels = np.concatenate([yb for _, yb in epoch])
        if not np.array_equal(labels, rows * 10):
            return f"in {call}, a batch's labels do not belong to its rows of X"
        if np.array_equal(rows, np.arange(n)):
            return f"{call} gives the examples in their stored order: shuffle them"
    order = [np.concatenate([xb[:, 0] for xb, _ in epoch]) for epoch in epochs + [again, elsewhere]]
    if np.array_equal(order[0], order[1]):
        return f"two epochs of {call} come in the same order: draw a new order every epoch"
    if not np.array_equal(order[1], order[2]):
        return ("after setting epoch back to 1, the batches differ from those of epoch 1: the "
                "order should depend on the seed and the epoch only (as DataLoader's does)")
    if np.array_equal(order[0], order[3]):
        return "two Batches made with different seeds give the same order"
    return None


def check_optimizer(Adam, Batches):
    """Exercise 9.4, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 9, 4, _check_optimizer, Adam=Adam, Batches=Batches)


@reports_forbidden(OPTIMIZER)
def _check_optimizer(Adam, Batches):
    """Exercise 9.4: your engine's ``Adam(params, lr, betas, eps)`` (``step``,
    ``zero_grad``, ``state_dict``/``load_state_dict``) against Adam's equations, and
    ``Batches(X, y, batch_size, seed)``, whose epochs each give every example once, in
    an order fixed by the seed and ``epoch``; on numbers drawn afresh on every run, with
    minigrad's (and PyTorch's) optimizers and minigrad's DataLoader as traps."""
    if is_placeholder(Adam) or is_placeholder(Batches):
        return report(False, OPTIMIZER, NOT_FILLED_IN)
    rng = fresh_rng()
    entries = _optimizer_entries() + [(optim.SGD, "step", "minigrad's SGD.step()"),
                                      (datasets.DataLoader, "__iter__", "minigrad's DataLoader"),
                                      (datasets.DataLoader, "order", "minigrad's DataLoader")]
    write_them = "the exercise asks you to write them"
    with forbidding(entries, [Adam, Batches], write_them):
        problem = without_engines(write_them, lambda: _adam_problem(Adam, rng)
                                  or _batches_problem(Batches, rng))
    if problem:
        return report(False, OPTIMIZER, problem)
    return report(True, OPTIMIZER, "five steps agree with Adam's equations, and its state "
                                   "carries over; every epoch of batches gives each example "
                                   "once, shuffled by the seed and the epoch")
