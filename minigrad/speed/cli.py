"""``python -m minigrad.speed``: the comparison from a terminal, with a progress bar.

    python -m minigrad.speed [--widths 4,8,...] [--batches 8,32,...] [--repeats N]
                             [--plot FILE.png] [--json FILE] [--load FILE] [--no-torch]
"""
import argparse
import os
import sys

from minigrad.speed.engines import agreement, torch_available
from minigrad.speed.files import load_json, save_json
from minigrad.speed.plots import plot
from minigrad.speed.progress import ProgressBar
from minigrad.speed.report import format_claims, format_table, robust_claims
from minigrad.speed.timing import (DEFAULT_BATCH, DEFAULT_BATCHES, DEFAULT_REPEATS,
                                   DEFAULT_WIDTH, DEFAULT_WIDTHS, compare)


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
