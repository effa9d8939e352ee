"""The checkers of chapter 15 PASS the solutions, FAIL wrong and cheating answers, saying why."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import Linear, Module, Tensor
from minigrad.exercises import ch15
from exercise_verdicts import fails_saying, passes_the_same_way


# ----- the solutions, as the chapter gives them ---------------------------------------------

def causal_attention(q, k, v):
    t, d = q.shape[-2], q.shape[-1]
    axes = tuple(range(q.ndim - 2)) + (q.ndim - 1, q.ndim - 2)
    scores = (q @ k.transpose(*axes)) * (1 / math.sqrt(d))
    hidden = np.triu(np.full((t, t), -np.inf), k=1)
    return (scores + hidden).softmax(axis=-1) @ v


def attention_backward(q, k, v, grad):
    t, d = q.shape
    scores = q @ k.T / math.sqrt(d) + np.triu(np.full((t, t), -np.inf), k=1)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    d_v = weights.T @ grad
    d_weights = grad @ v.T
    d_scores = weights * (d_weights - (d_weights * weights).sum(axis=1, keepdims=True))
    return d_scores @ k / math.sqrt(d), d_scores.T @ q / math.sqrt(d), d_v


class SelfAttention(Module):
    def __init__(self, embed_dim, num_heads, seed=None):
        rng = np.random.default_rng(seed)
        self.heads = num_heads
        self.query, self.key, self.value, self.proj = (
            Linear(embed_dim, embed_dim, seed=rng) for _ in range(4))

    def split(self, x, layer):
        b, t, c = x.shape
        y = layer(x.reshape(b * t, c)).reshape(b, t, self.heads, c // self.heads)
        return y.transpose(0, 2, 1, 3)

    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = (self.split(x, m) for m in (self.query, self.key, self.value))
        joined = causal_attention(q, k, v).transpose(0, 2, 1, 3).reshape(b * t, c)
        return self.proj(joined).reshape(b, t, c)

    def parameters(self):
        return [p for m in (self.query, self.key, self.value, self.proj) for p in m.parameters()]


# ----- 15.1 ---------------------------------------------------------------------------------

def test_causal_attention_passes(capsys):
    passes_the_same_way(capsys, ch15.check_causal_attention, causal_attention)


def test_causal_attention_agrees_with_the_package():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.normal(size=(2, 3, 5, 4))) for _ in range(3))
    ours = causal_attention(q, k, v).data
    theirs = minigrad.scaled_dot_product_attention(q, k, v, is_causal=True).data
    assert np.allclose(ours, theirs, rtol=0, atol=1e-12)


def _attention_with(scale="sqrt", mask="causal", axis=-1, on_data=False):
    def answer(q, k, v):
        t, d = q.shape[-2], q.shape[-1]
        axes = tuple(range(q.ndim - 2)) + (q.ndim - 1, q.ndim - 2)
        factor = {"sqrt": 1 / math.sqrt(d), "none": 1.0, "d": 1 / d}[scale]
        scores = (q @ k.transpose(*axes)) * factor
        if mask == "causal":
            scores = scores + np.triu(np.full((t, t), -np.inf), k=1)
        elif mask == "future":
            scores = scores + np.tril(np.full((t, t), -np.inf), k=-1)
        out = scores.softmax(axis=axis) @ v
        return Tensor(out.data) if on_data else out
    return answer


@pytest.mark.parametrize("answer, says", [
    (_attention_with(scale="none"), "the scores are not scaled"),
    (_attention_with(scale="d"), "the scores are divided by d"),
    (_attention_with(mask="none"), "every query sees every key"),
    (_attention_with(mask="future"), "hides the earlier keys"),
    (_attention_with(axis=-2), "the softmax runs over the wrong axis"),
    (_attention_with(on_data=True), "no gradient reaches q"),
    (lambda q, k, v: minigrad.scaled_dot_product_attention(q, k, v, is_causal=True),
     "your answer calls minigrad's scaled_dot_product_attention"),
    (lambda q, k, v: ..., "not filled in yet"),
    (lambda q, k, v: q.data, "should return a minigrad Tensor"),
    (..., "not filled in yet"),
])
def test_causal_attention_fails(capsys, answer, says):
    fails_saying(capsys, ch15.check_causal_attention, answer, says)


def test_causal_attention_cannot_hard_code(capsys):
    rng = np.random.default_rng(1)
    fixed = [causal_attention(*(Tensor(rng.normal(size=(5, 4))) for _ in range(3))).data]
    fails_saying(capsys, ch15.check_causal_attention, lambda q, k, v: Tensor(fixed[0]) + 0 * q,
                 "the result is wrong")


# ----- 15.2 ---------------------------------------------------------------------------------

def test_attention_backward_passes(capsys):
    passes_the_same_way(capsys, ch15.check_attention_backward, attention_backward)


def test_attention_backward_agrees_with_backpropagation():
    rng = np.random.default_rng(2)
    arrays = [rng.normal(size=(6, 3)) for _ in range(3)]
    grad = rng.normal(size=(6, 3))
    tensors = [Tensor(a) for a in arrays]
    (causal_attention(*tensors) * Tensor(grad, requires_grad=False)).sum().backward()
    for ours, t in zip(attention_backward(*arrays, grad), tensors):
        assert np.allclose(ours, t.grad, rtol=0, atol=1e-12)


def causal_weights(q, k):
    """softmax(q kᵀ / √d + the causal mask), row by row, for (T, d) arrays."""
    t, d = q.shape
    s = q @ k.T / math.sqrt(d) + np.triu(np.full((t, t), -np.inf), k=1)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def numerical_backward(q, k, v, grad, h=1e-5):
    def f(q, k, v):
        return np.sum(grad * (causal_weights(q, k) @ v))
    out = []
    for i, a in enumerate((q, k, v)):
        g = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            args = [q.copy(), k.copy(), v.copy()]
            args[i][index] += h
            up = f(*args)
            args[i][index] -= 2 * h
            g[index] = (up - f(*args)) / (2 * h)
        out.append(g)
    return tuple(out)


def _backward_with(change):
    def answer(q, k, v, grad):
        dq, dk, dv = attention_backward(q, k, v, grad)
        if change == "dv":
            dv = causal_weights(q, k) @ grad
        elif change == "unscaled":
            dq = dq * math.sqrt(q.shape[1])
        return dq, dk, dv
    return answer


def _backward_via_autograd(q, k, v, grad):
    tensors = [Tensor(a) for a in (q, k, v)]
    (causal_attention(*tensors) * Tensor(grad, requires_grad=False)).sum().backward()
    return tuple(t.grad for t in tensors)


@pytest.mark.parametrize("answer, says", [
    (numerical_backward, "the rule must be exact"),
    (_backward_with("dv"), "dv is wrong: the weights multiply v from the left"),
    (_backward_with("unscaled"), "dq is wrong: the scale 1/√d of the scores is missing"),
    (_backward_via_autograd, "your answer calls minigrad's Tensor.backward()"),
    (lambda q, k, v, g: (..., ..., ...), "not filled in yet"),
    (lambda q, k, v, g: q, "should return three arrays"),
])
def test_attention_backward_fails(capsys, answer, says):
    fails_saying(capsys, ch15.check_attention_backward, answer, says)


# ----- 15.3 ---------------------------------------------------------------------------------

def test_self_attention_passes(capsys):
    passes_the_same_way(capsys, ch15.check_self_attention, SelfAttention)


class OneHead(SelfAttention):
    def __init__(self, embed_dim, num_heads, seed=None):
        super().__init__(embed_dim, 1, seed)


class SeesTheFuture(SelfAttention):
    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = (self.split(x, m) for m in (self.query, self.key, self.value))
        d = c // self.heads
        weights = (q @ k.transpose(0, 1, 3, 2) * (1 / math.sqrt(d))).softmax(axis=-1)
        joined = (weights @ v).transpose(0, 2, 1, 3).reshape(b * t, c)
        return self.proj(joined).reshape(b, t, c)


class UsesThePackage(SelfAttention):
    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = (self.split(x, m) for m in (self.query, self.key, self.value))
        out = minigrad.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(out.transpose(0, 2, 1, 3).reshape(b * t, c)).reshape(b, t, c)


class NoProjection(SelfAttention):
    def __call__(self, x):
        b, t, c = x.shape
        q, k, v = (self.split(x, m) for m in (self.query, self.key, self.value))
        return causal_attention(q, k, v).transpose(0, 2, 1, 3).reshape(b, t, c)


class MissingParameters(SelfAttention):
    def parameters(self):
        return self.query.parameters()


class PackageLayer(minigrad.CausalSelfAttention):
    pass


class Starter(Module):
    """The starter cell as the chapter gives it."""

    def __init__(self, embed_dim, num_heads, seed=None):
        ...

    def __call__(self, x):
        ...

    def parameters(self):
        ...


@pytest.mark.parametrize("answer, says", [
    (OneHead, "it attends with one head of width embed_dim"),
    (SeesTheFuture, "the layer must be causal"),
    (UsesThePackage, "your answer calls minigrad's scaled_dot_product_attention"),
    (NoProjection, "the output is wrong"),
    (MissingParameters, "parameters() should return the weights and biases"),
    (PackageLayer, "your answer runs the code of minigrad.tensor_attention"),
    (Starter, "not filled in yet"),
    (..., "not filled in yet"),
    (causal_attention, "should be a class"),
])
def test_self_attention_fails(capsys, answer, says):
    fails_saying(capsys, ch15.check_self_attention, answer, says)


# ----- the milestone ------------------------------------------------------------------------

def test_milestone_passes(capsys):
    passes_the_same_way(capsys, ch15.check_milestone, SelfAttention, runs=2)


class PreviousCharacter(SelfAttention):
    """No attention: each position gets the value of the position before it, a fixed shift
    that clears the bar alone (about 2.43)."""

    def __call__(self, x):
        b, t, c = x.shape
        v = self.value(x.reshape(b * t, c)).reshape(b, t, c)
        shifted = v * Tensor(np.ones((1, t, 1)), requires_grad=False)
        mask = Tensor(np.eye(t, k=-1) + np.eye(t, k=0) * (np.arange(t) == 0), requires_grad=False)
        joined = (mask @ shifted).reshape(b * t, c)
        return self.proj(joined).reshape(b, t, c)


class RunningMean(SelfAttention):
    """No attention: the mean of the values of positions 0..t, which clears the bar alone
    (about 2.39)."""

    def __call__(self, x):
        b, t, c = x.shape
        v = self.value(x.reshape(b * t, c)).reshape(b, t, c)
        mean = np.tril(np.ones((t, t))) / np.arange(1, t + 1)[:, None]
        joined = (Tensor(mean, requires_grad=False) @ v).reshape(b * t, c)
        return self.proj(joined).reshape(b, t, c)


class AttendsWhenWatched(SelfAttention):
    """Attention for its first calls (the checks before training), a running mean after."""

    def __call__(self, x):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls <= 6:
            return super().__call__(x)
        return RunningMean.__call__(self, x)


class AttendsWhenNotTraining(SelfAttention):
    """Attention, but a running mean on the training batches of 32 names with a graph behind
    them: only the steps of training themselves see it."""

    def __call__(self, x):
        if x.shape[0] == 32 and x._prev:
            return RunningMean.__call__(self, x)
        return super().__call__(x)


@pytest.mark.parametrize("answer, says", [
    (AttendsWhenNotTraining, "during training, your layer's output is wrong"),
    (PreviousCharacter, "your layer before training: the output is wrong"),
    (RunningMean, "your layer before training: the output is wrong"),
    (AttendsWhenWatched, "after training, on the model's own inputs: the output is wrong"),
    (SeesTheFuture, "the layer must be causal"),
    (UsesThePackage, "your answer calls minigrad's scaled_dot_product_attention"),
    (Starter, "not filled in yet"),
    (..., "not filled in yet"),
])
def test_milestone_fails(capsys, answer, says):
    fails_saying(capsys, ch15.check_milestone, answer, says)


def test_milestone_fails_above_the_bar(capsys, monkeypatch):
    """The bar (lowered here, out of reach) judges the loss the reader's attention reaches."""
    monkeypatch.setattr(ch15, "MILESTONE_BAR", 1.0)
    fails_saying(capsys, ch15.check_milestone, SelfAttention, "the validation loss is not below")


