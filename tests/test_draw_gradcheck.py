"""Drawings of scalar graphs (deterministic, renderable) and gradient checking."""
import math
import re

import pytest

from minigrad import Value, draw_dot, gradcheck
from minigrad.exercises import check_gradients
from minigrad.gradcheck import numerical_gradients
from minigrad.value_nn import ValueMLP as MLP


def neuron_graph():
    """A small graph with a shared input, a constant and a named output, backpropagated."""
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    n = x1 * w1 + x2 * w2 + b + x1 * 0.5
    n.name = "n"
    out = n.tanh()
    out.name = "out"
    out.backward()
    return out


# ----- drawings -----------------------------------------------------------------------


def test_drawing_shows_names_values_gradients_and_operations():
    source = draw_dot(neuron_graph()).source
    assert '"{ x1 | data 2.0000 | grad ' in source
    assert '"{ out | data ' in source
    for op in ("*", "+", "tanh"):
        assert re.search(rf'label="?{re.escape(op)}"? shape=(circle|ellipse)', source)
    # every edge goes from a value box to an operation, or from an operation to its result
    for edge in re.findall(r"^\t(\S+) -> (\S+)$", source, flags=re.M):
        assert edge[0].endswith("_op") != edge[1].endswith("_op")


def test_drawing_the_same_graph_built_twice_gives_the_same_source():
    first = draw_dot(neuron_graph())
    junk = [Value(float(i)) for i in range(5000)]  # the second graph lives elsewhere in memory
    second = draw_dot(neuron_graph())
    assert first.source == second.source
    assert repr(first) == first.source  # the text form holds no memory address
    del junk


def test_node_ids_come_from_the_order_not_from_memory_addresses():
    out = neuron_graph()
    source = draw_dot(out).source
    ids = set(re.findall(r"^\t(\w+) \[", source, flags=re.M)) - {"graph", "node", "edge"}
    boxes = sorted((i for i in ids if not i.endswith("_op")), key=lambda i: int(i[1:]))
    from minigrad.autograd import topological_order
    assert boxes == [f"n{i}" for i in range(len(topological_order(out)))]
    assert all(re.fullmatch(r"n\d+(_op)?", i) for i in ids)


def test_drawing_options():
    out = neuron_graph()
    assert "grad" not in draw_dot(out, show_grad=False).source
    assert "rankdir=TB" in draw_dot(out, rankdir="TB").source
    with pytest.raises(ValueError, match=r"rankdir must be 'LR' .* or 'TB' .*, got 'RL'"):
        draw_dot(out, rankdir="RL")


def test_render_writes_an_svg_file(tmp_path, dot_executable):
    path = draw_dot(neuron_graph()).render(str(tmp_path / "graph"))
    assert path.endswith("graph.svg")
    text = (tmp_path / "graph.svg").read_text()
    assert text.startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")
    assert ">x1<" in text and ">tanh<" in text


def test_rendering_twice_gives_identical_bytes(tmp_path, dot_executable):
    first = draw_dot(neuron_graph()).render(str(tmp_path / "first"))
    second = draw_dot(neuron_graph()).render(str(tmp_path / "second"))
    with open(first, "rb") as a, open(second, "rb") as b:
        assert a.read() == b.read()


def test_a_network_drawing_is_deterministic_too():
    def drawing():
        model = MLP(2, [3, 1], seed=4)
        out = model([Value(1.0, name="a"), Value(-1.0, name="b")])
        out.backward()
        return draw_dot(out).source
    assert drawing() == drawing()


# ----- gradient checking -----------------------------------------------------------------


class WrongSquare(Value):
    """x² with a derivative rule that forgot the factor 2."""

    __slots__ = ()
    _op = "wrong²"

    def __init__(self, a):
        self._record(a.data * a.data, a)

    def _backward(self, grad):
        return (self._prev[0].data * grad,)


def test_gradcheck_passes_a_correct_function():
    x, y = Value(0.7), Value(-1.2)
    gap = gradcheck(lambda a, b: (a * b).tanh() + a.exp() / (1 + b ** 2), [x, y])
    assert gap < 1e-8


def test_gradcheck_catches_a_wrong_derivative_rule():
    x = Value(1.5)
    assert gradcheck(lambda a: a ** 2, [x]) < 1e-8
    assert math.isclose(gradcheck(lambda a: WrongSquare(a), [x]), 1.5, rel_tol=1e-6)  # 2x - x


def test_numerical_gradients_restore_the_inputs():
    x, y = Value(0.3), Value(2.0)
    grads = numerical_gradients(lambda a, b: a * b * b, [x, y])
    assert (x.data, y.data) == (0.3, 2.0)
    assert grads == [pytest.approx(4.0, abs=1e-8), pytest.approx(1.2, abs=1e-8)]


def test_exercise_checker_reports_pass_and_fail(capsys):
    assert check_gradients(lambda a: a ** 2, [Value(1.5, name="x")]) is True
    assert "PASS" in capsys.readouterr().out
    assert check_gradients(lambda a: WrongSquare(a), [Value(1.5, name="x")]) is False
    report = capsys.readouterr().out
    assert "FAIL" in report and "backpropagation gives 1.5" in report and "finite differences give 3.0" in report
