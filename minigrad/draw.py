"""Drawings of computation graphs with graphviz, for both engines.

Every node becomes a box (its name, value and gradient, or for a Tensor its
shape, and its values when there are few); every operation becomes a small
circle between the boxes it reads and the box it makes. Node ids come from the
deterministic topological order, so the same graph always gives the same DOT
source, and the same picture.

The ``graphviz`` package is imported by the first drawing, not by
``import minigrad``: most uses of the package never draw.
"""
import numpy as np

from minigrad.autograd import topological_order
from minigrad.checks import check_positive_int

SMALL = 6  # a tensor with at most this many numbers shows them all

#: The largest drawing, in inches (72 points each): 1,000 pt wide and 540 pt tall,
#: which a laptop screen shows whole and the book's column at half size or more.
#: Graphviz scales a larger layout down to fit (never a smaller one up).
MAX_SIZE = "13.89,7.5"

#: The largest graph (counted in Values or Tensors) that ``draw_dot`` draws unless told otherwise.
#: Graphviz's layout time grows much faster than the graph. Measured with ``dot`` 2.43 on the
#: course's (busy, two-core) build machine, for the loss of a small scalar MLP: 318 nodes took
#: 0.7 s, 530 nodes 1.8 s, 954 nodes 3.6 s (4.5 s left to right), 1,690 nodes 18 s, 3,042 nodes
#: 190 s; the loss of micrograd's demo (100 examples) has tens of thousands. Past a few hundred
#: boxes a picture is unreadable anyway.
MAX_NODES = 1000

_drawing_class = None


def _drawing():
    """The Drawing class, made (and graphviz imported) on first use."""
    global _drawing_class
    if _drawing_class is None:
        try:
            import graphviz
        except ImportError:
            raise ImportError("draw_dot needs the graphviz Python package (pip install graphviz), and "
                              "graphviz's `dot` program to show or render a drawing") from None

        class Drawing(graphviz.Digraph):
            """A ``graphviz.Digraph`` whose text form is its DOT source.

            No larger than ``MAX_SIZE`` unless its ``graph_attr`` says otherwise.
            Jupyter shows the picture (SVG); the plain-text form that a notebook also
            stores (and that nbval compares) is the graph's description, with no memory
            address in it. ``.render("file")`` writes ``file.svg``, ``.source`` is the DOT text.
            """

            def __init__(self, *args, graph_attr=None, **kwargs):
                super().__init__(*args, graph_attr={"size": MAX_SIZE, **(graph_attr or {})},
                                 **kwargs)

            def __repr__(self):
                return self.source

        Drawing.__module__, Drawing.__qualname__ = __name__, "Drawing"
        _drawing_class = Drawing
    return _drawing_class


def __getattr__(name):  # `minigrad.draw.Drawing` still names the class, made on first mention
    if name == "Drawing":
        return _drawing()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _fmt(x):
    if isinstance(x, np.ndarray) and x.ndim == 0:  # a single number, shown as a Value shows it
        x = x.item()
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, suppress_small=True, separator=", ").replace("\n", "")
    return f"{x:.4f}"


def _escape(text):
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _label(node, show_grad):
    fields = [str(node.name)] if node.name else []  # a name set after construction may be no str
    data = node.data
    if isinstance(data, np.ndarray):
        fields.append(f"shape {data.shape}")
        if data.size <= SMALL:
            fields.append(f"data {_fmt(data)}")
            if show_grad and getattr(node, "requires_grad", True) and node.grad is not None:
                fields.append(f"grad {_fmt(np.asarray(node.grad))}")
    else:
        fields.append(f"data {_fmt(data)}")
        if show_grad:
            fields.append(f"grad {_fmt(node.grad)}")
    return "{ " + " | ".join(_escape(f) for f in fields) + " }"


def draw_dot(root, format="svg", rankdir="LR", show_grad=True, max_nodes=MAX_NODES):
    """Draw the graph that computed ``root``; returns a ``Drawing`` (a ``graphviz.Digraph``).

    In Jupyter it displays itself; ``.render("file")`` writes ``file.svg``
    (or the ``format`` given), ``.source`` is the DOT text. A graph of more
    than ``max_nodes`` Values or Tensors is refused with a ValueError: graphviz
    would take minutes over it. Draw a smaller graph (one example, a smaller
    network), or pass a larger ``max_nodes`` (``None``: no limit).
    """
    if not (hasattr(root, "_prev") and hasattr(root, "data")):
        raise TypeError(f"draw_dot draws the graph behind a Value or a Tensor, got {type(root).__name__}")
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    if max_nodes is not None:
        max_nodes = check_positive_int(max_nodes, "max_nodes")
    nodes = topological_order(root)
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(f"draw_dot: this graph has {len(nodes):,} nodes, more than the limit of {max_nodes:,} "
                         "(graphviz would take minutes to lay it out, and the picture would be unreadable). "
                         "Draw a smaller graph: one example through a smaller network, one neuron, or part "
                         f"of the computation; or raise the limit with draw_dot(..., max_nodes={len(nodes)}).")
    dot = _drawing()(format=format, graph_attr={"rankdir": rankdir})
    ids = {id(node): f"n{i}" for i, node in enumerate(nodes)}
    for node in nodes:
        uid = ids[id(node)]
        dot.node(uid, label=_label(node, show_grad), shape="record")
        if node._prev:  # made by an operation (a result computed under no_grad has no inputs: a plain box)
            op = node._op or "?"
            dot.node(uid + "_op", label=_escape(op), shape="circle" if len(op) <= 2 else "ellipse")
            dot.edge(uid + "_op", uid)
            for parent in node._prev:
                dot.edge(ids[id(parent)], uid + "_op")
    return dot
