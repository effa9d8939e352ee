"""The checkers of chapter 11: each PASSes the solution and FAILs wrong answers, saying what
is wrong without printing the expected answer, and refuses the package's own versions."""
import gc
import time

import numpy as np
import pytest

from minigrad import speed
from minigrad.exercises import ch11
from exercise_verdicts import fails_saying, run


# ----- 11.1 the multiply-adds of one step ----------------------------------------------

def solution_multiply_adds(inputs, widths, batch):
    sizes = [inputs] + list(widths)
    total = 0
    for i, (n, m) in enumerate(zip(sizes, sizes[1:])):
        product = batch * n * m   # X @ W of one layer
        total += 2 * product      # forward, and a.T @ grad for W
        if i > 0:
            total += product      # grad @ W.T, for every layer's input but the data
    return total


def test_multiply_adds_passes_the_count_and_agrees_with_the_package(capsys):
    assert run(capsys, ch11.check_multiply_adds, solution_multiply_adds)[0] is True
    for w, b in [(1, 1), (7, 3), (32, 10)]:
        assert (speed.multiply_adds(w, b) == solution_multiply_adds(2, [w, w, 1], b)
                == ch11.matmul_work_in_graph(w, b))


def forward_only(inputs, widths, batch):
    sizes = [inputs] + list(widths)
    return sum(batch * n * m for n, m in zip(sizes, sizes[1:]))


def chapters_network_only(inputs, widths, batch):
    w = widths[0]
    return batch * (3 * w * w + 7 * w)   # right for MLP(2, [w, w, 1]) alone


@pytest.mark.parametrize("answer, says", [
    (lambda i, w, b: ..., "not filled in yet"),
    (forward_only, "too few"),
    (lambda i, w, b: 3 * forward_only(i, w, b), "too many"),          # a gradient for X too
    (lambda i, w, b: 2 * forward_only(i, w, b), "too few"),           # no gradient for the inputs
    (chapters_network_only, "for MLP(3, [16, 1]) on 100 points you count"),
    (lambda i, w, b: "many", "should be a number"),
])
def test_multiply_adds_fails_wrong_answers(capsys, answer, says):
    fails_saying(capsys, ch11.check_multiply_adds, answer, says)


def test_multiply_adds_refuses_the_packages_count(capsys):
    # issue 16's cheats: the function itself, wrapped in a lambda, called through the package
    # or through the module that defines it
    import minigrad
    for answer in (speed.multiply_adds, lambda i, w, b: speed.multiply_adds(w[0], b),
                   lambda i, w, b: minigrad.speed.multiply_adds(w[0], b) + 0,
                   lambda i, w, b: speed.counts.multiply_adds(w[0], b)):
        out = fails_saying(capsys, ch11.check_multiply_adds, answer,
                           "minigrad's speed.multiply_adds")
        assert "write the count yourself" in out, out
    assert speed.multiply_adds(4, 8) == solution_multiply_adds(2, [4, 4, 1], 8)  # put back
    assert speed.counts.multiply_adds is speed.multiply_adds


@pytest.mark.parametrize("inputs, widths, batch", [
    (2, [1, 1, 1], 1), (2, [7, 7, 1], 3), (3, [16, 1], 100), (5, [3, 7, 2, 1], 7), (1, [64], 2),
    (64, [128, 10], 32)])
def test_the_checkers_count_is_the_graphs(inputs, widths, batch):
    assert ch11.mlp_multiply_adds(inputs, widths, batch) == ch11.mlp_matmul_work(inputs, widths,
                                                                                  batch)


def test_the_checker_draws_networks_of_every_depth():
    depths = {len(widths) for _ in range(30)
              for _, widths, _ in ch11._drawn_networks(np.random.default_rng())}
    assert depths == {1, 2, 3, 4}


