"""Checkers for the exercises of chapter 15, Attention, and Part III's milestone.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. Shapes, values and widths are drawn
afresh on every run, and the messages name no drawn number, so a right answer
prints the same PASS every time. While the reader's code runs, the package's
attention (and PyTorch's, if the reader imported it) is a trap; the backward
rule of exercise 15.2 is compared with the exact gradient to about 1e-12, closer
than finite differences reach. The milestone trains a small model around the
reader's attention layer on the surnames and passes when its validation loss
beats a bar well below the counting bigram model's; since other ways of mixing
earlier positions (the previous character, a running mean) clear that bar too,
the layer must first agree with the package's attention given its weights, as
in exercise 15.3, before training and after it, on the model's own inputs.
"""
import contextlib
import math
import sys

import numpy as np

import minigrad
from minigrad import tensor_attention
from minigrad.datasets import load_names
from minigrad.exercises import package_rule_entries
from minigrad.exercises import (NOT_FILLED_IN_CODE, arrays_close, as_gradients, as_numbers,
                                autograd_entries, forbidding, fresh_rng, is_placeholder,
                                not_filled_in, report, report_raised, reports_forbidden,
                                unusable_class, unusable_function)
from minigrad.exercises.ch07 import NOT_EXACT
from minigrad.exercises.what_runs import (TRACING_OFF, TracingOff, _runs_the_code_of,
                                          run_traced, watching, works_entry_by_entry)
from minigrad.losses import cross_entropy_loss
from minigrad.module import Module
from minigrad.optim import Adam
from minigrad.tensor import Tensor
from minigrad.tensor_embedding import Embedding
from minigrad.tensor_nn import Layer, Linear
from minigrad.tensor_norm import LayerNorm

__all__ = ["check_causal_attention", "check_attention_backward", "check_self_attention",
           "check_milestone", "MILESTONE_BAR"]

WRITE_IT = "the exercise asks you to write attention yourself"

#: What the answers must not run (traced, which sees what traps do not: a module kept in an
#: object, code copied or compiled out of the package or the checkers, a relay).
#: Attention builds on the package's Tensor, Linear, softmax: the package's attention
#: is what must not run.
_WATCHED = ("torch", "micrograd", "minigrad.tensor_attention", "minigrad.exercises",
            "yourgrad")  # the reader's own autograd is an autograd too


def _attention_entries():
    """The package's attention (in tensor_attention and at the package's top) and PyTorch's,
    if the reader imported it."""
    entries = [(module, name, f"minigrad's {name}") for module in (tensor_attention, minigrad)
               for name in ("scaled_dot_product_attention", "attention_weights")
               if hasattr(module, name)]
    entries += [(klass, "__call__", f"minigrad's {klass.__name__}")
                for klass in (tensor_attention.CausalSelfAttention, tensor_attention.TransformerBlock)]
    functional = sys.modules.get("torch.nn.functional")
    if functional is not None:  # only if the reader imported it: the checker never does
        entries += [(functional, name, f"PyTorch's {name}")
                    for name in ("scaled_dot_product_attention", "multi_head_attention_forward")]
    torch_nn = sys.modules.get("torch.nn")
    if torch_nn is not None:
        entries.append((torch_nn.MultiheadAttention, "forward", "PyTorch's MultiheadAttention"))
    return entries


