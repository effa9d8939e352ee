"""Attention and the transformer block (chapter 15), from operations the engine already has.

Self-attention lets every position of a sequence gather information from
the others. Each position i emits a query q_i, a key k_i and a value v_i
(three linear maps of its vector); position i takes from position j in
proportion to how well q_i matches k_j:

    weights = softmax(Q Kᵀ / √d)        (T, T), each row sums to 1
    out     = weights V                 (T, d)

Dividing by √d keeps the scores' spread the same whatever the width d (a
dot product of d terms of variance 1 has variance d), so the softmax does
not saturate at the start. A *causal* mask lets position i look only at
positions j <= i: the scores of later positions become -∞ before the
softmax, so their weights are exactly 0. A language model must not see the
character it is asked to predict.

Everything here is matrix products, a softmax and reshapes: the gradient is
the engine's, through rules the reader has already derived. Several heads
split the width C into ``num_heads`` slices of d = C / num_heads numbers,
attend separately and are joined again (Vaswani et al., 2017).
"""
import functools
import math

import numpy as np

from minigrad.checks import check_float_dtype, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor
from minigrad.tensor_nn import Layer, Linear, _generator
from minigrad.tensor_norm import Dropout, LayerNorm

__all__ = ["attention_weights", "scaled_dot_product_attention", "CausalSelfAttention",
           "TransformerBlock"]


def _swap_last(t):
    """``t`` with its last two axes swapped (a transpose of every matrix in the batch)."""
    axes = tuple(range(t.ndim - 2)) + (t.ndim - 1, t.ndim - 2)
    return t.transpose(*axes)


@functools.lru_cache(maxsize=64)
def _causal_mask(t_query, t_key, dtype):
    """0 on and below the diagonal, -∞ above it, (t_query, t_key), read-only: made once per size,
    not once per call (a training loop asks for the same few sizes thousands of times)."""
    added = np.where(np.tril(np.ones((t_query, t_key), dtype=bool)), 0.0, -np.inf).astype(dtype)
    added.flags.writeable = False
    return added


def _mask_scores(scores_shape, attn_mask, is_causal, dtype):
    """The constant added to the scores: 0 where attending is allowed, -∞ where not; or None."""
    t_query, t_key = scores_shape[-2:]
    added = None
    if is_causal:
        added = _causal_mask(t_query, t_key, np.dtype(dtype))
        if attn_mask is None:  # every row keeps its first key: no row is closed
            return added
    if attn_mask is not None:
        mask = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
        try:
            np.broadcast_shapes(mask.shape, scores_shape)
        except ValueError:
            raise ValueError(f"attention: a mask of shape {mask.shape} does not fit scores of shape "
                             f"{scores_shape} (queries x keys)") from None
        if mask.dtype.kind == "b":  # True: may attend, as in PyTorch
            mask = np.where(mask, 0.0, -np.inf)
        elif mask.dtype.kind not in "iuf":
            raise TypeError(f"attention: the mask must be boolean (True: attend) or numbers added to "
                            f"the scores, got {mask.dtype}")
        mask = mask.astype(dtype)
        added = mask if added is None else added + mask
    if added is not None:
        rows_open = np.isfinite(np.broadcast_to(added, scores_shape)).any(axis=-1)
        if not rows_open.all():
            where = tuple(int(i) for i in np.argwhere(~rows_open)[0])
            raise ValueError(f"attention: query {where} may attend to no key at all (its whole row of "
                             "the mask is masked out); its weights would be 0/0")
    return added


def attention_weights(query, key, attn_mask=None, is_causal=False, scale=None):
    """``softmax(query keyᵀ · scale + mask)``: how much each query takes from each key.

    ``query`` (..., Tq, d) and ``key`` (..., Tk, d) give weights of shape
    (..., Tq, Tk), each row summing to 1. ``scale`` defaults to 1/√d.
    ``attn_mask``: booleans (True: may attend) or numbers added to the
    scores, broadcast to (..., Tq, Tk); ``is_causal``: query i sees keys
    0..i only.
    """
    for name, t in (("query", query), ("key", key)):
        if not isinstance(t, Tensor) or t.ndim < 2:
            raise ValueError(f"attention: the {name} must be a Tensor of shape (..., length, d), "
                             f"got {getattr(t, 'shape', type(t).__name__)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"attention: queries of shape {query.shape} and keys of shape {key.shape} "
                         "must have the same width d (last axis)")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query * scale) @ _swap_last(key)
    added = _mask_scores(scores.shape, attn_mask, is_causal, scores.dtype)
    if added is not None:
        scores = scores + Tensor(added, requires_grad=False)
    return scores.softmax(axis=-1)


def scaled_dot_product_attention(query, key, value, *, attn_mask=None, is_causal=False, scale=None):
    """Attention: ``softmax(query keyᵀ / √d + mask) value``, as PyTorch's function of that name.

    ``query`` (..., Tq, d), ``key`` (..., Tk, d), ``value`` (..., Tk, dv)
    -> (..., Tq, dv); the leading axes (batch, heads) broadcast. See
    :func:`attention_weights` for the mask and the scale.
    """
    if not isinstance(value, Tensor) or value.ndim < 2 or value.shape[-2] != key.shape[-2]:
        raise ValueError(f"attention: the value must be a Tensor of shape (..., Tk, dv) with as many "
                         f"rows as the key of shape {getattr(key, 'shape', None)}, got "
                         f"{getattr(value, 'shape', type(value).__name__)}")
    return attention_weights(query, key, attn_mask, is_causal, scale) @ value