def test_a_count_right_only_on_the_named_cases_fails(capsys):
    counts = {(i, tuple(w), b): solution_multiply_adds(i, w, b)
              for i, w, b in ch11.NAMED_NETWORKS}
    fails_saying(capsys, ch11.check_multiply_adds, lambda i, w, b: counts.get((i, tuple(w), b), 0),
                 "for a network and batch drawn at random you count too few, "
                 "though your count is right")


# ----- 11.2 the collector's seconds ------------------------------------------------------

def solution_collector_seconds(step):
    spent, started = [0.0], [0.0]

    def clock(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
    gc.callbacks.append(clock)
    try:
        step()
    finally:
        gc.callbacks.remove(clock)
    return spent[0]


def test_collector_seconds_passes_a_clock_of_ones_own(capsys):
    before = list(gc.callbacks)
    assert run(capsys, ch11.check_collector_seconds, solution_collector_seconds)[0] is True
    assert gc.callbacks == before and gc.isenabled()


def collects_first(step):
    """The solution, after a gc.collect() of its own: it runs the checker's callback too."""
    gc.collect()
    return solution_collector_seconds(step)


def test_collector_seconds_passes_a_clock_that_collects_first(capsys):
    """The checker's callback is no trap for the reader's gc.collect(), and its clock counts
    only the collections while the step runs."""
    assert run(capsys, ch11.check_collector_seconds, collects_first)[0] is True


def times_a_collect_after_a_step_without_collector(step):
    gc.disable()
    try:
        step()
    finally:
        gc.enable()
    start = time.perf_counter()
    gc.collect()
    return time.perf_counter() - start


def test_collector_seconds_fails_a_timed_collect_for_its_time_not_a_trap(capsys):
    report = fails_saying(capsys, ch11.check_collector_seconds,
                          times_a_collect_after_a_step_without_collector,
                          "the time you returned is not theirs")
    assert "checker's own" not in report


def whole_step(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def last_collection_only(step):
    times = []

    def clock(phase, info):
        times.append(time.perf_counter())
    gc.callbacks.append(clock)
    try:
        step()
    finally:
        gc.callbacks.remove(clock)
    return times[-1] - times[-2]


def callback_left_behind(step):
    spent = []
    gc.callbacks.append(lambda phase, info: spent.append(time.perf_counter()))
    step()
    return sum(b - a for a, b in zip(spent[::2], spent[1::2]))


def collector_switched_off(step):
    seconds = solution_collector_seconds(step)
    gc.disable()
    return seconds


@pytest.mark.parametrize("answer, says", [
    (lambda step: ..., "not filled in yet"),
    (whole_step, "more than the collector took"),
    (last_collection_only, "less than the collector took"),
    (lambda step: 0.01, "called step() 0 times"),                      # a number copied in
    (callback_left_behind, "leaves its callback in gc.callbacks"),
    (collector_switched_off, "leaves the collector switched off"),
    (lambda step: (step(), "fast")[1], "expected a number of seconds"),
])
def test_collector_seconds_fails_wrong_answers(capsys, answer, says):
    before = list(gc.callbacks)
    fails_saying(capsys, ch11.check_collector_seconds, answer, says)
    assert gc.callbacks == before and gc.isenabled()  # the checker cleans up after the answer


def without_finally(step):
    spent, started = [0.0], [0.0]

    def clock(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
    gc.callbacks.append(clock)
    step()  # an error here leaves the clock in gc.callbacks
    gc.callbacks.remove(clock)
    return spent[0]


def test_collector_seconds_fails_an_answer_without_finally(capsys):
    before = list(gc.callbacks)
    fails_saying(capsys, ch11.check_collector_seconds, without_finally,
                 "when the step raises an error, your function leaves its callback in "
                 "gc.callbacks: remove it in a finally: block")
    assert gc.callbacks == before and gc.isenabled()


def test_collector_seconds_passes_an_answer_that_catches_the_steps_error(capsys):
    def catching(step):
        try:
            return solution_collector_seconds(step)
        except Exception:  # the step's error, swallowed once the callback is removed
            return 0.0
    assert run(capsys, ch11.check_collector_seconds, catching)[0] is True


STEP_SHARE = """
import time
def collector_seconds(step):
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) / 2.5
"""

CHECKERS_CLOCK = """
import gc
def collector_seconds(step):
    clock = gc.callbacks[0]
    before = clock.seconds
    step()
    return clock.seconds - before
"""


@pytest.mark.parametrize("source", [STEP_SHARE, CHECKERS_CLOCK])
def test_collector_seconds_fails_session_5s_answers(capsys, source):
    # A11: a fixed share of the step's time; A12: the checker's clock read from gc.callbacks
    from exercise_verdicts import run_cell
    answer = run_cell(source, {})["collector_seconds"]
    for _ in range(3):  # the steps are drawn afresh on each run
        assert run(capsys, ch11.check_collector_seconds, answer)[0] is False


def clocks_gc_collect(step):
    """Times every gc.collect() call made during the step, instead of the collections."""
    spent, real_collect = [0.0], gc.collect

    def timed_collect(*args):
        start = time.perf_counter()
        try:
            return real_collect(*args)
        finally:
            spent[0] += time.perf_counter() - start
    gc.collect = timed_collect
    try:
        step()
    finally:
        gc.collect = real_collect
    return spent[0]


def reads_the_steps_closure(step):
    """Runs the step, then adds up whatever numbers the step's closure holds."""
    step()
    total = 0.0
    for cell in step.__closure__ or ():
        value = cell.cell_contents
        values = value if isinstance(value, list) else [value]
        total += sum(v for v in values if isinstance(v, float))
    return total


def with_the_collector_off_in_a_second_call(step):
    """The step's time with the collector on, less its time with it off: two calls."""
    start = time.perf_counter()
    step()
    on = time.perf_counter() - start
    gc.disable()
    try:
        start = time.perf_counter()
        step()
        return on - (time.perf_counter() - start)
    finally:
        gc.enable()


def no_collections_no_time(step):
    """Keeps the collector from running during the step, so that 0 seconds is right."""
    gc.disable()
    try:
        step()
    finally:
        gc.enable()
    return 0.0


def clears_every_callback(step):
    """Removes the checker's clock along with everything else in gc.callbacks."""
    gc.callbacks.clear()
    step()
    return 0.0


def test_callbacks_removed_by_an_answer_are_put_back(capsys):
    def someone_elses(phase, info):
        pass
    gc.callbacks.append(someone_elses)
    try:
        fails_saying(capsys, ch11.check_collector_seconds, clears_every_callback,
                     "removed a callback of gc.callbacks that it did not add")
        assert someone_elses in gc.callbacks
    finally:
        gc.callbacks.remove(someone_elses)


def collections_times_a_constant(step):
    """Counts the step's collections (gc.get_stats) and multiplies by a time per collection."""
    before = sum(generation["collections"] for generation in gc.get_stats())
    step()
    return (sum(generation["collections"] for generation in gc.get_stats()) - before) * 4e-4


@pytest.mark.parametrize("answer, says", [
    (collections_times_a_constant, "for a step drawn at random"),
    (no_collections_no_time, "the step made hardly any collections while your function ran"),
    (clears_every_callback, "removed a callback of gc.callbacks that it did not add"),
    (clocks_gc_collect, "less than the collector took"),
    (reads_the_steps_closure, "less than the collector took"),
    (with_the_collector_off_in_a_second_call, "called step() 2 times: call it once"),
])
def test_collector_seconds_fails_answers_that_do_not_clock_the_collections(capsys, answer,
                                                                             says):
    """The checker's steps collect on their own schedule (no gc.collect() to wrap), and hold
    no time of the checker's (nothing in their closure to read)."""
    before = list(gc.callbacks), gc.get_threshold()
    fails_saying(capsys, ch11.check_collector_seconds, answer, says)
    assert (list(gc.callbacks), gc.get_threshold()) == before and gc.isenabled()


def test_the_checkers_steps_collect_automatically():
    import numpy as np
    step, outside, calls = ch11._collecting_step(np.random.default_rng(0))
    counted = []
    with ch11._step_thresholds(600):
        gc.callbacks.append(lambda phase, info: counted.append(phase))
        try:
            step()
        finally:
            gc.callbacks.pop()
    assert counted.count("start") >= 5 and calls == [1]


def test_collector_seconds_refuses_the_packages_clock(capsys):
    from minigrad.speed import breakdown

    def packaged(step):
        with breakdown._collector_clock() as clock:
            step()
        return clock.seconds
    for answer in (packaged, lambda step: speed.collector_share(2, 2)["collector"]):
        fails_saying(capsys, ch11.check_collector_seconds, answer, "minigrad's speed.")


def _clocked_by(make_clock):
    def collector_seconds(step):
        clock = make_clock()
        gc.callbacks.append(clock)
        try:
            step()
        finally:
            gc.callbacks.remove(clock)
        return clock.seconds
    return collector_seconds


def test_collector_seconds_refuses_the_checkers_own_clock(capsys):
    """The checker's _Clock (whose seconds would agree with its own) is a trap: looked up on
    its module, imported, or held as a default argument."""
    from minigrad.speed import breakdown
    from minigrad.exercises.ch11 import _Clock

    def held(step, Clock=ch11._Clock):
        return _clocked_by(Clock)(step)
    for answer in (_clocked_by(lambda: ch11._Clock()), _clocked_by(lambda: _Clock()), held):
        fails_saying(capsys, ch11.check_collector_seconds, answer, "the checker's own _Clock")
    fails_saying(capsys, ch11.check_collector_seconds,
                 _clocked_by(breakdown._CollectorClock), "speed.breakdown._CollectorClock")
    assert run(capsys, ch11.check_collector_seconds, solution_collector_seconds)[0] is True


# ----- 11.3 the tensor step in NumPy alone -------------------------------------------------

def numpy_step_with(relu_mask=True, bias_grad=lambda grad: grad.sum(axis=0), points=len):
    """The step in NumPy alone, with one part changed (a common slip)."""
    def numpy_step(layers, X, labels, lr):
        inputs, h = [], X
        for i, (W, b) in enumerate(layers):
            inputs.append(h)
            h = h @ W + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0.0)
        margins = 1.0 - labels * h
        loss = np.maximum(margins, 0.0).mean()
        grad = -labels * (margins > 0) / points(X)
        for i in reversed(range(len(layers))):
            W, b = layers[i]
            a = inputs[i]
            grad_W, grad_b = a.T @ grad, bias_grad(grad)
            if i > 0:
                grad = (grad @ W.T) * (a > 0) if relu_mask else grad @ W.T
            W -= lr * grad_W
            b -= lr * grad_b
        return loss
    return numpy_step


solution_numpy_step = numpy_step_with()
forgot_the_relu_mask = numpy_step_with(relu_mask=False)
bias_gradient_of_the_first_point = numpy_step_with(bias_grad=lambda grad: grad[0])
forgot_the_one_over_b = numpy_step_with(points=lambda X: 1)


def raises_inside(layers, X, labels, lr):
    return layers[0][0] @ X  # (2, w) @ (B, 2): shapes that do not fit


def test_numpy_step_passes_a_step_of_ones_own(capsys):
    assert run(capsys, ch11.check_numpy_step, solution_numpy_step)[0] is True


def copies_the_weights(layers, X, labels, lr):
    return solution_numpy_step([(W.copy(), b.copy()) for W, b in layers], X, labels, lr)


def sum_instead_of_mean(layers, X, labels, lr):
    return solution_numpy_step(layers, X, labels, lr) * len(X)


def with_autograd(layers, X, labels, lr):
    from minigrad import Tensor, hinge_loss
    params = [(Tensor(W), Tensor(b)) for W, b in layers]
    h = Tensor(X, requires_grad=False)
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = h.relu()
    loss = hinge_loss(h, labels)
    loss.backward()
    for (W, b), (tW, tb) in zip(layers, params):
        W -= lr * tW.grad
        b -= lr * tb.grad
    return loss.item()


@pytest.mark.parametrize("answer, says", [
    (lambda layers, X, labels, lr: ..., "not filled in yet"),
    (forgot_the_relu_mask, "through the ReLUs"),
    (bias_gradient_of_the_first_point, "'s b is not what SGD gives: dL/db adds up"),
    (copies_the_weights, "leaves the weights as they were"),
    (forgot_the_one_over_b, "moved B times as far as SGD moves it"),
    (sum_instead_of_mean, "check the forward pass"),
    (lambda layers, X, labels, lr: 0.5, "check the forward pass"),    # a number copied in
    (with_autograd, "the exercise asks you to write the step with NumPy alone"),
    (speed.numpy_step, "minigrad's speed.numpy_step itself"),
    (lambda layers, X, labels, lr: speed.breakdown.numpy_step(layers, X, labels, lr),
     "your answer calls minigrad's speed.numpy_step"),
])
def test_numpy_step_fails_wrong_answers(capsys, answer, says):
    fails_saying(capsys, ch11.check_numpy_step, answer, says)


def test_numpy_step_names_the_shapes_of_an_answer_that_raises(capsys):
    """The weights are named by their shapes, not printed number by number."""
    out = fails_saying(capsys, ch11.check_numpy_step, raises_inside,
                       "a list of arrays of shapes [((2, ")
    assert "array(" not in out and len(out) < 600, out


def updates_before_passing_back(layers, X, labels, lr):
    """Each W updated before the gradient goes back through it: the last layer's update is
    right, every earlier layer's wrong."""
    inputs, h = [], X
    for i, (W, b) in enumerate(layers):
        inputs.append(h)
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    margins = 1.0 - labels * h
    grad = -labels * (margins > 0) / len(X)
    for i in reversed(range(len(layers))):
        W, b = layers[i]
        a = inputs[i]
        W -= lr * (a.T @ grad)
        b -= lr * grad.sum(axis=0)
        if i > 0:
            grad = (grad @ W.T) * (a > 0)
    return np.maximum(margins, 0.0).mean()


def test_numpy_step_reports_the_first_wrong_gradient_backward(capsys):
    # layers 1 and 2 are both wrong; backward computes layer 2's gradient first
    fails_saying(capsys, ch11.check_numpy_step, updates_before_passing_back,
                 "after step 1 layer 2's W is not what SGD gives")


def test_numpy_step_names_the_update_order_slip(capsys):
    """Updating W before ``grad @ W.T`` is told apart from a wrong ReLU mask, and the hint
    gives the rule, not the code."""
    ok, out = run(capsys, ch11.check_numpy_step, updates_before_passing_back)
    assert ok is False
    assert "updates a W before the gradient passes back through it" in out
    assert "use each W before its update" in out
    assert "ReLU" not in out
    ok, out = run(capsys, ch11.check_numpy_step, forgot_the_relu_mask)
    assert ok is False and "through the ReLUs" in out and "before its update" not in out


YOUR_ENGINE_STEP = """
import numpy as np
from yourgrad.tensor import MiniTensor, MatMul

def numpy_step(layers, X, labels, lr):
    params = [(MiniTensor(W), MiniTensor(b)) for W, b in layers]
    h = MiniTensor(X)
    for i, (W, b) in enumerate(params):
        h = MatMul(h, W) + b
        if i < len(params) - 1:
            h = h.relu()
    minus_margin = MiniTensor(labels) * h * MiniTensor(np.array(-1.0))
    margins = (minus_margin + MiniTensor(np.array(1.0))).relu()
    loss = margins.mean()
    loss.backward()
    for (W, b), (tW, tb) in zip(layers, params):
        W -= lr * tW.grad
        b -= lr * tb.grad
    return float(loss.data)
"""


def test_numpy_step_refuses_the_readers_own_autograd(capsys, tmp_path, monkeypatch):
    """The reader's engine is autograd too: its backward() is a trap, loaded from the
    reader's file if it exists and is not imported yet."""
    import sys
    from exercise_verdicts import run_cell
    from minigrad.exercises.your_engine import catch_up
    monkeypatch.setenv("MINIGRAD_YOURGRAD", str(tmp_path / "yourgrad"))
    for name in [name for name in sys.modules if name.split(".")[0] == "yourgrad"]:
        monkeypatch.delitem(sys.modules, name)
    catch_up("tensor", 11)
    capsys.readouterr()
    answer = run_cell(YOUR_ENGINE_STEP, {})["numpy_step"]
    out = fails_saying(capsys, ch11.check_numpy_step, answer, "your engine's MiniTensor.backward()")
    assert "without autograd" in out
    # the file alone, not imported yet: the answer imports it when it runs
    monkeypatch.delitem(sys.modules, "yourgrad.tensor")
    importing = run_cell(YOUR_ENGINE_STEP.replace("def numpy_step(layers, X, labels, lr):",
                                                  "def numpy_step(layers, X, labels, lr):\n"
                                                  "    from yourgrad.tensor import MiniTensor, "
                                                  "MatMul"), {})["numpy_step"]
    fails_saying(capsys, ch11.check_numpy_step, importing, "your engine's MiniTensor.backward()")
    assert run(capsys, ch11.check_numpy_step, solution_numpy_step)[0] is True


def test_chapter_11_verdicts_read_the_same_on_every_run(capsys):
    for checker, answer in ((ch11.check_multiply_adds, solution_multiply_adds),
                            (ch11.check_collector_seconds, solution_collector_seconds),
                            (ch11.check_collector_seconds, whole_step),
                            (ch11.check_numpy_step, solution_numpy_step),
                            (ch11.check_numpy_step, forgot_the_relu_mask)):
        outputs = set()
        for _ in range(3):
            checker(answer)
            outputs.add(capsys.readouterr().out)
        assert len(outputs) == 1, outputs


def test_numpy_step_passes_where_no_point_is_inside_the_margin(capsys, monkeypatch):
    """With every point beyond the margin the loss is 0 and a right step moves nothing:
    not a step that "leaves the weights as they were"."""
    real_make_problem = speed.make_problem

    def far_apart(width, batch, seed=0):  # every score 100, every label +1: every margin met
        problem = real_make_problem(width, batch, seed)
        last = problem.model.layers[-1]
        last.W.data = last.W.data * 0
        last.b.data = last.b.data * 0 + 100.0
        problem.labels = np.ones_like(problem.labels)
        return problem
    monkeypatch.setattr(speed, "make_problem", far_apart)
    assert run(capsys, ch11.check_numpy_step, solution_numpy_step)[0] is True


# ----- issue 16: the count and the step may run no engine ------------------------------

def count_by_the_packages_graph(inputs, widths, batch):
    """Build the package's network, read the products off its graph (walked by hand)."""
    from minigrad.tensor import Tensor
    from minigrad.tensor_nn import MLP
    model = MLP(inputs, widths, seed=0)
    loss = (model(Tensor(np.ones((batch, inputs)), requires_grad=False)) * 1.0).sum()
    total, stack, seen = 0, [loss], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack += list(node._prev)
        if type(node).__name__ == "MatMul":
            a, b = node._prev
            (m, k), n = a.data.shape, b.data.shape[1]
            total += m * k * n * (1 + sum(1 for x in (a, b) if x.requires_grad))
    return total


def test_multiply_adds_refuses_building_the_packages_network(capsys):
    out = fails_saying(capsys, ch11.check_multiply_adds, count_by_the_packages_graph,
                       "runs the code of minigrad")
    assert "by formula, without building a network" in out


def step_by_the_packages_rules(layers, X, labels, lr):
    """The package's graph, walked by hand through its operations' _backward rules."""
    from minigrad.tensor import Tensor
    params = [(Tensor(W), Tensor(b)) for W, b in layers]
    h = Tensor(X, requires_grad=False)
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        h = h.relu() if i < len(params) - 1 else h
    loss = (1.0 - Tensor(labels, requires_grad=False) * h).relu().mean()
    grads, order, stack = {id(loss): np.ones_like(loss.data)}, [], [(loss, False)]
    done = set()
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in done:
            done.add(id(node))
            stack.append((node, True))
            stack += [(parent, False) for parent in node._prev]
    for node in reversed(order):
        g = grads.get(id(node))
        if g is None or not node._prev:
            continue
        for parent, pg in zip(node._prev, node._backward(g)):
            if pg is not None:
                while pg.ndim > parent.data.ndim:
                    pg = pg.sum(axis=0)
                grads[id(parent)] = grads.get(id(parent), 0) + pg
    for (W, b), (tW, tb) in zip(layers, params):
        W -= lr * grads[id(tW)]
        b -= lr * grads[id(tb)]
    return float(loss.data)


def test_numpy_step_refuses_the_packages_graph_and_rules(capsys):
    out = fails_saying(capsys, ch11.check_numpy_step, step_by_the_packages_rules, "minigrad")
    assert "NumPy alone, without autograd" in out


def test_numpy_step_refuses_turning_the_tracing_off(capsys):
    def untraced(layers, X, labels, lr):
        import sys
        sys.setprofile(None)
        return solution_numpy_step(layers, X, labels, lr)
    fails_saying(capsys, ch11.check_numpy_step, untraced, "turned off or replaced the checker's")


FRAME_READER = """
import sys
def collector_seconds(step):
    step()
    frame = sys._getframe(1)
    while frame is not None:  # the checker's time, on a second try, off its frame
        for name in ("true", "most", "least", "timed"):
            value = frame.f_locals.get(name)
            if isinstance(value, float):
                return value
        frame = frame.f_back
    return -1.0
"""


def test_collector_seconds_holds_no_time_where_the_answer_can_read_it(capsys):
    from exercise_verdicts import run_cell
    answer = run_cell(FRAME_READER, {})["collector_seconds"]
    for _ in range(3):  # refused before it runs (and the checker's time is in a pipe besides)
        fails_saying(capsys, ch11.check_collector_seconds, answer, "reads the checker's frames")


MANUAL_RULES = YOUR_ENGINE_STEP.replace("    loss.backward()\n", """\
    from yourgrad.tensor import topological_order
    order = topological_order(loss)
    loss.grad = np.ones_like(loss.data)
    for node in reversed(order):
        if node._prev and node.grad is not None:
            for parent, g in zip(node._prev, node._backward(node.grad)):
                if g is not None:
                    parent.grad = g if parent.grad is None else parent.grad + g
""")


def test_numpy_step_refuses_the_readers_own_rules(capsys, tmp_path, monkeypatch):
    """Walking one's own engine's graph and calling its rules is autograd too."""
    import sys
    from exercise_verdicts import run_cell
    from minigrad.exercises.your_engine import catch_up
    monkeypatch.setenv("MINIGRAD_YOURGRAD", str(tmp_path / "yourgrad"))
    for name in [name for name in sys.modules if name.split(".")[0] == "yourgrad"]:
        monkeypatch.delitem(sys.modules, name)
    catch_up("tensor", 11)
    capsys.readouterr()
    assert "loss.backward()" not in MANUAL_RULES
    answer = run_cell(MANUAL_RULES, {})["numpy_step"]
    fails_saying(capsys, ch11.check_numpy_step, answer, "your engine's topological_order")
