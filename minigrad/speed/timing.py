"""Timing the engines' training steps fairly, and the comparison over two sweeps of sizes.

* each engine's step is run a few times in a row (after a warm-up step,
  enough warmed-up steps for a run to last ``min_time``), and the time of a
  run divided by its steps is one measurement; the engines take turns,
  ``repeats`` times at each size, so that a busy moment of the machine slows
  them all alike; each figure is the median of its repeats, and each
  speed-up a ratio of two medians measured side by side;
* every engine runs on one thread (NumPy's BLAS through threadpoolctl, when
  it is installed; PyTorch through its own setting), as the scalar engine does;
* the objects that exist before a measurement are frozen out of the garbage
  collector's sight, so that it works on the engines' own objects only.

Times depend on the machine and on whatever else it is doing: this is a
benchmark, not a test.
"""
import contextlib
import gc
import math
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager

import numpy as np

from minigrad.autograd import topological_order
from minigrad.speed.counts import multiply_adds
from minigrad.speed.engines import ENGINES, import_torch, make_problem, make_step, torch_available
from minigrad.speed.sizes import growing_sizes, positive_int

FORMAT = "minigrad.speed/1"  # written into every JSON file, checked when one is read

# The command's sizes: well under two minutes on a small machine (chapter 11 uses
# smaller ones). The scalar engine's largest step (width 16, batch 256) has 166,228 nodes.
DEFAULT_WIDTHS = (4, 8, 16, 32, 64)
DEFAULT_BATCHES = (4, 16, 64, 256)
DEFAULT_WIDTH = 16   # the width at which the batch size varies
DEFAULT_BATCH = 16   # the batch size at which the width varies
DEFAULT_REPEATS = 5
DEFAULT_MIN_TIME = 0.02


def _one_run(runner, steps, clock=None):
    """Seconds per step over ``steps`` consecutive steps (garbage collected beforehand, untimed,
    unless ``runner.collect_first`` is False), by ``clock`` (default ``time.perf_counter``,
    the wall clock)."""
    clock = clock or time.perf_counter
    if getattr(runner, "collect_first", True):
        gc.collect()
    start = clock()
    for _ in range(steps):
        runner.step()
    return (clock() - start) / steps


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
def one_thread():
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


def _time_engines(runners, repeats, min_time, tick=None, freeze=True, clock=None):
    """Interleaved runs of every runner; {name: (runs, steps per run)}.

    With ``freeze`` (the default) the heap is frozen meanwhile (:func:`_frozen_heap`);
    ``clock`` is the wall clock unless given (``time.thread_time``: the processor time
    this thread used, which time spent waiting for the processor does not inflate).
    """
    with (_frozen_heap() if freeze else contextlib.nullcontext()), one_thread():
        return _time_engines_now(runners, repeats, min_time, tick, clock)


MAX_STEPS_PER_RUN = 1000


def _steps_for(min_time, seconds_per_step):
    """How many steps of ``seconds_per_step`` make a run last ``min_time`` (1 to 1000)."""
    wanted = math.ceil(min_time / max(seconds_per_step, 1e-9))
    return max(1, min(MAX_STEPS_PER_RUN, wanted))


def _plan_run(runner, min_time, clock=None):
    """Steps per run: enough for a run of warmed-up steps to last ``min_time``.

    One warm-up step first (it pays for what later steps do not: memory
    mapped, caches filled, so it can be many times slower than the rest),
    then runs that are not measurements: each run too short for ``min_time``
    plans the next from its own, warmed, time per step, until one lasts long
    enough (or has 1000 steps).
    """
    steps = _steps_for(min_time, _one_run(runner, 1, clock))
    while True:
        seconds = _one_run(runner, steps, clock)
        if seconds * steps >= min_time or steps >= MAX_STEPS_PER_RUN:
            return steps
        steps = max(steps + 1, _steps_for(min_time, seconds))


def _time_engines_now(runners, repeats, min_time, tick, clock=None):
    plan = {}
    for runner in runners:  # warm-up, then the steps that make a run last min_time
        plan[runner.name] = _plan_run(runner, min_time, clock)
        if tick:
            tick(runner.name)
    runs = {runner.name: [] for runner in runners}
    for _ in range(repeats):
        for runner in runners:
            runs[runner.name].append(_one_run(runner, plan[runner.name], clock))
            if tick:
                tick(runner.name)
    return {name: (runs[name], plan[name]) for name in runs}


def measure(engine, width, batch, repeats=DEFAULT_REPEATS, min_time=DEFAULT_MIN_TIME, seed=0):
    """Time one engine's training step at one size.

    Returns ``{"engine", "width", "batch", "seconds", "runs", "steps_per_run",
    "nodes"}``: ``seconds`` is the median of the ``repeats`` runs' seconds per
    step; ``nodes`` the size of the step's graph (None for torch).
    """
    repeats = positive_int(repeats, "repeats")
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
    widths = growing_sizes(widths, "widths")
    batches = growing_sizes(batches, "batches")
    width, batch = positive_int(width, "width"), positive_int(batch, "batch")
    repeats = positive_int(repeats, "repeats")
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
            "machine": machine(), "rows": rows}


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

def machine():
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "blas_threads": 1 if threads_limited() else "default"}
    if sys.modules.get("torch") is not None:
        info["torch"] = sys.modules["torch"].__version__
    return info
