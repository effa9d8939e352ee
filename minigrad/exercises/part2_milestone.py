"""The milestone of Part II: the digits, learned by the reader's own tensor engine.

At the end of chapter 11 the reader's ``yourgrad/tensor.py`` holds a whole
engine: ``MiniTensor`` and its operations, ``MatMul``, ``CrossEntropy``,
``Linear`` and ``MLP``, ``Adam``, ``Batches``. The milestone's exercise is
the last piece, ``train(model, optimizer, batches, epochs)``, the training
loop, timed. Its checker trains ``MLP(64, [128, 10])`` on the 8x8 digits
with it, for a fixed seed, and asks for at least 97% accuracy on a held-out
quarter of the images. While it runs, minigrad's tensors, layers, losses,
optimizers and data loader, and any autograd, are traps: only the reader's
engine can do the work. Kept from the notebook, it then runs again from the
file alone (``your_engine.keep``).
"""
import time
import types

import numpy as np

from minigrad import datasets, optim
from minigrad.exercises import (as_numbers, describe_error, forbidding,
                                is_placeholder, not_filled_in, report, reports_forbidden)
from minigrad.exercises.ch08 import layer_entries
from minigrad.exercises.your_engine import (FROM_REFERENCE, MARKER, engine_path, keep,
                                             training_problem, watching_training, wrapping)

__all__ = ["check_milestone", "milestone_summary"]

WHAT = "Part II milestone: digits by your engine"
YOURS = "the milestone asks for your own engine, layers and optimizer"
TARGET = 0.97
HIDDEN, EPOCHS, BATCH, LR, SEED = 128, 20, 32, 0.01, 0


def _package_entries():
    """Chapter 8's layer traps (any autograd, minigrad's tensors, layers and losses),
    and everything else of minigrad's that could train the network."""
    entries = layer_entries()
    entries.append((datasets.DataLoader, "__iter__", "minigrad's DataLoader"))
    for name in ("SGD", "Adam"):
        klass = getattr(optim, name)
        entries += [(klass, "__init__", f"minigrad's {name}"),
                    (klass, "step", f"minigrad's {name}.step()")]
    return entries


def digits_split():
    """The digits scaled to 0..1, split 3:1 into training and test sets (seed 0)."""
    X, y = datasets.load_digits()
    return datasets.train_test_split(X / 16.0, y, test_size=0.25, seed=0)


def _times_problem(seconds, elapsed):
    """What is wrong with the times ``train`` returned (a sentence), or None."""
    times = as_numbers(seconds)
    if times is None or times.shape != (EPOCHS,):
        return (f"train(...) should return a list of {EPOCHS} numbers, the seconds each "
                "epoch took")
    # the loop is nearly all of the training's time: making the model is quick
    if np.any(times <= 0) or not 0.5 * elapsed <= times.sum() <= elapsed:
        return ("the seconds train(...) returned are not what its epochs took (measure "
                "each with time.perf_counter())")
    return None


def _counted_passes(served):
    """A wrapper of ``Batches.__iter__`` counting the passes and the batches served."""
    def iterate(found, *args, **kwargs):
        served.passes += 1
        for batch in found(*args, **kwargs):
            served.batches += 1
            yield batch
    return iterate


