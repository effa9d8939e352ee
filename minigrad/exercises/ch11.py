"""Checkers for chapter 11, "Scalar vs tensor speed".

Each is tried at sizes (or on measurements) named in its messages and at
some drawn afresh on every run, whose messages name no drawn number; the
expected answers are closed forms or plain NumPy, not the package's counts.
"""
import numpy as np

from minigrad import speed
from minigrad.autograd import topological_order
from minigrad.exercises import (call_answer, forbidding, fresh_rng, is_unset, report,
                                reports_forbidden)

WRITE_THE_COUNT = "the exercise asks you to write the count yourself"


def _speed_entries():
    """The package's counts and the machinery they read, traps while the reader's count runs."""
    return [(speed, name, f"minigrad's speed.{name}") for name in
            ("multiply_adds", "scalar_nodes", "count_nodes", "make_problem", "make_step")]


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
            ok, got = call_answer(what, multiply_adds, width, batch)
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


def _fits(rng):
    """Data sets (nodes, seconds) on which a least-squares slope differs from lazier answers:
    the first fixed, the others drawn with ``rng``."""
    sets = []
    for (slope, n), generator in zip([(1.5e-6, 8), (4e-6, 5), (2e-7, 12)],
                                     [np.random.default_rng(11), rng, rng]):
        nodes = np.unique(generator.integers(500, 500_000, size=n)).astype(float)
        noise = 1 + 0.2 * generator.standard_normal(nodes.size)
        seconds = slope * nodes * noise + 2e-4 * generator.random(nodes.size)
        sets.append((nodes, seconds))
    return sets


def _least_squares_slope(nodes, seconds):
    """The a minimising sum (t - a·n)², by NumPy's least squares on the one-column system."""
    return float(np.linalg.lstsq(nodes[:, None], seconds, rcond=None)[0][0])


def check_per_node_fit(seconds_per_node):
    """``seconds_per_node(nodes, seconds)``: the slope a of the best line seconds ≈ a·nodes,
    on one set of measurements named in messages and two drawn at random."""
    what = "least-squares time per node"
    for number, (nodes, seconds) in enumerate(_fits(fresh_rng())):
        ok, got = call_answer(what, seconds_per_node, nodes.tolist(), seconds.tolist())
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"expected one number (seconds per node), got {type(got).__name__}")
        best = _least_squares_slope(nodes, seconds)
        if not abs(got - best) <= 1e-9 * abs(best):
            where = f"on {nodes.size} measurements" if number == 0 else \
                "on measurements drawn at random"
            residual = float(np.sum((seconds - got * nodes) ** 2))
            least = float(np.sum((seconds - best * nodes) ** 2))
            how = f"{residual / least:.6g} times the smallest possible one" if number == 0 else \
                "larger than the smallest possible one"
            return report(False, what,
                          f"{where} your slope leaves a sum of squared errors {how}; the line "
                          "through 0 that fits best minimises the sum of squared errors")
    return report(True, what, "your slope is the least-squares one on 3 sets of measurements, "
                              "2 of them drawn at random")


CROSSOVER_CASES = [(16, 1e-5, 1e-9, 21), (64, 2e-5, 5e-10, 21), (4, 3e-6, 2e-9, 30),
                   (256, 1e-5, 1e-10, 21)]


def check_crossover(crossover_batch):
    """``crossover_batch(width, per_node, per_multiply_add, nodes)``: the batch at which the
    tensor engine's arithmetic takes as long as its per-node overhead; at costs named in
    messages and three sets drawn at random."""
    what = "crossover batch size"
    rng = fresh_rng()
    drawn = [(int(rng.integers(2, 300)), float(10 ** rng.uniform(-6, -4)),
              float(10 ** rng.uniform(-10, -8)), int(rng.integers(10, 40))) for _ in range(3)]
    for number, (width, per_node, per_op, nodes) in enumerate(CROSSOVER_CASES + drawn):
        ok, got = call_answer(what, crossover_batch, width, per_node, per_op, nodes)
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"expected a number (a batch size), got {type(got).__name__}")
        overhead = per_node * nodes
        per_point = per_op * step_multiply_adds(width, 1)  # the count is linear in the batch
        true = overhead / per_point
        if not abs(got - true) <= 1e-9 * true:
            side = "less" if per_point * got < overhead else "more"
            where = (f"width {width}, {per_node:g} s per node, {per_op:g} s per multiply-add, "
                     f"{nodes} nodes: at batch {got:.4g}") if number < len(CROSSOVER_CASES) else \
                "for costs drawn at random: at your batch"
            return report(False, what, f"{where} the arithmetic would take {side} time than the "
                                       "per-node overhead")
    return report(True, what, f"right for {len(CROSSOVER_CASES)} sets of costs and 3 drawn at "
                              "random")