def _reference(q, k, v, scale=None, causal=True, axis=-1):
    """Attention in NumPy: (out, weights) of softmax(q kᵀ · scale + mask) v over the last axes."""
    d = q.shape[-1]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if causal == "future":  # the mask upside down: each query sees itself and the later keys
        scores = np.where(np.triu(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    elif causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(shifted)
    weights /= weights.sum(axis=axis, keepdims=True)
    return weights @ v, weights


def _reference_gradients(q, k, v, grad):
    """The exact (dq, dk, dv) of sum(grad · causal_attention(q, k, v)), over the last two axes."""
    out, weights = _reference(q, k, v)
    scale = 1.0 / math.sqrt(q.shape[-1])
    d_weights = grad @ np.swapaxes(v, -1, -2)
    d_v = np.swapaxes(weights, -1, -2) @ grad
    d_scores = weights * (d_weights - (d_weights * weights).sum(axis=-1, keepdims=True))
    d_q = d_scores @ k * scale
    d_k = np.swapaxes(d_scores, -1, -2) @ q * scale
    return d_q, d_k, d_v


def _slip_hint(got, q, k, v):
    """A hint when ``got`` is attention computed with a common slip, or ''."""
    d = q.shape[-1]
    slips = [
        (lambda: _reference(q, k, v, scale=1.0)[0],
         ": the scores are not scaled; divide them by the square root of d"),
        (lambda: _reference(q, k, v, scale=1.0 / d)[0],
         ": the scores are divided by d; the scale is 1/√d"),
        (lambda: _reference(q, k, v, causal=False)[0],
         ": every query sees every key; the causal mask must hide the later ones"),
        (lambda: _reference(q, k, v, causal="future")[0],
         ": the mask hides the earlier keys instead of the later ones"),
        (lambda: _reference(q, k, v, axis=-2)[0],
         ": the softmax runs over the wrong axis; each query's weights (a row) should sum to 1"),
    ]
    with np.errstate(all="ignore"):
        for slip, hint in slips:
            expected = slip()
            if got.shape == expected.shape and np.all(np.isfinite(expected)) \
                    and arrays_close(got, expected, tol=1e-9):
                return hint
    return ""


# ----- exercise 15.1: causal attention on Tensors ------------------------------------------

@reports_forbidden("causal_attention")
def check_causal_attention(causal_attention):
    """Exercise 15.1: ``causal_attention(q, k, v)`` for Tensors of shape (..., T, d) returns
    the Tensor softmax(q kᵀ/√d + causal mask) v, whose gradients reach q, k and v."""
    what = "causal_attention"
    unusable = unusable_function(what, causal_attention, "causal_attention")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    cases = [((5, 4), "q, k, v of shape (5, 4)"),
             ((int(rng.integers(2, 9)), int(rng.integers(1, 9))), "2-D inputs of a shape drawn at random"),
             ((int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 9)),
               int(rng.integers(2, 9))), "4-D inputs (batch, heads, T, d) of a shape drawn at random")]
    for shape, described in cases:
        q, k, v = (rng.normal(size=shape) * 2 for _ in range(3))
        grad = rng.normal(size=shape)
        tensors = [Tensor(a.copy(), name=name) for a, name in zip((q, k, v), "qkv")]
        call = f"causal_attention(q, k, v) for {described}"
        try:
            with forbidding(_attention_entries(), [causal_attention], WRITE_IT), \
                    watching(WRITE_IT, _WATCHED), np.errstate(all="ignore"):
                out = causal_attention(*tensors)
                if isinstance(out, Tensor):
                    (out * Tensor(grad, requires_grad=False)).sum().backward()
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report_raised(what, call, error)
        if is_placeholder(out):
            return not_filled_in(what)
        if not isinstance(out, Tensor):
            return report(False, what, f"{call} should return a minigrad Tensor (built from q, k and v "
                                       f"with Tensor operations), got {type(out).__name__}")
        got = as_numbers(out.data)
        expected, _ = _reference(q, k, v)
        if got is None or got.shape != expected.shape:
            return report(False, what, f"{call} should return a Tensor of shape {expected.shape}, got "
                                       f"{getattr(got, 'shape', None)}")
        if not arrays_close(got, expected, tol=1e-10):
            return report(False, what, f"{call}: the result is wrong{_slip_hint(got, q, k, v)}")
        for tensor, right in zip(tensors, _reference_gradients(q, k, v, grad)):
            g = tensor.grad
            if g is None or not np.any(g) and np.any(right):
                return report(False, what, f"{call}: no gradient reaches {tensor.name}: build the result "
                                           "from q, k and v with Tensor operations, not from their .data")
            if not arrays_close(np.asarray(g, dtype=float), right, tol=1e-9):
                return report(False, what, f"{call}: the gradient of {tensor.name} is wrong (is any step "
                                           "done on .data, outside the graph?)")
    return report(True, what, f"result and gradients right, for {len(cases)} inputs (2 of shapes drawn "
                              "at random, one with batch and head axes)")


# ----- exercise 15.2: attention's backward pass by hand -----------------------------------

