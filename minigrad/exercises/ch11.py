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
import os
import struct
import sys
import time
from contextlib import contextmanager

import numpy as np

from minigrad import speed
from minigrad.autograd import topological_order
from minigrad.exercises import (autograd_entries, call_answer, forbidding, fresh_rng, is_unset,
                                package_rule_entries, report, reports_forbidden, speed_entries)
from minigrad.exercises.what_runs import ENGINES, TRACING_OFF, run_traced, TracingOff
from minigrad.exercises.your_engine import EngineError, engine_path, load
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
        (ok, result), _, module = run_traced(call_answer, what, function, *args,
                                          watched=ENGINES)
    except TracingOff:
        return report(False, what, f"your function: {TRACING_OFF}"), None
    if ok and module is not None:
        return report(False, what, f"your function runs the code of {module}, an engine: "
                                   f"{_WITHOUT_ENGINES[what]}"), None
    return ok, result


def _is_matmul(node):
    return type(node).__name__ == "MatMul" or getattr(node, "_op", "") == "@"


def _matmul_work(loss):
    """Multiply-adds of the ``@`` nodes in the graph under ``loss``, forward and backward.

    Every ``@`` node multiplying (m, k) by (k, n) costs m·k·n forward, and as
    many again for the gradient of each input that needs one (grad @ b.T
    for a, a.T @ grad for b).
    """
    total = 0
    for node in topological_order(loss):
        if _is_matmul(node):
            a, b = node._prev
            (m, k), n = a.data.shape, b.data.shape[1]
            needs = sum(1 for x in (a, b) if getattr(x, "requires_grad", True))
            total += m * k * n * (1 + needs)
    return total


def matmul_work_in_graph(width, batch):
    """Multiply-adds in the matrix products of one tensor-engine training step of
    ``MLP(2, [width, width, 1])`` on ``batch`` points, read off the step's graph."""
    problem = speed.make_problem(width, batch)
    return _matmul_work(speed.make_step("tensor", problem).graph())


def mlp_matmul_work(inputs, widths, batch):
    """The same, for ``MLP(inputs, widths)`` on ``batch`` points, read off the graph of its
    scores' sum (the loss adds no matrix product)."""
    from minigrad.tensor import Tensor
    from minigrad.tensor_nn import MLP
    model = MLP(inputs, list(widths), seed=0)
    scores = model(Tensor(np.ones((batch, inputs)), requires_grad=False))
    return _matmul_work(scores.sum())


def mlp_multiply_adds(inputs, widths, batch):
    """Multiply-adds of one step of ``MLP(inputs, widths)`` on ``batch`` points, by formula.

    With layer sizes n₀ = inputs, n₁, ..., n_L, forward costs B·Σ nᵢ₋₁·nᵢ;
    each W gets aᵀ·grad, as many again; each layer's input but the data gets
    grad·Wᵀ, B·Σ over the layers after the first. The tests check it against
    the graph (:func:`mlp_matmul_work`); for ``[w, w, 1]`` from 2 inputs it is
    ``speed.multiply_adds``, B(3w² + 7w).
    """
    sizes = [inputs] + list(widths)
    products = [batch * n * m for n, m in zip(sizes, sizes[1:])]
    return 2 * sum(products) + sum(products[1:])


def _network(inputs, widths):
    return f"MLP({inputs}, {list(widths)})"


def _drawn_networks(rng):
    """Three networks and batches drawn at random: 1 to 20 inputs, 1 to 4 layers of 1 to
    300 units."""
    return [(int(rng.integers(1, 21)),
             [int(n) for n in rng.integers(1, 301, size=int(rng.integers(1, 5)))],
             int(rng.integers(2, 501))) for _ in range(3)]


#: Networks and batches named in the checker's messages: the chapter's, the milestone's, and
#: networks of one to four layers.
NAMED_NETWORKS = [(2, [1, 1, 1], 1), (2, [4, 4, 1], 8), (3, [16, 1], 100),
                  (5, [3, 7, 2, 1], 7), (1, [64], 2), (64, [128, 10], 32)]


