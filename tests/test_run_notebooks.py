"""The notebook runner stores each cell's printing as one output per stream, whatever the kernel's timing."""
import importlib.util
from pathlib import Path

import nbformat

RUNNER = Path(__file__).resolve().parent.parent / "tools" / "run_notebooks.py"


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_consecutive_outputs_of_one_stream_are_joined_and_nothing_else_is():
    stream = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [
        stream("stream", name="stdout", text="lr 0.01\n"),
        stream("stream", name="stdout", text="lr 0.03\n"),
        stream("stream", name="stderr", text="a warning\n"),
        stream("stream", name="stdout", text="lr 0.1\n"),
        stream("execute_result", data={"text/plain": "3"}, execution_count=1),
        stream("stream", name="stdout", text="after\n"),
    ]
    _runner().coalesce_streams(cell)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stream", "stdout", "lr 0.01\nlr 0.03\n"),
        ("stream", "stderr", "a warning\n"),
        ("stream", "stdout", "lr 0.1\n"),
        ("execute_result", None, None),
        ("stream", "stdout", "after\n"),
    ]
