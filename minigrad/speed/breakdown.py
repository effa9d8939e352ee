"""Where a training step's time goes, measured rather than fitted.

Two measurements, each made of times taken side by side in one process, in
processor time (``time.thread_time``: the time this thread used the processor,
which time spent waiting for a busy machine's processor does not inflate, as it
does the wall clock's):

* :func:`collector_share`, the scalar step: how much of it Python's garbage
  collector takes. The collector is timed directly, from the moment it starts
  a collection to the moment it stops (``gc.callbacks``), while the step runs
  as usual, in a loop of consecutive steps; the same step is also timed with
  the collector switched off, as a
  check (it frees the graph by reference counting either way: the engine
  makes no reference cycles).
* :func:`tensor_breakdown`, the tensor step, split in four by timing it
  beside :func:`numpy_step`, the same NumPy calls written out by hand with no
  graph, both at the size asked and at width 1 on one point (where the
  arrays hold one or two numbers): the graph's bookkeeping and NumPy's calls
  (Python's overhead, the same at every size), the arithmetic, and whatever
  other work on whole arrays the engine does beyond the hand-written step.

:func:`minigrad.speed.plots.plot_breakdown` draws both as bars of shares.
"""
import gc
import time
from contextlib import contextmanager

import numpy as np

from minigrad.speed.counts import multiply_adds, scalar_nodes
from minigrad.speed.engines import LR, make_problem, make_step
from minigrad.speed.sizes import positive_int
from minigrad.speed.timing import DEFAULT_MIN_TIME, _time_engines

__all__ = ["numpy_step", "collector_share", "tensor_breakdown"]


def numpy_step(layers, X, labels, lr=LR):
    """The tensor step's arithmetic with no graph: forward, hinge loss, backward, SGD.

    ``layers`` is a list of ``(W, b)`` arrays, updated in place; the hidden
    layers are ReLUs, the last is linear. Returns the loss, which equals the
    tensor engine's from the same weights (up to rounding).
    """
    inputs, h = [], X
    for i, (W, b) in enumerate(layers):
        inputs.append(h)
        h = h.dot(W) + b  # the same NumPy calls as the engine's MatMul
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    margins = 1.0 - labels * h
    loss = float(np.maximum(margins, 0.0).mean())
    grad = -labels * (margins > 0) / len(X)  # d loss / d scores
    for i in range(len(layers) - 1, -1, -1):
        W, b = layers[i]
        a = inputs[i]
        grad_W, grad_b = a.T.dot(grad), grad.sum(axis=0)
        if i > 0:
            grad = (grad @ W.T) * (a > 0)  # through the ReLU that made a
        W -= lr * grad_W
        b -= lr * grad_b
    return loss


class _NumpyRunner:
    """:func:`numpy_step` on a problem's data and (copied) starting weights."""

    def __init__(self, problem, name):
        self.name = name
        self.layers = problem.weights()
        self.X, self.labels = problem.X.copy(), problem.labels.copy()

    def step(self):
        return numpy_step(self.layers, self.X, self.labels)


class _CollectorClock:
    """A ``gc.callbacks`` entry adding up the seconds spent inside collections."""

    def __init__(self):
        self.seconds = 0.0
        self.collections = [0, 0, 0]  # by generation
        self._start = None

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.thread_time()
        elif self._start is not None:
            self.seconds += time.thread_time() - self._start
            self.collections[min(info["generation"], 2)] += 1
            self._start = None


@contextmanager
def _collector_clock():
    clock = _CollectorClock()
    gc.callbacks.append(clock)
    try:
        yield clock
    finally:
        gc.callbacks.remove(clock)


class _ScalarRunner:
    """The scalar step, either as usual (its collections timed) or with the collector off.

    Its runs follow one another with no collection forced between them
    (``collect_first``), as a training loop's steps do: a ``gc.collect()``
    before each run would restart the collector's count of long-lived
    objects, and with it the schedule of its full collections."""

    collect_first = False

    def __init__(self, problem, collector_on):
        self.name = "collector on" if collector_on else "collector off"
        self.collector_on = collector_on
        self.engine = make_step("scalar", problem)
        self.runs = []  # (steps, seconds in the collector, collections) per call of step()

    def step(self):
        if self.collector_on:
            with _collector_clock() as clock:
                self.engine.step()
            self.runs.append((clock.seconds, clock.collections))
            return
        gc.disable()
        try:
            self.engine.step()
        finally:
            gc.enable()