def _per_row(layer, x):
    """``layer`` applied to the last axis of ``x`` (B, T, C), as one (B·T, C) matrix product."""
    b, t, _ = x.shape
    y = layer(x.reshape(b * t, x.shape[-1]))
    return y.reshape(b, t, y.shape[-1])


class CausalSelfAttention(Module):
    """Multi-head causal self-attention over sequences (B, T, embed_dim).

    Four :class:`~minigrad.tensor_nn.Linear` maps (C -> C, Xavier-initialised):
    ``query``, ``key`` and ``value`` make each position's q, k, v, which are
    split into ``num_heads`` heads of d = C / num_heads numbers; each head
    attends causally; the heads' outputs, side by side again, go through
    ``proj``. The weights of the last call are kept as ``attention``
    (a NumPy array (B, heads, T, T)) for drawing.
    """

    def __init__(self, embed_dim, num_heads, seed=None, dtype=np.float64):
        embed_dim = check_positive_int(embed_dim, "embed_dim")
        num_heads = check_positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}: "
                             "each head gets embed_dim / num_heads numbers")
        dtype = check_float_dtype(dtype, "a layer's parameters")
        rng = _generator(seed)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.query, self.key, self.value, self.proj = (Linear(embed_dim, embed_dim, seed=rng, dtype=dtype)
                                                       for _ in range(4))
        self.attention = None

    def _heads(self, x, layer):
        """(B, T, C) -> the layer's output split into heads, (B, heads, T, d)."""
        b, t, c = x.shape
        h = _per_row(layer, x).reshape(b, t, self.num_heads, c // self.num_heads)
        return h.transpose(0, 2, 1, 3)

    def __call__(self, x):
        if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"CausalSelfAttention({self.embed_dim}, {self.num_heads}) takes a Tensor of "
                             f"shape (batch, length, {self.embed_dim}), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        b, t, c = x.shape
        q, k, v = self._heads(x, self.query), self._heads(x, self.key), self._heads(x, self.value)
        weights = attention_weights(q, k, is_causal=True)
        self.attention = weights.data
        joined = (weights @ v).transpose(0, 2, 1, 3).reshape(b, t, c)
        return _per_row(self.proj, joined)

    def parameters(self):
        return [p for layer in (self.query, self.key, self.value, self.proj) for p in layer.parameters()]

    def config(self):
        """The arguments that build this layer again (see ``Module.config``)."""
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "dtype": str(self.query.dtype)}

    @classmethod
    def config_size(cls, config):
        """Four C x C maps with their biases."""
        embed_dim = check_positive_int(config["embed_dim"], "embed_dim")
        return 4 * (embed_dim * embed_dim + embed_dim)

    def __repr__(self):
        return f"CausalSelfAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"


class TransformerBlock(Module):
    """A pre-norm transformer block: attention, then an MLP, each added to a residual stream.

        x = x + attention(layer_norm1(x))
        x = x + mlp(layer_norm2(x))          mlp: C -> hidden (ReLU) -> C

    Normalising what goes *into* each branch (pre-norm, as GPT-2) and adding
    its output back to x keeps a path along which the gradient reaches the
    first layers unchanged. ``hidden`` defaults to 4·embed_dim; ``dropout``
    (a probability) is applied to each branch's output while training.
    """

    def __init__(self, embed_dim, num_heads, hidden=None, dropout=0.0, seed=None, dtype=np.float64):
        rng = _generator(seed)
        embed_dim = check_positive_int(embed_dim, "embed_dim")
        hidden = 4 * embed_dim if hidden is None else check_positive_int(hidden, "hidden")
        self.norm1 = LayerNorm(embed_dim, dtype=dtype)
        self.attention = CausalSelfAttention(embed_dim, num_heads, seed=rng, dtype=dtype)
        self.norm2 = LayerNorm(embed_dim, dtype=dtype)
        self.expand = Layer(embed_dim, hidden, activation="relu", seed=rng, dtype=dtype)
        self.contract = Linear(hidden, embed_dim, seed=rng, dtype=dtype)
        self.dropout = Dropout(dropout, seed=rng)

    def __call__(self, x):
        x = x + self.dropout(self.attention(self.norm1(x)))
        mlp = _per_row(self.contract, _per_row(self.expand, self.norm2(x)))
        return x + self.dropout(mlp)

    def parameters(self):
        return [p for m in (self.norm1, self.attention, self.norm2, self.expand, self.contract)
                for p in m.parameters()]

    def config(self):
        """The arguments that build this block again (see ``Module.config``)."""
        return {"embed_dim": self.attention.embed_dim, "num_heads": self.attention.num_heads,
                "hidden": self.expand.nout, "dropout": self.dropout.p, "dtype": str(self.expand.dtype)}

    @classmethod
    def config_size(cls, config):
        """Two layer norms, the attention, and the MLP's two layers."""
        embed_dim = check_positive_int(config["embed_dim"], "embed_dim")
        hidden = config.get("hidden")
        hidden = 4 * embed_dim if hidden is None else check_positive_int(hidden, "hidden")
        return (4 * embed_dim + CausalSelfAttention.config_size(config)
                + 2 * embed_dim * hidden + hidden + embed_dim)

    def __repr__(self):
        return (f"TransformerBlock(embed_dim={self.attention.embed_dim}, num_heads={self.attention.num_heads}, "
                f"hidden={self.expand.nout}, dropout={self.dropout.p:g})")