@reports_forbidden("attention_backward")
def check_attention_backward(attention_backward):
    """Exercise 15.2: ``attention_backward(q, k, v, grad)`` for NumPy arrays (T, d) returns
    ``(dq, dk, dv)``, the gradients of sum(grad · out) for out = causal attention of q, k, v,
    compared with the exact ones to about 1e-12 of the terms' size."""
    what = "attention_backward"
    unusable = unusable_function(what, attention_backward, "attention_backward")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    entries = autograd_entries() + package_rule_entries() + _attention_entries()
    task = "the exercise asks you to write the backward pass with NumPy"
    cases = [((4, 3), "q, k, v of shape (4, 3)"),
             ((int(rng.integers(2, 12)), int(rng.integers(1, 9))), "inputs of a shape drawn at random"),
             ((int(rng.integers(2, 12)), int(rng.integers(1, 9))), "inputs of another shape drawn at random")]
    for shape, described in cases:
        q, k, v = (rng.normal(size=shape) for _ in range(3))
        grad = rng.normal(size=shape)
        call = f"attention_backward(q, k, v, grad) for {described}"
        try:
            with forbidding(entries, [attention_backward], task), watching(task, _WATCHED), \
                    np.errstate(all="ignore"):
                result = attention_backward(q.copy(), k.copy(), v.copy(), grad.copy())
        except Exception as error:
            return report_raised(what, call, error)
        if is_placeholder(result):
            return not_filled_in(what)
        parts = as_gradients(result)
        if parts is None or len(parts) != 3:
            return report(False, what, f"{call} should return three arrays: (dq, dk, dv)")
        exact = _reference_gradients(q, k, v, grad)
        for name, got, right in zip(("dq", "dk", "dv"), parts, exact):
            tolerance = 1e-12 * max(1.0, float(np.abs(right).max()))
            got = as_numbers(got)
            if got is None or got.shape != right.shape:
                return report(False, what, f"{call}: {name} should have shape {right.shape}")
            gap = np.abs(got - right)
            if np.all(gap <= tolerance):
                continue
            if arrays_close(got, right, tol=1e-5):
                return report(False, what, f"{call}: {name} {NOT_EXACT}")
            hint = ""
            if name == "dv" and arrays_close(got, _reference(q, k, v)[1] @ grad, tol=1e-9):
                hint = ": the weights multiply v from the left, so their transpose carries grad back"
            elif name in ("dq", "dk"):
                _, weights = _reference(q, k, v)
                unscaled = [g * math.sqrt(shape[1]) for g in (right,)]
                if arrays_close(got, unscaled[0], tol=1e-9):
                    hint = ": the scale 1/√d of the scores is missing from it"
                elif name == "dq":
                    d_w = grad @ v.T
                    if arrays_close(got, d_w * weights @ k / math.sqrt(shape[1]), tol=1e-9):
                        hint = (": it goes back through the softmax as if each weight depended on its "
                                "own score only; each depends on the whole row")
            return report(False, what, f"{call}: {name} is wrong{hint}")
    # a difference per entry, extrapolated (Richardson) to be exact enough, loops over the
    # entries: its Python steps grow with d at a fixed T, and the rule's do not
    work = []
    for d in (2, 10):
        q, k, v, grad = (rng.normal(size=(5, d)) for _ in range(4))
        try:
            with forbidding(entries, [attention_backward], task), np.errstate(all="ignore"):
                _, steps, module = run_traced(attention_backward, q, k, v, grad,
                                              watched=_WATCHED)
        except TracingOff:
            return report(False, what, f"attention_backward: {TRACING_OFF}")
        except Exception as error:
            return report_raised(what, f"attention_backward(q, k, v, grad) for q, k, v of "
                                       f"shape (5, {d})", error)
        if module is not None:
            return report(False, what, _runs_the_code_of(module, task))
        work.append((3 * q.size, steps))
    if works_entry_by_entry(work):
        return report(False, what, "attention_backward does Python work for every entry of q, "
                                   "k and v (traced, its steps grow with d), as finite "
                                   "differences do, even extrapolated to be exact: write the "
                                   "rule with whole-array operations")
    return report(True, what, f"dq, dk and dv exact, for {len(cases)} inputs (2 of shapes drawn at "
                              "random)")


