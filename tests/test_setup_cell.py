"""Every chapter opens with the course's set-up cell (tools/setup_cell.py writes it).

The cell installs the package from the course's repository where `minigrad`
cannot be imported (Colab) and, anywhere else, does nothing and prints nothing,
so the notebooks' stored outputs stay what nbval compares against.
"""
import base64
import builtins
import importlib.util
import io
import struct
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "tools" / "setup_cell.py")
setup_cell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup_cell)

SOURCE = setup_cell.cell_source()
NOTEBOOKS = setup_cell.toc_notebooks()


def test_the_table_of_contents_lists_notebooks():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_starts_with_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = setup_cell.first_code_cell(nb)
    assert first is not None and setup_cell.is_setup_cell(first), (
        f"{path.name}: its first code cell is not the set-up cell; run `python tools/setup_cell.py`")
    assert first.source == SOURCE, f"{path.name}: the set-up cell is out of date; run `python tools/setup_cell.py`"
    assert "remove-cell" in first.metadata.get("tags", []), f"{path.name}: the set-up cell shows in the book"
    assert first.outputs == [], f"{path.name}: the set-up cell printed something: {first.outputs}"
    assert sum(setup_cell.is_setup_cell(c) for c in nb.cells) == 1


def png_size(data):
    raw = base64.b64decode(data)
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", raw[16:24])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_figures_are_twice_their_display_size(path):
    """Figures sharp on high-density screens: a PNG of 2x the pixels it is shown at."""
    nb = nbformat.read(path, as_version=4)
    blurry = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if "image/png" not in output.get("data", {}):
                continue
            width, height = png_size(output["data"]["image/png"])
            shown = output.get("metadata", {}).get("image/png", {})
            if not shown.get("width") or abs(width / shown["width"] - 2) > 0.05:
                blurry.append(f"cell {index}: {width}x{height} px shown at {shown or 'its own size'}")
    assert not blurry, (f"{path.name} stores 1x figures (re-execute it with "
                        f"`python3 course.py notebooks {path.name[:2]}`): {blurry}")


def run_cell(monkeypatch, minigrad_found, on_colab=False, dot_found=True):
    """Run the set-up cell's code as IPython would, recording the commands it would run."""
    calls, magics = [], []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if minigrad_found or name != "minigrad" else None))
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)))
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}" if dot_found else None)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    class Shell:
        def run_line_magic(self, name, line):
            magics.append((name, line))

    code = TransformerManager().transform_cell(SOURCE)
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    exec(compile(code, "setup-cell", "exec"), {"get_ipython": Shell, "__builtins__": builtins})
    monkeypatch.undo()
    return calls, magics, printed.getvalue()


def test_where_minigrad_imports_the_cell_runs_nothing_and_prints_nothing(monkeypatch):
    calls, magics, printed = run_cell(monkeypatch, minigrad_found=True, on_colab=True, dot_found=False)
    assert calls == [] and printed == ""
    assert magics == [("config", 'InlineBackend.figure_format = "retina"')]


def test_where_minigrad_is_missing_the_cell_installs_it_from_the_repository(monkeypatch):
    url, branch = setup_cell.repository()
    calls, _, _ = run_cell(monkeypatch, minigrad_found=False)
    assert len(calls) == 1
    args, kwargs = calls[0]
    assert args[:4] == [sys.executable, "-m", "pip", "install"]
    assert args[-1] == f"minigrad-course @ git+{url}@{branch}"
    assert kwargs.get("check") is True


def test_on_colab_without_dot_the_cell_installs_graphviz_too(monkeypatch):
    calls, _, _ = run_cell(monkeypatch, minigrad_found=False, on_colab=True, dot_found=False)
    assert [args[0] for args, _ in calls] == [sys.executable, "apt-get"]
    assert "graphviz" in calls[1][0]


def test_the_distribution_name_is_the_one_pyproject_declares():
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == setup_cell.DISTRIBUTION


def test_cell_lines_are_short():
    assert all(len(line) <= 77 for line in SOURCE.splitlines())


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_the_tool_inserts_once_and_then_changes_nothing():
    title = nbformat.v4.new_markdown_cell("# A chapter")
    code = nbformat.v4.new_code_cell("x = 1")
    nb = notebook(title, code)
    assert setup_cell.apply(nb, SOURCE) is True
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert setup_cell.is_setup_cell(nb.cells[1]) and nb.cells[2].source == "x = 1"
    nbformat.validate(nb)
    before = nbformat.writes(nb)
    assert setup_cell.apply(nb, SOURCE) is False
    assert nbformat.writes(nb) == before


def test_the_tool_updates_a_stale_cell_and_moves_it_first():
    stale = setup_cell.new_cell("# an older set-up cell")
    stale.outputs = [nbformat.v4.new_output("stream", text="old\n")]
    nb = notebook(nbformat.v4.new_code_cell("import math"), stale)
    assert setup_cell.apply(nb, SOURCE) is True
    assert setup_cell.is_setup_cell(nb.cells[0]) and nb.cells[0].source == SOURCE
    assert nb.cells[0].outputs == [] and nb.cells[1].source == "import math"
    assert sum(setup_cell.is_setup_cell(c) for c in nb.cells) == 1


def test_a_notebook_without_code_gets_the_cell_at_the_end():
    nb = notebook(nbformat.v4.new_markdown_cell("only words"))
    setup_cell.apply(nb, SOURCE)
    assert setup_cell.is_setup_cell(nb.cells[-1])


def test_a_configuration_without_a_branch_is_refused(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/x\n")
    with pytest.raises(ValueError, match="branch"):
        setup_cell.cell_source(config)
