"""Embeddings: a learned vector for each token (chapter 14).

A language model reads tokens (characters, here), whole numbers 0..V-1. An
embedding table ``weight`` of shape (V, D) holds one learned vector of D
numbers per token, and reading token t is looking up row t:

    Embedding(V, D)(tokens)  ==  weight[tokens]      shape tokens.shape + (D,)

That is the same as multiplying a one-hot row by ``weight``, without making
the one-hot rows. Its gradient is the indexing rule the engine already has
(``Tensor.__getitem__``): row t of dL/dweight is the sum of the gradients of
every place token t was read (``np.add.at``), and rows of tokens not read
get nothing.
"""
import numpy as np

from minigrad.checks import check_float_dtype, check_positive_int
from minigrad.module import Module
from minigrad.tensor import Tensor
from minigrad.tensor_nn import _generator

__all__ = ["Embedding", "check_tokens"]


def check_tokens(tokens, vocabulary, who):
    """``tokens`` as an integer array of indices in 0..vocabulary-1, or a clear error."""
    if isinstance(tokens, Tensor):
        raise TypeError(f"{who} takes token indices as integers (a list or a NumPy array), not a Tensor, "
                        "which holds floats")
    array = np.asarray(tokens)
    if array.dtype.kind == "b" or array.dtype.kind not in "iu":
        raise TypeError(f"{who} takes integer token indices, got an array of {array.dtype} "
                        f"of shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocabulary):
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(f"{who}: token {int(bad)} is not in 0..{vocabulary - 1} "
                         f"(the table has {vocabulary} rows)")
    return array.astype(np.intp, copy=False)


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of ``embedding_dim`` numbers.

    ``weight`` (num_embeddings, embedding_dim) starts from a standard normal
    distribution, as in PyTorch; ``seed`` (an int or a NumPy Generator)
    makes it reproducible. Calling the layer on integer tokens of any shape
    returns their vectors, shape ``tokens.shape + (embedding_dim,)``.
    """

    def __init__(self, num_embeddings, embedding_dim, seed=None, dtype=np.float64):
        num_embeddings = check_positive_int(num_embeddings, "num_embeddings")
        embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        dtype = check_float_dtype(dtype, "a layer's parameters")
        weight = _generator(seed).standard_normal((num_embeddings, embedding_dim))
        self.weight = Tensor(weight.astype(dtype), name="weight")

    @property
    def num_embeddings(self):
        return self.weight.shape[0]

    @property
    def embedding_dim(self):
        return self.weight.shape[1]

    def __call__(self, tokens):
        tokens = check_tokens(tokens, self.num_embeddings, "Embedding")
        return self.weight[tokens]

    def parameters(self):
        return [self.weight]

    def config(self):
        """The arguments that build this layer again (see ``Module.config``)."""
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "dtype": str(self.weight.dtype)}

    @classmethod
    def config_size(cls, config):
        return (check_positive_int(config["num_embeddings"], "num_embeddings")
                * check_positive_int(config["embedding_dim"], "embedding_dim"))

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"
