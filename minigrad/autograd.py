"""Reverse-mode differentiation, written once for both engines.

A node of a computation graph (a scalar ``Value`` or a ``Tensor``) has

* ``_prev``: the tuple of nodes it was computed from, in argument order;
* ``_backward``: ``None`` for a leaf, otherwise a function that receives the
  node's gradient ``dL/dout`` and adds ``dL/dparent`` to each parent's ``grad``
  (the chain rule: ``dL/dparent = dL/dout * dout/dparent``);
* ``_grad_zero``: what its ``grad`` is before any gradient has reached it.

The backward rules receive the gradient as an argument instead of reading it
from their output node, and hold no reference to that node (a Value's rule is
a method of the node's class; a Tensor's a closure over its inputs only): a
graph holds no reference cycles and is freed the moment its last name goes away.
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
    visited = {root}  # nodes hash by identity: neither engine defines __eq__
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                if parent._prev:
                    stack.append((parent, iter(parent._prev)))
                    break
                order.append(parent)  # a leaf has no parents to wait for: it goes straight in
        else:
            stack.pop()
            order.append(node)
    return order


def backpropagate(root, gradient):
    """Set ``root.grad = gradient`` and apply the chain rule to every node above it.

    Walking the topological order backwards guarantees that a node's gradient
    is complete (every path from it to the root has contributed) before its
    own backward function passes it on to its parents.

    Intermediate results start from a zero gradient on every pass, so that a
    second ``backward()`` through the same graph adds to the leaves exactly
    what the first one did, instead of passing the first pass's gradients on
    once more. Leaves (inputs, parameters) keep accumulating until zeroed.
    """
    order = topological_order(root)
    for node in order:
        if node._backward is not None:
            node.grad = node._grad_zero
    root.grad = gradient
    for node in reversed(order):
        backward = node._backward
        if backward is not None:
            backward(node.grad)


def zero_grad(parameters):
    """Reset each parameter's gradient to zero.

    Each engine says what zero is (``_grad_zero``): ``0.0`` for a Value, and
    ``None`` for a Tensor, which reads as zeros: no array of zeros is made only
    for the next backward pass to add to (for big weight matrices, real work).
    """
    for p in parameters:
        p.grad = getattr(p, "_grad_zero", 0.0)  # 0.0 for a scalar class of the reader's own


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
