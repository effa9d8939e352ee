"""Checkers for chapter 11, "Scalar vs tensor speed".

Each is tried on inputs drawn afresh on every run, whose messages name no
drawn number (the count also at sizes named in its messages); the expected
answers are closed forms, the checker's own measurement of the same
collections, or the tensor engine's own step, never the reader's method:
while the reader's code runs, the package's versions of what the exercise
asks for are traps, and running the code of an engine (minigrad's, the
reader's ``yourgrad``, PyTorch's), traced, fails the count and the step.
"""
import gc
import time

import numpy as np

from minigrad import speed
from minigrad.autograd import topological_order
from minigrad.exercises import (autograd_entries, call_answer, forbidding, fresh_rng, is_unset,
                                package_rule_entries, report, reports_forbidden, speed_entries)
from minigrad.exercises.ch06 import _ENGINES, TRACING_OFF, _traced, _TracingOff
from minigrad.speed import breakdown

WRITE_THE_COUNT = "the exercise asks you to write the count yourself"


def _speed_entries():
    """The package's counts and the machinery they read, traps while the reader's count runs."""
    return speed_entries(("multiply_adds", "scalar_nodes", "count_nodes", "make_problem",
                          "make_step"))


def _call_without_engines(what, function, *args):
    """:func:`call_answer`, traced: ``(ok, result)``, ``ok`` False (with the FAIL printed) if
    ``function`` ran an engine's code (``task``: what the exercise asks instead) or turned
    the tracing off."""
    try:
        (ok, result), _, module = _traced(call_answer, what, function, *args,
                                          watched=_ENGINES)
    except _TracingOff:
        return report(False, what, f"your function: {TRACING_OFF}"), None
    if ok and module is not None:
        return report(False, what, f"your function runs the code of {module}, an engine: "
                                   f"{_WITHOUT_ENGINES[what]}"), None
    return ok, result


def _is_matmul(node):
    return type(node).__name__ == "MatMul" or getattr(node, "_op", "") == "@"


def matmul_work_in_graph(width, batch):
    """Multiply-adds in the matrix products of one tensor-engine step, read off its graph.

    Every ``@`` node multiplying (m, k) by (k, n) costs m·k·n forward, and as
    many again for the gradient of each input that needs one (grad @ b.T
    for a, a.T @ grad for b).
    """
    problem = speed.make_problem(width, batch)
    loss = speed.make_step("tensor", problem).graph()
    total = 0
    for node in topological_order(loss):
        if _is_matmul(node):
            a, b = node._prev
            (m, k), n = a.data.shape, b.data.shape[1]
            needs = sum(1 for x in (a, b) if getattr(x, "requires_grad", True))
            total += m * k * n * (1 + needs)
    return total


def step_multiply_adds(width, batch):
    """Multiply-adds of one step of ``MLP(2, [w, w, 1])`` on ``batch`` points, by formula.

    Forward, the layers' products cost B·2w + B·w² + B·w = B(w² + 3w); each W
    gets aᵀ·grad, as many again; each layer's input but the data gets grad·Wᵀ,
    B(w² + w): in all B(3w² + 7w). The tests check it against the graph of a
    real step (:func:`matmul_work_in_graph`).
    """
    return batch * (3 * width * width + 7 * width)


@reports_forbidden("multiply-adds of one tensor step")
def check_multiply_adds(multiply_adds):
    """``multiply_adds(width, batch)``: the multiply-adds of one step's matrix products, by formula,
    at sizes named in messages and three drawn at random; the package's counts are traps while
    it runs (passed, wrapped or called)."""
    what = "multiply-adds of one tensor step"
    cases = [(1, 1), (4, 8), (16, 100), (3, 7), (64, 2)]
    rng = fresh_rng()
    drawn = [(int(rng.integers(2, 300)), int(rng.integers(2, 500))) for _ in range(3)]
    for number, (width, batch) in enumerate(cases + drawn):
        named = number < len(cases)
        with forbidding(_speed_entries(), [multiply_adds], WRITE_THE_COUNT):
            ok, got = _call_without_engines(what, multiply_adds, width, batch)
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float)):
            return report(False, what, "multiply_adds(width, batch) should be a number, "
                                       f"got {type(got).__name__}" + (f" {got!r}" if named else ""))
        true = step_multiply_adds(width, batch)
        if got != true:
            direction = "too few" if got < true else "too many"
            if not named:
                return report(False, what, f"for a width and batch drawn at random you count "
                                           f"{direction}, though your count is right at the sizes "
                                           "named here: compute it from width and batch")
            return report(False, what, f"for width {width}, batch {batch} you count {got:,}: {direction} "
                                       "(count every product the forward pass makes and every one "
                                       "backward needs, and none the data needs)")
    return report(True, what, f"your formula matches the graph's matrix products at {len(cases)} "
                              "sizes and 3 drawn at random")