@reports_forbidden("multiply-adds of one tensor step")
def check_multiply_adds(multiply_adds):
    """``multiply_adds(inputs, widths, batch)``: the multiply-adds of the matrix products of
    one training step of ``MLP(inputs, widths)`` on ``batch`` points, by formula, for the
    networks named in messages and three drawn at random; the package's counts are traps
    while it runs (passed, wrapped or called)."""
    what = "multiply-adds of one tensor step"
    rng = fresh_rng()
    cases = NAMED_NETWORKS + _drawn_networks(rng)
    for number, (inputs, widths, batch) in enumerate(cases):
        named = number < len(NAMED_NETWORKS)
        with forbidding(_speed_entries(), [multiply_adds], WRITE_THE_COUNT):
            ok, got = _call_without_engines(what, multiply_adds, inputs, list(widths), batch)
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float)):
            return report(False, what, "multiply_adds(inputs, widths, batch) should be a number, "
                                       f"got {type(got).__name__}" + (f" {got!r}" if named else ""))
        true = mlp_multiply_adds(inputs, widths, batch)
        if got != true:
            direction = "too few" if got < true else "too many"
            if not named:
                return report(False, what, f"for a network and batch drawn at random you count "
                                           f"{direction}, though your count is right for the "
                                           "networks named here: compute it from inputs, "
                                           "widths and batch")
            points = "1 point" if batch == 1 else f"{batch} points"
            return report(False, what, f"for {_network(inputs, widths)} on {points} you count "
                                       f"{got:,}: {direction} (count every product the forward "
                                       "pass makes and every one backward needs, and none the "
                                       "data needs)")
    return report(True, what, f"your formula matches the graph's matrix products for "
                              f"{len(NAMED_NETWORKS)} networks and 3 drawn at random")


WRITE_THE_CLOCK = "the exercise asks you to time the collector yourself, with gc.callbacks"


#: How many times the checker measures a step before it says the answer is wrong.
ATTEMPTS = 4

#: How many references each object a checker's step makes holds: every collection walks them.
REFERENCES = 60


def _busy(iterations):
    """Work that allocates no tracked object (so that no collection happens meanwhile)."""
    total = 0
    for i in range(iterations):
        total += i
    return total


def _collecting_step(rng):
    """A step whose collections are automatic: it makes, and keeps until it ends, a number
    of lists (drawn with ``rng``), so that the collector runs every few hundred of them
    (:func:`_step_thresholds`); then it works a while without allocating (``outside``,
    iterations set by the checker later). Returns (step, outside, calls): ``calls[0]``
    counts the step's calls. The step holds no time."""
    objects, outside, calls = int(rng.integers(6_000, 10_000)), [0], [0]

    def step():
        calls[0] += 1
        kept = [[None] * REFERENCES for _ in range(objects)]
        _busy(outside[0])
        del kept
    return step, outside, calls


@contextmanager
def _step_thresholds(young):
    """A collection of the youngest generation every ``young`` new container objects, of
    the middle one every 4 of them, and no full collection (whose schedule depends on
    everything the process holds), the collector on and its young generations empty; put
    back as it was afterwards."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.collect()
    gc.set_threshold(young, 4, 1_000_000)
    gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if not enabled:
            gc.disable()


class _Clock:
    """The checker's own gc.callbacks clock: seconds from each "start" to its "stop"."""

    def __init__(self):
        self.seconds, self.started = 0.0, None

    def __call__(self, phase, info):
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started is not None:
            self.seconds += time.perf_counter() - self.started
            self.started = None


def _collector_seconds_of(step, young):
    """The seconds in the collector during each of three calls of ``step``, by a clock of
    the checker's (to plan the step's work outside the collector); sorted."""
    seconds = []
    for _ in range(3):
        clock = _Clock()
        with _step_thresholds(young):
            gc.callbacks.append(clock)
            try:
                step()
            finally:
                gc.callbacks.remove(clock)
        seconds.append(clock.seconds)
    return sorted(seconds)


