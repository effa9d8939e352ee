"""How fast is the Tensor engine? One training step of an MLP, three ways.

The same network (ReLU hidden layers, softmax cross-entropy, plain SGD) takes
one training step (forward, loss, backward, update) in

* minigrad: built from Tensor operations (``x @ W + b``, ``relu``) and
  differentiated by the autograd engine;
* NumPy by hand: the forward pass and the backward pass written out with the
  matrix formulas, no autograd: the floor that any NumPy-based engine can
  hope to reach;
* PyTorch on the CPU, in float64, when it is installed.

Before timing, the three compute one step from the same weights and must agree
on the loss and on every gradient. Then the engines take turns (interleaved
repeats, so that a slow moment of the machine hurts them all alike) and the
table reports median times and their ratios at three network sizes.

    python -m benchmarks tensor [--repeats N] [--sizes small,medium,large] [--no-torch]
                                    [--torch-threads N] [--system-malloc]

(or ``python -m benchmarksmarks.tensor`` with the same options). PyTorch
runs on one thread by default and glibc's malloc is asked to keep freed
memory: see :func:`minigrad.speed.import_torch` and :func:`keep_freed_memory` for why.
"""
import argparse
import ctypes
import gc
import statistics
import sys
import time

import numpy as np

from minigrad.losses import cross_entropy_loss
from minigrad.optim import SGD
from minigrad.speed import import_torch
from minigrad.tensor import Tensor

# name: (layer sizes, batch size, goal for minigrad/NumPy, whether minigrad should beat PyTorch)
SIZES = {
    "small": ([2, 16, 16, 2], 100, 1.5, True),
    "medium": ([64, 128, 64, 10], 256, 1.2, True),
    "large": ([784, 256, 256, 10], 512, 1.05, False),
}
LR = 0.01


