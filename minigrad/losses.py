"""Loss functions: one number that says how wrong a model's outputs are.

Each takes the model's outputs either as Values (one, or a list, or a list of
lists for a batch) with plain numbers (or Values) as targets, and returns one
Value; or as a Tensor with the targets as an array (or list, or Tensor), and
returns a 0-d Tensor. Either way, call ``backward()`` on the result.
"""
import numbers

import numpy as np

from minigrad.tensor import Tensor
from minigrad.value import Value


def _as_list(outputs):
    return [outputs] if isinstance(outputs, Value) else list(outputs)


def _check_lengths(outputs, targets, what):
    if len(outputs) != len(targets):
        raise ValueError(f"{what}: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError(f"{what}: no outputs to compare")


def mse_loss(predictions, targets):
    """Mean squared error: (1/n) Σ (prediction - target)²."""
    if isinstance(predictions, Tensor):
        return predictions.mse(_targets(targets, predictions, "mse_loss"))
    predictions, targets = _as_list(predictions), _as_list(targets)
    _check_lengths(predictions, targets, "mse_loss")
    return sum((p - t) ** 2 for p, t in zip(predictions, targets)) * (1.0 / len(predictions))


def hinge_loss(scores, labels):
    """Mean max-margin loss: (1/n) Σ max(0, 1 - y·score), for labels y of -1 or +1.

    It is zero once every point is on its correct side by a margin of at least 1.
    """
    if isinstance(scores, Tensor):
        labels = _targets(labels, scores, "hinge_loss")
        if not np.all((labels == -1) | (labels == 1)):
            raise ValueError(f"hinge_loss needs labels of -1 or +1, got {np.unique(labels)}")
        return (1 - scores * labels).relu().mean()
    scores, labels = _as_list(scores), _as_list(labels)
    _check_lengths(scores, labels, "hinge_loss")
    for y in labels:
        if getattr(y, "data", y) not in (-1, 1):
            raise ValueError(f"hinge_loss needs labels of -1 or +1, got {y!r}")
    return sum((1 + -y * s).relu() for s, y in zip(scores, labels)) * (1.0 / len(scores))


def binary_cross_entropy(probabilities, targets, eps=1e-12):
    """Mean of -[y log p + (1 - y) log(1 - p)], for probabilities p and targets y in [0, 1].

    ``p`` is clipped to [eps, 1 - eps] so a confident mistake costs a large but
    finite loss instead of log(0).
    """
    if isinstance(probabilities, Tensor):
        targets = _targets(targets, probabilities, "binary_cross_entropy")
        if not np.all((targets >= 0) & (targets <= 1)):
            raise ValueError("binary_cross_entropy needs targets in [0, 1]")
        p = probabilities.clip(eps, 1 - eps)  # outside the interval: a constant, no gradient
        return -(targets * p.log() + (1 - targets) * (1 - p).log()).mean()
    probabilities, targets = _as_list(probabilities), _as_list(targets)
    _check_lengths(probabilities, targets, "binary_cross_entropy")
    terms = []
    for p, y in zip(probabilities, targets):
        # Outside [eps, 1 - eps] the clipped p is a constant: no gradient flows back.
        p_safe = p if eps <= p.data <= 1 - eps else Value(min(max(p.data, eps), 1 - eps))
        terms.append(-(y * p_safe.log() + (1 - y) * (1 - p_safe).log()))
    return sum(terms) * (1.0 / len(terms))


def cross_entropy_loss(logits, targets):
    """Softmax cross-entropy: -log softmax(logits)[target], averaged over the batch.

    ``logits`` is the list of a model's outputs for one example (one per class)
    or a list of such lists; ``targets`` holds the correct class indices.
    It is computed as logsumexp(logits) - logits[target], with the largest
    logit subtracted inside the exponentials: the value is the same, but
    exp never overflows, even for logits of ±1000.

    For a Tensor of logits, shape (n, classes) or (classes,), ``targets`` is
    an array of n class indices (or one index).
    """
    if isinstance(logits, Tensor):
        return _tensor_cross_entropy(logits, targets)
    batch = [logits] if isinstance(logits[0], Value) else logits
    targets = [targets] if isinstance(targets, numbers.Integral) else list(targets)
    _check_lengths(batch, targets, "cross_entropy_loss")
    losses = []
    for row, target in zip(batch, targets):
        if not (isinstance(target, numbers.Integral) and 0 <= target < len(row)):
            raise ValueError(f"cross_entropy_loss: target {target!r} is not a class index in 0..{len(row) - 1}")
        shift = max(z.data for z in row)  # a constant: it shifts every logit alike
        log_sum_exp = sum((z - shift).exp() for z in row).log() + shift
        losses.append(log_sum_exp - row[int(target)])
    return sum(losses) * (1.0 / len(losses))


# ----- the Tensor forms -------------------------------------------------------

def _targets(targets, outputs, what):
    """``targets`` as an array of ``outputs``' shape and dtype (constants: no gradient flows into them)."""
    array = np.asarray(targets.data if isinstance(targets, Tensor) else targets, dtype=outputs.dtype)
    if array.shape != outputs.shape:
        raise ValueError(f"{what}: outputs of shape {outputs.shape} but targets of shape {array.shape}; "
                         "reshape one of them (broadcasting them would compare every output with every target)")
    return array


def _tensor_cross_entropy(logits, targets):
    if logits.ndim == 1:  # the logits of one example, and its class
        return logits.reshape(1, -1).cross_entropy(np.reshape(targets, -1))
    # One operation: -log_softmax(logits)[row, target], averaged, with log_softmax
    # computed as x - max - log Σ exp(x - max), which never overflows.
    return logits.cross_entropy(targets)
