"""Run the package's tests, then every example script: ``python tests/run_all_tests.py``.

A shortcut for working on the package alone; ``python3 course.py test`` also
executes the notebooks and builds the book.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    failures = 0
    if subprocess.run([sys.executable, "-m", "pytest", "-q", str(ROOT / "tests")], cwd=ROOT).returncode != 0:
        failures += 1
    for script in sorted((ROOT / "examples").glob("*.py")):
        print(f"--- {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            print(f"FAILED: {script.name}")
            failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