def test_encode_names_marks_start_end_and_padding():
    inputs, targets = ch15.encode_names(["ab", "c"], 4)
    assert inputs.tolist() == [[0, 1, 2, 0], [0, 3, 0, 0]]
    assert targets.tolist() == [[1, 2, 0, -1], [3, 0, -1, -1]]


# ----- cheat round 2: what traps do not see, the tracing does ---------------------------------

def test_causal_attention_fails_the_packages_code_copied_out(capsys):
    import types
    from minigrad import tensor_attention as package
    box = types.SimpleNamespace(attend=package.scaled_dot_product_attention.__code__,
                                weights=package.attention_weights.__code__,
                                names=dict(vars(package)))

    def copied(q, k, v):
        names = dict(box.names)
        names["attention_weights"] = types.FunctionType(box.weights, names, "w",
                                                        (None, False, None))
        attend = types.FunctionType(box.attend, names, "mine")
        attend.__kwdefaults__ = {"attn_mask": None, "is_causal": False, "scale": None}
        return attend(q, k, v, is_causal=True)
    fails_saying(capsys, ch15.check_causal_attention, copied,
                 "runs the code of minigrad.tensor_attention")


def test_attention_backward_fails_a_relay_of_the_checkers_own(capsys):
    import types
    namespace = {"__name__": "minigrad.mine"}
    exec("def relay(f, *a):\n    return f(*a)\n", namespace)  # noqa: S102 - the cheat
    box = types.SimpleNamespace(relay=namespace["relay"])

    def relayed(q, k, v, grad):
        return box.relay(ch15._reference_gradients, q, k, v, grad)
    fails_saying(capsys, ch15.check_attention_backward, relayed,
                 "runs the code of minigrad.exercises.ch15")


def test_causal_attention_passes_traced_with_the_same_text(capsys):
    passes_the_same_way(capsys, ch15.check_causal_attention, causal_attention)