# ----- exercise 15.3: a multi-head causal self-attention layer ----------------------------

def _layer_parts(layer):
    """The four Linear maps of the reader's layer, or a sentence saying what is missing."""
    if not any(hasattr(layer, name) for name in ("query", "key", "value", "proj")):
        return None, NOT_FILLED_IN_CODE
    parts = []
    for name in ("query", "key", "value", "proj"):
        part = getattr(layer, name, None)
        if not isinstance(part, Linear):
            return None, (f"the layer should keep its {name} map as self.{name}, a minigrad Linear "
                          f"(got {type(part).__name__})")
        parts.append(part)
    return parts, None


def _build(layer_class, embed_dim, num_heads, seed, what):
    """The reader's layer, or (None, a FAIL already reported)."""
    try:
        with forbidding(_attention_entries(), [layer_class], WRITE_IT), \
                watching(WRITE_IT, _WATCHED):
            layer = layer_class(embed_dim, num_heads, seed=seed)
    except Exception as error:
        return None, report_raised(what, "SelfAttention(embed_dim, num_heads, seed=...)", error)
    return layer, None


def _causality_problem(layer, layer_class, rng, embed_dim):
    """A sentence if the layer's output at a position depends on a later position, or None."""
    t = int(rng.integers(4, 9))
    x = rng.normal(size=(2, t, embed_dim))
    changed = x.copy()
    cut = int(rng.integers(1, t))
    changed[:, cut:] = rng.normal(size=changed[:, cut:].shape)
    with forbidding(_attention_entries(), [layer_class], WRITE_IT), \
            watching(WRITE_IT, _WATCHED), np.errstate(all="ignore"):
        before = layer(Tensor(x, requires_grad=False))
        after = layer(Tensor(changed, requires_grad=False))
    if not isinstance(before, Tensor) or before.shape != x.shape:
        return "calling the layer on (B, T, embed_dim) should return a Tensor of that shape"
    before, after = before.data, after.data
    if not np.allclose(before[:, :cut], after[:, :cut], rtol=0, atol=1e-12):
        return ("changing the input at later positions changes the output at earlier ones: the "
                "layer must be causal (position t sees positions 0..t only)")
    return None


def _structure_problem(layer, embed_dim):
    """A sentence if the layer lacks its four Linear maps of embed_dim numbers, or its
    ``parameters()`` are not their 8 weights and biases; None if it has them."""
    parts, missing = _layer_parts(layer)
    if parts is None:
        return missing
    params = list(layer.parameters())
    expected_ids = {id(p) for part in parts for p in part.parameters()}
    if len(params) != 8 or {id(p) for p in params} != expected_ids:
        return "parameters() should return the weights and biases of the four Linear maps, 8 Tensors"
    if not all(part.nin == embed_dim and part.nout == embed_dim for part in parts):
        return "each of the four Linear maps should take and give embed_dim numbers"
    return None