WRITE_THE_CLOCK = "the exercise asks you to time the collector yourself, with gc.callbacks"


def _spin(seconds):
    """Keep the processor busy for ``seconds`` without allocating tracked objects (no collection)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _collecting_step(rng, collections, factor):
    """A step that spends a known part of its time in the collector: ``collections`` full
    collections of a heap of lists (its size drawn with ``rng``), then ``factor`` times as
    long working without allocating; returns (step, the heap to keep alive, the list of
    the seconds each of the step's gc.collect() calls took, as the checker's clock)."""
    heap = [[] for _ in range(int(rng.integers(20_000, 60_000)))]
    timed = []

    def step():
        start = time.perf_counter()
        for _ in range(collections):
            began = time.perf_counter()
            gc.collect()
            timed.append(time.perf_counter() - began)
        _spin(factor * (time.perf_counter() - start))
    return step, heap, timed


def _outside_factors(rng):
    """How long, per second in the collector, each of the three steps works outside it: one
    short (0.2-0.4), one long (3.5-5) and one anywhere between, in an order drawn per run,
    so that no fixed share of the step's time is within the tolerance on all three."""
    factors = [rng.uniform(0.2, 0.4), rng.uniform(3.5, 5.0), rng.uniform(0.2, 5.0)]
    return [float(factors[i]) for i in rng.permutation(3)]


def _collector_entries():
    return speed_entries(["collector_share"]) + [
        (breakdown, name, f"minigrad's speed.breakdown.{name}")
        for name in ("_CollectorClock", "_collector_clock")]


def _clocked_call(what, collector_seconds, step):
    """Call the reader's function on ``step``; returns (called, answer, callbacks left
    behind, collector left on), the callbacks and the collector put back as they were."""
    callbacks = list(gc.callbacks)
    try:
        with forbidding(_collector_entries(), [collector_seconds], WRITE_THE_CLOCK):
            ok, got = call_answer(what, collector_seconds, step)
    finally:
        left = [c for c in gc.callbacks if c not in callbacks]
        for callback in left:
            gc.callbacks.remove(callback)
        enabled = gc.isenabled()
        gc.enable()
    return ok, got, left, enabled


@reports_forbidden("seconds in the collector")
def check_collector_seconds(collector_seconds):
    """``collector_seconds(step)``: the seconds the garbage collector takes while ``step()``
    runs once, measured with ``gc.callbacks``; tried on three steps (2, 4 and 8 full
    collections, in an order drawn per run, and 0.2 to 5 times as long outside the
    collector: one step short, one long), and compared with the checker's own clock of
    the same collections (it times each gc.collect() call of the step, outside
    gc.callbacks). The callback must be removed and the collector left on."""
    what = "seconds in the collector"
    rng = fresh_rng()
    # 2, 4 and 8 collections in an order drawn per run: no one number is within the
    # tolerance of two of them, so a number copied in fails
    for collections, factor in zip(rng.permutation([2, 4, 8]), _outside_factors(rng)):
        step, heap, timed = _collecting_step(rng, int(collections), factor)
        for attempt in range(2):  # a second try, should the machine interrupt the first
            timed.clear()
            ok, got, left, enabled = _clocked_call(what, collector_seconds, step)
            true = sum(timed)
            if not ok:
                return False
            if is_unset(got):
                return report(False, what, f"your function returned {got!r}: not filled in yet")
            if left:
                return report(False, what, "your function leaves its callback in gc.callbacks: "
                                           "remove it (gc.callbacks.remove) once the step has "
                                           "run, or every later collection calls it")
            if not enabled:
                return report(False, what, "your function leaves the collector switched off: "
                                           "measure it while it runs as usual")
            if isinstance(got, bool) or not isinstance(got, (int, float, np.floating)):
                return report(False, what, "expected a number of seconds, got "
                                           f"{type(got).__name__}")
            # the two clocks read the same collections, but the machine may interrupt
            # the process between the checker's clock and the reader's callbacks
            if abs(got - true) <= 0.25 * true + 1e-3:
                break
        else:
            if got > true:
                how = ("more than the collector took: time only from each collection's "
                       "\"start\" to its \"stop\", not the whole step")
            else:
                how = ("less than the collector took: add up every collection during the "
                       "step (the step may make several), from its \"start\" to its \"stop\"")
            return report(False, what, f"for a step drawn at random your answer is {how}")
        del heap
    return report(True, what, "your clock agrees with the checker's on 3 steps drawn at random, "
                              "each with several collections and work outside them")


