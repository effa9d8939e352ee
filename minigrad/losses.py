"""Loss functions: one number that says how wrong a model's outputs are.

Each takes the model's outputs either as Values (one, a list of them, or a
list of lists for a batch of several outputs each) with targets of the same
layout (plain numbers, or Values), and returns one Value; or as a Tensor with
the targets as an array of the same shape (or a list, or a Tensor), and
returns a 0-d Tensor. Either way, call ``backward()`` on the result. The mean
is over every output, so both forms give the same number.

A call that cannot mean what it says (outputs that are plain numbers, targets
of another shape, logits given where probabilities are expected) raises a
TypeError or ValueError that says what was wrong.

NaN, as in PyTorch: a NaN among a model's outputs (scores, logits,
predictions) gives a NaN loss and NaN gradients, as NaN goes through every
operation; a training loop that prints its loss shows it. What must lie in a
range is checked, and NaN is not in any: probabilities for
``binary_cross_entropy`` (in [0, 1]), targets in [0, 1], class labels, and
hinge labels of -1 or +1 are refused with a ValueError naming the NaN.
"""
import numbers

import numpy as np

from minigrad.checks import check_class_labels, check_finite_real
from minigrad.tensor import CrossEntropy, Tensor, warn_if_softmax_output
from minigrad.value import Value

__all__ = ["mse_loss", "hinge_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy_loss"]


# ----- checking what was passed in ------------------------------------------------

def _describe(x):
    """A short description of ``x`` for an error message: "a list of float", "a NumPy array", "str 'a'"."""
    if isinstance(x, np.ndarray):
        return f"a NumPy array of shape {x.shape}"
    if isinstance(x, (list, tuple)):
        kinds = sorted({type(item).__name__ for item in x})
        return f"a {type(x).__name__} of {', '.join(kinds)}" if kinds else f"an empty {type(x).__name__}"
    return f"{type(x).__name__} {x!r}"


def _not_values(outputs, what, noun, forms="one, a list, or a list of lists"):
    hint = "; make them Values (Value(x)) or pass a Tensor"
    if isinstance(outputs, np.ndarray):
        hint = "; wrap it: Tensor(array)"
    return TypeError(f"{what} expects the model's {noun} as Values ({forms}) "
                     f"or as a Tensor, got {_describe(outputs)}{hint}")


def _value_layout(outputs, what, noun="outputs", forms="one, a list, or a list of lists"):
    """``outputs`` (a Value, a list of Values or a list of lists of Values) as a flat list and its shape."""
    if isinstance(outputs, Value):
        return [outputs], ()
    if not isinstance(outputs, (list, tuple)):
        raise _not_values(outputs, what, noun, forms)
    if not outputs:
        raise ValueError(f"{what}: no {noun} to compare")
    if all(isinstance(x, Value) for x in outputs):
        return list(outputs), (len(outputs),)
    if all(isinstance(row, (list, tuple)) and row and all(isinstance(x, Value) for x in row) for row in outputs):
        widths = {len(row) for row in outputs}
        if len(widths) > 1:
            raise ValueError(f"{what}: the rows of {noun} have different lengths {sorted(widths)}")
        return [x for row in outputs for x in row], (len(outputs), widths.pop())
    raise _not_values(outputs, what, noun, forms)


def _target_layout(targets, what, noun="targets"):
    """``targets`` (numbers or Values, nested like the outputs; an array; a Tensor) as a flat list and its shape."""
    if isinstance(targets, Tensor):
        targets = targets.data
    if isinstance(targets, np.ndarray):
        if targets.dtype.kind not in "biuf":
            raise TypeError(f"{what}: {noun} must be numbers, got an array of {targets.dtype}")
        return [float(t) for t in targets.ravel()], targets.shape
    if isinstance(targets, (Value, numbers.Real)):
        return [targets], ()
    if isinstance(targets, (list, tuple)):
        items = [_target_layout(t, what, noun) for t in targets]
        shapes = {shape for _, shape in items}
        if len(shapes) > 1:
            raise ValueError(f"{what}: the rows of {noun} have different lengths or shapes")
        inner = shapes.pop() if shapes else ()
        return [t for flat, _ in items for t in flat], (len(targets),) + inner
    raise TypeError(f"{what}: {noun} must be numbers or Values (one, a list, or a list of lists), "
                    f"an array or a Tensor, got {_describe(targets)}")


