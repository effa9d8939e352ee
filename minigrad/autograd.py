"""Reverse-mode differentiation, written once for both engines.

A node of a computation graph (a scalar ``Value`` or a ``Tensor``) has

* ``_prev``: the tuple of nodes it was computed from, in argument order;
  empty for a leaf (an input, a parameter, a constant, or a result computed
  while no graph was being recorded);
* ``_backward(grad)``: the local derivative rule of the operation that made
  it. Given ``grad`` = dL/d(node), it *returns* dL/d(input) for each input,
  in the order of ``_prev`` (``None`` for an input that needs none);
* ``_grad_zero``: what its ``grad`` is before any gradient has reached it;
* for a node holding an array (a Tensor): ``_grad``, where its gradient is
  kept, ``requires_grad``, and the data clock's ticks ``_version`` (when its
  data was last assigned) and ``_seen`` (when it was computed from its inputs;
  see :func:`check_unchanged`).

Everything else lives here, once: the order in which the rules run, adding
each returned gradient into the input's ``grad`` (an input used twice gets
the sum of both contributions), summing a gradient back to the shape of an
input that was broadcast, and making sure that a leaf owns its gradient.

A rule holds no reference to its own node beyond ``self``, and a node refers
only to its inputs: a graph has no reference cycles and is freed the moment
its last name goes away.
"""
import threading
from contextlib import contextmanager

import numpy as np

# Ticks once for every assignment of new data to any array node (a Tensor).
# A tensor notes the tick of its last assignment (_version), an operation the
# tick when it ran (_seen): an input whose _version is newer was changed since.
_data_clock = 0


def topological_order(root):
    """Every node that ``root`` depends on, each after all of its inputs.

    An iterative depth-first search: a graph a million operations deep
    needs no recursion. Inputs are visited in the order they appear in
    ``_prev``, so the order, and with it every floating-point sum in the
    backward pass, is the same on every run.
    """
    order = []
    visited = {root}  # nodes hash by identity (Tensor keeps object.__hash__)
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                if parent._prev:
                    stack.append((parent, iter(parent._prev)))
                    break
                order.append(parent)  # a leaf waits for no inputs
        else:
            stack.pop()
            order.append(node)
    return order


def backpropagate(root, gradient):
    """Start from ``gradient`` at ``root``; apply the chain rule below it.

    Walking the topological order backwards guarantees that a node's
    gradient is complete (every path from it to the root has contributed)
    before its rule passes it on. The rule returns, for each input, the
    local gradient already multiplied by the node's gradient (the chain
    rule), and it is *added* to what the input has: a node used in several
    places collects one term per use.

    Intermediate nodes start from a zero gradient on every pass, so that a
    second ``backward()`` through the same graph adds to the leaves exactly
    what the first one did, instead of passing the first pass's gradients
    on once more. Leaves (inputs, parameters, the root if it is one) keep
    accumulating until zeroed.

    The order is the same for both engines; what a gradient *is* differs,
    so each engine has its own walk: floats for ``Value``, arrays for
    ``Tensor``.
    """
    order = topological_order(root)
    if isinstance(gradient, float):
        backpropagate_floats(order, root, gradient)
    else:
        backpropagate_arrays(order, root, gradient)


def backpropagate_floats(order, root, gradient):
    """The scalar engine's walk: every gradient is a float, added with +=."""
    for node in order:
        if node._prev:
            node.grad = 0.0
    if root._prev:
        root.grad = gradient
    else:  # a leaf as the root: like every leaf, it adds up
        root.grad += gradient
    for node in reversed(order):
        inputs = node._prev
        if not inputs:
            continue
        local = node._backward(node.grad)
        if len(inputs) == 2:  # unpacking costs far less than zip here
            a, b = inputs
            local_a, local_b = local
            a.grad += local_a
            b.grad += local_b
        else:
            for parent, local_gradient in zip(inputs, local):
                parent.grad += local_gradient


def backpropagate_arrays(order, root, gradient):
    """The tensor engine's walk: every gradient is an array, added by
    :func:`accumulate`.

    A Tensor keeps its gradient in ``_grad`` (``None``: none has arrived
    yet). An operation whose input was given new data after it ran raises
    an error (:func:`check_unchanged`) before its rule runs; that costs one
    comparison per node, since the inputs need looking at only if some data
    was assigned after the operation ran.
    """
    for node in order:
        if node._prev:
            node._grad = None
    if root._prev:
        root._grad = gradient
    else:  # a leaf as the root: like every leaf, it adds up
        accumulate(root, gradient, None)
    now = _data_clock
    for node in reversed(order):
        inputs = node._prev
        grad = node._grad
        if not inputs or grad is None:
            continue  # a leaf, or a node that no gradient reached
        if node._seen < now:  # data was assigned since this node ran:
            check_unchanged(node)  # raises if it was its own or an input's
        local = node._backward(grad)
        if len(inputs) == 1:  # one or two inputs unpacked: zip costs more
            accumulate(inputs[0], local[0], grad)
        elif len(inputs) == 2:
            a, b = inputs
            local_a, local_b = local
            accumulate(a, local_a, grad)
            accumulate(b, local_b, grad)
        else:
            for parent, local_gradient in zip(inputs, local):
                accumulate(parent, local_gradient, grad)


