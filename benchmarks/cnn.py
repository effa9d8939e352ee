"""How fast is minigrad's convolution? A training step of the digits CNN, and im2col against loops.

1. One training step (forward, softmax cross-entropy, backward, SGD update)
   of chapter 12's small CNN on a batch of 8x8 digits,

       Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2)
       Conv2d(16, 32, 3, padding=1) - ReLU - MaxPool2d(2)
       Flatten - Dropout(0.3) - Linear(128, 64) - ReLU - Dropout(0.3) - Linear(64, 10)

   in minigrad and in PyTorch (CPU, float64, one thread), from the same
   weights: both must compute the same loss and gradients before they are
   timed, taking turns (interleaved repeats). Dropout multiplies by masks
   drawn once for the batch, the same in both engines, so that they can
   agree; drawing them (about a tenth of a millisecond here, in the
   chapter's training every step) is left out of both timings.
2. The forward pass of each convolution of that network, computed by
   im2col (one matrix product) and by loops that slide each filter over
   the images (one dot product per filter and output pixel, for the whole
   batch at once), the way chapter 12 first writes it.

    python -m benchmarks cnn [--repeats N] [--batch B] [--no-torch] [--system-malloc]

NumPy's BLAS runs on one thread too (if threadpoolctl is installed), so
that the comparison is between engines, not numbers of cores.
"""
import argparse
import gc
import sys

import numpy as np

from benchmarks.tensor import AutogradNetwork, _fmt_time, check_agreement, keep_freed_memory, time_engines
from minigrad.datasets import load_digits
from minigrad.losses import cross_entropy_loss
from minigrad.optim import SGD
from minigrad.speed import import_torch, one_thread, threads_limited
from minigrad.tensor import Tensor
from minigrad.tensor_conv import conv2d, max_pool2d

LR = 0.05
DROPOUT = 0.3
# (out channels, in channels, kernel) of each convolution; then the linear layers
CONVOLUTIONS = [(16, 1, 3), (32, 16, 3)]
LINEAR = [(128, 64), (64, 10)]


