"""Normalisation and dropout (minigrad.tensor_norm), and Module.train()/eval():
gradients by central differences and against PyTorch, running statistics, train/eval
behaviour, seeded dropout, error messages."""
import numpy as np
import pytest

from minigrad import (BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, LayerNorm, Linear, MLP, Module,
                      Sequential, Tensor, gradcheck)
from minigrad.tensor_norm import Normalize, normalize


def _weights(shape, seed):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=False)


@pytest.mark.parametrize("shape,axes", [((5, 3), 0), ((4, 3, 6), (0, 2)), ((3, 2, 4, 4), (0, 2, 3)),
                                        ((2, 7), -1), ((2, 3, 4), (1, 2))])
def test_normalize_values_and_gradient(shape, axes):
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 1
    out = normalize(Tensor(x), axes, eps=1e-12)
    np.testing.assert_allclose(out.data.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(out.data.var(axis=axes), 1, rtol=1e-10)
    w = _weights(shape, 1)
    assert gradcheck(lambda t: (normalize(t, axes) * w).sum(), [Tensor(x)]) < 1e-7


@pytest.mark.parametrize("layer_type,shape", [(BatchNorm1d, (6, 3)), (BatchNorm1d, (4, 3, 5)),
                                              (BatchNorm2d, (3, 3, 4, 5)), (BatchNorm2d, (2, 3, 1, 1))])
def test_batch_norm_gradients_in_training(layer_type, shape):
    layer = layer_type(3)
    rng = np.random.default_rng(2)
    layer.weight.data = rng.standard_normal(3)
    layer.bias.data = rng.standard_normal(3)
    x = rng.standard_normal(shape)
    w = _weights(shape, 3)
    assert gradcheck(lambda t, g, b: (layer(t) * w).sum(), [Tensor(x), layer.weight, layer.bias]) < 1e-7


@pytest.mark.parametrize("layer_type,shape", [(BatchNorm1d, (8, 3)), (BatchNorm1d, (4, 3, 5)),
                                              (BatchNorm2d, (5, 3, 4, 4))])
def test_batch_norm_matches_pytorch_in_train_and_eval(layer_type, shape, torch):
    rng = np.random.default_rng(4)
    mine = layer_type(3, momentum=0.2)
    theirs = getattr(torch.nn, layer_type.__name__)(3, momentum=0.2).double()
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mine.weight.data, mine.bias.data = gamma.copy(), beta.copy()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    for step in range(3):  # training: batch statistics, running averages move
        x = rng.standard_normal(shape) * 2 + step
        X, tx = Tensor(x), torch.tensor(x, requires_grad=True)
        out, expected = mine(X), theirs(tx)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        out.backward(g)
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(mine.running_var, theirs.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(mine.bias.grad, theirs.bias.grad.numpy(), rtol=1e-9)
    mine.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    X, tx = Tensor(x), torch.tensor(x, requires_grad=True)
    out, expected = mine(X), theirs(tx)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-10)


def test_batch_norm_train_and_eval_behaviour():
    layer = BatchNorm1d(2)
    x = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 50.0]])
    out = layer(x).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)  # the batch's own statistics
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1))
    before = layer.running_mean.copy()
    layer.eval()
    assert not layer.training
    one = layer(x[:1]).data  # one example alone: fine in evaluation, uses the running statistics
    np.testing.assert_allclose(one, (x[:1] - before) / np.sqrt(layer.running_var + 1e-5))
    np.testing.assert_array_equal(layer.running_mean, before)  # evaluation changes no statistics
    layer.train()
    with pytest.raises(ValueError, match=r"more than one number.*shape \(1, 2\) has 1"):
        layer(x[:1])