def _too_much(got, true):
    """None if ``got`` seconds agree with the checker's ``true``, else whether it is more.
    The two clocks read the same collections, but the machine may interrupt the process
    between the checker's clock and the reader's callbacks."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating)):
        return None  # not a number: reported before this is looked at
    if abs(got - true) <= 0.25 * true + 1e-3:
        return None
    return bool(got > true)


def _iterations_for(seconds):
    """About how many iterations of :func:`_busy` take ``seconds`` on this machine now."""
    start = time.perf_counter()
    _busy(200_000)
    return int(200_000 * seconds / max(time.perf_counter() - start, 1e-9))


def _young_thresholds(rng):
    """How many new objects, in each of the three steps, bring on a collection: few
    (100-150), many (600-800) and any number between, in an order drawn per run. A step's
    collector time hardly depends on it (its objects are walked about as often either way),
    but the number of collections does, so no one time per collection is right for all."""
    drawn = [rng.integers(100, 151), rng.integers(600, 801), rng.integers(100, 801)]
    return [int(drawn[i]) for i in rng.permutation(3)]


def _outside_factors(rng):
    """How long, per second in the collector, each of the three steps works outside it: one
    short (0.1-0.2), one long (6-8) and one anywhere between, in an order drawn per run,
    so that no fixed share of the step's time is within the tolerance on all three."""
    factors = [rng.uniform(0.1, 0.2), rng.uniform(6.0, 8.0), rng.uniform(0.1, 8.0)]
    return [float(factors[i]) for i in rng.permutation(3)]


def _collector_entries():
    """The package's clocks, and the checker's own (:class:`_Clock`, which the checker uses
    outside the reader's run only), whose seconds would agree with the checker's."""
    return speed_entries(["collector_share"]) + [
        (breakdown, name, f"minigrad's speed.breakdown.{name}")
        for name in ("_CollectorClock", "_collector_clock")] + [
        (sys.modules[__name__], "_Clock", "the checker's own _Clock")]


#: What the checker's clock writes: a kind of reading and time.perf_counter()
_READING = struct.Struct("<Bd")
_STOP, _START, _STEP_BEGINS, _STEP_ENDS = range(4)


class _SealedClock:
    """The checker's clock of the collections while the reader's function runs: a
    gc.callbacks entry that writes each reading into a pipe, read back only once the
    reader's function has returned, so that nothing the reader's code reaches meanwhile (the
    callback, the step, the checker's frames) holds a time it could return. The callback is
    a closure, not a function of this module: the reader's code may run it (a gc.collect()
    calls every callback), and the module's functions are traps while that code runs.
    Only the collections while the step runs count (the step marks its start and end):
    one the reader's code makes before or after it (a gc.collect()) is not the step's."""

    def __init__(self):
        self._out, pipe = os.pipe()
        self._in = pipe

        def write_reading(phase, info):
            kind = _START if phase == "start" else _STOP
            os.write(pipe, _READING.pack(kind, time.perf_counter()))
        self.callback = write_reading

        def mark(kind):
            os.write(pipe, _READING.pack(kind, time.perf_counter()))
        self.mark = mark

    def marking(self, step):
        """``step``, writing into the pipe when it begins and when it ends."""
        mark = self.mark

        def marked_step():
            mark(_STEP_BEGINS)
            try:
                return step()
            finally:
                mark(_STEP_ENDS)
        return marked_step

    def read(self):
        """(seconds from each "start" to its "stop", collections), of the collections that
        started while the step ran; closes the pipe."""
        os.close(self._in)
        data = b""
        while True:
            chunk = os.read(self._out, 65536)
            if not chunk:
                break
            data += chunk
        os.close(self._out)
        seconds, collections, started, in_step = 0.0, 0, None, False
        for kind, when in _READING.iter_unpack(data):
            if kind in (_STEP_BEGINS, _STEP_ENDS):
                in_step = kind == _STEP_BEGINS
            elif kind == _START:
                started = when if in_step else None
            elif started is not None:
                seconds, collections, started = seconds + when - started, collections + 1, None
        return seconds, collections


def _clocked_call(what, collector_seconds, step, young):
    """Call the reader's function on ``step``, the checker's clock on; returns (called,
    answer, callbacks left behind, collector left on, checker's clock removed, (seconds,
    collections) by the checker's clock), the callbacks and the collector put back as they
    were."""
    callbacks = list(gc.callbacks)
    clock = _SealedClock()
    try:
        with forbidding(_collector_entries(), [collector_seconds], WRITE_THE_CLOCK), \
                _step_thresholds(young):
            gc.callbacks.append(clock.callback)
            try:
                ok, got = call_answer(what, collector_seconds, clock.marking(step))
            finally:
                removed = any(c not in gc.callbacks for c in callbacks + [clock.callback])
                if clock.callback in gc.callbacks:
                    gc.callbacks.remove(clock.callback)
    finally:
        left = [c for c in gc.callbacks if c not in callbacks]
        gc.callbacks[:] = callbacks  # as they were: none of the answer's, none lost
        enabled = gc.isenabled()
        gc.enable()
        clocked = clock.read()
    return ok, got, left, enabled, removed, clocked


