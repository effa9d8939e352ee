"""How fast is the scalar engine? One training step of micrograd's demo, two ways.

The step is the one micrograd's demo notebook repeats a hundred times: an
``MLP(2, [16, 16, 1])`` (ReLU hidden layers, a linear output) scores 100
points of the two-moons data set, the loss is the mean hinge loss plus a small
L2 penalty on the weights, then backward and an SGD update. The same function
runs it with ``minigrad.Value`` and, when the ``micrograd`` package is
installed, with micrograd's ``Value``: only the classes differ.

Before timing, both networks get the same weights and must agree on the loss,
on every gradient, and on the number of nodes in the graph (one node per
scalar operation in both: the speed must not come from fusing operations).
Then the engines take turns (interleaved repeats, so that a busy moment of the
machine slows both alike) and the table reports median times and their ratio.

Timing notes, so the comparison is fair to micrograd:

* both engines get plain Python floats (micrograd's demo feeds it NumPy
  scalars, whose arithmetic is slower still);
* each timed run is a few consecutive steps, so garbage a step leaves behind
  is collected during the next one, as in a real training loop; between runs
  ``gc.collect()`` (not timed) clears the heap, which lets micrograd start each
  run without its previous garbage;
* micrograd with the garbage collector switched off is reported for the
  record: most of micrograd's time goes to the collector walking its graphs,
  in which every node sits in a reference cycle with its own ``_backward``.

    python -m benchmarks scalar [--repeats N] [--steps N]
"""
import argparse
import gc
import math
import statistics
import sys
import time

from minigrad.autograd import topological_order
from minigrad.datasets import make_moons
from minigrad.value_nn import ValueMLP as MLP
from minigrad.value import Value

N_POINTS = 100
SIZES = [16, 16, 1]
ALPHA = 1e-4  # the weight of the L2 penalty in micrograd's demo
LR = 0.01
GOAL = 0.2  # minigrad's step should take at most this fraction of micrograd's


def make_data(seed=0):
    """Two-moons points as lists of Python floats, labels as -1.0 / +1.0."""
    X, y = make_moons(N_POINTS, noise=0.1, seed=seed)
    return X.tolist(), [2.0 * label - 1.0 for label in y.tolist()]


def loss_of(model, value_class, X, y):
    """micrograd's demo loss: mean hinge loss + ALPHA * sum of squared parameters.

    Written once for both engines; ``value_class`` is the only difference.
    """
    inputs = [[value_class(x0), value_class(x1)] for x0, x1 in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def train_step(model, value_class, X, y, lr=LR):
    """Forward, loss, backward, SGD update; the graph is dropped on return."""
    loss = loss_of(model, value_class, X, y)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad


def _require(condition, message):
    if not condition:
        raise RuntimeError(f"the engines disagree: {message}")


def check_same_computation(ours, theirs, their_value, X, y):
    """Give ``theirs`` the weights of ``ours``, then check that one step's loss,
    gradients and graph size agree. Returns a one-line summary."""
    ours_params, their_params = ours.parameters(), theirs.parameters()
    _require(len(ours_params) == len(their_params),
             f"{len(ours_params)} parameters against {len(their_params)}")
    for p, q in zip(ours_params, their_params):
        q.data = p.data

    our_loss = loss_of(ours, Value, X, y)
    their_loss = loss_of(theirs, their_value, X, y)
    _require(math.isclose(our_loss.data, their_loss.data, rel_tol=1e-12),
             f"loss {our_loss.data!r} against {their_loss.data!r}")
    # The shared traversal walks micrograd's graph too (its _prev is a set: only the order differs).
    our_nodes, their_nodes = len(topological_order(our_loss)), len(topological_order(their_loss))
    _require(our_nodes == their_nodes, f"{our_nodes} graph nodes against {their_nodes}")

    ours.zero_grad()
    theirs.zero_grad()
    our_loss.backward()
    their_loss.backward()
    # micrograd's backward order varies from run to run (its parents are a set),
    # so its float sums may round differently in the last bits.
    gap = max(abs(p.grad - q.grad) / max(abs(p.grad), abs(q.grad), 1e-12)
              for p, q in zip(ours_params, their_params))
    _require(gap <= 1e-9, f"gradients differ by a relative {gap:.3g}")
    return (f"same loss ({our_loss.data:.12g}), same {len(ours_params)} gradients "
            f"(largest relative gap {gap:.1e}), same graph ({our_nodes:,} nodes)")


def _time_run(model, value_class, X, y, steps, collector=True):
    """Seconds per step, over ``steps`` consecutive steps."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(steps):
            train_step(model, value_class, X, y)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    gc.collect()
    return elapsed / steps


def run(repeats=5, steps=3, out=sys.stdout):
    """Check, then time; returns {engine name: median seconds per step}."""
    X, y = make_data()
    ours = MLP(2, SIZES, seed=0)
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError:
        micrograd = None
        print("micrograd is not installed (pip install micrograd==0.1.0): timing minigrad alone.",
              file=out)

    engines = {"minigrad.Value": (ours, Value, True)}
    if micrograd is not None:
        theirs = micrograd.nn.MLP(2, list(SIZES))
        print("check:", check_same_computation(ours, theirs, micrograd.engine.Value, X, y), file=out)
        engines["micrograd"] = (theirs, micrograd.engine.Value, True)
        engines["micrograd, gc disabled"] = (theirs, micrograd.engine.Value, False)
    engines["minigrad.Value, gc disabled"] = (ours, Value, False)

    for model, value_class, _ in engines.values():  # warm up
        train_step(model, value_class, X, y)
    times = {name: [] for name in engines}
    for _ in range(repeats):
        for name, (model, value_class, collector) in engines.items():
            times[name].append(_time_run(model, value_class, X, y, steps, collector))
    medians = {name: statistics.median(t) for name, t in times.items()}
    print_table(medians, repeats, steps, out)
    return medians


def print_table(medians, repeats, steps, out=sys.stdout):
    print(f"One training step of MLP(2, {SIZES}) on {N_POINTS} moons points "
          "(forward, hinge loss + L2, backward, SGD update);", file=out)
    print(f"median over {repeats} interleaved runs of {steps} consecutive steps each:", file=out)
    width = max(len(name) for name in medians)
    for name, seconds in medians.items():
        print(f"  {name.ljust(width)}  {seconds * 1e3:8.1f} ms", file=out)
    if "micrograd" in medians:
        ratio = medians["minigrad.Value"] / medians["micrograd"]
        verdict = "meets" if ratio <= GOAL else "misses"
        print(f"minigrad / micrograd: {ratio:.3f} ({1 / ratio:.1f}x as fast; {verdict} the goal of "
              f"at most {GOAL})", file=out)
        no_gc = medians["minigrad.Value"] / medians["micrograd, gc disabled"]
        print(f"minigrad / micrograd with its gc disabled: {no_gc:.3f}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks.scalar",
        description="Time one training step of micrograd's demo MLP with minigrad.Value and with "
                    "micrograd, after checking that both compute the same thing.")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs per engine (default 5)")
    parser.add_argument("--steps", type=int, default=3, help="consecutive steps per run (default 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.steps < 1:
        parser.error("--repeats and --steps must be at least 1")
    run(args.repeats, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
