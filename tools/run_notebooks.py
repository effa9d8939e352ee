"""Re-execute the course's notebooks in place: each top to bottom, in a fresh kernel.

    python tools/run_notebooks.py                 every notebook in notebooks/
    python tools/run_notebooks.py 03 05           those whose names start with 03 or 05

The stored outputs are then exactly what a reader running the notebook gets,
and what `pytest --nbval notebooks` compares against. Run it (or
`python3 course.py notebooks`) after every change to minigrad/.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def coalesce_streams(cell):
    """Join consecutive outputs of one stream (stdout, stderr) into one output.

    How a cell's printing is cut into outputs depends on timing (when the
    kernel flushed); the text does not. Joined, the stored notebook is the
    same on every run, as nbval, which joins them too, already sees it.
    """
    joined = []
    for output in cell.get("outputs", []):
        previous = joined[-1] if joined else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            joined.append(output)
    cell.outputs = joined


def execute(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            coalesce_streams(cell)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def main(prefixes):
    paths = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not prefixes or p.name.startswith(tuple(prefixes)))
    if not paths:
        sys.exit(f"no notebook in {NOTEBOOKS} matches {prefixes}")
    for path in paths:
        start = time.perf_counter()
        execute(path)
        print(f"executed {path.name} in {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