def make_problem(batch=64, seed=0):
    """A batch of digits (N, 1, 8, 8) scaled to [0, 1], its labels, He-initialised weights, and
    the two dropout masks (kept entries 1/(1 - p), dropped ones 0)."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(digits), size=batch, replace=False)
    X = digits.images[rows][:, None] / 16.0
    y = digits.target[rows]
    weights = []
    for out_c, in_c, k in CONVOLUTIONS:
        fan_in = in_c * k * k
        weights.append(rng.standard_normal((out_c, in_c, k, k)) * np.sqrt(2 / fan_in))
        weights.append(0.1 * rng.standard_normal(out_c))
    for nin, nout in LINEAR:
        weights.append(rng.standard_normal((nin, nout)) * np.sqrt(2 / nin))
        weights.append(0.1 * rng.standard_normal(nout))
    masks = [(rng.random((batch, nin)) >= DROPOUT) / (1 - DROPOUT) for nin, _ in LINEAR]
    return X, y, weights, masks


class _AutogradCNN(AutogradNetwork):
    """The same step code for minigrad and PyTorch: subclasses set the operations."""

    def loss(self):
        c1, b1, c2, b2, w1, v1, w2, v2 = self.params
        h = self.pool(self.conv(self.X, c1, b1, padding=1).relu(), 2)
        h = self.pool(self.conv(h, c2, b2, padding=1).relu(), 2)
        first, second = self.masks
        h = ((h.reshape(len(self.y), -1) * first) @ w1 + v1).relu()
        return self.cross_entropy((h * second) @ w2 + v2, self.y)


class MinigradCNN(_AutogradCNN):
    name = "minigrad"
    conv = staticmethod(conv2d)
    pool = staticmethod(max_pool2d)
    cross_entropy = staticmethod(cross_entropy_loss)
    to_numpy = staticmethod(np.copy)

    def __init__(self, X, y, weights, masks):
        self.X = Tensor(X, requires_grad=False)
        self.masks = [Tensor(m, requires_grad=False) for m in masks]
        self.y = y
        self.params = [Tensor(w.copy()) for w in weights]
        self.optimizer = SGD(self.params, lr=LR)


class TorchCNN(_AutogradCNN):
    name = "PyTorch"

    def __init__(self, X, y, weights, masks):
        import torch
        import torch.nn.functional as F
        self.conv, self.pool, self.cross_entropy = F.conv2d, F.max_pool2d, F.cross_entropy
        self.to_numpy = lambda gradient: gradient.numpy().copy()
        self.X = torch.tensor(X, dtype=torch.float64)
        self.masks = [torch.tensor(m, dtype=torch.float64) for m in masks]
        self.y = torch.tensor(y, dtype=torch.long)
        self.params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
        self.optimizer = torch.optim.SGD(self.params, lr=LR)


# ----- im2col against loops --------------------------------------------------------------

def loop_conv2d(x, w, b, padding):
    """The convolution as chapter 12 first writes it: each filter slid over the image, one dot
    product (over the window's channels, rows and columns, for the whole batch at once) per place."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    out_c, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    out = np.empty((n, out_c, oh, ow))
    for o in range(out_c):
        for i in range(oh):
            for j in range(ow):
                out[:, o, i, j] = np.sum(x[:, :, i:i + kh, j:j + kw] * w[o], axis=(1, 2, 3)) + b[o]
    return out


class _ConvForward:
    def __init__(self, x, w, b):
        self.x, self.w, self.b = x, w, b


class Im2colForward(_ConvForward):
    name = "im2col"

    def step(self):
        return conv2d(Tensor(self.x, requires_grad=False), Tensor(self.w, requires_grad=False),
                      Tensor(self.b, requires_grad=False), padding=1).data


class LoopForward(_ConvForward):
    name = "loops"

    def step(self):
        return loop_conv2d(self.x, self.w, self.b, 1)


def conv_inputs(X, weights):
    """The input of each convolution of the network for the batch X: the images, then layer 1's pooled maps."""
    first = X
    hidden = max_pool2d(conv2d(Tensor(X, requires_grad=False), Tensor(weights[0], requires_grad=False),
                               Tensor(weights[1], requires_grad=False), padding=1).relu(), 2).data
    return [(first, weights[0], weights[1]), (np.ascontiguousarray(hidden), weights[2], weights[3])]


# ----- running -----------------------------------------------------------------------------

def run(batch=64, repeats=21, use_torch=True, out=None, steady_malloc=True):
    """Check and time; return a dict of results (also printed on ``out``)."""
    out = out or sys.stdout
    if steady_malloc:
        kept = keep_freed_memory()
        print("malloc: freed memory is kept for reuse (mallopt)" if kept else
              "malloc: the system's default (mallopt is not available here)", file=out)
    torch = import_torch(1) if use_torch else None
    if use_torch and torch is None:
        print("PyTorch is not installed: timing minigrad alone.", file=out)
    print(f"NumPy {np.__version__}, its BLAS on "
          f"{'one thread' if threads_limited() else 'its default threads (threadpoolctl is not installed)'}"
          + (f"; PyTorch {torch.__version__} with {torch.get_num_threads()} thread(s)" if torch else ""),
          file=out)
    X, y, weights, masks = make_problem(batch)
    engines = [MinigradCNN(X, y, weights, masks)]
    if torch is not None:
        engines.append(TorchCNN(X, y, weights, masks))
    results = {"batch": batch, "loss": check_agreement(engines)}
    with one_thread():
        gc.collect()
        medians = time_engines(engines, repeats)
        results["minigrad"] = medians[0]
        results["torch"] = medians[1] if torch is not None else None
        results["convolutions"] = []
        for x, w, b in conv_inputs(X, weights):
            forms = [Im2colForward(x, w, b), LoopForward(x, w, b)]
            if not np.allclose(forms[0].step(), forms[1].step(), rtol=1e-10, atol=1e-12):
                raise AssertionError("im2col and the loops disagree")
            fast, slow = time_engines(forms, repeats)
            results["convolutions"].append({"input": x.shape, "weight": w.shape, "im2col": fast, "loops": slow})
    print_report(results, repeats, out)
    return results


def print_report(results, repeats, out=None):
    out = out or sys.stdout
    print(f"\nOne training step of the digits CNN (batch {results['batch']}, float64, SGD); median of "
          f"{repeats} interleaved repeats. Both engines agreed on the loss and gradients first.", file=out)
    line = f"  minigrad {_fmt_time(results['minigrad'])}"
    if results["torch"] is not None:
        ratio = results["minigrad"] / results["torch"]
        line += (f"   PyTorch {_fmt_time(results['torch'])}   minigrad/PyTorch {ratio:.2f}x "
                 f"(goal <= 1x) {'ok' if ratio <= 1 else 'MISSED'}")
    print(line, file=out)
    print("\nThe forward pass of each convolution: im2col against loops over filters and output pixels.",
          file=out)
    for c in results["convolutions"]:
        speedup = c["loops"] / c["im2col"]
        print(f"  input {c['input']}, weight {c['weight']}: im2col {_fmt_time(c['im2col'])}, "
              f"loops {_fmt_time(c['loops'])}: im2col {speedup:.1f}x faster "
              f"(goal >= 10x) {'ok' if speedup >= 10 else 'MISSED'}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="benchmarks.cnn",
        description="Time a training step of the digits CNN in minigrad and PyTorch (CPU, float64, one "
                    "thread) after checking that they agree; and im2col against a loop convolution.")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--repeats", type=int, default=21, help="interleaved repeats (default 21)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc settings alone (see benchmarks.tensor)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not 1 <= args.batch <= len(load_digits()):
        parser.error("--batch must be between 1 and the number of digits (1797)")
    run(args.batch, args.repeats, use_torch=not args.no_torch, steady_malloc=not args.system_malloc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
