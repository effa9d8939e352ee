"""The scalar engine against the tensor engine: one training step, timed, and where its time goes.

Both engines train the same network on the same data (:mod:`.engines`); a
*training step* is forward, loss, zero the gradients, backward, update, the
same five lines for both (:func:`scalar_step`, :func:`tensor_step`), and
PyTorch, when it is installed, runs the same step as a reference. The modules,
one idea each:

* :mod:`.engines`: the problem (data and starting weights), each engine's
  step, and :func:`agreement`, which checks that they compute the same losses;
* :mod:`.counts`: what does not depend on the machine, the nodes of a step's
  graph and the multiply-adds of its matrix products;
* :mod:`.timing`: timing steps fairly (warm-up, interleaved repeats, medians,
  one thread, a frozen heap) and :func:`compare`, two sweeps of sizes;
* :mod:`.breakdown`: where a step's time goes, measured: the garbage
  collector's share of the scalar step, and the tensor step split into the
  graph's bookkeeping, NumPy's calls and the arithmetic;
* :mod:`.report`: the table, and the claims that hold on any machine;
* :mod:`.plots`: the charts, :mod:`.files`: measurements as JSON;
* :mod:`.progress` and :mod:`.cli`: ``python -m minigrad.speed``.

Times depend on the machine and on whatever else it is doing, so this is a
benchmark, not a test: only ratios measured side by side in one run are
compared, and only claims with a wide margin are stated.
"""
from minigrad.speed.breakdown import collector_share, numpy_step, tensor_breakdown
from minigrad.speed.cli import main
from minigrad.speed.counts import count_nodes, multiply_adds, scalar_nodes
from minigrad.speed.engines import (ENGINES, LR, Problem, agreement, import_torch, make_problem,
                                    make_step, scalar_step, tensor_step, torch_available)
from minigrad.speed.files import load_json, save_json
from minigrad.speed.plots import plot, plot_breakdown
from minigrad.speed.progress import ProgressBar
from minigrad.speed.report import format_claims, format_table, robust_claims
from minigrad.speed.timing import (DEFAULT_BATCH, DEFAULT_BATCHES, DEFAULT_MIN_TIME,
                                   DEFAULT_REPEATS, DEFAULT_WIDTH, DEFAULT_WIDTHS, FORMAT,
                                   compare, machine, measure, one_thread, speedup, sweep,
                                   threads_limited)

__all__ = ["ENGINES", "Problem", "make_problem", "scalar_step", "tensor_step", "numpy_step",
           "make_step", "count_nodes", "scalar_nodes", "multiply_adds", "agreement", "measure",
           "compare", "sweep", "speedup", "collector_share", "tensor_breakdown",
           "plot_breakdown", "robust_claims", "format_claims", "format_table", "plot",
           "save_json", "load_json", "main"]
