"""The scalar engine against the tensor engine: one training step, timed at many sizes.

Both engines train the same network on the same data: an ``MLP(2, [width,
width, 1])`` with ReLU hidden layers and a linear output scores ``batch``
points of the two-moons data set, the loss is the mean hinge loss, and plain
SGD updates the weights. The scalar network is a copy of the tensor one
(:func:`minigrad.convert.to_scalar`), so the two start from the same weights
and compute the same losses, up to rounding (:func:`agreement` checks it).

What is measured, and how:

* a *training step* is forward, loss, zero the gradients, backward, update:
  :func:`scalar_step` and :func:`tensor_step`, the same five lines for both
  engines; PyTorch, when it is installed, runs the same step as a reference;
* each engine's step is run a few times in a row (enough for a run to last
  ``min_time``), and the time of a run divided by its steps is one
  measurement; the engines take turns, ``repeats`` times at each size, so that
  a busy moment of the machine slows them all alike; each figure is the
  median of its repeats, and each speed-up a ratio of two medians measured
  side by side;
* every engine runs on one thread (NumPy's BLAS through threadpoolctl, when
  it is installed; PyTorch through its own setting), as the scalar engine does;
* the graph of each engine's step is counted, node by node, with
  :func:`minigrad.autograd.topological_order`: those counts do not depend on
  the machine at all.

Times depend on the machine and on whatever else it is doing, so this is a
benchmark, not a test. :func:`robust_claims` states only what holds with a
wide margin on any machine, and says so if one of them does not.

    python -m minigrad.speed [--widths 4,8,...] [--batches 8,32,...] [--repeats N]
                             [--plot FILE.png] [--json FILE] [--load FILE] [--no-torch]
"""
import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import textwrap
import time
from contextlib import contextmanager

import numpy as np

from minigrad.autograd import topological_order
from minigrad.convert import to_scalar
from minigrad.datasets import make_moons
from minigrad.losses import hinge_loss
from minigrad.optim import SGD
from minigrad.tensor_nn import MLP
from minigrad.value import Value

__all__ = ["ENGINES", "Problem", "make_problem", "scalar_step", "tensor_step", "make_step",
           "count_nodes", "scalar_nodes", "multiply_adds", "agreement", "measure", "compare",
           "sweep", "speedup", "robust_claims", "format_claims", "format_table", "plot",
           "save_json", "load_json", "main"]

ENGINES = ("scalar", "tensor", "torch")
LR = 0.05
FORMAT = "minigrad.speed/1"  # written into every JSON file, checked when one is read

# The command's sizes: well under two minutes on a small machine (chapter 11 uses
# smaller ones). The scalar engine's largest steps have about 150,000 nodes.
DEFAULT_WIDTHS = (4, 8, 16, 32, 64)
DEFAULT_BATCHES = (4, 16, 64, 256)
DEFAULT_WIDTH = 16   # the width at which the batch size varies
DEFAULT_BATCH = 16   # the batch size at which the width varies
DEFAULT_REPEATS = 5
DEFAULT_MIN_TIME = 0.02
# robust_claims says "the speed-up grows more than GROWTH_CLAIM times along a sweep"
# only for sweeps that multiply the scalar engine's nodes at least GROWTH_RANGE times.
GROWTH_CLAIM = 4
GROWTH_RANGE = 16


# ----- the problem and the two steps -------------------------------------------------

class Problem:
    """The data and the starting network of one comparison, shared by every engine.

    ``X`` has shape (batch, 2), ``labels`` shape (batch, 1) with entries -1.0 or
    +1.0; ``model`` is a tensor MLP whose weights every engine copies.
    """

    def __init__(self, width, batch, seed=0):
        self.width = _positive_int(width, "width")
        self.batch = _positive_int(batch, "batch")
        X, y = make_moons(max(self.batch, 2), noise=0.1, seed=seed)  # it makes 2 or more
        X, y = X[:self.batch], y[:self.batch]
        self.X = X.astype(np.float64)
        self.labels = (2.0 * y - 1.0).astype(np.float64).reshape(-1, 1)
        self.model = MLP(2, [self.width, self.width, 1], activation="relu", seed=seed)

    def weights(self):
        """The starting weights as (W, b) arrays, one pair per layer (copies)."""
        return [(layer.W.data.copy(), layer.b.data.copy()) for layer in self.model.layers]

    def __repr__(self):
        return f"Problem(width={self.width}, batch={self.batch})"