def _agreement_problem(layer, layer_class, num_heads, x, grad, call, rng):
    """A sentence if the reader's ``layer`` (its four maps in place) does not compute what
    :class:`minigrad.CausalSelfAttention` given its weights computes on ``x`` (B, T, C), or
    its gradients (of x and the 8 parameters, for the loss sum(grad * out)) differ; None if
    they agree; NOT_FILLED_IN_CODE for a ``__call__`` left as ``...``."""
    parts, missing = _layer_parts(layer)
    if parts is None:
        return missing
    embed_dim = x.shape[-1]
    params = [p for part in parts for p in part.parameters()]
    reference = tensor_attention.CausalSelfAttention(embed_dim, num_heads)
    for mine, theirs in zip(parts, (reference.query, reference.key, reference.value,
                                    reference.proj)):
        theirs.W.data, theirs.b.data = mine.W.data.copy(), mine.b.data.copy()
    x_mine = Tensor(x.copy(), name="x")
    for p in params:
        p.grad = None
    with forbidding(_attention_entries(), [layer_class], WRITE_IT), \
            watching(WRITE_IT, _WATCHED), np.errstate(all="ignore"):
        out = layer(x_mine)
        if isinstance(out, Tensor):
            (out * Tensor(grad, requires_grad=False)).sum().backward()
    if is_placeholder(out):
        return NOT_FILLED_IN_CODE
    if not isinstance(out, Tensor) or out.shape != x.shape:
        return f"{call} should return a Tensor of the input's shape (B, T, embed_dim)"
    x_theirs = Tensor(x.copy(), name="x")
    expected = reference(x_theirs)
    (expected * Tensor(grad, requires_grad=False)).sum().backward()
    if not arrays_close(out.data, expected.data, tol=1e-10):
        hint = ""
        if num_heads > 1:
            one = tensor_attention.CausalSelfAttention(embed_dim, 1)
            for mine, theirs in zip(parts, (one.query, one.key, one.value, one.proj)):
                theirs.W.data, theirs.b.data = mine.W.data, mine.b.data
            if arrays_close(out.data, one(Tensor(x, requires_grad=False)).data, tol=1e-9):
                hint = ": it attends with one head of width embed_dim; split the width into heads"
        problem = _causality_problem(layer, layer_class, rng, embed_dim)
        if problem is not None:
            hint = f": {problem}"
        return f"{call}: the output is wrong{hint}"
    pairs = [("x", x_mine.grad, x_theirs.grad)]
    names = [f"{name}.{p}" for name in ("query", "key", "value", "proj") for p in ("W", "b")]
    pairs += [(n, m.grad, t.grad) for n, m, t in zip(names, params, reference.parameters())]
    for name, got, right in pairs:
        if got is None or not arrays_close(np.asarray(got, dtype=float), right, tol=1e-9):
            return (f"{call}: the gradient of {name} is wrong (is a step done on .data, "
                    "outside the graph?)")
    return None


@reports_forbidden("SelfAttention")
def check_self_attention(layer_class):
    """Exercise 15.3: ``SelfAttention(embed_dim, num_heads, seed=None)``, a Module whose four
    Linear maps ``query``, ``key``, ``value`` and ``proj`` make multi-head causal self-attention
    over (B, T, embed_dim), as :class:`minigrad.CausalSelfAttention` computes it, with the
    same gradients for the input and all eight parameters."""
    what = "SelfAttention"
    unusable = unusable_class(what, layer_class, "SelfAttention")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    heads = int(rng.choice([2, 3, 4]))
    settings = [(8, 2, "embed_dim 8 and 2 heads"),
                (heads * int(rng.integers(1, 5)), heads, "a width and a number of heads drawn at random"),
                (int(rng.integers(2, 9)), 1, "one head of a width drawn at random")]
    for embed_dim, num_heads, described in settings:
        layer, failed = _build(layer_class, embed_dim, num_heads, int(rng.integers(2**31)), what)
        if layer is None:
            return failed
        try:
            problem = _structure_problem(layer, embed_dim)
        except Exception as error:
            return report_raised(what, "layer.parameters()", error)
        if problem is not None:
            return report(False, what, problem)
        shape = (int(rng.integers(1, 4)), int(rng.integers(2, 8)), embed_dim)
        call = f"the layer with {described}"
        try:
            problem = _agreement_problem(layer, layer_class, num_heads, rng.normal(size=shape),
                                         rng.normal(size=shape), call, rng)
        except Exception as error:
            return report_raised(what, f"calling {call}", error)
        if problem == NOT_FILLED_IN_CODE:
            return not_filled_in(what, "SelfAttention.__call__")
        if problem is not None:
            return report(False, what, problem)
    return report(True, what, f"output and gradients of x and all 8 parameters right, for "
                              f"{len(settings)} layers (2 of sizes drawn at random)")


# ----- Part III's milestone: the reader's attention in a model of surnames ------------------

ALPHABET = ".abcdefghijklmnopqrstuvwxyz"  # "." starts and ends every name
#: The validation loss (nats per character) the milestone's model must beat. Its model has no
#: position embeddings, so without attention it sees one character and is at best the counting
#: bigram model (2.57 on validation; measured 2.58 for such a model trained as here).
MILESTONE_BAR = 2.50
MILESTONE_STEPS = 400
MILESTONE_WIDTH = 32
MILESTONE_HEADS = 4