def _value_pairs(outputs, targets, what, noun="outputs", target_noun="targets"):
    """The outputs and their targets as two flat lists of equal length, or a clear error."""
    flat, shape = _value_layout(outputs, what, noun)
    flat_targets, target_shape = _target_layout(targets, what, target_noun)
    if target_shape != shape and not (shape == () and target_shape == (1,)):  # Value(2.0) with [1.0] is fine
        if len(shape) <= 1 and len(target_shape) <= 1:
            raise ValueError(f"{what}: {len(flat)} {noun} but {len(flat_targets)} {target_noun}")
        raise ValueError(f"{what}: {noun} of shape {shape} but {target_noun} of shape {target_shape}; "
                         "give one target per output, laid out like the outputs")
    return flat, flat_targets


def _number(t):
    return t.data if isinstance(t, Value) else t


def _mean(terms):
    return sum(terms) * (1.0 / len(terms))


def _targets(targets, outputs, what, noun="targets"):
    """``targets`` as an array of ``outputs``' shape and dtype (constants: no gradient flows into them)."""
    data = targets.data if isinstance(targets, Tensor) else targets
    try:
        array = np.asarray(data, dtype=outputs.dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: for a Tensor of outputs, {noun} must be numbers (an array, a list or a "
                        f"Tensor), got {_describe(data)}") from None
    if array.shape != outputs.shape:
        raise ValueError(f"{what}: outputs of shape {outputs.shape} but {noun} of shape {array.shape}; "
                         "reshape one of them (broadcasting them would compare every output with every target)")
    return array


def _check_tensor_outputs(outputs, what):
    if outputs.size == 0:
        raise ValueError(f"{what}: no outputs to compare")


# ----- the losses -------------------------------------------------------------------

def mse_loss(predictions, targets):
    """Mean squared error: (1/n) Σ (prediction - target)²."""
    if isinstance(predictions, Tensor):
        _check_tensor_outputs(predictions, "mse_loss")
        return predictions.mse(_targets(targets, predictions, "mse_loss"))
    predictions, targets = _value_pairs(predictions, targets, "mse_loss")
    return _mean([(p - t) ** 2 for p, t in zip(predictions, targets)])


def hinge_loss(scores, labels):
    """Mean max-margin loss: (1/n) Σ max(0, 1 - y·score), for labels y of -1 or +1.

    It is zero once every point is on its correct side by a margin of at least 1.
    """
    if isinstance(scores, Tensor):
        _check_tensor_outputs(scores, "hinge_loss")
        labels = _targets(labels, scores, "hinge_loss", "labels")
        if not np.all((labels == -1) | (labels == 1)):
            raise ValueError(f"hinge_loss needs labels of -1 or +1, got {np.unique(labels)}")
        return (1 - scores * labels).relu().mean()
    scores, labels = _value_pairs(scores, labels, "hinge_loss", "scores", "labels")
    for y in labels:
        if _number(y) not in (-1, 1):
            raise ValueError(f"hinge_loss needs labels of -1 or +1, got {y!r}")
    return _mean([(1 + -y * s).relu() for s, y in zip(scores, labels)])


def _check_targets_in_0_1(targets, what):
    targets = np.asarray(targets, dtype=float)
    outside = ~((targets >= 0) & (targets <= 1))  # NaN is outside too
    if np.any(outside):
        raise ValueError(f"{what} needs targets in [0, 1], got {targets[outside].ravel()[0].item()!r}")


def binary_cross_entropy(probabilities, targets, eps=1e-12):
    """Mean of -[y log p + (1 - y) log(1 - p)], for probabilities p and targets y in [0, 1].

    ``p`` must be a probability, such as a sigmoid's output; a raw score
    (a logit) is refused with a ValueError. For raw scores use
    :func:`binary_cross_entropy_with_logits`, which is also more accurate.
    ``p`` is clipped to [eps, 1 - eps] so a confident mistake costs a large but
    finite loss instead of log(0); where it is clipped, no gradient flows (at
    the bounds themselves it still does, as for :meth:`Tensor.clip`). The
    interval is taken in ``p``'s own precision: in float32, 1 - 1e-12 rounds
    to 1, so the upper end is the largest float32 below 1 (1 - 2**-24), and a
    probability that rounded to exactly 1.0 still gives a finite loss.
    """
    what = "binary_cross_entropy"
    if isinstance(probabilities, Tensor):
        _check_tensor_outputs(probabilities, what)
        targets = _targets(targets, probabilities, what)
        _check_targets_in_0_1(targets, what)
        _check_probabilities(probabilities.data, what)
        low, high = _probability_bounds(eps, probabilities.dtype)
        p = probabilities.clip(low, high)  # outside the interval: a constant, no gradient
        return -(targets * p.log() + (1 - targets) * (1 - p).log()).mean()
    probabilities, targets = _value_pairs(probabilities, targets, what, "probabilities")
    _check_targets_in_0_1([_number(y) for y in targets], what)
    _check_probabilities(np.array([p.data for p in probabilities]), what)
    low, high = _probability_bounds(eps, np.dtype(np.float64))
    terms = []
    for p, y in zip(probabilities, targets):
        # Outside [low, high] the clipped p is a constant: no gradient flows back.
        p_safe = p if low <= p.data <= high else Value(min(max(p.data, low), high))
        terms.append(-(y * p_safe.log() + (1 - y) * (1 - p_safe).log()))
    return _mean(terms)


def _probability_bounds(eps, dtype):
    """[eps, 1 - eps] as two numbers of ``dtype``, both strictly between 0 and 1 in that dtype.

    1 - eps may round to 1 (in float32, 1 - 1e-12 does), and eps to 0: then
    the nearest number of ``dtype`` inside (0, 1) takes its place.
    """
    eps = check_finite_real(eps, "binary_cross_entropy: eps", 0, 0.5, high_open=True)
    kind = dtype.type
    low = max(kind(eps), np.finfo(dtype).smallest_normal)
    high = min(kind(1 - eps), np.nextafter(kind(1), kind(0)))
    return low, high


def _check_probabilities(p, what):
    outside = ~((p >= 0) & (p <= 1))  # NaN is outside too
    if np.any(outside):
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        where = f" at index {index[0] if len(index) == 1 else index}" if index else ""
        bad = p[outside].ravel()[0].item()
        if bad != bad:  # NaN: not a logit given by mistake, but no number at all
            raise ValueError(f"{what} expects probabilities in [0, 1], got nan{where}: the model's "
                             "outputs contain NaN (did training diverge? a smaller learning "
                             "rate may help)")
        raise ValueError(f"{what} expects probabilities in [0, 1], got {bad!r}{where}: "
                         "apply sigmoid first (p = z.sigmoid()), or pass the raw scores to "
                         "binary_cross_entropy_with_logits")


def binary_cross_entropy_with_logits(logits, targets):
    """Binary cross-entropy of sigmoid(z), computed from the raw scores (logits) z.

    The same number as ``binary_cross_entropy(z.sigmoid(), y)``, written so that
    it never takes the log of 0 and never overflows:

        -[y log σ(z) + (1 - y) log(1 - σ(z))] = max(z, 0) - z·y + log(1 + e^(-|z|))

    and its derivative is simply σ(z) - y, however large |z| is: a confident
    mistake still gets the full gradient, where the probability form, once
    σ(z) rounds to 0 or 1, gets none. Targets are in [0, 1].

    A NaN logit gives a NaN loss (and NaN gradients), as in PyTorch: a logit
    may be any number, so no range is checked (see the module's docstring).
    """
    what = "binary_cross_entropy_with_logits"
    if isinstance(logits, Tensor):
        _check_tensor_outputs(logits, what)
        y = _targets(targets, logits, what)
        _check_targets_in_0_1(y, what)
        positive = (logits.data >= 0).astype(logits.dtype)  # constants: which side of 0 each z is on
        sign = 2 * positive - 1
        return (logits * positive - logits * y + (1 + (-(logits * sign)).exp()).log()).mean()
    logits, targets = _value_pairs(logits, targets, what, "logits")
    _check_targets_in_0_1([_number(y) for y in targets], what)
    terms = []
    for z, y in zip(logits, targets):
        # For z >= 0 the loss is z - z·y + log(1 + e^-z), for z < 0 it is -z·y + log(1 + e^z):
        # the same smooth function, each form safe on its side.
        if z.data >= 0:
            terms.append(z - z * y + (1 + (-z).exp()).log())
        else:
            terms.append(-(z * y) + (1 + z.exp()).log())
    return _mean(terms)


def cross_entropy_loss(logits, targets):
    """Softmax cross-entropy: -log softmax(logits)[target], averaged over the batch.

    ``logits`` is the list of a model's outputs for one example (one per class)
    or a list of such lists; ``targets`` holds the correct class indices
    (one index, or one per example).
    It is computed as logsumexp(logits) - logits[target], with the largest
    logit subtracted inside the exponentials: the value is the same, but
    exp never overflows, even for logits of ±1000.

    For a Tensor of logits, shape (n, classes) or (classes,), ``targets`` is
    an array of n class indices (or one index).
    """
    if isinstance(logits, Tensor):
        return _tensor_cross_entropy(logits, targets)
    batch, targets = _rows_and_classes(logits, targets, "cross_entropy_loss")  # or a clear error
    losses = []
    for row, target in zip(batch, targets):
        shift = max(z.data for z in row)  # a constant: it shifts every logit alike
        log_sum_exp = sum((z - shift).exp() for z in row).log() + shift
        losses.append(log_sum_exp - row[target])
    return sum(losses) * (1.0 / len(losses))


def _rows_and_classes(logits, targets, what):
    """Value logits as a list of rows, one per example, and the targets as a list of class indices."""
    if isinstance(logits, Value):
        raise TypeError(f"{what} needs one logit per class, a list of Values (or a list of such lists, "
                        "or a Tensor), got a single Value; for two classes and one output, use "
                        "binary_cross_entropy_with_logits")
    _, shape = _value_layout(logits, what, "logits", forms="a list per example, or a list of such lists")
    batch = [logits] if len(shape) == 1 else logits
    classes = check_class_labels(_label_array(targets), len(batch), shape[-1], caller=what)
    return batch, classes.tolist()


def _label_array(targets):
    """``targets`` for ``check_class_labels``: a Tensor's or Values' numbers; one index alone becomes a list of one."""
    if type(targets) is np.ndarray and targets.ndim:  # the usual case: nothing to unwrap
        return targets
    if isinstance(targets, (Tensor, Value)):
        targets = targets.data
    elif isinstance(targets, (list, tuple)):
        return [t.data if isinstance(t, (Tensor, Value)) else t for t in targets]
    if isinstance(targets, (numbers.Number, np.generic)) or (isinstance(targets, np.ndarray) and targets.ndim == 0):
        return [targets]  # one class index: for one example, or a batch of one
    return targets


# ----- the Tensor forms -------------------------------------------------------

def _tensor_cross_entropy(logits, targets):
    what = "cross_entropy_loss"
    warn_if_softmax_output(logits, what, stacklevel=4)  # at the caller of cross_entropy_loss
    ndim = logits.ndim
    if ndim == 1:  # the logits of one example: a batch of one row
        logits = logits.reshape(1, -1)
    if ndim in (1, 2):
        # One operation, which checks the targets itself: -log_softmax(logits)[row, target],
        # averaged, with log_softmax computed as x - max - log Σ exp(x - max), which never overflows.
        return CrossEntropy(logits, _label_array(targets))
    raise ValueError(f"{what}: logits must have shape (classes,) for one example or (n, classes) "
                     f"for a batch, got shape {logits.shape}")