@reports_forbidden(WHAT)
def _check_milestone(train, MLP, Adam, Batches, MiniTensor):
    """Train ``MLP(64, [128, 10], seed=0)`` with ``Adam(lr=0.01)`` and ``Batches`` of 32
    for 20 epochs through the reader's ``train``; PASS at a test accuracy of 97%."""
    answers = dict(train=train, MLP=MLP, Adam=Adam, Batches=Batches, MiniTensor=MiniTensor)
    unset = [name for name, answer in answers.items() if is_placeholder(answer)]
    if unset:
        return not_filled_in(WHAT, unset[0])
    X_train, X_test, y_train, y_test = digits_split()
    served = types.SimpleNamespace(passes=0, batches=0)
    started = time.perf_counter()
    try:
        with forbidding(_package_entries(), list(answers.values()), YOURS):
            model = MLP(64, [HIDDEN, 10], seed=SEED)
            optimizer = Adam(model.parameters(), lr=LR)
            batches = Batches(X_train, y_train, BATCH, SEED)
            with watching_training(MiniTensor, Adam, model.parameters()) as record, \
                    wrapping(Batches, "__iter__", _counted_passes(served)):
                seconds = train(model, optimizer, batches, EPOCHS)
            elapsed = time.perf_counter() - started
            scores = as_numbers(model(MiniTensor(X_test)).data)
    except Exception as error:  # the reader's code is under test: report, don't crash
        return report(False, WHAT, f"training raised {describe_error(error)}")
    if seconds is None or seconds is Ellipsis:
        return not_filled_in(WHAT, "train")
    problem = _times_problem(seconds, elapsed)
    if problem:
        return report(False, WHAT, problem)
    if served.passes != EPOCHS:
        return report(False, WHAT, f"train went over your Batches {served.passes} times in "
                                   f"{EPOCHS} epochs: one pass over the batches per epoch")
    problem = training_problem(record, served.batches, unit="batch")
    if problem:
        return report(False, WHAT, problem)
    if scores is None or scores.shape != (len(X_test), 10):
        return report(False, WHAT, "the model's scores for the test images should have one row "
                                   "per image and one column per digit")
    accuracy = float(np.mean(np.argmax(scores, axis=1) == y_test))
    _last_run["seconds"] = [float(t) for t in as_numbers(seconds)]
    if not accuracy >= TARGET:
        return report(False, WHAT, f"your engine reached {accuracy:.1%} test accuracy, short of "
                                   f"{TARGET:.0%}: does the loss fall from epoch to epoch? "
                                   "(Are the gradients zeroed before each backward(), and "
                                   "does Adam update every parameter?)")
    return report(True, WHAT, f"MLP(64, [{HIDDEN}, 10]), Adam and batches of {BATCH}, "
                              f"{EPOCHS} epochs, on the engine in yourgrad/tensor.py "
                              f"alone: at least {TARGET:.0%} of the test images right")


_last_run = {}  # the seconds per epoch of the last training that passed


def _pieces_by_author(path):
    """(the reader's pieces, the course's pieces) of the engine file, by their markers."""
    yours, course = [], []
    for line in path.read_text().splitlines():
        found = MARKER.match(line)
        if found:
            name = f"{found[1]}.{found[2]} {found[3]}"
            (course if line.endswith(FROM_REFERENCE) else yours).append(name)
    return yours, course


def milestone_summary():
    """Print who wrote each piece of the reader's ``yourgrad/tensor.py`` (the reader, or the
    course's solutions a catch-up filled in), and the seconds of each epoch of the last
    training that passed the milestone."""
    path = engine_path("tensor")
    if not path.exists():
        print("yourgrad/tensor.py does not exist yet: run the chapter's catch-up cell")
        return
    yours, course = _pieces_by_author(path)
    for heading, names in (("written by you", yours),
                           ("filled in from the course's solutions", course)):
        print(f"pieces of yourgrad/tensor.py {heading}: {len(names)}")
        for name in names:
            print(f"  {name}")
    seconds = _last_run.get("seconds")
    if seconds is None:
        print("the milestone has not passed in this session yet: no epochs timed")
        return
    print(f"seconds per epoch, as your train returned them ({len(seconds)} epochs):")
    for start in range(0, len(seconds), 10):
        print("  " + " ".join(f"{t:.3f}" for t in seconds[start:start + 10]))


def check_milestone(train, MLP, Adam, Batches, MiniTensor):
    """The milestone's training loop, kept in the reader's ``yourgrad/tensor.py`` once it
    passes, and passed again from the file alone."""
    return keep("tensor", 11, 4, _check_milestone, train=train, MLP=MLP, Adam=Adam,
                Batches=Batches, MiniTensor=MiniTensor)