def make_problem(sizes, batch, seed=0):
    """Inputs, integer labels and He-initialised weights [(W, b), ...] as float64 arrays."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    weights = [(rng.standard_normal((nin, nout)) * np.sqrt(2.0 / nin), 0.1 * rng.standard_normal(nout))
               for nin, nout in zip(sizes[:-1], sizes[1:])]
    return X, y, weights


# ----- the three engines: each has setup(weights) -> step() and gradients() --------------

class AutogradNetwork:
    """A training step and the gradients of an engine with autograd (minigrad,
    PyTorch): the same code for both, and for every benchmark's network.

    A subclass defines ``loss()`` and sets ``params``, ``optimizer`` and
    ``to_numpy(gradient)`` (a copy, as an ndarray).
    """

    def step(self):
        loss = self.loss()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss

    def gradients(self):
        loss = self.loss()
        self.optimizer.zero_grad()
        loss.backward()
        return float(loss.item()), [self.to_numpy(p.grad) for p in self.params]


class _AutogradMLP(AutogradNetwork):
    """The MLP of an engine with autograd (minigrad, PyTorch): the same code for both.

    A subclass sets ``X``, ``y``, ``layers`` (pairs W, b), ``params``, ``optimizer``,
    ``cross_entropy(logits, targets)`` and ``to_numpy(gradient)`` (a copy, as an ndarray).
    """

    def loss(self):
        h = self.X
        last = len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            h = h @ W + b
            if i < last:
                h = h.relu()
        return self.cross_entropy(h, self.y)


class MinigradMLP(_AutogradMLP):
    name = "minigrad"
    cross_entropy = staticmethod(cross_entropy_loss)
    to_numpy = staticmethod(np.copy)

    def __init__(self, X, y, weights):
        self.X = Tensor(X, requires_grad=False)  # inputs need no gradient
        self.y = y
        self.layers = [(Tensor(W.copy(), name=f"W{i}"), Tensor(b.copy(), name=f"b{i}"))
                       for i, (W, b) in enumerate(weights)]
        self.params = [p for layer in self.layers for p in layer]
        self.optimizer = SGD(self.params, lr=LR)


class NumpyMLP:
    name = "NumPy by hand"

    def __init__(self, X, y, weights):
        self.X, self.y = X, y
        self.layers = [(W.copy(), b.copy()) for W, b in weights]
        self.rows = np.arange(len(y))

    def forward_backward(self):
        """The loss, and the gradients [dW0, db0, dW1, ...], with the formulas written out."""
        activations = [self.X]  # the input of each layer
        h = self.X
        last = len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            z = h @ W + b
            h = np.maximum(z, 0) if i < last else z
            activations.append(h)
        # softmax cross-entropy, shifted so exp cannot overflow
        n = len(self.y)
        shifted = h - h.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[self.rows, self.y].mean()
        # dL/dlogits = (softmax - onehot) / n
        dz = np.exp(log_probs)
        dz[self.rows, self.y] -= 1
        dz /= n
        grads = []
        for i in range(last, -1, -1):
            W, _ = self.layers[i]
            a = activations[i]
            grads.append(dz.sum(axis=0))  # db
            grads.append(a.T @ dz)         # dW
            if i > 0:
                dz = (dz @ W.T) * (a > 0)  # through the ReLU that made a
        grads.reverse()  # -> dW0, db0, dW1, db1, ...
        return loss, grads

    def step(self):
        loss, grads = self.forward_backward()
        for (W, b), dW, db in zip(self.layers, grads[0::2], grads[1::2]):
            W -= LR * dW
            b -= LR * db
        return loss

    def gradients(self):
        loss, grads = self.forward_backward()
        return float(loss), grads


class TorchMLP(_AutogradMLP):
    name = "PyTorch"

    def __init__(self, X, y, weights):
        import torch
        import torch.nn.functional as F
        self.cross_entropy = F.cross_entropy
        self.to_numpy = lambda gradient: gradient.numpy().copy()
        self.X = torch.tensor(X, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.long)
        self.layers = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
                        torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in weights]
        self.params = [p for layer in self.layers for p in layer]
        self.optimizer = torch.optim.SGD(self.params, lr=LR)


# ----- checking and timing ---------------------------------------------------------------

def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse; True if it agreed.

    By default glibc gives memory back to the operating system when a lot of it
    is freed at once (as at the end of every training step) and takes it back
    page by page, with a page fault each, in the next step. How much of that
    happens depends on what the other engines in the process left on the heap,
    so it is noise in an interleaved comparison: with this setting every
    engine allocates from the same warm heap. (``--system-malloc`` skips it.)
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) and libc.mallopt(M_MMAP_THRESHOLD, 32 << 20))
    except (OSError, AttributeError):
        return False


def check_agreement(engines):
    """Every engine computes the same loss and gradients as the first one, or AssertionError."""
    ref_loss, ref_grads = engines[0].gradients()
    for engine in engines[1:]:
        loss, grads = engine.gradients()
        if not np.isclose(loss, ref_loss, rtol=1e-10, atol=1e-12):
            raise AssertionError(f"{engine.name} computes the loss {loss!r}, {engines[0].name} {ref_loss!r}")
        for k, (g, ref) in enumerate(zip(grads, ref_grads)):
            if g.shape != ref.shape or not np.allclose(g, ref, rtol=1e-8, atol=1e-12):
                raise AssertionError(f"{engine.name} and {engines[0].name} disagree on gradient {k} "
                                     f"(largest gap {np.max(np.abs(g - ref)):.3g})")
    return ref_loss


def time_engines(engines, repeats, min_time=0.01):
    """Median seconds per step of each engine, over ``repeats`` interleaved rounds.

    A round times each engine once, over enough steps to last ``min_time``;
    the order of the engines rotates from round to round.
    """
    inner = []
    for engine in engines:  # warm up, and choose how many steps make one measurement
        engine.step()
        start = time.perf_counter()
        engine.step()
        inner.append(max(1, int(min_time / max(time.perf_counter() - start, 1e-7))))
    times = [[] for _ in engines]
    for r in range(repeats):
        for k in range(len(engines)):
            i = (k + r) % len(engines)
            step, n = engines[i].step, inner[i]
            start = time.perf_counter()
            for _ in range(n):
                step()
            times[i].append((time.perf_counter() - start) / n)
    return [statistics.median(t) for t in times]


def _fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def run(sizes=("small", "medium", "large"), repeats=21, use_torch=True, out=None, steady_malloc=True,
        torch_threads=1):
    """Check and time every size; return a list of result dicts (also printed as a table on ``out``)."""
    out = out or sys.stdout
    if steady_malloc:
        kept = keep_freed_memory()
        print("malloc: freed memory is kept for reuse (mallopt)" if kept else
              "malloc: the system's default (mallopt is not available here)", file=out)
    torch = import_torch(torch_threads) if use_torch else None
    if use_torch and torch is None:
        print("PyTorch is not installed: comparing with NumPy only.", file=out)
    torch_ok = torch is not None
    if torch_ok:
        print(f"PyTorch {torch.__version__} with {torch.get_num_threads()} thread(s); NumPy {np.__version__}",
              file=out)
    results = []
    for key in sizes:
        layers, batch, goal, beat_torch = SIZES[key]
        X, y, weights = make_problem(layers, batch)
        engines = [MinigradMLP(X, y, weights), NumpyMLP(X, y, weights)]
        if torch_ok:
            engines.append(TorchMLP(X, y, weights))
        loss = check_agreement(engines)
        gc.collect()
        medians = time_engines(engines, repeats)
        results.append({
            "size": key, "layers": layers, "batch": batch, "loss": loss,
            "minigrad": medians[0], "numpy": medians[1], "torch": medians[2] if torch_ok else None,
            "goal_numpy": goal, "beat_torch": beat_torch,
        })
    print_table(results, repeats, out)
    return results


def print_table(results, repeats, out=None):
    out = out or sys.stdout
    print(f"\nOne training step (forward, softmax cross-entropy, backward, SGD update), float64; "
          f"median of {repeats} interleaved repeats.\nAll engines agreed on the loss and gradients "
          f"before timing.\n", file=out)
    header = ["layers", "batch", "minigrad", "NumPy by hand", "PyTorch", "minigrad/NumPy (goal)",
              "minigrad/PyTorch (goal)"]
    rows = []
    for r in results:
        ratio_np = r["minigrad"] / r["numpy"]
        np_col = f"{ratio_np:.2f}x (<= {r['goal_numpy']}x) {'ok' if ratio_np <= r['goal_numpy'] else 'MISSED'}"
        if r["torch"] is None:
            torch_col = "-"
        else:
            ratio_t = r["minigrad"] / r["torch"]
            if r["beat_torch"]:
                torch_col = f"{ratio_t:.2f}x (< 1x) {'ok' if ratio_t < 1 else 'MISSED'}"
            else:
                torch_col = f"{ratio_t:.2f}x"
        rows.append([str(r["layers"]), str(r["batch"]), _fmt_time(r["minigrad"]), _fmt_time(r["numpy"]),
                     _fmt_time(r["torch"]), np_col, torch_col])
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)), file=out)
    print(line, file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)), file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks.tensor",
        description="Time one MLP training step in minigrad's Tensor engine, in hand-written NumPy "
                    "and in PyTorch (CPU, float64), after checking that all three agree.")
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated sizes to run, from: " + ", ".join(
                            f"{k} {v[0]} batch {v[1]}" for k, v in SIZES.items()))
    parser.add_argument("--repeats", type=int, default=21, help="interleaved repeats per size (default 21)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="threads for PyTorch (default 1: between its operations, idle PyTorch threads keep "
                             "spinning on the CPU and slow down whatever runs next; 0 = PyTorch's own default)")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc settings alone (by default it is asked to keep freed memory, "
                             "so that page faults do not depend on which engine ran before)")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.torch_threads < 0:
        parser.error("--torch-threads must be 0 or more")
    run(sizes, args.repeats, use_torch=not args.no_torch, steady_malloc=not args.system_malloc,
        torch_threads=args.torch_threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
