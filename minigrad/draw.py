"""Drawings of computation graphs with graphviz, for both engines.

Every node becomes a box (its name, value and gradient, or for a Tensor its
shape, and its values when there are few); every operation becomes a small
circle between the boxes it reads and the box it makes. Node ids come from the
deterministic topological order, so the same graph always gives the same DOT
source, and the same picture.
"""
import graphviz
import numpy as np

from minigrad.autograd import topological_order

SMALL = 6  # a tensor with at most this many numbers shows them all


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose text form is its DOT source.

    Jupyter shows the picture; the plain-text form that a notebook also stores
    (and that nbval compares) is the graph's description, with no memory address
    in it.
    """

    def __repr__(self):
        return self.source


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
    fields = [node.name] if node.name else []
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


def draw_dot(root, format="svg", rankdir="LR", show_grad=True):
    """Draw the graph that computed ``root``; returns a :class:`Drawing`.

    In Jupyter it displays itself; ``.render("file")`` writes ``file.svg``
    (or the ``format`` given), ``.source`` is the DOT text.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    dot = Drawing(format=format, graph_attr={"rankdir": rankdir})
    nodes = topological_order(root)
    ids = {id(node): f"n{i}" for i, node in enumerate(nodes)}
    for node in nodes:
        uid = ids[id(node)]
        dot.node(uid, label=_label(node, show_grad), shape="record")
        if node._op:
            dot.node(uid + "_op", label=_escape(node._op), shape="circle" if len(node._op) <= 2 else "ellipse")
            dot.edge(uid + "_op", uid)
            for parent in node._prev:
                dot.edge(ids[id(parent)], uid + "_op")
    return dot
