"""Small datasets to learn from, made on the spot or shipped inside the package.

Every generator returns NumPy arrays ``X`` (one row per example) and ``y``, and
takes a ``seed``: the same seed gives the same data.
"""
import numpy as np


def make_moons(n_samples=100, noise=0.1, seed=None):
    """Two interleaving half circles in the plane: a classic nonlinear two-class task.

    Returns ``X`` of shape (n_samples, 2) and labels ``y`` in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.vstack([upper, lower])
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]
