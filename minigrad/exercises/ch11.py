"""Checkers for chapter 11, "Scalar vs tensor speed"."""
import numpy as np

from minigrad.autograd import topological_order
from minigrad.exercises import call_answer, forbidding, is_unset, report, reports_forbidden
from minigrad import speed

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


@reports_forbidden("multiply-adds of one tensor step")
def check_multiply_adds(multiply_adds):
    """``multiply_adds(width, batch)``: the multiply-adds of one step's matrix products, by formula;
    the package's counts are traps while it runs (passed, wrapped or called)."""
    what = "multiply-adds of one tensor step"
    cases = [(1, 1), (4, 8), (16, 100), (3, 7), (64, 2)]
    for width, batch in cases:
        with forbidding(_speed_entries(), [multiply_adds], WRITE_THE_COUNT):
            ok, got = call_answer(what, multiply_adds, width, batch)
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer, float)):
            return report(False, what, f"multiply_adds({width}, {batch}) should be a number, "
                                       f"got {type(got).__name__} {got!r}")
        true = matmul_work_in_graph(width, batch)
        if got != true:
            direction = "too few" if got < true else "too many"
            return report(False, what, f"for width {width}, batch {batch} you count {got:,}: {direction} "
                                       "(count every product the forward pass makes and every one "
                                       "backward needs, and none the data needs)")
    return report(True, what + f": your formula matches the graph's matrix products at {len(cases)} sizes")


def _fits():
    """Data sets (nodes, seconds) on which a least-squares slope differs from lazier answers."""
    rng = np.random.default_rng(11)
    sets = []
    for slope, n in [(1.5e-6, 8), (4e-6, 5), (2e-7, 12)]:
        nodes = np.unique(rng.integers(500, 500_000, size=n)).astype(float)
        seconds = slope * nodes * (1 + 0.2 * rng.standard_normal(nodes.size)) + 2e-4 * rng.random(nodes.size)
        sets.append((nodes, seconds))
    return sets


def check_per_node_fit(seconds_per_node):
    """``seconds_per_node(nodes, seconds)``: the slope a of the best line seconds ≈ a·nodes."""
    what = "least-squares time per node"
    for nodes, seconds in _fits():
        ok, got = call_answer(what, seconds_per_node, nodes.tolist(), seconds.tolist())
        if not ok:
            return False
        if is_unset(got):
            return report(False, what, f"your function returned {got!r}: not filled in yet")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"expected one number (seconds per node), got {type(got).__name__}")
        best = float(np.linalg.lstsq(nodes[:, None], seconds, rcond=None)[0][0])
        if not abs(got - best) <= 1e-9 * abs(best):
            residual = float(np.sum((seconds - got * nodes) ** 2))
            least = float(np.sum((seconds - best * nodes) ** 2))
            return report(False, what,
                          f"on {nodes.size} measurements your slope leaves a sum of squared errors "
                          f"{residual / least:.6g} times the smallest possible one; the line through "
                          "0 that fits best minimises the sum of squared errors")
    return report(True, what + ": your slope is the least-squares one on 3 sets of measurements")


def check_crossover(crossover_batch):
    """``crossover_batch(width, per_node, per_multiply_add, nodes)``: the batch at which the
    tensor engine's arithmetic takes as long as its per-node overhead."""
    what = "crossover batch size"
    cases = [(16, 1e-5, 1e-9, 21), (64, 2e-5, 5e-10, 21), (4, 3e-6, 2e-9, 30), (256, 1e-5, 1e-10, 21)]
    for width, per_node, per_op, nodes in cases:
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
        arithmetic = per_op * speed.multiply_adds(width, 1)  # per point: the count is linear in batch
        true = overhead / arithmetic
        if not abs(got - true) <= 1e-9 * true:
            at_got = per_op * speed.multiply_adds(width, 1) * got
            side = "less" if at_got < overhead else "more"
            return report(False, what,
                          f"width {width}, {per_node:g} s per node, {per_op:g} s per multiply-add, "
                          f"{nodes} nodes: at batch {got:.4g} the arithmetic would take {side} time "
                          "than the per-node overhead")
    return report(True, what + f": right for {len(cases)} sets of costs")
