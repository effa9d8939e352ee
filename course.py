#!/usr/bin/env python3
"""The course's one entry point: set up, build the book, run the tests.

    python3 course.py book        build the book (HTML in _build/html)
    python3 course.py serve       serve the built book on http://127.0.0.1:8000/minigrad/ (--port N)
    python3 course.py test        unit tests, nbval on every notebook, the CI workflows' checks,
                                  strict book build, the built book in a browser
    python3 course.py linkcheck   check the book's links to other sites (needs the internet)
    python3 course.py notebooks   re-execute the notebooks in place (after changing minigrad/)
    python3 course.py bench       scalar and tensor speed comparisons
    python3 course.py speed       scalar vs tensor engine: time per step and speed-up (--plot, --json)

Each command first makes sure of everything it needs: a virtual environment in
.venv with requirements.txt and minigrad (editable) installed, and graphviz's
`dot` program (and, for the browser test, Debian's `chromium`). Only the
Python standard library is used here, so it runs on a fresh machine with
nothing but Python 3.11+.
"""
import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
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
    say("the book is built in _build/html: `python3 course.py serve` shows it at http://127.0.0.1:8000/minigrad/")


def cmd_test():
    setup()
    try_install_torch()
    browser_ready = ensure_chromium()
    stages = {
        "unit tests": [PYTHON, "-m", "pytest", "tests"],
        "notebooks (nbval)": lambda: run(PYTHON, "-m", "pytest", "--nbval", "notebooks",
                                         check=False, env=fresh_engine_env()).returncode,
        "notebooks on another CPU's kernel (nbval)": notebooks_on_another_kernel,
        "CI workflows (schema, zizmor)": check_workflows,
        "strict book build": build_book_fresh,
        "the book in a browser": lambda: browser_test(browser_ready, "strict book build" in failed),
    }
    failed, skipped = [], []
    for name, stage in stages.items():
        say(f"--- {name} ---")
        started = time.perf_counter()
        code = stage() if callable(stage) else run(*stage, check=False).returncode
        say(f"--- {name}: {'skipped' if code is SKIPPED else 'passed' if code == 0 else 'FAILED'} "
            f"in {time.perf_counter() - started:.0f} s ---")
        if code is SKIPPED:
            skipped.append(name)
        elif code != 0:
            failed.append(name)
    passed = len(stages) - len(failed) - len(skipped)
    say(f"failed: {', '.join(failed)}" if failed else "every stage passed" if not skipped else
        f"every stage that ran passed; skipped: {', '.join(skipped)}")
    print(f"stages: {passed} passed, {len(failed)} failed" + (f", {len(skipped)} skipped" if skipped else ""))
    sys.exit(1 if failed else 0)


SKIPPED = object()  # a stage's result when what it needs cannot be had here
CHROMIUM = Path(os.environ.get("MINIGRAD_CHROMIUM", "/usr/bin/chromium"))
WORKFLOWS = ROOT / ".github" / "workflows"


def build_book_fresh():
    """The strict build, of every page: an incremental one would not repeat the
    warnings of unchanged pages, nor copy changed static files."""
    return run(BIN / "jupyter-book", "build", "--all", "-W", "-n", "--keep-going", ".", check=False).returncode


def check_workflows():
    """The workflows in .github/workflows, checked offline: against GitHub's schema
    (check-jsonschema) and for security mistakes (zizmor: nothing of medium
    severity or above, which includes any action not pinned to a commit)."""
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    if not files:
        say(f"no workflow in {WORKFLOWS.relative_to(ROOT)}")
        return 1
    schema = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files, check=False).returncode
    audit = run(BIN / "zizmor", "--offline", "--min-severity", "medium", WORKFLOWS, check=False).returncode
    return schema or audit


def openblas_kernel(coretype=None):
    """The OpenBLAS kernel NumPy runs in .venv (threadpoolctl's name for it), with
    OPENBLAS_CORETYPE set to `coretype` if given; "" when NumPy uses no OpenBLAS."""
    env = {**os.environ, "OPENBLAS_CORETYPE": coretype} if coretype else None
    code = ("import numpy, threadpoolctl\n"
            "print(*[i.get('architecture') or '?' for i in threadpoolctl.threadpool_info()"
            " if i['internal_api'] == 'openblas'][:1])")
    return run(PYTHON, "-c", code, env=env, check=False, capture_output=True, text=True).stdout.strip()


