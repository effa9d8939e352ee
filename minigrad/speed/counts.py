"""What does not depend on the machine: the nodes of a step's graph and its multiply-adds.

The scalar engine's nodes cost Python's overhead once per number; the tensor
engine's a fixed number of nodes, whatever the sizes; the multiply-adds are
the arithmetic both engines do. Counted exactly, by formula and in the graph.
"""
from minigrad.autograd import topological_order
from minigrad.speed.engines import make_problem, make_step
from minigrad.speed.sizes import positive_int


def count_nodes(engine, width, batch, seed=0):
    """The number of nodes in the graph of one training step's loss (scalar or tensor engine)."""
    if engine not in ("scalar", "tensor"):
        raise ValueError(f"nodes are counted for the scalar and tensor engines, not {engine!r}")
    return len(topological_order(make_step(engine, make_problem(width, batch, seed)).graph()))


def scalar_nodes(width, batch):
    """The scalar engine's node count for one step, from a formula (see chapter 6).

    A neuron with n inputs makes n multiplications and n additions, plus its
    activation if it has one: 2n + 1 nodes (2n for the linear output). Per
    point the network makes w(2*2 + 1) + w(2w + 1) + 2w nodes; the point's two
    input leaves make 2 more, and its hinge loss 5 (the constant -y, its product
    with the score, the constant 1, their sum, a ReLU). Then come the
    parameters, the sum over the batch (a constant 0 and ``batch`` additions)
    and its scaling by 1/batch (a constant and a product).
    """
    w, n = positive_int(width, "width"), positive_int(batch, "batch")
    per_point = w * 5 + w * (2 * w + 1) + 2 * w + 2 + 5
    parameters = (2 * w + w) + (w * w + w) + (w + 1)
    return n * per_point + parameters + (n + 1) + 2


def multiply_adds(width, batch):
    """Multiply-adds in the matrix products of one tensor-engine step (forward and backward).

    Forward, a (batch, n) @ (n, m) product makes batch·n·m of them, for the
    three layers batch·(2w + w·w + w). Backward, each layer's W gets
    X.T @ grad (as many again), and each layer's input gets grad @ W.T (as
    many again), except the first layer's: the data needs no gradient.
    """
    w, n = positive_int(width, "width"), positive_int(batch, "batch")
    forward = n * (2 * w + w * w + w)
    return forward + forward + n * (w * w + w)