def test_layer_norm_gradients_and_pytorch(torch):
    rng = np.random.default_rng(5)
    for shape, normalized in (((4, 6), 6), ((2, 3, 4), (3, 4)), ((2, 5, 8), 8)):
        layer = LayerNorm(normalized)
        layer.weight.data = rng.standard_normal(layer.weight.shape)
        layer.bias.data = rng.standard_normal(layer.bias.shape)
        x = rng.standard_normal(shape)
        w = _weights(shape, 6)
        assert gradcheck(lambda t, g, b: (layer(t) * w).sum(), [Tensor(x), layer.weight, layer.bias]) < 1e-7
        X = Tensor(x)
        out = layer(X)
        theirs = torch.nn.LayerNorm(normalized).double()
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(layer.weight.data))
            theirs.bias.copy_(torch.tensor(layer.bias.data))
        tx = torch.tensor(x, requires_grad=True)
        expected = theirs(tx)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        layer.zero_grad()
        out.backward(g)
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_layer_norm_same_in_train_and_eval_and_errors():
    layer = LayerNorm(4)
    x = np.random.default_rng(0).standard_normal((3, 4))
    a = layer(x).data
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, a)
    with pytest.raises(ValueError, match=r"input of shape \(3, 5\) does not end in the normalized shape \(4,\)"):
        layer(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) takes inputs of shape \(N, C, H, W\).*\(2, 4, 5, 5\)"):
        BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(N, C\) or \(N, C, L\).*\(2, 3, 4, 4\)"):
        BatchNorm1d(3)(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=2)


# ----- dropout -----------------------------------------------------------------------------

def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = Tensor(np.ones((200, 50)))
    a, b = Dropout(0.3, seed=7), Dropout(0.3, seed=7)
    out_a, out_b = a(x), b(x)
    np.testing.assert_array_equal(out_a.data, out_b.data)  # same seed, same numbers dropped
    assert not np.array_equal(out_a.data, a(x).data)       # a new mask each call
    kept = out_a.data != 0
    np.testing.assert_allclose(out_a.data[kept], 1 / 0.7)
    assert kept.mean() == pytest.approx(0.7, abs=0.02)
    out_a.sum().backward()
    np.testing.assert_array_equal(x.grad, out_a.data)  # the gradient goes through the kept ones, scaled
    a.eval()
    assert a(x) is x
    np.testing.assert_array_equal(Dropout(1.0, seed=0)(x).data, 0)
    assert Dropout(0.0, seed=0)(x) is x
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\], got 1.5"):
        Dropout(1.5)


def test_dropout_gradient_by_central_differences():
    layer = Dropout(0.5, seed=3)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)))
    state = layer.rng.bit_generator.state

    def f(t):  # the same mask at every evaluation
        layer.rng.bit_generator.state = state
        return (layer(t) * t).sum()

    assert gradcheck(f, [x]) < 1e-7


# ----- train() and eval() ------------------------------------------------------------------

class _Holder(Module):
    def __init__(self):
        self.inner = [Dropout(0.5, seed=0), (BatchNorm1d(2),)]
        self.mlp = MLP(2, [3, 2], seed=0)

    def __call__(self, x):
        return x

    def parameters(self):
        return self.inner[1][0].parameters() + self.mlp.parameters()


def test_train_and_eval_reach_every_sub_module():
    model = Sequential(Conv2d(1, 2, 3, seed=0), BatchNorm2d(2), Dropout(0.1, seed=0), Flatten(),
                       Sequential(Linear(2, 2, seed=0), _Holder()))
    everything = [model, *model.layers, *model[4].layers, model[4][1].inner[0], model[4][1].inner[1][0],
                  model[4][1].mlp, *model[4][1].mlp.layers]
    assert all(m.training for m in everything)
    assert model.eval() is model
    assert not any(m.training for m in everything)
    model.train()
    assert all(m.training for m in everything)
    model.train(False)
    assert not any(m.training for m in everything)
    with pytest.raises(TypeError, match="True or False"):
        model.train("no")


def test_normalize_keeps_its_statistics():
    x = Tensor(np.array([[1.0], [3.0]]))
    node = normalize(x, 0)
    assert isinstance(node, Normalize)
    np.testing.assert_allclose(node.mean, [[2.0]])
    np.testing.assert_allclose(node.var, [[1.0]])
