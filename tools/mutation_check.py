"""Break one line of the package at a time and see whether the unit tests notice.

A test suite is only as good as the wrong code it refuses. This script copies
the repository (its tracked and new files) to a temporary directory, and for
each entry of ``MUTATIONS`` below:

1. replaces, in the copy of the package, one substring of one line (the
   substring must occur on exactly one line of the file, or the entry is
   reported as stale instead of silently doing nothing);
2. runs the unit tests against that copy (``PYTHONPATH`` and the working
   directory point at it) with ``-x -q -m "not slow"``, twice: once as they
   are, once with ``MINIGRAD_TORCH=0``, which makes the tests behave as if
   PyTorch were not installed (tests/conftest.py), as on GitHub;
3. puts the line back.

It prints a table: for each mutation, whether the tests failed ("caught") with
PyTorch and without, and the first test that failed. First of all it runs the
unbroken copy, which must pass both ways (else every mutant would look caught).

    python tools/mutation_check.py              # every mutation (tens of minutes)
    python tools/mutation_check.py adam sgd     # only those whose name contains a word
    python tools/mutation_check.py --list       # the mutations, checked to apply, not run

Run it with the project's Python (``.venv/bin/python tools/mutation_check.py``).
A caught mutant stops at its first failing test (``-x``); a surviving one runs
the whole quick suite, about a minute on two cores. Hypothesis's example
database is cleared before every run, so that one mutant's failing examples
are not replayed for the next.
"""
import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (name, file in minigrad/, a substring of exactly one line, what replaces it)
MUTATIONS = [
    # --- the lines of issue 18 ----------------------------------------------------------------
    ("Clip's mask excludes its bounds", "tensor.py",
     "(x >= low) & (x <= high)", "(x > low) & (x < high)"),
    ("SGD ignores weight_decay without momentum", "optim.py",
     "if not self.momentum and not self.weight_decay:", "if not self.momentum:"),
    ("weight decay with the wrong sign", "optim.py",
     "return p.grad + self.weight_decay * p.data", "return p.grad - self.weight_decay * p.data"),
    ("transpose undone with the permutation, not its inverse", "tensor.py",
     "grad.transpose(np.argsort([axis % grad.ndim for axis in self.axes]))",
     "grad.transpose([axis % grad.ndim for axis in self.axes])"),
    ("Adam without eps", "optim.py",
     "(v_hat ** 0.5 + self.eps)", "(v_hat ** 0.5)"),
    ("Adam without bias correction of v", "optim.py",
     "correction2 = 1 - self.beta2 ** self.t", "correction2 = 1"),
    ("Adam's m without (1 - beta1)", "optim.py",
     "self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g", "self.m[i] = self.beta1 * self.m[i] + g"),
    ("SGD momentum forgets its velocity", "optim.py",
     "self.velocities[i] = g", "self.velocities[i] = p.grad"),
    ("arrays: a second gradient replaces the first", "autograd.py",
     "total = current + contribution", "total = contribution"),
    ("floats: a second gradient replaces the first", "autograd.py",
     "a.grad += local_a", "a.grad = local_a"),
    ("unbroadcast averages the rows of a bias", "autograd.py",
     "return np.add.reduce(grad, axis=0)", "return grad.mean(axis=0)"),
    ("unbroadcast forgets size-1 axes", "autograd.py",
     "summed = grad.sum(axis=tuple(range(lead)) + stretched)", "summed = grad.sum(axis=tuple(range(lead)))"),
    ("a leaf shares its gradient array", "autograd.py",
     "contribution = contribution.copy()  # shared", "pass  # shared"),
    ("the general loop (3+ inputs) adds nothing", "autograd.py",
     "                accumulate(parent, local_gradient, grad)", "                pass"),
    ("atomic write: temporary file left behind", "model_files.py",
     "                os.unlink(temporary)", "                pass"),
    ("atomic write: no fsync", "model_files.py",
     "os.fsync(file.fileno())", "pass"),
    ("labels: negative targets let through", "checks.py",
     "        if low < 0:", "        if False:"),
    ("labels: a float like 1.5 let through", "checks.py",
     "if not np.all(whole):", "if False:"),
    # --- more: Part I -----------------------------------------------------------------------
    ("Value: d(a/b)/db without its minus", "value.py",
     "return grad / b.data, -grad * a.data / (b.data * b.data)",
     "return grad / b.data, grad * a.data / (b.data * b.data)"),
    ("Value: tanh' = 1 + tanh²", "value.py",
     "return (grad * (1.0 - self.data * self.data),)", "return (grad * (1.0 + self.data * self.data),)"),
    ("Value: relu passes the gradient at its negative side", "value.py",
     "return (grad if self.data != 0.0 else 0.0,)", "return (grad,)"),
    ("Value: a**b gets no gradient for b", "value.py",
     "return grad * _power_slope(a.data, b.data), grad * self.data * log_a",
     "return grad * _power_slope(a.data, b.data), 0.0"),
    ("scalar neuron ignores its bias", "value_nn.py",
     "total = self.b  # so that", "total = 0.0  # so that"),
    # --- more: Part II ----------------------------------------------------------------------
    ("Tensor: d(a/b)/db without its minus", "tensor.py",
     "return g, -g * a.data / b.data", "return g, g * a.data / b.data"),
    ("Tensor: matmul gives b no gradient when a needs none", "tensor.py",
     "x.T.dot(grad) if b.requires_grad else None", "x.T.dot(grad) if a.requires_grad else None"),
    ("Tensor: mean's gradient not divided by the count", "tensor.py",
     "return (_spread(grad / self.count, self.kept_shape, self._prev[0].shape),)",
     "return (_spread(grad, self.kept_shape, self._prev[0].shape),)"),
    ("Tensor: max gives every tie the whole gradient", "tensor.py",
     "return (winners * (grad.reshape(kept) / count),)",
     "return (winners * grad.reshape(kept),)"),
    ("Tensor: softmax sums over every axis", "tensor.py",
     "return (s * (grad - (grad * s).sum(axis=self.axis, keepdims=True)),)",
     "return (s * (grad - (grad * s).sum()),)"),
    ("Tensor: a repeated index counted once", "tensor.py",
     "np.add.at(g, self.index, grad)", "g[self.index] = grad"),
    ("Tensor: cross-entropy's gradient not divided by n", "tensor.py",
     "g *= float(grad) / len(g)", "g *= float(grad)"),
    ("He initialisation for every activation", "tensor_nn.py",
     "    if activation == \"relu\":\n", "    if True:\n"),
    ("losses: the mean of Values divides by n + 1", "losses.py",
     "return sum(terms) * (1.0 / len(terms))", "return sum(terms) * (1.0 / (len(terms) + 1))"),
    ("losses: bce with logits picks the wrong side of 0", "losses.py",
     "positive = (logits.data >= 0).astype(logits.dtype)", "positive = (logits.data < 0).astype(logits.dtype)"),
    # --- more: model files ------------------------------------------------------------------
    ("model files: a version below 1 accepted", "model_files.py",
     "int(version) < 1", "int(version) < 0"),
    ("model files: a saved file keeps mkstemp's private mode", "model_files.py",
     "os.chmod(temporary, mode)", "pass"),
]


