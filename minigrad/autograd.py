"""Reverse-mode differentiation, written once for both engines.

A node of a computation graph (a scalar ``Value`` or a ``Tensor``) has

* ``_prev``: the tuple of nodes it was computed from, in argument order;
* ``_backward``: ``None`` for a leaf, otherwise a function that receives the
  node's gradient ``dL/dout`` and adds ``dL/dparent`` to each parent's ``grad``
  (the chain rule: ``dL/dparent = dL/dout * dout/dparent``).

The backward functions receive the gradient as an argument instead of reading it
from their output node, so they hold no reference to that node: a graph holds no
reference cycles and is freed the moment its last name goes away.
"""
from contextlib import contextmanager

import numpy as np


def topological_order(root):
    """Every node that ``root`` depends on, each after all of its parents.

    An iterative depth-first search: a graph a million operations deep needs no
    recursion. Parents are visited in the order they appear in ``_prev``, so the
    order, and with it every floating-point sum in the backward pass, is the
    same on every run.
    """
    order = []
    visited = {id(root)}
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent._prev)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backpropagate(root, gradient):
    """Set ``root.grad = gradient`` and apply the chain rule to every node above it.

    Walking the topological order backwards guarantees that a node's gradient
    is complete (every path from it to the root has contributed) before its
    own backward function passes it on to its parents.
    """
    root.grad = gradient
    for node in reversed(topological_order(root)):
        if node._backward is not None:
            node._backward(node.grad)


def zero_grad(parameters):
    """Reset each parameter's gradient to zero.

    A Value's becomes ``0.0``. A Tensor's is set to ``None``, which the Tensor
    reads as zeros: no array of zeros is made, only for the next backward pass
    to add its gradient to (for big weight matrices, that would be real work).
    """
    for p in parameters:
        p.grad = None if isinstance(p.data, np.ndarray) else 0.0


_grad_enabled = True


def is_grad_enabled():
    """Whether new operations are being recorded for backpropagation."""
    return _grad_enabled


@contextmanager
def no_grad():
    """Within this block, operations compute their results but record no graph.

    Use it for evaluation and for updates to parameters, which are not part of
    what we differentiate.
    """
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous
