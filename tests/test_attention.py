"""Embeddings and attention (minigrad.tensor_embedding, minigrad.tensor_attention):
gradients by central differences and against PyTorch over shapes and masks, the
layers, error messages."""
import numpy as np
import pytest

from minigrad import CausalSelfAttention, Embedding, Tensor, TransformerBlock, gradcheck
from minigrad import scaled_dot_product_attention as sdpa
from minigrad.tensor_attention import attention_weights


def _qkv(batch, tq, tk, d, dv, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(batch + (tq, d)), rng.standard_normal(batch + (tk, d)),
            rng.standard_normal(batch + (tk, dv)))


def reference_attention(q, k, v, mask=None, causal=False, scale=None):
    """Attention written out in NumPy, one formula per line."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True) @ v


_random_mask = np.random.default_rng(9).random((4, 5)) > 0.4
_random_mask[:, 0] = True  # every query may attend to at least one key

CASES = [  # batch axes, Tq, Tk, d, dv, mask, causal
    ((), 3, 3, 2, 2, None, False),
    ((2,), 4, 4, 3, 5, None, True),
    ((2, 3), 5, 5, 4, 4, None, True),
    ((2, 2), 4, 5, 3, 2, _random_mask, False),
    ((1,), 4, 5, 2, 3, np.random.default_rng(1).standard_normal((4, 5)), False),  # added to the scores
    ((3,), 4, 4, 2, 2, np.tril(np.ones((4, 4), bool)) & _random_mask[:, :4], True),
]


@pytest.mark.parametrize("case", CASES)
def test_attention_values_and_gradients(case):
    batch, tq, tk, d, dv, mask, causal = case
    q, k, v = _qkv(batch, tq, tk, d, dv)
    out = sdpa(Tensor(q), Tensor(k), Tensor(v), attn_mask=mask, is_causal=causal)
    np.testing.assert_allclose(out.data, reference_attention(q, k, v, mask, causal), rtol=1e-12, atol=1e-12)
    w = Tensor(np.random.default_rng(2).standard_normal(out.shape), requires_grad=False)

    def f(q, k, v):
        return (sdpa(q, k, v, attn_mask=mask, is_causal=causal) * w).sum()

    assert gradcheck(f, [Tensor(q), Tensor(k), Tensor(v)]) < 1e-7


@pytest.mark.parametrize("case", CASES)
def test_attention_matches_pytorch(case, torch):
    batch, tq, tk, d, dv, mask, causal = case
    if mask is not None and causal:
        mask = mask & np.tril(np.ones((tq, tk), bool))  # PyTorch takes one or the other
        causal = False
    q, k, v = _qkv(batch, tq, tk, d, dv, seed=3)
    mine = [Tensor(a) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = sdpa(*mine, attn_mask=mask, is_causal=causal)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), is_causal=causal)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_causal_weights_are_lower_triangular_rows_summing_to_one():
    q, k, _ = _qkv((2,), 5, 5, 3, 3)
    weights = attention_weights(Tensor(q), Tensor(k), is_causal=True).data
    assert np.all(np.triu(weights, 1) == 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1)
    np.testing.assert_allclose(weights[:, 0, 0], 1)  # the first position sees only itself


def test_attention_errors_name_the_shapes():
    q, k, v = (Tensor(a) for a in _qkv((2,), 4, 4, 3, 3))
    with pytest.raises(ValueError, match=r"queries of shape \(2, 4, 3\) and keys of shape \(2, 4, 5\)"):
        sdpa(q, Tensor(np.zeros((2, 4, 5))), v)
    with pytest.raises(ValueError, match=r"value must be .*key of shape \(2, 4, 3\), got \(2, 6, 3\)"):
        sdpa(q, k, Tensor(np.zeros((2, 6, 3))))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) does not fit scores of shape \(2, 4, 4\)"):
        sdpa(q, k, v, attn_mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match=r"query \(1, 2\) may attend to no key"):
        mask = np.ones((2, 4, 4), bool)
        mask[1, 2] = False
        sdpa(q, k, v, attn_mask=mask)
    with pytest.raises(TypeError, match="boolean"):
        sdpa(q, k, v, attn_mask=np.array([["a"]]))


# ----- embeddings -------------------------------------------------------------------------

def test_embedding_lookup_gradient_and_pytorch(torch):
    layer = Embedding(6, 3, seed=0)
    assert layer.weight.shape == (6, 3) and layer.num_embeddings == 6 and layer.embedding_dim == 3
    tokens = np.array([[0, 2, 2], [5, 2, 1]])
    out = layer(tokens)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, layer.weight.data[tokens])
    w = Tensor(np.random.default_rng(1).standard_normal(out.shape), requires_grad=False)
    assert gradcheck(lambda weight: (layer(tokens) * w).sum(), [layer.weight]) < 1e-7
    layer.zero_grad()
    (layer(tokens) * w).sum().backward()
    theirs = torch.nn.Embedding(6, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(layer.weight.data))
    (theirs(torch.tensor(tokens)) * torch.tensor(w.data)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
    assert np.all(layer.weight.grad[[3, 4]] == 0)  # tokens never read get nothing
    np.testing.assert_array_equal(Embedding(6, 3, seed=0).weight.data, layer.weight.data)


def test_embedding_errors():
    layer = Embedding(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"token 4 is not in 0..3"):
        layer([1, 4])
    with pytest.raises(ValueError, match=r"token -1 is not in 0..3"):
        layer(np.array([-1]))
    with pytest.raises(TypeError, match="integer token indices, got an array of float64"):
        layer(np.array([1.0]))
    with pytest.raises(TypeError, match="not a Tensor"):
        layer(Tensor([1.0]))


# ----- the layers -------------------------------------------------------------------------

@pytest.mark.parametrize("heads", [1, 2, 4])
def test_causal_self_attention_matches_pytorch(heads, torch):
    c, t = 8, 5
    layer = CausalSelfAttention(c, heads, seed=heads)
    for p in layer.parameters():  # biases too, so that they are checked
        p.data = np.random.default_rng(7).standard_normal(p.shape) * 0.5
    x = np.random.default_rng(8).standard_normal((3, t, c))
    X = Tensor(x)
    out = layer(X)
    assert layer.attention.shape == (3, heads, t, t)
    mha = torch.nn.MultiheadAttention(c, heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate([m.W.data.T for m in
                                                              (layer.query, layer.key, layer.value)])))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate([m.b.data for m in
                                                            (layer.query, layer.key, layer.value)])))
        mha.out_proj.weight.copy_(torch.tensor(layer.proj.W.data.T))
        mha.out_proj.bias.copy_(torch.tensor(layer.proj.b.data))
    tx = torch.tensor(x, requires_grad=True)
    causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)  # True: masked, in this API
    expected, weights = mha(tx, tx, tx, attn_mask=causal, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.attention, weights.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(9).standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.proj.W.grad, mha.out_proj.weight.grad.numpy().T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.query.W.grad, mha.in_proj_weight.grad.numpy()[:c].T, rtol=1e-9, atol=1e-12)


def test_causal_self_attention_gradients_and_causality():
    layer = CausalSelfAttention(4, 2, seed=0)
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    w = Tensor(np.random.default_rng(2).standard_normal((2, 3, 4)), requires_grad=False)
    assert gradcheck(lambda t, *p: (layer(t) * w).sum(), [Tensor(x)] + layer.parameters()) < 1e-7
    changed = x.copy()
    changed[:, 2] += 1.0  # a later position changes no earlier output
    np.testing.assert_allclose(layer(Tensor(changed)).data[:, :2], layer(Tensor(x)).data[:, :2], atol=1e-14)
    with pytest.raises(ValueError, match=r"shape \(batch, length, 4\), got \(2, 3, 5\)"):
        layer(Tensor(np.zeros((2, 3, 5))))
    with pytest.raises(ValueError, match="embed_dim 6 must be divisible by num_heads 4"):
        CausalSelfAttention(6, 4)


def test_transformer_block_gradients_train_eval_and_seed():
    block = TransformerBlock(4, 2, hidden=6, seed=0)
    assert len(block.parameters()) == 2 + 8 + 2 + 4
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    w = Tensor(np.random.default_rng(2).standard_normal((2, 3, 4)), requires_grad=False)
    assert gradcheck(lambda t, *p: (block(t) * w).sum(), [Tensor(x)] + block.parameters()) < 1e-7
    again = TransformerBlock(4, 2, hidden=6, seed=0)
    for a, b in zip(block.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    noisy = TransformerBlock(4, 2, dropout=0.5, seed=0)
    first = noisy(Tensor(x)).data
    assert not np.array_equal(first, noisy(Tensor(x)).data)  # dropout while training
    noisy.eval()
    assert not noisy.dropout.training and not noisy.attention.training
    np.testing.assert_array_equal(noisy(Tensor(x)).data, noisy(Tensor(x)).data)
    assert "TransformerBlock(embed_dim=4, num_heads=2, hidden=6" in repr(block)