class _StepFailed(Exception):
    """What the checker's failing step raises, on purpose."""


def _callback_left_on_error(collector_seconds):
    """Whether ``collector_seconds`` leaves a callback behind when the step it is given raises
    (as one without a ``finally:`` does); gc.callbacks and the collector are put back as they
    were either way. The error may pass through the reader's function or not."""
    def failing_step():
        raise _StepFailed("the checker's step fails on purpose")

    callbacks, enabled = list(gc.callbacks), gc.isenabled()
    try:
        with forbidding(_collector_entries(), [collector_seconds], WRITE_THE_CLOCK):
            collector_seconds(failing_step)
    except Exception:  # the step's error, or one the reader's function raised on it
        pass
    finally:
        left = [c for c in gc.callbacks if c not in callbacks]
        gc.callbacks[:] = callbacks
        if enabled:
            gc.enable()
    return bool(left)


@reports_forbidden("seconds in the collector")
def check_collector_seconds(collector_seconds):
    """``collector_seconds(step)``: the seconds the garbage collector takes while ``step()``
    runs once, measured with ``gc.callbacks``; tried on three steps whose collections are
    automatic (driven by the objects they make: one every 100 to 800 of them, so that the
    time of a collection differs several-fold between steps), each working 0.1 to 8 times
    as long outside the collector (one short, one long; orders drawn per run), and
    compared with the checker's own clock of the same collections (:class:`_SealedClock`,
    read only once the reader's function has returned). The callback must be removed, the
    collector left on and the step called once."""
    what = "seconds in the collector"
    rng = fresh_rng()
    for factor, young in zip(_outside_factors(rng), _young_thresholds(rng)):
        step, outside, calls = _collecting_step(rng)
        # the work outside the collector: `factor` times the collector's time, in iterations
        outside[0] = _iterations_for(factor * _collector_seconds_of(step, young)[1])
        # more tries, should the machine interrupt one: a busy machine can stop the process
        # between a collection's end and the reader's reading of the clock
        for attempt in range(ATTEMPTS):
            calls[0] = 0
            ok, got, left, enabled, removed, clocked = _clocked_call(
                what, collector_seconds, step, young)
            # the checker's time, judged now and then dropped: on a second try, or on the
            # next step, no frame of the checker holds a time the reader's code could read
            collections, too_much = clocked[1], _too_much(got, clocked[0])
            del clocked
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
            if removed:
                return report(False, what, "your function removed a callback of gc.callbacks "
                                           "that it did not add: remove only your own")
            if calls[0] != 1:
                return report(False, what, f"your function called step() {calls[0]} times: "
                                           "call it once, and clock the collections it makes")
            if isinstance(got, bool) or not isinstance(got, (int, float, np.floating)):
                return report(False, what, "expected a number of seconds, got "
                                           f"{type(got).__name__}")
            if collections < 3:
                return report(False, what, "the step made hardly any collections while your "
                                           "function ran, so the time you returned is not "
                                           "theirs: leave the collector on, with its "
                                           "thresholds, and clock it as it runs")
            if too_much is None:
                break
        else:
            if too_much:
                how = (f"more than the collector took, on {ATTEMPTS} tries: time only from "
                       "each collection's \"start\" to its \"stop\", not the whole step (if "
                       "you do, a machine busy with other work can cause this: run the cell "
                       "again when it is quieter)")
            else:
                how = ("less than the collector took: add up every collection during the "
                       "step (it makes many, on its own schedule), from its \"start\" to its "
                       "\"stop\"")
            return report(False, what, f"for a step drawn at random your answer is {how}")
    if _callback_left_on_error(collector_seconds):
        return report(False, what, "when the step raises an error, your function leaves its "
                                   "callback in gc.callbacks: remove it in a finally: block "
                                   "(try: step() finally: gc.callbacks.remove(...)), so that it "
                                   "is removed even then")
    return report(True, what, "your clock agrees with the checker's on 3 steps drawn at random, "
                              "each with several collections and work outside them, and "
                              "removes its callback even when the step raises")


WRITE_THE_STEP = "the exercise asks you to write the step with NumPy alone, without autograd"


