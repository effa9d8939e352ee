#!/usr/bin/env python3
"""The course's one entry point: set up, build the book, run the tests.

    python3 course.py book        build the book (HTML in _build/html)
    python3 course.py test        unit tests, nbval on every notebook, strict book build
    python3 course.py notebooks   re-execute the notebooks in place (after changing minigrad/)
    python3 course.py bench       scalar and tensor speed comparisons
    python3 course.py speed       scalar vs tensor engine: time per step and speed-up (--plot, --json)

Each command first makes sure of everything it needs: a virtual environment in
.venv with requirements.txt and minigrad (editable) installed, and graphviz's
`dot` program. Only the Python standard library is used here, so it runs on a
fresh machine with nothing but Python 3.11+.
"""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".minigrad-installed"
TORCH_VERSION = "2.13.0"

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # keeps the debugger's warning out of kernels


def say(message):
    print(f"[course] {message}", flush=True)


def run(*args, check=True, **kwargs):
    return subprocess.run([str(a) for a in args], cwd=ROOT, check=check, **kwargs)


def fail(message):
    print(f"\n[course] error: {message}", file=sys.stderr)
    sys.exit(1)


def ensure_venv():
    if sys.version_info < (3, 11):
        fail(f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        say("creating the virtual environment .venv")
        run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        say("installing requirements.txt and minigrad (editable) into .venv")
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-r", "requirements.txt", "-e", ".")
        # Matplotlib builds its font cache on first import and says so on stderr,
        # which would show up as an unexpected output in a notebook cell.
        run(PYTHON, "-c", "import matplotlib.pyplot")
        STAMP.write_text(wanted)


def ensure_dot():
    if shutil.which("dot"):
        return
    if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
        say("graphviz's `dot` is missing: installing it with apt-get")
        run("apt-get", "update", "-qq", check=False)
        run("apt-get", "install", "-y", "-qq", "graphviz", check=False, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not shutil.which("dot"):
        fail("graphviz's `dot` program is needed to draw computation graphs, and it is not installed.\n"
             "  Debian/Ubuntu: sudo apt-get install graphviz\n"
             "  macOS:         brew install graphviz\n"
             "  conda:         conda install -c conda-forge graphviz\n"
             "  Windows:       winget install graphviz (then open a new terminal)\n"
             "then run this command again.")


def try_install_torch():
    """PyTorch is optional: the tests compare against it when it is installed.

    It is installed only where a wheel of the pinned CPU release is already on
    this machine (pip's local find-links), never downloaded (a default download
    is a multi-gigabyte GPU build). MINIGRAD_TORCH=0 skips it.
    """
    if os.environ.get("MINIGRAD_TORCH") == "0":
        return
    if run(PYTHON, "-c", "import torch", check=False, capture_output=True).returncode == 0:
        return
    local = run(PYTHON, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", f"torch=={TORCH_VERSION}",
                check=False, capture_output=True)
    if local.returncode == 0:
        say(f"installing PyTorch {TORCH_VERSION} (CPU) from this machine's local wheel, for the comparison tests")
        run(PYTHON, "-m", "pip", "install", "--quiet", f"torch=={TORCH_VERSION}")
    else:
        say("PyTorch is not installed and no local wheel was found: the PyTorch comparison tests will be skipped")


def setup():
    ensure_venv()
    ensure_dot()


def build_book(strict=True):
    args = [BIN / "jupyter-book", "build", "."]
    if strict:
        args[2:2] = ["-W", "-n", "--keep-going"]
    return run(*args, check=False).returncode


def cmd_book():
    setup()
    if build_book() != 0:
        fail("the book did not build (see the messages above)")
    say(f"the book is built: open {ROOT / '_build' / 'html' / 'index.html'} in a browser")


def cmd_test():
    setup()
    try_install_torch()
    stages = {
        "unit tests": [PYTHON, "-m", "pytest", "tests"],
        "notebooks (nbval)": [PYTHON, "-m", "pytest", "--nbval", "notebooks"],
        "strict book build": None,
    }
    failed = []
    for name, args in stages.items():
        say(f"--- {name} ---")
        code = build_book() if args is None else run(*args, check=False).returncode
        if code != 0:
            failed.append(name)
    passed = len(stages) - len(failed)
    say(f"failed: {', '.join(failed)}" if failed else "every stage passed")
    print(f"stages: {passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def cmd_notebooks(names):
    setup()
    sys.exit(run(PYTHON, ROOT / "tools" / "run_notebooks.py", *names, check=False).returncode)


def cmd_bench(args):
    setup()
    if run(PYTHON, "-c", "import micrograd", check=False, capture_output=True).returncode != 0:
        say("installing micrograd, the baseline of the scalar benchmark")
        run(PYTHON, "-m", "pip", "install", "--quiet", "micrograd==0.1.0", check=False)
    try_install_torch()
    sys.exit(run(PYTHON, "-m", "benchmarks", *(args or ["all"]), check=False).returncode)


def cmd_speed(args):
    """The scalar-vs-tensor comparison of chapter 11 (``python -m minigrad.speed``), options passed on."""
    ensure_venv()
    sys.exit(run(PYTHON, "-m", "minigrad.speed", *args, check=False).returncode)


def main(argv):
    commands = {"book": cmd_book, "test": cmd_test, "setup": setup}
    if argv and argv[0] in commands and len(argv) == 1:
        return commands[argv[0]]()
    if argv and argv[0] == "notebooks":
        return cmd_notebooks(argv[1:])
    if argv and argv[0] == "bench":
        return cmd_bench(argv[1:])
    if argv and argv[0] == "speed":
        return cmd_speed(argv[1:])
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
