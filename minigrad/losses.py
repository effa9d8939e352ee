"""Loss functions: one number that says how wrong a model's outputs are.

Each takes the model's outputs as Values (one, or a list, or a list of lists
for a batch) and plain numbers (or Values) as targets, and returns one Value
to call ``backward()`` on.
"""
import math

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
    predictions, targets = _as_list(predictions), _as_list(targets)
    _check_lengths(predictions, targets, "mse_loss")
    return sum((p - t) ** 2 for p, t in zip(predictions, targets)) * (1.0 / len(predictions))


def hinge_loss(scores, labels):
    """Mean max-margin loss: (1/n) Σ max(0, 1 - y·score), for labels y of -1 or +1.

    It is zero once every point is on its correct side by a margin of at least 1.
    """
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
    """
    batch = [logits] if isinstance(logits[0], Value) else logits
    targets = [targets] if isinstance(targets, int) else list(targets)
    _check_lengths(batch, targets, "cross_entropy_loss")
    losses = []
    for row, target in zip(batch, targets):
        if not (isinstance(target, int) and 0 <= target < len(row)):
            raise ValueError(f"cross_entropy_loss: target {target!r} is not a class index in 0..{len(row) - 1}")
        shift = max(z.data for z in row)  # a constant: it shifts every logit alike
        log_sum_exp = sum((z - shift).exp() for z in row).log() + shift
        losses.append(log_sum_exp - row[target])
    return sum(losses) * (1.0 / len(losses))