def tracked_files():
    """The repository's files, committed or new (not ignored), relative to ROOT."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in listing.decode().split("\0") if name and (ROOT / name).is_file()]


def copy_repository(destination):
    for name in tracked_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def mutated_text(text, original, replacement):
    """``text`` with ``original`` replaced on the one line that holds it, or a ValueError."""
    lines = text.splitlines(keepends=True)
    where = [i for i, line in enumerate(lines) if original.rstrip("\n") in line]
    if len(where) != 1:
        raise ValueError(f"{original!r} is on {len(where)} lines, not exactly one")
    i = where[0]
    lines[i] = lines[i].replace(original.rstrip("\n"), replacement.rstrip("\n"), 1)
    return "".join(lines)


def pytest_command(tests):
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "--ignore=tests/site",
               "-p", "no:cacheprovider", *tests]
    if importlib.util.find_spec("pytest_randomly") is not None:
        command[3:3] = ["-p", "no:randomly"]  # the same order on every run
    return command


def run_tests(copy, tests, with_torch):
    """(caught, first failing test or a note, seconds) for the tests run against ``copy``."""
    shutil.rmtree(copy / ".hypothesis", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("MINIGRAD_TORCH", None)
    if not with_torch:
        env["MINIGRAD_TORCH"] = "0"
    start = time.perf_counter()
    run = subprocess.run(pytest_command(tests), cwd=copy, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    failed = [line.split(" - ")[0].split(" ", 1)[1] for line in run.stdout.splitlines()
              if line.startswith(("FAILED ", "ERROR "))]
    if run.returncode == 0:
        return False, "", seconds
    if run.returncode in (1, 2):  # tests failed; 2: interrupted, e.g. an error while collecting
        return True, failed[0] if failed else f"pytest exit code {run.returncode}", seconds
    tail = (run.stdout + run.stderr).strip().splitlines()[-3:]
    raise RuntimeError(f"pytest could not run (exit code {run.returncode}): {' | '.join(tail)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("words", nargs="*", help="run only mutations whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list the mutations (checked to apply) and stop")
    parser.add_argument("--tests", nargs="+", default=["tests"], help="what pytest runs (default: tests)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the unbroken copy")
    args = parser.parse_args(argv)

    chosen = [m for m in MUTATIONS if not args.words or any(w.lower() in m[0].lower() for w in args.words)]
    stale = []
    for name, file, original, replacement in chosen:
        try:
            mutated_text((ROOT / "minigrad" / file).read_text(), original, replacement)
        except ValueError as error:
            stale.append(f"{name} ({file}): {error}")
    if args.list:
        for name, file, original, replacement in chosen:
            print(f"{file:15} {name}")
    if stale:
        print("these mutations no longer apply to the package:\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    if args.list:
        return 0

    with tempfile.TemporaryDirectory(prefix="minigrad-mutants-") as temporary:
        copy = Path(temporary)
        copy_repository(copy)
        found = subprocess.run([sys.executable, "-c", "import minigrad; print(minigrad.__file__)"],
                               cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)},
                               capture_output=True, text=True, check=True).stdout.strip()
        if not found.startswith(str(copy)):
            raise RuntimeError(f"the copy's tests would import {found}, not the copy")
        if not args.no_baseline:
            for with_torch in (True, False):
                caught, where, seconds = run_tests(copy, args.tests, with_torch)
                label = "with PyTorch" if with_torch else "without PyTorch"
                print(f"unbroken package, {label}: {'FAILS at ' + where if caught else 'passes'} "
                      f"({seconds:.0f} s)", flush=True)
                if caught:
                    return 1
        rows = []
        for name, file, original, replacement in chosen:
            path = copy / "minigrad" / file
            pristine = path.read_text()
            path.write_text(mutated_text(pristine, original, replacement))
            try:
                results = [run_tests(copy, args.tests, with_torch) for with_torch in (True, False)]
            finally:
                path.write_text(pristine)
            rows.append((name, file, results))
            print(f"{name}: " + ", ".join(f"{'caught' if c else 'SURVIVED'} {label} ({s:.0f} s)"
                                           for (c, _, s), label in zip(results, ("with torch", "without"))),
                  flush=True)

    print()
    print("| mutation | file | caught with torch | caught without torch | first failing test (without torch) |")
    print("|---|---|---|---|---|")
    for name, file, ((with_caught, _, _), (without_caught, where, _)) in rows:
        print(f"| {name} | {file} | {'yes' if with_caught else '**no**'} | "
              f"{'yes' if without_caught else '**no**'} | {where} |")
    caught = [sum(results[i][0] for _, _, results in rows) for i in (0, 1)]
    print(f"\ncaught {caught[0]} of {len(rows)} with PyTorch, {caught[1]} of {len(rows)} without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