def encode_names(names, length):
    """Inputs and targets (both (len(names), length) integer arrays) for next-character
    prediction: input row i is "." then name i, target row i is name i then "."; positions
    past the end hold -1 in the targets (nothing to predict) and "." in the inputs."""
    inputs = np.zeros((len(names), length), dtype=np.intp)
    targets = np.full((len(names), length), -1, dtype=np.intp)
    for i, name in enumerate(names):
        ids = [ALPHABET.index(c) for c in name]
        inputs[i, 1:len(ids) + 1] = ids
        targets[i, :len(ids) + 1] = ids + [0]
    return inputs, targets


class _MilestoneModel(Module):
    """Token embeddings, one pre-norm block around the reader's attention layer and an MLP, a
    last layer norm and a linear map to the 27 characters' logits. No position embeddings: all
    that a position learns of the characters before it comes through the reader's attention."""

    def __init__(self, attention, width, rng):
        self.tokens = Embedding(len(ALPHABET), width, seed=rng)
        self.norm1, self.attention, self.norm2 = LayerNorm(width), attention, LayerNorm(width)
        self.expand = Layer(width, 4 * width, activation="relu", seed=rng)
        self.contract = Linear(4 * width, width, seed=rng)
        self.norm3, self.head = LayerNorm(width), Linear(width, len(ALPHABET), seed=rng)

    def __call__(self, tokens):
        b, t = tokens.shape
        x = self.tokens(tokens)
        seen = self.norm1(x)
        mixed = self.attention(seen)
        self.last_call = (seen, mixed)  # what the checker compares at some training steps
        x = x + mixed
        x = x + self.contract(self.expand(self.norm2(x).reshape(b * t, -1))).reshape(b, t, -1)
        return self.head(self.norm3(x).reshape(b * t, -1))

    def own_parameters(self):
        return [p for m in (self.tokens, self.norm1, self.norm2, self.expand,
                            self.contract, self.norm3, self.head) for p in m.parameters()]


def _mean_loss(model, inputs, targets):
    """The mean cross-entropy over the characters to predict (targets >= 0), as a Tensor."""
    used = int((targets >= 0).sum(axis=1).max())
    flat = targets[:, :used].reshape(-1)
    keep = np.flatnonzero(flat >= 0)
    return cross_entropy_loss(model(inputs[:, :used])[keep], flat[keep]), len(keep)


def _training_problem(calls):
    """A sentence if, at one of the training steps recorded in ``calls`` (the layer's input,
    output and 8 parameters), the output is not what the package's attention gives with
    those weights; None if it is at every one."""
    for seen, mixed, weights in calls:
        reference = tensor_attention.CausalSelfAttention(MILESTONE_WIDTH, MILESTONE_HEADS)
        for mine, theirs in zip(weights, reference.parameters()):
            theirs.data = mine
        with minigrad.no_grad():
            expected = reference(Tensor(seen, requires_grad=False)).data
        if mixed.shape != expected.shape or not arrays_close(mixed, expected, tol=1e-10):
            return ("during training, your layer's output is wrong: at a step drawn at random it "
                    "is not the multi-head causal attention of its maps")
    return None


def _traced(traced):
    """:func:`watching` the block, if ``traced``."""
    return watching(WRITE_IT, _WATCHED) if traced else contextlib.nullcontext()


