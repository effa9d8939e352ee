"""The reader's own engine in yourgrad/: pieces kept only when they pass, re-checked
from the file, catch-up from the course's solutions, and files never lost."""
import ast
import os

import pytest

from exercise_verdicts import run_cell
from minigrad.exercises import report, your_engine
from minigrad.exercises.your_engine import catch_up, keep, pieces

VALUE_CELL = '''
import math

class Value:
    def __init__(self, data, _children=(), _op="", name=""):
        self.data = data
        self.grad = 0.0
        self.name = name
        self._prev = tuple(_children)
        self._op = _op

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        product = self.data * other.data     # a line of the reader's own
        return Value(product, (self, other), "*")
'''

OPERATORS_CELL = '''
def sub(self, other):
    return Value(self.data - other.data, (self, other), "-")

def power(self, k):
    return Value(self.data ** k, (self,), f"**{k}")

def div(self, other):
    return self * other ** -1

Value.__sub__ = sub
Value.__pow__ = power
Value.__truediv__ = div
'''


def check_operators(Value):
    """A small stand-in for chapter 2's checker: p - q, p ** 2 and p / q."""
    p, q = Value(5.0), Value(-2.0)
    try:
        ok = ((p - q).data == 7.0 and (p ** 2).data == 25.0 and (p / q).data == -2.5)
    except Exception as error:
        return report(False, "operators", f"raised {error!r}")
    return report(ok, "operators", "" if ok else "wrong numbers")


@pytest.fixture
def engine_dir(own_engine_directory):
    return own_engine_directory  # conftest's temporary yourgrad/


def notebook_value(extra=OPERATORS_CELL):
    namespace = run_cell(VALUE_CELL, {})
    return run_cell(extra, namespace) if extra else namespace


