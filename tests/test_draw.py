"""minigrad.draw: drawings of both engines' graphs, deterministic and renderable; a size limit;
graphviz imported only when a drawing is made."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, Value, draw_dot, no_grad
from minigrad.autograd import topological_order
from minigrad.draw import MAX_NODES
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


# ----- tensor graphs -----------------------------------------------------------------------

def tensor_graph():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], name="x")
    W = Tensor(np.ones((2, 3)), name="W")
    big = Tensor(np.arange(40.0).reshape(4, 10), name="big")
    y = ((x @ W).relu() * 2).sum() + (big * 0.5).mean()
    y.name = "y"
    y.backward()
    return y


def test_drawing_a_tensor_graph_shows_shapes_and_small_values():
    source = draw_dot(tensor_graph()).source
    assert "x | shape (2, 2)" in source and "W | shape (2, 3)" in source
    assert "data [[1., 2.], [3., 4.]]" in source  # small tensors show their values
    assert "grad [[6., 6.], [6., 6.]]" in source
    assert "big | shape (4, 10) }" in source  # big ones only their shape
    for op in ['"@"', "relu", "sum", "mean", '"*"', '"+"']:
        assert f"label={op}" in source
    assert "y | shape () | data 69.7500 | grad 1.0000" in source
    assert "0x" not in source  # no memory addresses: the same graph gives the same text


def test_drawing_a_tensor_graph_is_deterministic_and_renders(dot_executable):
    first = draw_dot(tensor_graph())
    assert first.source == draw_dot(tensor_graph()).source
    svg = first.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and ">relu<" in svg


# ----- what counts as an operation ------------------------------------------------------------


class Node:
    """The least a node needs to be drawn: data, grad, name, its inputs and an operation label."""

    def __init__(self, data, prev=(), op="", name=""):
        self.data, self.grad, self.name, self._prev, self._op = data, 0.0, name, tuple(prev), op


def test_an_operation_is_a_node_with_inputs_not_a_node_with_a_label():
    # Computed under no_grad, a result may keep its operation's label but has no inputs:
    # it is drawn as a plain box, a constant, with no operation circle leading nowhere.
    frozen = Node(6.0, op="*", name="frozen")
    out = Node(7.0, prev=(frozen, Node(1.0, name="one")), op="+", name="out")
    source = draw_dot(out).source
    assert source.count("_op [label=") == 1 and 'label="+"' in source and 'label="*"' not in source
    edges = re.findall(r"^\t(\S+) -> (\S+)$", source, flags=re.M)
    assert sorted(edges) == [("n0", "n2_op"), ("n1", "n2_op"), ("n2_op", "n2")]


def test_results_computed_under_no_grad_are_plain_boxes():
    w = Tensor([1.0, 2.0], name="w")
    with no_grad():
        frozen = w * 2
    out = (w * frozen).sum()
    source = draw_dot(out).source
    assert source.count("_op [label=") == 2  # * and sum; frozen's own * was not recorded


# ----- a size limit: graphviz takes minutes over a big graph ------------------------------------


def chain(n):
    """A graph of exactly ``n`` Values: x, then n - 1 negations."""
    x = Value(1.0)
    for _ in range(n - 1):
        x = -x
    return x


def test_a_graph_at_the_limit_is_drawn_one_past_it_is_refused():
    assert 300 <= MAX_NODES <= 1000
    assert len(topological_order(chain(MAX_NODES))) == MAX_NODES
    draw_dot(chain(MAX_NODES))
    with pytest.raises(ValueError) as info:
        draw_dot(chain(MAX_NODES + 1))
    message = str(info.value)
    assert f"this graph has {MAX_NODES + 1:,} nodes, more than the limit of {MAX_NODES:,}" in message
    assert "Draw a smaller graph: one example through a smaller network" in message
    assert f"draw_dot(..., max_nodes={MAX_NODES + 1})" in message


def test_the_loss_of_an_ordinary_scalar_mlp_is_refused_at_once():
    model = MLP(2, [16, 16, 1], seed=0)
    loss = sum((model([0.1 * i, -0.2 * i]) - 1.0) ** 2 for i in range(20))
    with pytest.raises(ValueError, match=r"this graph has 1\d,\d{3} nodes, more than the limit"):
        draw_dot(loss)


def test_max_nodes_raises_or_lifts_the_limit():
    big = chain(MAX_NODES + 5)
    assert draw_dot(big, max_nodes=MAX_NODES + 5).source.count("neg") == MAX_NODES + 4
    assert draw_dot(big, max_nodes=None).source == draw_dot(big, max_nodes=MAX_NODES + 5).source
    with pytest.raises(ValueError, match="more than the limit of 3"):
        draw_dot(chain(4), max_nodes=3)
    for bad in [0, -1, 2.5, "100", True]:
        with pytest.raises(ValueError, match=r"max_nodes must be a positive integer"):
            draw_dot(chain(2), max_nodes=bad)


def test_drawing_something_that_is_not_a_node_says_so():
    with pytest.raises(TypeError, match=r"draw_dot draws the graph behind a Value or a Tensor, got float"):
        draw_dot(1.5)


# ----- graphviz is imported by the first drawing, not by `import minigrad` ------------------------

LAZY_IMPORT = textwrap.dedent("""
    import sys
    import minigrad
    print("graphviz" in sys.modules)
    from minigrad import Value, draw_dot
    drawing = draw_dot(Value(2.0, name="x") * 3)
    print("graphviz" in sys.modules)
    import graphviz
    print(isinstance(drawing, graphviz.Digraph), repr(drawing) == drawing.source)
    print(type(drawing).__name__, type(drawing) is minigrad.draw.Drawing)
""")


def test_import_minigrad_does_not_import_graphviz():
    package_root = str(Path(minigrad.__file__).resolve().parent.parent)  # this minigrad, not another installed one
    env = {**os.environ, "PYTHONPATH": package_root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", LAZY_IMPORT], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == ["False", "True", "True True", "Drawing True"]


def test_a_drawing_displays_as_svg_in_jupyter(dot_executable):
    bundle = draw_dot(neuron_graph())._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"]


def test_without_the_graphviz_package_only_drawing_fails_and_says_what_to_install():
    script = textwrap.dedent("""
        import sys
        sys.modules["graphviz"] = None  # as if it were not installed
        from minigrad import Value, draw_dot
        loss = (Value(2.0) * 3).tanh()  # everything else works
        loss.backward()
        try:
            draw_dot(loss)
        except ImportError as error:
            print(error)
    """)
    package_root = str(Path(minigrad.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": package_root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "draw_dot needs the graphviz Python package (pip install graphviz)" in result.stdout


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_a_long_graph_is_scaled_down_to_fit_a_screen(rankdir, dot_executable):
    x = Value(0.5, name="x")
    y = x
    for _ in range(40):  # 80 boxes in a row: several thousand points long
        y = (y * 1.5).tanh()
    svg = draw_dot(y, rankdir=rankdir).pipe(format="svg").decode()
    width, height = map(float, re.search(r'<svg[^>]*width="([\d.]+)pt"[^>]*height="([\d.]+)pt"', svg).groups())
    assert width <= 1000.5 and height <= 540.5
    assert max(width, height) >= 530  # scaled down to the limit, not below it


def test_a_small_graph_keeps_its_natural_size(dot_executable):
    x = Value(0.5, name="x")
    svg = draw_dot(x * 2).pipe(format="svg").decode()
    height = float(re.search(r'<svg[^>]*height="([\d.]+)pt"', svg).group(1))
    assert 40 < height < 200
