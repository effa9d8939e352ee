"""Run minigrad's benchmarks: ``python -m benchmarks scalar|tensor|cnn|all [options]``.

``scalar`` times the Value engine against micrograd, ``tensor`` the Tensor
engine against NumPy by hand and PyTorch, ``cnn`` a convolutional network's
training step against PyTorch (and im2col against loops); options after the
name go to that benchmark (``python -m benchmarks scalar --help``). ``all``
runs each with its default options.
"""
import importlib
import sys

BENCHMARKS = ("scalar", "tensor", "cnn")
USAGE = "usage: python -m benchmarks {scalar,tensor,cnn,all} [options for that benchmark]"


def _load(name):
    """The ``main`` of ``benchmarks.<name>``, or None (with a message) if it is missing."""
    module = f"benchmarks.{name}"
    try:
        return importlib.import_module(module).main
    except ModuleNotFoundError as error:
        if error.name != module:  # the benchmark exists but something it imports does not
            raise
        print(f"The {name} benchmark is missing: there is no module {module} in this copy of minigrad.",
              file=sys.stderr)
        return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__.split("\n\n", 1)[1].strip())
        return 0 if argv else 2
    which, options = argv[0], argv[1:]
    if which == "all":
        if options:
            print(f"`all` runs each benchmark with its default options; got {' '.join(options)}",
                  file=sys.stderr)
            return 2
        status = 0
        for name in BENCHMARKS:
            print(f"===== {name} =====", flush=True)
            benchmark = _load(name)
            status = max(status, 1 if benchmark is None else benchmark([]) or 0)
        return status
    if which not in BENCHMARKS:
        print(f"unknown benchmark {which!r}\n{USAGE}", file=sys.stderr)
        return 2
    benchmark = _load(which)
    return 1 if benchmark is None else benchmark(options) or 0


if __name__ == "__main__":
    sys.exit(main())