def test_a_passing_piece_is_kept_and_imported_from_the_file(engine_dir, capsys):
    namespace = notebook_value()
    assert keep("value", 2, 2, check_operators, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("PASS: operators, kept in yourgrad/value.py")
    text = (engine_dir / "value.py").read_text()
    assert "# chapter 2, exercise 2: " in text
    assert "class Value:" in text and "Value.__sub__ = sub" in text
    assert (engine_dir / "__init__.py").exists()
    module = your_engine.load("value")
    assert module.Value is not namespace["Value"]
    assert (module.Value(5.0) - module.Value(2.0)).data == 3.0
    import yourgrad.value  # the notebook's later `import yourgrad.value` gets the same module
    assert yourgrad.value is module


def test_the_class_source_comes_from_the_cell_not_inspect(engine_dir):
    namespace = notebook_value()
    source = your_engine.piece_source(("Value", "Value.__sub__"), {"Value": namespace["Value"]})
    assert source.startswith("class Value:\n")
    assert "def sub(self, other):" in source and source.rstrip().endswith("Value.__sub__ = sub")
    assert "def power" not in source  # only the targets asked for


def test_a_failing_answer_is_not_kept(engine_dir, capsys):
    wrong = OPERATORS_CELL.replace("self.data - other.data", "other.data - self.data")
    namespace = notebook_value(wrong)
    assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "kept" not in out
    assert not (engine_dir / "value.py").exists()


def test_a_piece_using_a_notebook_global_is_refused_with_its_name(engine_dir, capsys):
    cell = OPERATORS_CELL.replace("return self * other ** -1",
                                  "return self * other ** MINUS_ONE")
    namespace = notebook_value("MINUS_ONE = -1\n" + cell)
    assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "`MINUS_ONE`" in out
    assert not (engine_dir / "value.py").exists()


def test_a_piece_that_fails_from_the_file_alone_is_not_kept(engine_dir, capsys):
    # the notebook's Value has __neg__ from a cell the piece does not include
    cell = OPERATORS_CELL.replace("return Value(self.data - other.data, (self, other), \"-\")",
                                  "return self + (-other)")
    namespace = notebook_value("def neg(self):\n    return Value(-self.data, (self,), 'neg')\n"
                               "Value.__neg__ = neg\n" + cell)
    assert check_operators(namespace["Value"])
    capsys.readouterr()
    assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "from the file alone it fails" in out
    assert not (engine_dir / "value.py").exists()


def test_catch_up_fills_exactly_what_is_missing(engine_dir, capsys):
    namespace = notebook_value()
    keep("value", 2, 2, check_operators, Value=namespace["Value"])
    mine = (engine_dir / "value.py").read_text()
    capsys.readouterr()
    module = catch_up("value", 3)
    out = capsys.readouterr().out
    before = [p for p in pieces("value") if p.chapter < 3]
    assert f"1 of the {len(before)} pieces before chapter 3 are yours" in out
    filled = [p for p in before if (p.chapter, p.exercise) != (2, 2)]
    for piece in filled:
        assert f"chapter {piece.chapter}, exercise {piece.exercise}: {piece.title}" in out
    text = (engine_dir / "value.py").read_text()
    assert mine.split("\n\n\n# chapter 2, exercise 2")[1] in text  # the reader's piece untouched
    assert text.count("(the course's solution)") == len(filled)
    assert module.Value(0.0).sigmoid().data == 0.5
    capsys.readouterr()
    catch_up("value", 3)  # a second time: nothing more to fill
    assert "the rest filled in" not in capsys.readouterr().out


def test_catch_up_in_a_fresh_clone_says_everything_is_the_course_s(engine_dir, capsys):
    module = catch_up("value", 3)
    out = capsys.readouterr().out
    assert "did not exist: made it from the course's solutions" in out
    assert (module.Value(5.0) / module.Value(-2.0)).data == -2.5
    text = (engine_dir / "value.py").read_text()
    assert text.startswith(your_engine._header("value").rstrip("\n"))
    for piece in pieces("value"):
        marker = f"# chapter {piece.chapter}, exercise {piece.exercise}: {piece.title}"
        assert (marker in text) == (piece.chapter < 3)


def test_the_file_reads_in_the_course_s_order(engine_dir, capsys):
    catch_up("value", 99)
    keys = []
    for line in (engine_dir / "value.py").read_text().splitlines():
        found = your_engine.MARKER.match(line)
        if found:
            keys.append((int(found[1]), int(found[2])))
    assert keys == sorted(keys) == [(p.chapter, p.exercise) for p in pieces("value")]


def test_replacing_a_piece_keeps_the_old_file_as_bak(engine_dir, capsys):
    catch_up("value", 3)
    before = (engine_dir / "value.py").read_text()
    assert not (engine_dir / "value.py.bak").exists()
    namespace = notebook_value()
    assert keep("value", 2, 2, check_operators, Value=namespace["Value"])
    assert (engine_dir / "value.py.bak").read_text() == before
    after = (engine_dir / "value.py").read_text()
    assert after != before and "name=\"\"):\n" in after


def test_a_failed_write_leaves_the_file_as_it_was(engine_dir, capsys, monkeypatch):
    catch_up("value", 3)
    before = (engine_dir / "value.py").read_text()

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    namespace = notebook_value()
    with pytest.raises(OSError, match="disk full"):
        keep("value", 2, 2, check_operators, Value=namespace["Value"])
    monkeypatch.undo()
    assert (engine_dir / "value.py").read_text() == before
    assert sorted(p.name for p in engine_dir.iterdir()) == ["__init__.py", "value.py"]


def test_a_file_that_does_not_import_is_reported_naming_it(engine_dir, capsys):
    catch_up("value", 3)
    path = engine_dir / "value.py"
    path.write_text(path.read_text() + "\nthis is not python\n")
    with pytest.raises(your_engine.EngineError, match="value.py does not import"):
        catch_up("value", 3)
    namespace = notebook_value()
    assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    assert "does not import" in capsys.readouterr().out


def test_unknown_engines_and_pieces_are_named():
    with pytest.raises(ValueError, match="no engine called 'scalar'"):
        pieces("scalar")
    with pytest.raises(ValueError, match="no piece for chapter 1, exercise 9"):
        keep("value", 1, 9, lambda: True)


def test_a_function_of_another_name_is_kept_under_the_file_s_name(engine_dir):
    namespace = run_cell("def topo_iterative(root):\n    return [root]\n", {})
    source = your_engine.piece_source(("topological_order",),
                                      {"topological_order": namespace["topo_iterative"]})
    assert source == ("def topo_iterative(root):\n    return [root]\n\n\n"
                      "topological_order = topo_iterative\n")


def test_keeping_a_later_piece_fills_in_the_earlier_ones_it_builds_on(engine_dir, capsys):
    namespace = notebook_value()
    run_cell("def sigmoid(self):\n    return Value(1 / (1 + math.exp(-self.data)), (self,), "
             "'sigmoid')\n\nValue.sigmoid = sigmoid\n", namespace)

    def check_sigmoid(Value):
        return report(Value(0.0).sigmoid().data == 0.5, "sigmoid")

    assert keep("value", 2, 3, check_sigmoid, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("PASS: sigmoid, kept in yourgrad/value.py")
    assert "with the course's solutions to exercise 2.2, which it builds on" in out
    text = (engine_dir / "value.py").read_text()
    assert "# chapter 2, exercise 2: " in text and "(the course's solution)" in text


def _notebook_definitions(chapter):
    """The last top-level definition of each name in chapter ``chapter``'s code cells (the
    solution comes after the starter), and every ``Owner.attr = name`` they make."""
    import json
    from pathlib import Path
    notebook = next((Path(__file__).parent.parent / "notebooks").glob(f"{chapter:02d}_*.ipynb"))
    definitions, attachments = {}, set()
    for cell in json.loads(notebook.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or source.startswith("%"):
            continue
        lines = [line for line in source.splitlines() if not line.startswith(("%", "!"))]
        for node in ast.parse("\n".join(lines)).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                definitions[node.name] = ast.dump(node)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
                attachments.add(ast.dump(node))
    return definitions, attachments


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_the_notebooks_solutions_are_the_reference(engine):
    """One solution: what the notebooks' solution cells define is what catch_up fills in."""
    for piece in pieces(engine):
        definitions, attachments = _notebook_definitions(piece.chapter)
        for node in ast.parse(piece.source).body:
            where = f"chapter {piece.chapter}, exercise {piece.exercise}"
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert definitions.get(node.name) == ast.dump(node), \
                    f"{where}: {node.name} differs between the notebook and the reference"
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
                assert ast.dump(node) in attachments, f"{where}: {ast.unparse(node)} is not in the notebook"


def test_a_class_body_reading_its_own_names_is_no_notebook_global():
    namespace = run_cell("class Scale:\n    factor = 2.0\n    double = factor * 2\n\n"
                         "    def apply(self, x):\n        return x * self.double\n")
    source = your_engine.piece_source(("Scale",), namespace)
    assert your_engine._missing_names(source, {}) == []
    assert your_engine._missing_names("def f():\n    return helper()\n", {}) == ["helper"]


def test_a_long_pass_line_keeps_the_word_kept_on_a_line_of_its_own(engine_dir, capsys):
    namespace = notebook_value()

    def check(Value):
        return report((Value(5.0) - Value(2.0)).data == 3.0,
                      "subtraction, powers and division, forward, recorded")
    assert keep("value", 2, 2, check, Value=namespace["Value"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["PASS: subtraction, powers and division, forward, recorded",
                          "  kept in yourgrad/value.py"]


def test_a_piece_that_imports_minigrad_anywhere_is_refused(engine_dir, capsys):
    # session 5's F26: rules that import minigrad inside a function body
    cell = OPERATORS_CELL.replace(
        "def div(self, other):\n",
        "def div(self, other):\n    import minigrad.value as mv\n    mv.Value\n")
    namespace = notebook_value(cell)
    assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "`import minigrad.value`" in out
    assert not (engine_dir / "value.py").exists()
    assert sorted(your_engine.outside_reaches(
        "def f():\n    from torch import nn\n    return __import__('x'), sys.modules\n")) == [
        "__import__", "from torch import ...", "sys.modules"]


def test_a_piece_reading_what_a_notebook_put_in_builtins_or_numpy_is_refused(engine_dir, capsys):
    import builtins

    import numpy as np
    # session 5's F23: a helper put in builtins by an earlier cell
    cell = OPERATORS_CELL.replace("return self * other ** -1", "return self * other ** _minus_one")
    builtins._minus_one = -1
    try:
        namespace = notebook_value(cell)
        assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    finally:
        del builtins._minus_one
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "`_minus_one`" in out
    # session 5's A5: a helper put on numpy (np.adam_impl = ...)
    np._power_of = lambda x, k: x ** k
    try:
        cell = OPERATORS_CELL.replace(
            "    return Value(self.data ** k, (self,), f\"**{k}\")",
            "    import numpy as np\n"
            "    return Value(np._power_of(self.data, k), (self,), f\"**{k}\")")
        namespace = notebook_value(cell)
        assert not keep("value", 2, 2, check_operators, Value=namespace["Value"])
    finally:
        del np._power_of
    out = capsys.readouterr().out
    assert out.startswith("FAIL: operators") and "`np._power_of`" in out
    assert not (engine_dir / "value.py").exists()


def test_a_class_whose_method_is_borrowed_from_a_package_class_keeps_its_own_source(engine_dir):
    # a method taken from minigrad's Value (same class name) must not make the package's
    # class source the piece's
    cell = "import minigrad.value as mv\nValue.__repr__ = mv.Value.__repr__\n" + OPERATORS_CELL
    namespace = notebook_value(cell)
    source = your_engine.piece_source(("Value",), {"Value": namespace["Value"]})
    assert source.startswith("class Value:\n") and "self.grad = 0.0" in source
    assert source == your_engine.piece_source(("Value",), {"Value": notebook_value()["Value"]})


def test_an_earlier_exercise_run_again_after_later_chapters_is_kept(engine_dir, capsys):
    """A reader who goes back to chapter 2 after chapter 5: chapter 4's pieces redefine
    chapter 2's operators, so 2.2 is judged in the file as it stands up to 2.2."""
    from minigrad.exercises import ch02
    catch_up("value", chapter=6)
    before = (engine_dir / "value.py").read_text()
    capsys.readouterr()
    two_two = next(piece for piece in pieces("value") if (piece.chapter, piece.exercise) == (2, 2))
    namespace = run_cell(two_two.source, {})
    assert ch02.check_operators(namespace["Value"])
    out = capsys.readouterr().out
    assert out.startswith("PASS") and "kept in yourgrad/value.py" in out, out
    after = (engine_dir / "value.py").read_text()
    # the course's own solution, run again, is kept and stays marked as the course's
    assert "exercise 2: a Value that records its inputs; -, ** and / (the course's solution)" \
        in after
    assert "counted as the course's" in out
    assert after.count("# chapter ") == before.count("# chapter ")
    module = your_engine.load("value")
    assert hasattr(module, "MLP") and hasattr(module, "train")  # the later pieces are kept


def test_catch_up_counts_what_an_earlier_catch_up_filled_in_as_the_course_s(engine_dir, capsys):
    before = [p for p in pieces("value") if p.chapter < 3]
    catch_up("value", 3)  # a fresh clone: every piece is the course's
    capsys.readouterr()
    catch_up("value", 3)
    out = capsys.readouterr().out
    assert f"0 of the {len(before)} pieces before chapter 3 are yours" in out, out
    assert f"(the other {len(before)}: the course's solutions, filled in earlier)" in out
    namespace = notebook_value()
    keep("value", 2, 2, check_operators, Value=namespace["Value"])  # one piece of the reader's
    capsys.readouterr()
    catch_up("value", 4)  # and the course's pieces of chapter 3 filled in now
    out = capsys.readouterr().out
    now = [p for p in pieces("value") if p.chapter == 3]
    assert f"1 of the {len(before) + len(now)} pieces before chapter 4 are yours" in out, out
    if now:
        assert f"({len(before) - 1} of them earlier; now these):" in out, out


def test_a_quiet_catch_up_says_nothing_unless_it_fills_a_piece_in(engine_dir, capsys):
    catch_up("value", chapter=3, exercise=5, quiet=True)
    assert "made it from the course's solutions" in capsys.readouterr().out  # filled: said
    module = catch_up("value", chapter=3, exercise=5, quiet=True)
    assert capsys.readouterr().out == "" and hasattr(module, "topological_order")


def test_pythons_own_names_are_not_missing_nor_planted():
    # open is io's, types.FunctionType says it is builtins': both are Python's own
    from minigrad.exercises.your_engine import _missing_names, _planted_attributes
    source = "import types\ndef load(path):\n    with open(path) as f:\n        return f.read()\n" \
             "kind = types.FunctionType\n"
    import types
    assert _missing_names(source, {"types": types}) == []
    assert _planted_attributes(source, {"types": types}) == []


def test_compile_reaches_outside_the_engine():
    from minigrad.exercises.your_engine import outside_reaches
    assert outside_reaches("def f(path):\n    return compile(open(path).read(), 'x', 'exec')\n") \
        == ["compile"]


def test_the_course_s_solution_handed_in_is_not_counted_as_the_reader_s(engine_dir, capsys):
    """A reader who catches up past exercise 3.4 and hands the catch-up's classes to 3.4's
    checker passes, but the piece stays the course's (catch-up counts it so)."""
    from minigrad.exercises import ch03
    module = catch_up("value", chapter=3, exercise=5)
    capsys.readouterr()
    answers = {name: getattr(module, name)
               for name in ("Value", "as_value", "Add", "Mul", "Pow", "Exp", "Tanh")}
    assert ch03.check_rules(*answers.values())
    out = capsys.readouterr().out
    assert "kept in yourgrad/value.py" in out and "counted as the course's" in out, out
    text = (engine_dir / "value.py").read_text()
    assert "exercise 4: " in text
    marker = next(line for line in text.splitlines() if line.startswith("# chapter 3, exercise 4"))
    assert marker.endswith("(the course's solution)"), marker
    # a piece of the reader's own, written differently, is the reader's
    assert not your_engine._same_code("def f(x):\n    y = x * 2\n    return y + 1\n",
                                      "def f(x):\n    return 2 * x + 1\n")