def fresh_engine_env():
    """The environment for one nbval run: the reader's own engine, which the chapters
    write piece by piece, goes to a new empty directory (MINIGRAD_YOURGRAD), as in a
    fresh clone; a contributor's own notebooks/yourgrad/ is left alone."""
    return {**os.environ, "MINIGRAD_YOURGRAD": tempfile.mkdtemp(prefix="minigrad-yourgrad-")}


def notebooks_on_another_kernel():
    """nbval again, with NumPy's OpenBLAS forced onto another CPU's kernel.

    Kernels round sums differently in the last bits, so a stored output that
    prints such bits passes on the machine that stored it and fails on a
    reader's. Forcing another kernel here (Prescott's, which every x86-64 CPU
    runs) makes that failure happen in this command instead."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        say(f"skipped: another OpenBLAS kernel is forced on x86-64 only, and this is {platform.machine()}")
        return SKIPPED
    native = openblas_kernel()
    if not native:
        say("skipped: NumPy here does not use OpenBLAS, so there is no kernel to force")
        return SKIPPED
    for coretype in ("Prescott", "Nehalem"):
        forced = openblas_kernel(coretype)
        if forced and forced != native:
            say(f"NumPy's OpenBLAS runs its {native} kernel on this CPU; the notebooks run again "
                f"with OPENBLAS_CORETYPE={coretype} (its {forced} kernel), as on another CPU")
            return run(PYTHON, "-m", "pytest", "--nbval", "notebooks", check=False,
                       env={**fresh_engine_env(), "OPENBLAS_CORETYPE": coretype}).returncode
    say(f"skipped: no other OpenBLAS kernel than {native} could be forced here")
    return SKIPPED


def ensure_chromium():
    """Debian's Chromium for the browser test: installed with apt-get where we are
    root on Debian/Ubuntu (as for `dot`). Returns True when it is there."""
    if CHROMIUM.exists():
        return True
    if sys.platform.startswith("linux") and shutil.which("apt-get") and os.geteuid() == 0:
        say("Chromium is missing (for the browser test): installing Debian's `chromium` with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", check=False)
        run("apt-get", "install", "-y", "-qq", "chromium", check=False, env=env)
    return CHROMIUM.exists()


def browser_test(browser_ready, book_failed):
    if book_failed:
        say("the browser test needs a book that built: not run")
        return 1
    if not browser_ready:
        say(f"skipped: the browser test needs Chromium at {CHROMIUM}. On Debian/Ubuntu: "
            "`sudo apt-get install chromium` (this command does it when run as root); elsewhere "
            "set MINIGRAD_CHROMIUM to a Chromium or Chrome binary.")
        return SKIPPED
    if run(PYTHON, "-c", "import playwright", check=False, capture_output=True).returncode != 0:
        say("skipped: the browser test needs Playwright's Python package: "
            "`.venv/bin/pip install -r requirements.txt`")
        return SKIPPED
    # Without the project's pytest options, which load nbval (and with it
    # nbformat's slow import): this stage needs neither.
    return run(PYTHON, "-m", "pytest", "-o", "addopts=", "-p", "no:nbval", "-p", "no:cacheprovider",
               "tests/site", check=False).returncode


def cmd_serve(args):
    spec = importlib.util.spec_from_file_location("site_server", ROOT / "tools" / "site_server.py")
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    options = server.parse_args(args, prog="python3 course.py serve")  # a bad option stops here, before a build
    if options.dir == server.DEFAULT_DIR and not (options.dir / "index.html").exists():
        say("the book is not built yet: building it first")
        cmd_book()
    server.serve(options)


def cmd_linkcheck():
    """Links to other sites, checked by Sphinx's linkcheck builder (the scheduled
    workflow runs it; it needs the internet). Links inside the book are checked,
    offline, by the browser test."""
    setup()
    code = run(BIN / "jupyter-book", "build", ".", "--builder", "linkcheck", check=False).returncode
    sys.exit(code)


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
    commands = {"book": cmd_book, "test": cmd_test, "setup": setup, "linkcheck": cmd_linkcheck}
    if argv and argv[0] in commands and len(argv) == 1:
        return commands[argv[0]]()
    if argv and argv[0] == "notebooks":
        return cmd_notebooks(argv[1:])
    if argv and argv[0] == "serve":
        return cmd_serve(argv[1:])
    if argv and argv[0] == "bench":
        return cmd_bench(argv[1:])
    if argv and argv[0] == "speed":
        return cmd_speed(argv[1:])
    print(__doc__)
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