WRITE_THE_STEP = "the exercise asks you to write the step with NumPy alone, without autograd"


def _numpy_step_entries():
    return autograd_entries() + package_rule_entries() + speed_entries(
        ("numpy_step", "tensor_step", "make_step"))


#: What the exercises whose answers may run no engine ask instead, by checker.
_WITHOUT_ENGINES = {
    "multiply-adds of one tensor step": "the exercise asks for the count by formula, without "
                                        "building a network or its graph",
    "a training step in NumPy": WRITE_THE_STEP}


_HINTS = {"W": "dL/dW is the layer's input, transposed, times dL/dz",
          "b": "dL/db adds up dL/dz over the points"}


@reports_forbidden("a training step in NumPy")
def check_numpy_step(numpy_step):
    """``numpy_step(layers, X, labels, lr)``: the tensor step's forward, hinge loss, backward
    and SGD update written out in NumPy; three steps on problems drawn at random must give
    the tensor engine's losses and weights, with autograd a trap while it runs."""
    what = "a training step in NumPy"
    rng = fresh_rng()
    for _ in range(2):
        width, batch = int(rng.integers(2, 12)), int(rng.integers(4, 40))
        problem = speed.make_problem(width, batch, seed=int(rng.integers(1_000_000)))
        lr = float(rng.uniform(0.01, 0.2))
        engine = speed.make_step("tensor", problem)
        engine.optimizer.lr = lr
        layers = problem.weights()
        X, labels = problem.X.copy(), problem.labels.copy()
        for number in range(3):
            before = [(W.copy(), b.copy()) for W, b in layers]
            with forbidding(_numpy_step_entries(), [numpy_step], WRITE_THE_STEP):
                ok, got = _call_without_engines(what, numpy_step, layers, X, labels, lr)
            if not ok:
                return False
            if is_unset(got):
                return report(False, what, f"your function returned {got!r}: not filled in yet")
            loss = engine.step()
            if not (np.array_equal(X, problem.X) and np.array_equal(labels, problem.labels)):
                return report(False, what, "your step changed X or labels: only the weights "
                                           "should change")
            try:
                got = float(got)
            except (TypeError, ValueError):
                return report(False, what, f"expected the loss, a number, got {type(got).__name__}")
            if not abs(got - loss) <= 1e-9 * max(1.0, abs(loss)):
                return report(False, what, "for a problem drawn at random your loss is not the mean "
                                           "hinge loss of the network's scores (step "
                                           f"{number + 1}): check the forward pass")
            unchanged = all(np.array_equal(W, W0) and np.array_equal(b, b0)
                            for (W, b), (W0, b0) in zip(layers, before))
            moved = any(not np.array_equal(layer.W.data, W0)
                        for layer, (W0, _) in zip(engine.model.layers, before))
            if unchanged and moved:  # (no point inside the margin: no gradient, no move)
                return report(False, what, "your step leaves the weights as they were: update "
                                           "each W and b in place (W -= lr * grad_W)")
            for i, ((W, b), layer) in enumerate(zip(layers, engine.model.layers)):
                for name, got_array, true in (("W", W, layer.W.data), ("b", b, layer.b.data)):
                    if np.shape(got_array) != true.shape or not np.allclose(
                            got_array, true, rtol=1e-9, atol=1e-12):
                        return report(False, what, f"your loss is right, but after step "
                                                   f"{number + 1} layer {i + 1}'s {name} is not "
                                                   f"what SGD gives: {_HINTS[name]} (through the "
                                                   "ReLUs: 0 where the ReLU gave 0)")
    return report(True, what, "your losses and weights match the tensor engine's over 3 steps "
                              "on 2 problems drawn at random")
