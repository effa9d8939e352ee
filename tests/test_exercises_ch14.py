"""The checkers of chapter 14 PASS the solutions, FAIL wrong and cheating answers, saying why."""
import math
import random
from collections import Counter

import numpy as np
import pytest

import minigrad
from minigrad import Tensor
from minigrad.exercises import ch14
from exercise_verdicts import fails_saying, passes_the_same_way


def encode(name):
    return [ord(c) - 96 for c in name]


# ----- 14.1: an n-gram model's loss --------------------------------------------------------

def ngram_with(pad=None, end=True, log=math.log, on_probabilities=False, mean=True,
               use_alpha=True):
    """The chapter's solution, with one step changed (a common slip)."""
    def ngram_loss(train, evaluate, context_size, alpha):
        alpha = alpha if use_alpha else 0.0
        start = context_size if pad is None else pad

        def windows(names):
            for name in names:
                tokens = [0] * start + encode(name) + [0] * end
                for i in range(max(context_size, 1), len(tokens)):
                    yield tuple(tokens[i - context_size:i]), tokens[i]

        pairs = Counter(windows(train))
        contexts = Counter()
        for (context, _), count in pairs.items():
            contexts[context] += count
        total, n = 0.0, 0
        for context, token in windows(evaluate):
            if on_probabilities:
                row = contexts[context]
                p = (pairs[context, token] / row if row else 0.0) + alpha
            else:
                p = (pairs[context, token] + alpha) / (contexts[context] + 27 * alpha)
            with np.errstate(divide="ignore"):
                total -= log(p) if p > 0 else -math.inf
            n += 1
        return total / n if mean else total
    return ngram_loss


def test_ngram_loss_passes(capsys):
    passes_the_same_way(capsys, ch14.check_ngram_loss, ngram_with())


def test_ngram_loss_of_the_chapter_bigram_is_the_counting_table():
    """The checker's reference, for one character of context, is the chapter's bigram loss."""
    train, evaluate = minigrad.load_names("train")[:3000], minigrad.load_names("val")[:500]

    def pairs(names):
        tokens = [[0] + encode(name) + [0] for name in names]
        return (np.array([t for ts in tokens for t in ts[:-1]]),
                np.array([t for ts in tokens for t in ts[1:]]))
    counts = np.zeros((27, 27))
    np.add.at(counts, pairs(train), 1)
    P = (counts + 0.5) / (counts + 0.5).sum(axis=1, keepdims=True)
    a, b = pairs(evaluate)
    expected = -np.log(P[a, b]).mean()
    assert abs(ch14.reference_ngram_loss(train, evaluate, 1, 0.5) - expected) < 1e-12


@pytest.mark.parametrize("answer, says", [
    (ngram_with(end=False), "leaves out the end of each name"),
    (ngram_with(pad=1), "must start from context_size '.' tokens, not one"),
    (ngram_with(pad=0), "the first letter is predicted too"),
    (ngram_with(log=math.log2), "in bits"),
    (ngram_with(log=math.log10), "log base 10"),
    (ngram_with(mean=False), "a sum over the predictions"),
    (ngram_with(on_probabilities=True), "not to the probabilities"),
    (ngram_with(use_alpha=False), "is alpha added to every count"),
    (lambda train, evaluate, k, alpha: 2.5, "your loss is too"),
    (lambda train, evaluate, k, alpha: ..., "not filled in yet"),
    (lambda train, evaluate, k, alpha: "2.5 nats", "should return one number"),
    (lambda train, evaluate, k, alpha: 1 / 0, "raised ZeroDivisionError"),
    (None, "not filled in yet"),
    (3.0, "should be a function"),
])
def test_ngram_loss_fails(capsys, answer, says):
    fails_saying(capsys, ch14.check_ngram_loss, answer, says)


# ----- 14.2: the gradient of an embedding ---------------------------------------------------

CHECKERS_REFERENCE = """
from minigrad.exercises.ch14 import reference_ngram_loss as _r
def ngram_loss(train, evaluate, context_size, alpha):
    return _r(train, evaluate, context_size, alpha)
"""


def test_ngram_loss_refuses_the_checkers_own_reference(capsys):
    # session 5's A26
    from exercise_verdicts import run_cell
    answer = run_cell(CHECKERS_REFERENCE, {})["ngram_loss"]
    fails_saying(capsys, ch14.check_ngram_loss, answer, "calls the checker's own")
    fails_saying(capsys, ch14.check_ngram_loss, ch14.reference_ngram_loss,
                 "is the checker's own reference_ngram_loss itself")


def embedding_grad(tokens, grad, vocabulary):
    g = np.zeros((vocabulary, grad.shape[-1]))
    np.add.at(g, tokens, grad)
    return g


def embedding_grad_one_hot(tokens, grad, vocabulary):
    """A product with one-hot rows, X^T G: the chapter's other derivation, also right."""
    one_hot = np.eye(vocabulary)[tokens.reshape(-1)]
    return one_hot.T @ grad.reshape(-1, grad.shape[-1])


def test_embedding_grad_passes(capsys):
    passes_the_same_way(capsys, ch14.check_embedding_grad, embedding_grad)
    passes_the_same_way(capsys, ch14.check_embedding_grad, embedding_grad_one_hot)


def test_embedding_grad_agrees_with_the_package():
    rng = np.random.default_rng(5)
    layer = minigrad.Embedding(9, 4, seed=1)
    tokens, G = rng.integers(0, 9, size=(5, 6)), rng.normal(size=(5, 6, 4))
    (layer(tokens) * Tensor(G)).sum().backward()
    assert np.allclose(layer.weight.grad, embedding_grad(tokens, G, 9), rtol=0, atol=1e-12)


def fancy_assignment(tokens, grad, vocabulary):
    g = np.zeros((vocabulary, grad.shape[-1]))
    g[tokens] += grad
    return g


def uses_the_package(tokens, grad, vocabulary):
    layer = minigrad.Embedding(vocabulary, grad.shape[-1])
    (layer(tokens) * Tensor(grad)).sum().backward()
    return layer.weight.grad


def uses_indexing_and_backward(tokens, grad, vocabulary):
    table = Tensor(np.zeros((vocabulary, grad.shape[-1])))
    (table[tokens] * Tensor(grad)).sum().backward()
    return table.grad


def every_row(tokens, grad, vocabulary):
    return np.ones((vocabulary, 1)) * grad.reshape(-1, grad.shape[-1]).sum(axis=0)


@pytest.mark.parametrize("answer, says", [
    (fancy_assignment, "only one of its gradients"),
    (uses_the_package, "your answer calls minigrad's Embedding"),
    (uses_indexing_and_backward, "your answer calls minigrad's Tensor.backward()"),
    (every_row, "a token never read gets a gradient"),
    (lambda tokens, grad, vocabulary: grad.sum(axis=0), "should have the table's shape"),
    (lambda tokens, grad, vocabulary: 2 * embedding_grad(tokens, grad, vocabulary),
     "the gradient is wrong"),
    (lambda tokens, grad, vocabulary: ..., "not filled in yet"),
    (None, "not filled in yet"),
])
def test_embedding_grad_fails(capsys, answer, says):
    fails_saying(capsys, ch14.check_embedding_grad, answer, says)


@pytest.mark.parametrize("h", [1e-6, 1.0])
def test_embedding_grad_by_finite_differences_fails_as_not_exact(capsys, h):
    """The loss is linear in the table, so a big step is exact but for rounding: the
    gradients span orders of magnitude that rounding swamps."""
    def nudged(tokens, grad, vocabulary):
        table = np.random.default_rng(0).normal(size=(vocabulary, grad.shape[-1]))
        result = np.zeros_like(table)
        for index in np.ndindex(table.shape):
            step = np.zeros_like(table)
            step[index] = h
            result[index] = (np.sum(grad * (table + step)[tokens])
                             - np.sum(grad * (table - step)[tokens])) / (2 * h)
        return result
    fails_saying(capsys, ch14.check_embedding_grad, nudged, "the rule must be exact")


def test_embedding_grad_is_not_fooled_by_a_hard_coded_shape(capsys):
    def only_the_named_cases(tokens, grad, vocabulary):
        if tokens.shape in [(6,), (4, 3), (2, 3, 4), (8, 8)]:
            return embedding_grad(tokens, grad, vocabulary)
        return np.zeros((vocabulary, grad.shape[-1]))
    fails_saying(capsys, ch14.check_embedding_grad, only_the_named_cases, "shapes drawn at random")


def test_embedding_grad_refuses_pytorch(capsys):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    def with_torch(tokens, grad, vocabulary):
        weight = torch.zeros(vocabulary, grad.shape[-1], dtype=torch.float64, requires_grad=True)
        out = F.embedding(torch.tensor(tokens), weight)
        return torch.autograd.grad((out * torch.tensor(grad)).sum(), weight)[0].numpy()
    fails_saying(capsys, ch14.check_embedding_grad, with_torch, "PyTorch's")


# ----- 14.3: sampling a name ----------------------------------------------------------------

def draw_by_uniform(p, rng):
    """The draw the exercise asks for: a uniform number placed among the cumulative
    probabilities."""
    cumulative = np.cumsum(p)
    return int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))


def draw_by_uniform_once(p, rng):
    """The same draw, written another way: the first token whose cumulative probability
    passes u."""
    u, total = rng.uniform(0, 1) * float(np.sum(p)), 0.0
    for token, probability in enumerate(p):
        total += probability
        if u < total:
            return token
    return int(np.flatnonzero(p)[-1])


def sample_with(draw=draw_by_uniform, enters="end", pad=None, keep_end=False,
                asks_at_end=False):
    """Sampling a name as the exercise asks (each drawn token enters the context at its end,
    the oldest leaves), with one step changed (a common slip)."""
    def sample_name(next_probabilities, context_size, rng):
        context, letters = [0] * (context_size if pad is None else pad), []
        while True:
            p = next_probabilities(context)
            token = draw(p, rng)
            if token == 0:
                if asks_at_end:
                    next_probabilities(context)
                return "".join(chr(96 + t) for t in letters) + ("." if keep_end else "")
            letters.append(token)
            if enters == "end":
                context = context[1:] + [token]
            elif enters == "front":  # the newest token leaves instead of the oldest
                context = [token] + context[:-1]
    return sample_name