def _your_engine_entries():
    """The backward passes of the reader's own engines (``yourgrad``), imported if the
    reader's tensor engine exists and is not yet: an autograd of one's own is autograd too."""
    if "yourgrad.tensor" not in sys.modules and engine_path("tensor").exists():
        try:
            load("tensor")
        except EngineError:
            pass  # a file that does not import cannot be called either
    entries = []
    for module_name, node in (("yourgrad.tensor", "MiniTensor"), ("yourgrad.value", "Value")):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        entries += [(getattr(module, node, None), "backward",
                     f"your engine's {node}.backward()"),
                    (module, "mini_backpropagate", "your engine's mini_backpropagate"),
                    (module, "topological_order", "your engine's topological_order")]
        base = getattr(module, node, None)
        # each operation's rule, which the engine's backward pass calls
        entries += [(klass, "_backward", f"your engine's {name}._backward")
                    for name, klass in vars(module).items()
                    if isinstance(klass, type) and isinstance(base, type)
                    and issubclass(klass, base) and "_backward" in vars(klass)]
    return entries


def _numpy_step_entries():
    return autograd_entries() + package_rule_entries() + _your_engine_entries() + speed_entries(
        ("numpy_step", "tensor_step", "make_step"))


#: What the exercises whose answers may run no engine ask instead, by checker.
_WITHOUT_ENGINES = {
    "multiply-adds of one tensor step": "the exercise asks for the count by formula, without "
                                        "building a network or its graph",
    "a training step in NumPy": WRITE_THE_STEP}


_HINTS = {"W": "dL/dW is the layer's input, transposed, times dL/dz",
          "b": "dL/db adds up dL/dz over the points"}


def _each_w_updated_before_use(layers, X, labels, lr):
    """The weights after one step that updates each layer's W before passing the gradient
    back through it (``grad @ W.T`` with the new W), a common slip; ``layers`` untouched."""
    layers = [(W.copy(), b.copy()) for W, b in layers]
    inputs, h = [], X
    for i, (W, b) in enumerate(layers):
        inputs.append(h)
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    grad = -labels * (1.0 - labels * h > 0) / len(X)
    for i in reversed(range(len(layers))):
        W, b = layers[i]
        W -= lr * (inputs[i].T @ grad)
        b -= lr * grad.sum(axis=0)
        grad = (grad @ W.T) * (inputs[i] > 0)
    return layers


def _same_weights(got, true):
    return len(got) == len(true) and all(
        np.shape(g) == t.shape and np.allclose(g, t, rtol=1e-9, atol=1e-12)
        for pair, true_pair in zip(got, true) for g, t in zip(pair, true_pair))


def _last_layer_first(pairs):
    """``enumerate(pairs)`` from the last layer back, the order in which backward computes
    the gradients: the first wrong layer reported is then the first wrong gradient."""
    return reversed(list(enumerate(pairs)))


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
            for i, ((W, b), layer) in _last_layer_first(zip(layers, engine.model.layers)):
                for name, got_array, true in (("W", W, layer.W.data), ("b", b, layer.b.data)):
                    if np.shape(got_array) != true.shape or not np.allclose(
                            got_array, true, rtol=1e-9, atol=1e-12):
                        if _same_weights(layers, _each_w_updated_before_use(before, X, labels,
                                                                            lr)):
                            return report(False, what, "your loss is right, but after step "
                                                       f"{number + 1} layer {i + 1}'s {name} "
                                                       "is not what SGD gives: your step "
                                                       "updates a W before the gradient "
                                                       "passes back through it; use each W "
                                                       "before its update")
                        start = before[i][0 if name == "W" else 1]
                        if np.shape(got_array) == true.shape and np.allclose(
                                got_array - start, batch * (true - start), rtol=1e-6,
                                atol=1e-12):
                            return report(False, what, "your loss is right, but after step "
                                                       f"{number + 1} layer {i + 1}'s {name} "
                                                       "moved B times as far as SGD moves it "
                                                       "(B: the points in the batch): the loss "
                                                       "is a mean, so dL/d(scores) carries its "
                                                       "1/B, -y/B where the margin is positive")
                        return report(False, what, f"your loss is right, but after step "
                                                   f"{number + 1} layer {i + 1}'s {name} is not "
                                                   f"what SGD gives: {_HINTS[name]} (through the "
                                                   "ReLUs: 0 where the ReLU gave 0)")
    return report(True, what, "your losses and weights match the tensor engine's over 3 steps "
                              "on 2 problems drawn at random")