@reports_forbidden("milestone: Part III")
def check_milestone(layer_class):
    """Part III's milestone: a model built around the reader's ``SelfAttention`` (exercise 15.3),
    trained for a few hundred Adam steps on the training surnames while the package's attention
    is trapped, must reach a validation loss below ``MILESTONE_BAR`` (on 2,000 validation names);
    the layer must compute what :class:`minigrad.CausalSelfAttention` computes with its weights
    (output and gradients), before training and after it on the inputs the model gives it.
    """
    what = "milestone: Part III"
    unusable = unusable_class(what, layer_class, "SelfAttention")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    train, val = load_names("train"), load_names("val")[:2000]
    length = max(map(len, train + val)) + 1
    x_train, y_train = encode_names(train, length)
    x_val, y_val = encode_names(val, length)
    attention, failed = _build(layer_class, MILESTONE_WIDTH, MILESTONE_HEADS,
                               int(rng.integers(2**31)), what)
    if attention is None:
        return failed
    if _layer_parts(attention)[1] == NOT_FILLED_IN_CODE:
        return report(False, what, NOT_FILLED_IN_CODE)
    # the bar alone does not tell attention from other ways of mixing earlier positions (a
    # running mean clears it): the layer must first compute what 15.3 asks, before training
    # and after it, on the very inputs the model gives it
    shape = (2, int(rng.integers(4, 9)), MILESTONE_WIDTH)
    try:
        problem = _structure_problem(attention, MILESTONE_WIDTH)
        problem = problem or _causality_problem(attention, layer_class, rng, MILESTONE_WIDTH)
        problem = problem or _agreement_problem(
            attention, layer_class, MILESTONE_HEADS, rng.normal(size=shape),
            rng.normal(size=shape), "your layer before training", rng)
        model = _MilestoneModel(attention, MILESTONE_WIDTH, rng)
        params = model.own_parameters() + list(attention.parameters())
        parts = _layer_parts(attention)[0]
    except Exception as error:
        return report_raised(what, "calling your layer", error)
    if problem == NOT_FILLED_IN_CODE:
        return report(False, what, NOT_FILLED_IN_CODE)
    if problem is not None:
        if "causal (" in problem:
            problem += "; otherwise the model reads the very character it must predict"
        return report(False, what, f"{problem} (exercise 15.3 checks this too)")
    optimizer = Adam(params, lr=0.01)
    warm_up = 20
    # at a few steps drawn at random, the layer's input, output and weights, to compare with
    # the package's attention after training (a trap while the reader's code runs)
    watched = set(rng.choice(MILESTONE_STEPS, size=3, replace=False).tolist())
    watched.add(MILESTONE_STEPS - 1)
    calls = []
    try:
        with forbidding(_attention_entries(), [layer_class], WRITE_IT), np.errstate(all="ignore"):
            for step in range(MILESTONE_STEPS):
                optimizer.lr = 0.01 * min(1.0, (step + 1) / warm_up) * 0.5 * (
                    1 + math.cos(math.pi * step / MILESTONE_STEPS))
                batch = rng.integers(0, len(train), 32)
                # what runs traced at the steps drawn (at every step, it would slow training)
                with _traced(step in watched):
                    loss, _ = _mean_loss(model, x_train[batch], y_train[batch])
                if step in watched:
                    seen, mixed = model.last_call
                    calls.append((seen.data.copy(), np.array(getattr(mixed, "data", mixed)),
                                  [p.data.copy() for part in parts for p in part.parameters()]))
                optimizer.zero_grad()
                with _traced(step in watched):
                    loss.backward()
                optimizer.step()
            with minigrad.no_grad():
                total = count = 0
                for start in range(0, len(val), 500):
                    part, n = _mean_loss(model, x_val[start:start + 500], y_val[start:start + 500])
                    total, count = total + float(part.data) * n, count + n
                seen = model.norm1(model.tokens(x_val[:32, :int(rng.integers(4, 12))])).data
        problem = _agreement_problem(attention, layer_class, MILESTONE_HEADS, seen,
                                     rng.normal(size=seen.shape),
                                     "your layer after training, on the model's own inputs", rng)
        problem = problem or _training_problem(calls)
    except Exception as error:
        return report_raised(what, "training the model with your layer", error)
    if problem is not None:
        return report(False, what, problem)
    val_loss = total / count
    if not val_loss < MILESTONE_BAR:
        return report(False, what, f"after {MILESTONE_STEPS} steps the validation loss is not below "
                                   f"{MILESTONE_BAR:.2f}, no better than a model that sees one character "
                                   "(the bigram model: 2.57): does every head attend, and does the "
                                   "gradient reach all the layer's parameters?")
    # to one decimal: the drawn batches move the second decimal from run to run
    return report(True, what, f"your attention layer, in a one-block transformer trained for "
                              f"{MILESTONE_STEPS} steps, reaches a validation loss of about "
                              f"{val_loss:.1f} nats, below the bar of {MILESTONE_BAR:.2f} "
                              "(the bigram model: 2.57)")