def collector_share(width, batch, repeats=5, min_time=DEFAULT_MIN_TIME, freeze=True, seed=0):
    """How much of the scalar engine's training step the garbage collector takes.

    Runs of the step with the collector on and off take turns, ``repeats``
    times each, with one ``gc.collect()`` before them all and none between
    them: the steps follow one another as in a training loop, and the
    collector keeps its own schedule across them. With ``freeze``, the
    objects that exist beforehand are frozen out of the collector's sight
    (``gc.freeze``), as :func:`~.timing.compare` does; without it, every full
    collection also walks all the objects the process holds (modules, a
    notebook's variables). Times are the processor's (``time.thread_time``),
    the step's as well as the collector's, each a mean over all the timed
    steps (a loop's total divided by its steps, so that the share is the
    loop's). Returns::

        {"width", "batch", "nodes", "frozen",
         "seconds": seconds per step, collector on,
         "collector": seconds per step inside collections,
         "without_collector": seconds per step, collector off,
         "collections": collections per step, by generation [0, 1, 2]}
    """
    repeats = positive_int(repeats, "repeats")
    problem = make_problem(width, batch, seed)
    on, off = _ScalarRunner(problem, True), _ScalarRunner(problem, False)
    gc.collect()  # once, before the loop: from here on the collector keeps its own schedule
    timed = _time_engines([on, off], repeats, min_time, freeze=freeze, clock=time.thread_time)
    runs_on, steps = timed[on.name]
    # _time_engines plans the runs with untimed steps, then makes `repeats` runs of `steps`
    every = on.runs[-repeats * steps:]
    return {"width": problem.width, "batch": problem.batch,
            "nodes": scalar_nodes(problem.width, problem.batch), "frozen": bool(freeze),
            "seconds": sum(runs_on) / repeats,  # each run's seconds are per step
            "collector": sum(s for s, _ in every) / len(every),
            "without_collector": sum(timed[off.name][0]) / repeats,
            "collections": [sum(c[g] for _, c in every) / len(every) for g in range(3)]}


def tensor_breakdown(width, batch, repeats=9, min_time=0.005, seed=0):
    """The tensor engine's training step split into Python's overhead and work on arrays.

    Four steps take turns, ``repeats`` runs each: the tensor step and the
    same arithmetic written out in NumPy (:func:`numpy_step`), each at
    ``width`` and ``batch`` and at width 1 on one point, where the arrays
    hold one or two numbers and a step is nothing but its calls. Each time
    is processor time (``time.thread_time``), the fastest of its runs, not
    their median: the parts are differences,
    and noise (which only ever adds time) would otherwise be added to or
    taken from them at random; and many short runs give a busy machine more
    chances to leave one of them alone. Returns seconds per step::

        {"width", "batch", "multiply_adds", "seconds": the tensor step,
         "bookkeeping": tensor - NumPy by hand, both at width 1 and batch 1:
                        the graph's Python work (nodes, the walk, the rules),
         "calls": NumPy by hand at width 1 and batch 1: its calls' own cost,
         "arithmetic": NumPy by hand - its calls: the arithmetic itself,
         "array_extra": the rest of the tensor step: whatever work on whole
                        arrays the engine does beyond the hand-written step}

    The first two are Python's overhead, the same at every size; the last two
    grow with the arrays. Each part is a difference of times, so at sizes
    where it is tiny, noise can make it slightly negative.
    """
    repeats = positive_int(repeats, "repeats")
    problem, tiny = make_problem(width, batch, seed), make_problem(1, 1, seed)
    tensor, tensor_tiny = make_step("tensor", problem), make_step("tensor", tiny)
    tensor_tiny.name = "tensor, width 1 and batch 1"
    runners = [tensor, tensor_tiny, _NumpyRunner(problem, "numpy"),
               _NumpyRunner(tiny, "numpy, width 1 and batch 1")]
    timed = _time_engines(runners, repeats, min_time, clock=time.thread_time)
    whole, whole_tiny, by_hand, calls = (min(timed[r.name][0]) for r in runners)
    return {"width": problem.width, "batch": problem.batch,
            "multiply_adds": multiply_adds(problem.width, problem.batch), "seconds": whole,
            "bookkeeping": whole_tiny - calls, "calls": calls, "arithmetic": by_hand - calls,
            "array_extra": (whole - by_hand) - (whole_tiny - calls)}