def make_problem(width, batch, seed=0):
    """The moons data (``batch`` points) and an ``MLP(2, [width, width, 1])`` to train on it."""
    return Problem(width, batch, seed)


def scalar_step(model, inputs, labels, optimizer):
    """One training step of the scalar engine; returns the loss.

    ``inputs`` is a list of points, each a list of Values; ``labels``
    a list of numbers. Every multiplication and addition is a node.
    """
    scores = [model(x) for x in inputs]
    loss = hinge_loss(scores, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data


def tensor_step(model, X, labels, optimizer):
    """One training step of the tensor engine; returns the loss.

    ``X`` is an array of shape (batch, 2), ``labels`` one of shape
    (batch, 1). Each layer is a handful of nodes, whatever the sizes.
    """
    scores = model(X)
    loss = hinge_loss(scores, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


class _ScalarEngine:
    name = "scalar"

    def __init__(self, problem):
        self.model = to_scalar(_copy_model(problem))
        # The inputs are leaves made once, as a training loop would make them.
        self.inputs = [[Value(float(a)), Value(float(b))] for a, b in problem.X]
        self.labels = [float(t) for t in problem.labels[:, 0]]
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def step(self):
        return scalar_step(self.model, self.inputs, self.labels, self.optimizer)

    def graph(self):
        return hinge_loss([self.model(x) for x in self.inputs], self.labels)


class _TensorEngine:
    name = "tensor"

    def __init__(self, problem):
        self.model = _copy_model(problem)
        self.X, self.labels = problem.X.copy(), problem.labels.copy()
        self.optimizer = SGD(self.model.parameters(), lr=LR)

    def step(self):
        return tensor_step(self.model, self.X, self.labels, self.optimizer)

    def graph(self):
        return hinge_loss(self.model(self.X), self.labels)


class _TorchEngine:
    """The same step in PyTorch (float64, one thread), for reference."""

    name = "torch"

    def __init__(self, problem):
        torch = import_torch()
        if torch is None:
            raise ValueError("the torch engine needs PyTorch, which is not installed")
        self.torch = torch
        self.params = []
        for W, b in problem.weights():
            self.params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
        self.X = torch.tensor(problem.X)
        self.labels = torch.tensor(problem.labels)
        self.optimizer = torch.optim.SGD(self.params, lr=LR)

    def _loss(self):
        h = self.X
        last = len(self.params) // 2 - 1
        for i in range(0, len(self.params), 2):
            h = h @ self.params[i] + self.params[i + 1]
            if i // 2 < last:
                h = self.torch.relu(h)
        return self.torch.relu(1 - h * self.labels).mean()

    def step(self):
        loss = self._loss()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def graph(self):
        return None


_ENGINE_CLASSES = {"scalar": _ScalarEngine, "tensor": _TensorEngine, "torch": _TorchEngine}


def make_step(engine, problem):
    """An object whose ``step()`` runs one training step of ``engine`` on ``problem``."""
    if engine not in _ENGINE_CLASSES:
        raise ValueError(f"unknown engine {engine!r}; the engines are {', '.join(ENGINES)}")
    if not isinstance(problem, Problem):
        raise TypeError(f"make_step needs a Problem (from make_problem), got {type(problem).__name__}")
    return _ENGINE_CLASSES[engine](problem)


def _copy_model(problem):
    return MLP.from_layers(type(layer)._from_arrays(layer.W.data, layer.b.data, layer.activation)
                           for layer in problem.model.layers)


def import_torch(threads=1):
    """PyTorch limited to ``threads`` threads (0: its default), or None when it is not installed.

    With its default thread pool, PyTorch's OpenMP threads keep spinning for a
    while after each operation and slow down NumPy running next to it in the
    same process (on a small machine by up to tenfold); one thread keeps the
    comparison fair to both. The count is best set before PyTorch is first
    imported, through OMP_NUM_THREADS.
    """
    if threads and "torch" not in sys.modules:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch
    except ImportError:
        return None
    if threads:
        torch.set_num_threads(threads)
    return torch


def torch_available():
    """Whether PyTorch can be imported here.

    (``sys.modules["torch"] = None`` is Python's way to make ``import torch``
    fail, as if it were not installed: the tests' MINIGRAD_TORCH=0 does so.)
    """
    if sys.modules.get("torch") is not None:
        return True
    import importlib.util
    return importlib.util.find_spec("torch") is not None


# ----- what does not depend on the machine: counts -----------------------------------

def count_nodes(engine, width, batch, seed=0):
    """The number of nodes in the graph of one training step's loss (scalar or tensor engine)."""
    if engine not in ("scalar", "tensor"):
        raise ValueError(f"nodes are counted for the scalar and tensor engines, not {engine!r}")
    return len(topological_order(make_step(engine, make_problem(width, batch, seed)).graph()))


def scalar_nodes(width, batch):
    """The scalar engine's node count for one step, from a formula (see chapter 6).

    A neuron with n inputs makes n multiplications and n additions, plus its
    activation if it has one: 2n + 1 nodes (2n for the linear output). Per
    point the network makes w(2*2 + 1) + w(2w + 1) + 2w nodes; the point's two
    input leaves make 2 more, and its hinge loss 5 (the constant -y, its product
    with the score, the constant 1, their sum, a ReLU). Then come the
    parameters, the sum over the batch (a constant 0 and ``batch`` additions)
    and its scaling by 1/batch (a constant and a product).
    """
    w, n = _positive_int(width, "width"), _positive_int(batch, "batch")
    per_point = w * 5 + w * (2 * w + 1) + 2 * w + 2 + 5
    parameters = (2 * w + w) + (w * w + w) + (w + 1)
    return n * per_point + parameters + (n + 1) + 2


def multiply_adds(width, batch):
    """Multiply-adds in the matrix products of one tensor-engine step (forward and backward).

    Forward, a (batch, n) @ (n, m) product makes batch·n·m of them, for the
    three layers batch·(2w + w·w + w). Backward, each layer's W gets
    X.T @ grad (as many again), and each layer's input gets grad @ W.T (as
    many again), except the first layer's: the data needs no gradient.
    """
    w, n = _positive_int(width, "width"), _positive_int(batch, "batch")
    forward = n * (2 * w + w * w + w)
    return forward + forward + n * (w * w + w)


# ----- checking that the engines agree ----------------------------------------------

def agreement(width=8, batch=16, steps=5, engines=("scalar", "tensor"), seed=0):
    """Train each engine ``steps`` steps from the same weights; their losses step by step.

    Returns ``{"losses": {engine: [loss, ...]}, "max_gap": g}`` where ``g`` is
    the largest relative difference between any engine's loss and the scalar
    engine's (the first engine's) at the same step.
    """
    steps = _positive_int(steps, "steps")
    problem = make_problem(width, batch, seed)
    losses = {}
    for engine in engines:
        runner = make_step(engine, problem)
        losses[engine] = [runner.step() for _ in range(steps)]
    first = losses[engines[0]]
    gap = 0.0
    for engine in engines[1:]:
        for a, b in zip(first, losses[engine]):
            gap = max(gap, abs(a - b) / max(abs(a), abs(b), 1e-300))
    return {"width": width, "batch": batch, "steps": steps, "losses": losses, "max_gap": gap}


# ----- timing ------------------------------------------------------------------------

def _one_run(runner, steps):
    """Seconds per step over ``steps`` consecutive steps (garbage collected beforehand, untimed)."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(steps):
        runner.step()
    return (time.perf_counter() - start) / steps


@contextmanager
def _frozen_heap():
    """Move every object that exists now out of the garbage collector's sight, for a while.

    The collector runs now and then while a graph is being built, and a full
    collection walks every object the process holds: in a process that has
    imported PyTorch or matplotlib, hundreds of thousands that have nothing
    to do with either engine. Frozen (``gc.freeze``), they cost nothing, so
    each engine is timed with the collector's work on its own objects only.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _one_thread():
    """NumPy's BLAS (and any OpenMP pool) on one thread for a while, if threadpoolctl is installed.

    The scalar engine runs on one core, and PyTorch is kept to one thread
    (:func:`import_torch`), so NumPy's matrix products get one too: the
    comparison is then between engines, not between numbers of cores. (On a
    busy machine, a BLAS that splits a mid-sized product over several threads
    can also be many times slower than one that does not.)
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def threads_limited():
    """Whether measurements here run NumPy's BLAS on one thread (threadpoolctl is installed)."""
    import importlib.util
    return importlib.util.find_spec("threadpoolctl") is not None


def _time_engines(runners, repeats, min_time, tick=None):
    """Interleaved runs of every runner; {name: (runs, steps per run)}."""
    with _frozen_heap(), _one_thread():
        return _time_engines_now(runners, repeats, min_time, tick)


def _time_engines_now(runners, repeats, min_time, tick):
    plan = {}
    for runner in runners:  # warm-up step, which also says how many steps make a run last min_time
        first = _one_run(runner, 1)
        plan[runner.name] = max(1, min(1000, math.ceil(min_time / max(first, 1e-9))))
        if tick:
            tick(runner.name)
    runs = {runner.name: [] for runner in runners}
    for _ in range(repeats):
        for runner in runners:
            runs[runner.name].append(_one_run(runner, plan[runner.name]))
            if tick:
                tick(runner.name)
    return {name: (runs[name], plan[name]) for name in runs}


def measure(engine, width, batch, repeats=DEFAULT_REPEATS, min_time=DEFAULT_MIN_TIME, seed=0):
    """Time one engine's training step at one size.

    Returns ``{"engine", "width", "batch", "seconds", "runs", "steps_per_run",
    "nodes"}``: ``seconds`` is the median of the ``repeats`` runs' seconds per
    step; ``nodes`` the size of the step's graph (None for torch).
    """
    repeats = _positive_int(repeats, "repeats")
    problem = make_problem(width, batch, seed)
    runner = make_step(engine, problem)
    (runs, steps), = _time_engines([runner], repeats, min_time).values()
    graph = runner.graph()
    return {"engine": engine, "width": problem.width, "batch": problem.batch,
            "seconds": statistics.median(runs), "runs": runs, "steps_per_run": steps,
            "nodes": None if graph is None else len(topological_order(graph))}


def compare(widths=DEFAULT_WIDTHS, batches=DEFAULT_BATCHES, width=DEFAULT_WIDTH,
            batch=DEFAULT_BATCH, repeats=DEFAULT_REPEATS, engines=None,
            min_time=DEFAULT_MIN_TIME, progress=None, seed=0):
    """Time every engine at every size of two sweeps: ``widths`` at batch ``batch``,
    and ``batches`` at width ``width``.

    ``engines`` defaults to scalar and tensor, plus torch when PyTorch is
    installed. ``progress``, if given, is called as ``progress(done, total,
    label)`` after each run. Returns plain data (lists, dicts, numbers), which
    :func:`save_json` writes as it is::

        {"format", "engines", "repeats", "min_time", "width", "batch",
         "widths", "batches", "machine",
         "rows": [{"width", "batch", "nodes": {engine: n}, "multiply_adds",
                   "seconds": {engine: median}, "runs": {engine: [...]},
                   "steps_per_run": {engine: k}}, ...]}
    """
    widths = _sizes(widths, "widths")
    batches = _sizes(batches, "batches")
    width, batch = _positive_int(width, "width"), _positive_int(batch, "batch")
    repeats = _positive_int(repeats, "repeats")
    if engines is None:
        engines = ("scalar", "tensor") + (("torch",) if torch_available() else ())
    engines = tuple(engines)
    for engine in engines:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; the engines are {', '.join(ENGINES)}")
    if "scalar" not in engines or "tensor" not in engines:
        raise ValueError(f"a comparison needs the scalar and the tensor engine, got {engines}")
    if "torch" in engines and import_torch() is None:
        raise ValueError("engine 'torch' was asked for, but PyTorch is not installed")

    sizes = sorted({(w, batch) for w in widths} | {(width, b) for b in batches},
                   key=lambda s: (s[0] * s[0] * s[1], s))  # small to large
    total = len(sizes) * len(engines) * (repeats + 1)
    done = 0
    rows = []
    for w, b in sizes:
        problem = make_problem(w, b, seed)
        runners = [make_step(engine, problem) for engine in engines]

        def tick(name, w=w, b=b):
            nonlocal done
            done += 1
            if progress:
                progress(done, total, f"{name} width {w} batch {b}")

        timed = _time_engines(runners, repeats, min_time, tick)
        nodes = {}
        for runner in runners:
            graph = runner.graph()
            if graph is not None:
                nodes[runner.name] = len(topological_order(graph))
        rows.append({"width": w, "batch": b, "nodes": nodes, "multiply_adds": multiply_adds(w, b),
                     "seconds": {name: statistics.median(runs) for name, (runs, _) in timed.items()},
                     "runs": {name: runs for name, (runs, _) in timed.items()},
                     "steps_per_run": {name: steps for name, (_, steps) in timed.items()}})
        del runners, problem
    return {"format": FORMAT, "engines": list(engines), "repeats": repeats, "min_time": min_time,
            "width": width, "batch": batch, "widths": list(widths), "batches": list(batches),
            "machine": _machine(), "rows": rows}


def sweep(results, over):
    """The rows of one sweep, in order: ``over="width"`` (at the fixed batch) or ``"batch"``."""
    if over == "width":
        wanted = [(w, results["batch"]) for w in results["widths"]]
    elif over == "batch":
        wanted = [(results["width"], b) for b in results["batches"]]
    else:
        raise ValueError(f"a sweep is over 'width' or 'batch', not {over!r}")
    by_size = {(row["width"], row["batch"]): row for row in results["rows"]}
    missing = [size for size in wanted if size not in by_size]
    if missing:
        raise ValueError(f"the results have no measurement for (width, batch) = {missing[0]}")
    return [by_size[size] for size in wanted]


def speedup(row, engine="tensor", baseline="scalar"):
    """How many times as fast ``engine``'s step is as ``baseline``'s, in one row."""
    return row["seconds"][baseline] / row["seconds"][engine]


# ----- what holds on any machine ------------------------------------------------------

def robust_claims(results):
    """Claims about the measurements that hold, with a wide margin, on any machine.

    Returns a list of ``(claim, holds)``. Each claim compares times measured
    side by side in this one run (never absolute times), is worded the same
    whatever the numbers, and leaves a margin of several times for noise.
    A claim about growth along a sweep is made only when the sweep multiplies
    the scalar engine's work at least ``GROWTH_RANGE`` times, so that the
    expected growth of the speed-up is several times the one claimed.
    ``holds`` says whether this run bears the claim out.
    """
    rows = results["rows"]
    claims = []

    def add(text, holds):
        claims.append((text, bool(holds)))

    add("the tensor engine is faster than the scalar engine at every size measured",
        all(speedup(row) > 1 for row in rows))
    counted = all("scalar" in row["nodes"] and "tensor" in row["nodes"] for row in rows)
    add("the tensor engine's graph has the same number of nodes at every size, while the scalar "
        "engine's is the formula of chapter 6, which grows with batch x width^2",
        counted and len({row["nodes"]["tensor"] for row in rows}) == 1
        and all(row["nodes"]["scalar"] == scalar_nodes(row["width"], row["batch"]) for row in rows))
    for over, name in (("batch", "batch size"), ("width", "width")):
        rows_of = sweep(results, over)
        first, last = rows_of[0], rows_of[-1]
        if last["nodes"]["scalar"] < GROWTH_RANGE * first["nodes"]["scalar"]:
            continue  # too small a range for a claim with a wide margin
        add(f"the speed-up grows with the {name}: at the largest {name} measured it is more than "
            f"{GROWTH_CLAIM} times what it is at the smallest",
            speedup(last) > GROWTH_CLAIM * speedup(first))
    return claims


def format_claims(claims, width=77):
    """Each claim as ``holds: ...`` or ``DOES NOT HOLD: ...``, wrapped to ``width`` columns."""
    return "\n".join(textwrap.fill(f"{'holds' if ok else 'DOES NOT HOLD'}: {text}", width,
                                   subsequent_indent="    ")
                     for text, ok in claims)


# ----- reporting -----------------------------------------------------------------------

def _ms(seconds):
    return f"{seconds * 1e3:.3f}" if seconds < 0.01 else f"{seconds * 1e3:.1f}"


def format_table(results):
    """A text table, 77 columns or fewer: for each sweep, one line per size with the
    scalar engine's node count, each engine's time per step and the speed-ups."""
    engines = results["engines"]
    head = ["width", "batch", "nodes"] + [f"{e} ms" for e in engines] + ["speed-up"]
    if "torch" in engines:
        head.append("tensor/torch")
    blocks = {}
    for over in ("width", "batch"):
        lines = []
        for row in sweep(results, over):
            cells = [str(row["width"]), str(row["batch"]), f"{row['nodes']['scalar']:,}"]
            cells += [_ms(row["seconds"][e]) for e in engines]
            cells.append(f"{speedup(row):.1f}x")
            if "torch" in engines:
                cells.append(f"{speedup(row, 'torch', 'tensor'):.2f}x")
            lines.append(cells)
        blocks[over] = lines
    every = [line for lines in blocks.values() for line in lines]
    widths = [max(len(head[i]), *(len(line[i]) for line in every)) for i in range(len(head))]

    def fmt(cells):
        return "  ".join(c.rjust(n) for c, n in zip(cells, widths))

    repeats = results["repeats"]
    out = ["Time per training step of MLP(2, [width, width, 1]) on `batch` moons",
           f"points: median of {repeats} run{'' if repeats == 1 else 's'}. nodes: the scalar "
           "engine's graph;",
           "speed-up: scalar time / tensor time, the two measured side by side."]
    if "torch" in engines:
        out.append("tensor/torch: tensor time / PyTorch time (above 1x: PyTorch is faster).")
    for over, fixed in (("width", f"batch {results['batch']}"), ("batch", f"width {results['width']}")):
        out += ["", f"varying the {'width' if over == 'width' else 'batch size'}, at {fixed}:",
                fmt(head), fmt(["-" * n for n in widths])]
        out += [fmt(line) for line in blocks[over]]
    return "\n".join(out)


_STYLE = {"scalar": ("tab:red", "o"), "tensor": ("tab:blue", "s"), "torch": ("tab:gray", "^")}


def plot(results, target=None):
    """Log-log charts of time per step against width and against batch size, and the speed-up.

    ``target`` is a file name (the figure is saved there and closed), a list of
    three matplotlib Axes to draw on, or None (a new figure). Returns the Figure.
    """
    import matplotlib
    import matplotlib.ticker
    if isinstance(target, (str, os.PathLike)) and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # only a file is wanted: no window, on any machine
    import matplotlib.pyplot as plt

    if target is None or isinstance(target, (str, os.PathLike)):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    else:
        axes = list(target)
        if len(axes) != 3:
            raise ValueError(f"plot draws on 3 Axes (width, batch, speed-up), got {len(axes)}")
        fig = axes[0].figure
    for ax, over in zip(axes[:2], ("width", "batch")):
        rows = sweep(results, over)
        xs = [row[over] for row in rows]
        for engine in results["engines"]:
            color, marker = _STYLE[engine]
            ax.loglog(xs, [row["seconds"][engine] * 1e3 for row in rows], marker=marker,
                      color=color, label=f"{engine} engine" if engine != "torch" else "PyTorch")
        fixed = f"batch {results['batch']}" if over == "width" else f"width {results['width']}"
        ax.set(xlabel=over, ylabel="ms per training step", title=f"time per step against {over} ({fixed})")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
    ax = axes[2]
    for over, style in (("width", "o-"), ("batch", "s--")):
        rows = sweep(results, over)
        ax.loglog([row["nodes"]["scalar"] for row in rows], [speedup(row) for row in rows], style,
                  color="tab:purple", label=f"varying {over}")
    ax.set(xlabel="scalar engine's nodes per step", ylabel="speed-up (scalar time / tensor time)",
           title="the tensor engine's speed-up")
    ax.minorticks_off()
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if isinstance(target, (str, os.PathLike)):
        fig.savefig(target, dpi=120)
        plt.close(fig)
    return fig


def save_json(results, path):
    """Write ``results`` (from :func:`compare`) to ``path`` as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


def load_json(path):
    """Results saved by :func:`save_json`, or a ValueError saying why the file is not such results."""
    try:
        with open(path, encoding="utf-8") as f:
            results = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a JSON file ({error})") from None
    if not isinstance(results, dict) or results.get("format") != FORMAT:
        raise ValueError(f"{path} does not hold minigrad.speed results (no \"format\": \"{FORMAT}\")")
    _check_results(results, path)
    return results


def _check_results(results, path):
    """A ValueError naming ``path`` unless ``results`` hold all that the table, the claims
    and the charts read."""
    def fail(what):
        return ValueError(f"{path} does not hold complete minigrad.speed results: {what}")

    def whole(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1

    for key in ("engines", "repeats", "width", "batch", "widths", "batches", "rows"):
        if key not in results:
            raise fail(f"it has no {key!r}")
    engines = results["engines"]
    if not (isinstance(engines, list) and {"scalar", "tensor"} <= set(map(str, engines)) <= set(ENGINES)):
        raise fail(f"its engines should include 'scalar' and 'tensor', from {ENGINES}; got {engines!r}")
    for key in ("widths", "batches"):
        if not (isinstance(results[key], list) and results[key] and all(map(whole, results[key]))):
            raise fail(f"its {key!r} should list positive whole numbers, got {results[key]!r}")
    for key in ("repeats", "width", "batch"):
        if not whole(results[key]):
            raise fail(f"its {key!r} should be a positive whole number, got {results[key]!r}")
    if not isinstance(results["rows"], list):
        raise fail("its 'rows' should be a list")
    for i, row in enumerate(results["rows"]):
        seconds = row.get("seconds") if isinstance(row, dict) else None
        nodes = row.get("nodes") if isinstance(row, dict) else None
        if not (whole(row.get("width")) and whole(row.get("batch")) and isinstance(seconds, dict)
                and isinstance(nodes, dict) and whole(nodes.get("scalar"))):
            raise fail(f"row {i} should hold a width, a batch, nodes and seconds, got {row!r}")
        for engine in engines:
            taken = seconds.get(engine)
            if not (isinstance(taken, (int, float)) and not isinstance(taken, bool)
                    and 0 < taken < math.inf):
                raise fail(f"row {i} should give {engine}'s seconds as a positive number, got {taken!r}")
    for over in ("width", "batch"):
        try:
            sweep(results, over)
        except ValueError as error:
            raise fail(error) from None


def _machine():
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "blas_threads": 1 if threads_limited() else "default"}
    if sys.modules.get("torch") is not None:
        info["torch"] = sys.modules["torch"].__version__
    return info


# ----- checks of arguments ---------------------------------------------------------------

def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive whole number, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def _sizes(values, what):
    values = [_positive_int(v, f"each of {what}") for v in values]
    if not values:
        raise ValueError(f"{what} lists no size")
    if sorted(set(values)) != values:
        raise ValueError(f"{what} must grow from left to right without repeats, got {values}")
    return values


# ----- the command ------------------------------------------------------------------------

class ProgressBar:
    """A one-line progress bar on a terminal (one line per tenth of the work elsewhere)."""

    def __init__(self, stream=None, width=30):
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self.shown = -1

    def __call__(self, done, total, label):
        fraction = done / total
        elapsed = time.perf_counter() - self.start
        filled = int(self.width * fraction)
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                f"{elapsed:5.1f} s  {label}")
        if self.tty:
            self.stream.write("\r" + line.ljust(78)[:max(78, len(line))])
            if done == total:
                self.stream.write("\n")
        elif int(10 * fraction) > self.shown:
            self.shown = int(10 * fraction)
            self.stream.write(line + "\n")
        self.stream.flush()


def _size_list(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes separated by commas, like 8,32,128; got {text!r}")
    if not values or min(values) < 1 or sorted(set(values)) != values:
        raise argparse.ArgumentTypeError(f"expected growing positive sizes separated by commas, got {text!r}")
    return values


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _output_problem(path, plot_file=False):
    """Why a file cannot be written at ``path`` (a sentence), or None if it can."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "that is a directory, not a file"
    if not os.path.isdir(directory):
        return f"there is no directory {directory}"
    if not os.access(path if os.path.exists(path) else directory, os.W_OK):
        return "permission denied: cannot write there"
    extension = os.path.splitext(path)[1][1:].lower()
    if plot_file and extension:
        from matplotlib.backend_bases import FigureCanvasBase
        formats = FigureCanvasBase.get_supported_filetypes()
        if extension not in formats:
            return (f"matplotlib cannot save a chart as .{extension}; use one of "
                    + ", ".join(f".{name}" for name in sorted(formats)))
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.speed",
        description="Time one training step of the scalar and the tensor engine (and PyTorch, when "
                    "installed) on the same network and data, at several widths and batch sizes.")
    parser.add_argument("--widths", type=_size_list, default=list(DEFAULT_WIDTHS),
                        help=f"hidden widths to measure at --batch (default {','.join(map(str, DEFAULT_WIDTHS))})")
    parser.add_argument("--batches", type=_size_list, default=list(DEFAULT_BATCHES),
                        help=f"batch sizes to measure at --width (default {','.join(map(str, DEFAULT_BATCHES))})")
    parser.add_argument("--width", type=_positive, default=DEFAULT_WIDTH,
                        help=f"the width while the batch size varies (default {DEFAULT_WIDTH})")
    parser.add_argument("--batch", type=_positive, default=DEFAULT_BATCH,
                        help=f"the batch size while the width varies (default {DEFAULT_BATCH})")
    parser.add_argument("--repeats", type=_positive, default=DEFAULT_REPEATS,
                        help=f"timed runs per engine and size; figures are their medians (default {DEFAULT_REPEATS})")
    parser.add_argument("--plot", metavar="FILE.png", help="save the log-log charts to this image file")
    parser.add_argument("--json", metavar="FILE", help="save the measurements to this JSON file")
    parser.add_argument("--load", metavar="FILE",
                        help="measure nothing: show the table (and --plot) of measurements saved with --json")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    args = parser.parse_args(argv)
    out = sys.stdout
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None:  # before measuring for minutes, not after
            problem = _output_problem(path, plot_file=option == "--plot")
            if problem:
                parser.error(f"{option} {path}: {problem}")

    if args.load:
        try:
            results = load_json(args.load)
        except (OSError, ValueError) as error:
            parser.error(str(error))
        print(f"measurements loaded from {args.load} (machine: {results.get('machine')})", file=out)
    else:
        engines = ("scalar", "tensor") + (() if args.no_torch or not torch_available() else ("torch",))
        check = agreement(width=args.widths[0], batch=args.batches[0], steps=3, engines=engines)
        print(f"check: {', '.join(engines)} train the same network on the same data; over "
              f"{check['steps']} steps their losses differ by at most {check['max_gap']:.1e} (relative)",
              file=out)
        if check["max_gap"] > 1e-9:
            print("error: the engines do not compute the same losses; not timing them", file=sys.stderr)
            return 1
        if "torch" not in engines:
            print("PyTorch is " + ("left out (--no-torch)" if args.no_torch else "not installed") +
                  ": timing minigrad's two engines only", file=out)
        results = compare(args.widths, args.batches, args.width, args.batch, args.repeats,
                          engines=engines, progress=ProgressBar())
    print(format_table(results), file=out)
    print(format_claims(robust_claims(results)), file=out)
    if args.json:
        save_json(results, args.json)
        print(f"measurements saved to {args.json}", file=out)
    if args.plot:
        plot(results, args.plot)
        print(f"chart saved to {args.plot}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