def accumulate(node, contribution, incoming):
    """Add one path's ``contribution`` to dL/d(node), for an array node.

    * A contribution of another shape comes from an operation that
      broadcast ``node``: it is summed back to ``node``'s shape
      (:func:`unbroadcast`).
    * The first contribution is stored as it is (no zeros are made to add
      it to), unless ``node`` is a leaf and the array may belong to another
      node too: a rule that passed on ``incoming`` unchanged, or a view of
      it. A leaf keeps a copy, so that changing one parameter's gradient in
      place never changes another's. (Intermediate gradients are only ever
      replaced, never changed in place, so they may share.)
    """
    if contribution is None or not node.requires_grad:
        return  # no gradient for this input, or a constant that needs none
    if type(contribution) is not np.ndarray:
        contribution = np.asarray(contribution)  # a NumPy number (0-d)
    data = node._data
    if contribution.shape != data.shape:
        contribution = unbroadcast(contribution, data.shape)
    dtype = data.dtype
    if contribution.dtype is not dtype and contribution.dtype != dtype:
        contribution = contribution.astype(dtype)
    current = node._grad
    if current is None:
        if not node._prev and (contribution is incoming
                               or contribution.base is not None):
            contribution = contribution.copy()  # shared: a leaf gets its own
        node._grad = contribution
    else:
        total = current + contribution
        node._grad = np.asarray(total)  # 0-d + 0-d gives a NumPy scalar


def unbroadcast(grad, shape):
    """Sum ``grad`` back to ``shape``, undoing NumPy broadcasting.

    Broadcasting copied the input along new leading axes, and along axes
    where the input had size 1. Each copy was used once, so each received
    its own gradient, and the input's gradient is their sum (as for a node
    used several times).
    """
    if grad.shape == shape:
        return grad
    if grad.shape[1:] == shape:  # the common case: a bias added to every row
        return np.add.reduce(grad, axis=0)  # = grad.sum(axis=0), faster
    lead = grad.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m
                       for n, m in zip(shape, grad.shape[lead:])):
        raise ValueError(
            f"a gradient of shape {grad.shape} cannot be summed back to "
            f"an input of shape {shape}: a backward rule returned a wrong "
            "shape")
    stretched = tuple(lead + i for i, n in enumerate(shape)
                      if n == 1 and grad.shape[lead + i] != 1)
    summed = grad.sum(axis=tuple(range(lead)) + stretched)
    return summed.reshape(shape) if stretched else summed


def check_unchanged(node):
    """Raise if an input of ``node`` was given new data after ``node`` was computed from it.

    A rule reads its inputs' data (``Mul`` needs ``b`` to pass a gradient to
    ``a``): if ``a.data`` was replaced or updated in between, by an optimizer
    step for example, the rule would silently use the new numbers with the old
    result. Every assignment of data ticks a clock; a tensor notes the tick of
    its last one (``_version``), an operation the tick when it ran (``_seen``),
    much as PyTorch's version counters do. The node's own data counts too:
    ``Exp``'s rule reads its result, and ``h -= 1`` under ``no_grad`` changes it.
    """
    if node._version > node._seen:
        raise RuntimeError(
            f"the result of the {node._op!r} operation (shape {node.data.shape}) was given new data "
            f"after it was computed (for example by `-=` under no_grad or `.data = ...`): the gradients "
            f"through it would be computed from the wrong numbers. Run the forward pass again, then "
            f"call backward()")
    for position, parent in enumerate(node._prev):
        if parent._version > node._seen:
            name = f" {parent.name!r}" if parent.name else ""
            raise RuntimeError(
                f"input {position}{name} (shape {parent.data.shape}) of the {node._op!r} operation was "
                f"given new data after the operation used it (for example by an optimizer step or "
                f"`.data -= ...`): its gradient would be computed from the wrong numbers. Run the "
                f"forward pass again after changing the data, then call backward()")


def zero_grad(parameters):
    """Reset each parameter's gradient to zero.

    Each engine says what zero is (``_grad_zero``): ``0.0`` for a Value, and
    ``None`` for a Tensor, which reads as zeros: no array of zeros is made only
    for the next backward pass to add to (for big weight matrices, real work).
    """
    for p in parameters:
        p.grad = getattr(p, "_grad_zero", 0.0)  # 0.0 for a scalar class of the reader's own


class _GradMode(threading.local):
    """Per thread: whether this thread records graphs (``no_grad`` switches it off)."""

    enabled = True  # what every thread starts with


_grad_mode = _GradMode()
_no_grad_lock = threading.Lock()
_no_grad_blocks = 0  # how many no_grad() blocks are open now, in all threads together

# True while no thread at all is inside no_grad(): then every operation may
# record its inputs without asking its own thread (a thread-local lookup would
# cost every node of the scalar engine measurable time). The engines test
# `_all_threads_record or _grad_mode.enabled`, which is is_grad_enabled().
_all_threads_record = True


def is_grad_enabled():
    """Whether new operations in this thread are being recorded for backpropagation."""
    return _all_threads_record or _grad_mode.enabled


@contextmanager
def no_grad():
    """Within this block, operations compute their results but record no graph.

    Their results are leaves: nothing is kept for a backward pass, which saves
    memory and time. Use it for evaluation and for updates to parameters,
    which are not part of what we differentiate. Both engines honour it.

    The switch is per thread, as in PyTorch: a thread inside ``no_grad()``
    does not stop another thread from recording its graph.
    """
    global _all_threads_record, _no_grad_blocks
    previous, _grad_mode.enabled = _grad_mode.enabled, False
    with _no_grad_lock:
        _no_grad_blocks += 1
        _all_threads_record = False
    try:
        yield
    finally:
        _grad_mode.enabled = previous
        with _no_grad_lock:
            _no_grad_blocks -= 1
            _all_threads_record = _no_grad_blocks == 0