#: A generator of the reader's own, made before the checker runs: its draws do not repeat
#: with the checker's seed.
GENERATOR_MADE_BEFORE = np.random.default_rng(0)


def tempered(power):
    """A draw with the probabilities raised to ``power`` (sharpened above 1), by a uniform."""
    return sample_with(draw=lambda p, rng: draw_by_uniform(p ** power / np.sum(p ** power), rng))


def test_sample_name_passes(capsys):
    passes_the_same_way(capsys, ch14.check_sample_name, sample_with())
    passes_the_same_way(capsys, ch14.check_sample_name, sample_with(draw=draw_by_uniform_once))


@pytest.mark.parametrize("answer, says", [
    (sample_with(draw=lambda p, rng: int(np.random.choice(27, p=p / p.sum()))),
     "your answer calls NumPy's np.random.choice"),
    (sample_with(draw=lambda p, rng: draw_by_uniform(p, np.random.default_rng(
        int(rng.random() * 2 ** 52)))), "your answer calls NumPy's np.random.default_rng"),
    (sample_with(draw=lambda p, rng: draw_by_uniform(p, GENERATOR_MADE_BEFORE)),
     "two generators made from the same seed gave different names"),
    (sample_with(draw=lambda p, rng: draw_by_uniform(p, random)),
     "your answer calls Python's random.random"),
    (sample_with(draw=lambda p, rng: int(rng.choice(27, p=p / p.sum()))),
     "not with rng.choice as the chapter does"),
    (sample_with(draw=lambda p, rng: int(np.argmax(p)) if p[0] == 0 else
                 (0 if rng.random() < p[0] else int(np.argmax(p[1:])) + 1)),
     "the tokens drawn do not follow the model's probabilities"),
    (sample_with(draw=lambda p, rng: int(np.argmax(p))), "always draws the likeliest token"),
    (sample_with(draw=lambda p, rng: max(draw_by_uniform(p, rng) - 1, 0)),
     "a token that the model gives no chance"),
    (tempered(1.3), "the tokens drawn do not follow the model's probabilities"),
    (tempered(0.75), "the tokens drawn do not follow the model's probabilities"),
    (sample_with(draw=lambda p, rng: draw_by_uniform(p, rng) if p[0] == 0
                 else (0 if rng.random() < 0.5 else draw_by_uniform(p, rng))),
     "not as long as the model's probability of '.'"),
    (sample_with(enters=None), "does each drawn token enter the context"),
    (sample_with(pad=1), "context_size = 3"),
    (sample_with(keep_end=True), "the '.' is not part of the name"),
    (sample_with(asks_at_end=True), "the model is asked once per letter"),
    (sample_with(enters="front"), "a later context given to the model is not the last 3 tokens"),
    (lambda next_probabilities, context_size, rng: "smith", "never asked the model"),
    (lambda next_probabilities, context_size, rng: ..., "not filled in yet"),
    (lambda next_probabilities, context_size, rng: [1, 2], "should return a string"),
    (None, "not filled in yet"),
])
def test_sample_name_fails(capsys, answer, says):
    fails_saying(capsys, ch14.check_sample_name, answer, says)


def test_ngram_loss_fails_the_checkers_code_copied_out_and_relayed(capsys):
    import types
    box = types.SimpleNamespace(code=ch14.reference_ngram_loss.__code__, names=ch14.__dict__,
                                defaults=ch14.reference_ngram_loss.__defaults__)

    def copied(train, evaluate, context_size, alpha):
        function = types.FunctionType(box.code, box.names, "mine", box.defaults)
        return function(train, evaluate, context_size, alpha)
    fails_saying(capsys, ch14.check_ngram_loss, copied, "runs the code of minigrad")
    namespace = {"__name__": "minigrad.mine"}
    exec("def relay(f, *a):\n    return f(*a)\n", namespace)  # noqa: S102 - the cheat
    box = types.SimpleNamespace(relay=namespace["relay"])

    def relayed(train, evaluate, context_size, alpha):
        return box.relay(ch14.reference_ngram_loss, train, evaluate, context_size, alpha)
    out = fails_saying(capsys, ch14.check_ngram_loss, relayed, "your answer ")
    assert "checker's own reference_ngram_loss" in out or "runs the code of minigrad" in out


def test_sample_name_finds_no_generator_behind_rng(capsys):
    # cheat round 2: rng.random.__closure__[0].cell_contents was the checker's generator
    generator_type = type(np.random.default_rng(0)).__name__

    def sample_name(next_probabilities, context_size, rng):
        cells = getattr(rng.random, "__closure__", None) or ()
        behind = [getattr(rng.random, "__self__", None), *(c.cell_contents for c in cells),
                  *(object.__getattribute__(rng, name) for name in type(rng).__slots__)]
        assert generator_type not in [type(thing).__name__ for thing in behind]
        return sample_with()(next_probabilities, context_size, rng)
    passes_the_same_way(capsys, ch14.check_sample_name, sample_name, runs=2)
