"""What the chapters show must be readable where it is read (the book's column, a phone).

These check the stored notebooks: code a reader types and code the package
prints (through ``minigrad.notebook.show_source``) fit in 77 columns, and no
graph drawing is so wide that the book shows it below half size.
"""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDTH = 77
WIDEST_DRAWING_PT = 1032  # the column is about 516 pt wide on a desktop: below half size beyond this
FENCED_PYTHON = re.compile(r"```python\n(.*?)```", re.S)


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_fit_the_column(path):
    long = [(i, line) for i, cell in enumerate(cells(path)) if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > WIDTH]
    assert not long, f"code lines over {WIDTH} characters: {long[:5]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_printed_package_source_fits_the_column(path):
    long = []
    for i, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            markdown = "".join(output.get("data", {}).get("text/markdown", ""))
            for block in FENCED_PYTHON.findall(markdown):
                long += [(i, line) for line in block.splitlines() if len(line) > WIDTH]
    assert not long, f"printed package lines over {WIDTH} characters: {long[:5]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_drawings_are_not_shown_below_half_size(path):
    wide = []
    for i, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            svg = "".join(output.get("data", {}).get("image/svg+xml", ""))
            match = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"', svg)
            if match and float(match.group(1)) > WIDEST_DRAWING_PT:
                wide.append((i, match.group(1)))
    assert not wide, f"drawings wider than {WIDEST_DRAWING_PT} pt (cell, width): {wide}"
