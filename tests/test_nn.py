"""minigrad.tensor_nn: layers and MLPs of Tensors."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck
from minigrad import tensor_nn as nn
from minigrad.module import Module
from minigrad.tensor_nn import MLP, Layer, Linear


def test_exports():
    assert minigrad.MLP is nn.MLP and minigrad.Layer is nn.Layer and minigrad.Linear is nn.Linear
    assert nn.Module is Module
    assert issubclass(Layer, Module) and issubclass(MLP, Module) and issubclass(Linear, Layer)


def test_layer_shapes_for_a_batch_and_for_one_input():
    layer = Layer(nin=10, nout=20, activation="relu", seed=0)
    assert layer.W.shape == (10, 20) and layer.b.shape == (20,)
    assert layer.parameters() == [layer.W, layer.b]
    assert layer(Tensor(np.ones((5, 10)))).shape == (5, 20)
    assert layer(np.ones(10)).shape == (20,)
    assert layer.nin == 10 and layer.nout == 20


def test_mlp_shapes_and_parameter_count():
    model = MLP(nin=784, nouts=[128, 64, 10], activation="relu", seed=0)
    assert model(np.zeros((3, 784))).shape == (3, 10)
    assert [p.shape for p in model.parameters()] == [(784, 128), (128,), (128, 64), (64,), (64, 10), (10,)]
    assert MLP(2, [16, 16, 1]).num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert model.sizes == [784, 128, 64, 10]
    assert model.activations == ["relu", "relu", "linear"]


@pytest.mark.parametrize("activation, f", [
    ("relu", lambda z: np.maximum(z, 0)),
    ("tanh", np.tanh),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("linear", lambda z: z),
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)),
])
def test_layer_computes_activation_of_xW_plus_b(activation, f):
    layer = Layer(4, 3, activation=activation, seed=1)
    layer.b.data[:] = [0.5, -0.25, 1.0]
    x = np.random.default_rng(2).normal(size=(6, 4))
    np.testing.assert_allclose(layer(x).data, f(x @ layer.W.data + layer.b.data), rtol=1e-12, atol=1e-15)


def test_mlp_last_layer_is_linear_by_default():
    model = MLP(2, [8, 3], seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "linear"]
    out = model(np.random.default_rng(0).normal(size=(200, 2))).data
    assert out.min() < 0  # a relu could not output that
    assert MLP(2, [8, 3], activation="tanh", last_activation="softmax").activations == ["tanh", "softmax"]


def test_linear_is_an_affine_map():
    lin = Linear(3, 2, seed=0)
    assert lin.activation == "linear"
    x = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(lin(x).data, x @ lin.W.data + lin.b.data)


@pytest.mark.parametrize("activation, std", [
    ("relu", np.sqrt(2 / 400)),            # He
    ("tanh", np.sqrt(2 / (400 + 300))),    # Xavier / Glorot
    ("sigmoid", np.sqrt(2 / (400 + 300))),
    ("linear", np.sqrt(2 / (400 + 300))),
])
def test_initialisation_statistics(activation, std):
    layer = Layer(400, 300, activation=activation, seed=3)
    W = layer.W.data
    assert abs(W.std() / std - 1) < 0.01
    assert abs(W.mean()) < 3 * std / np.sqrt(W.size)
    assert np.all(layer.b.data == 0)
    assert nn.init_std(400, 300, activation) == pytest.approx(std)


def test_he_initialisation_keeps_the_signal_alive_through_depth():
    model = MLP(256, [256] * 10 + [1], seed=0)
    x = np.random.default_rng(1).normal(size=(500, 256))
    h = Tensor(x, requires_grad=False)
    for layer in model.layers[:-1]:
        h = layer(h)
    second_moment = (h.data ** 2).mean()
    assert 0.3 < second_moment < 3  # it neither vanished nor exploded


def test_seeded_initialisation_is_reproducible():
    a, b, c = MLP(3, [5, 2], seed=42), MLP(3, [5, 2], seed=42), MLP(3, [5, 2], seed=43)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a.layers[0].W.data, c.layers[0].W.data)
    assert not np.array_equal(a.layers[0].W.data, a.layers[1].W.data[:3])  # layers draw different numbers
    g = np.random.default_rng(7)
    l1 = Layer(2, 2, seed=g)
    l2 = Layer(2, 2, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(l1.W.data, l2.W.data)


def test_default_generator_and_manual_seed():
    nn.manual_seed(5)
    a = MLP(3, [4, 1])
    nn.manual_seed(5)
    b = MLP(3, [4, 1])
    c = MLP(3, [4, 1])
    np.testing.assert_array_equal(a.layers[0].W.data, b.layers[0].W.data)
    assert not np.array_equal(b.layers[0].W.data, c.layers[0].W.data)


def test_wrong_width_names_both_widths():
    model = MLP(3, [4, 1], seed=0)
    with pytest.raises(ValueError, match=r"width 3.*width 5"):
        model(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"width 10.*width 4"):
        Layer(10, 2)(Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="single number"):
        model(3.0)


def test_arrays_become_constant_tensors_in_the_model_dtype():
    model = MLP(3, [4, 1], seed=0)
    out = model(np.array([[1, 2, 3], [4, 5, 6]]))  # integers, as in a seed example
    assert out.dtype == np.float64 and out.requires_grad
    out.sum().backward()
    assert all(np.any(p.grad != 0) for p in model.parameters()[:1])
    small = MLP(3, [4, 1], seed=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in small.parameters())
    assert small(np.ones((2, 3))).dtype == np.float32
    x = Tensor(np.ones((2, 3)))  # a Tensor input is used as it is and gets a gradient
    model(x).sum().backward()
    assert x.grad.shape == (2, 3) and np.any(x.grad != 0)


def test_zero_grad_and_the_manual_update_of_the_seeds():
    model = MLP(nin=3, nouts=[16, 16, 1], seed=0)
    loss = model(np.ones((2, 3))).mse(Tensor([[1.0], [2.0]]))
    loss.backward()
    assert any(np.any(p.grad != 0) for p in model.parameters())
    model.zero_grad()
    assert all(np.all(p.grad == 0) and p.grad.shape == p.shape for p in model.parameters())
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)
    W = model.layers[0].W
    before = W.data.copy()
    W.grad = np.ones_like(W.data)
    W.data -= 0.1 * W.grad
    np.testing.assert_allclose(W.data, before - 0.1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax"])
def test_gradients_match_finite_differences(activation):
    model = MLP(3, [5, 4], activation="tanh", last_activation=activation, seed=4)
    x = Tensor(np.random.default_rng(5).normal(size=(6, 3)), requires_grad=False)
    target = np.random.default_rng(6).normal(size=(6, 4))

    def f(*params):
        return ((model(x) - target) ** 2).mean()

    assert gradcheck(f, model.parameters()) < 1e-7


def test_from_layers_checks_the_widths():
    model = MLP.from_layers([Layer(2, 3, seed=0), Layer(3, 1, activation="sigmoid", seed=1)])
    assert model.sizes == [2, 3, 1]
    with pytest.raises(ValueError, match="layer 1 takes inputs of width 4"):
        MLP.from_layers([Layer(2, 3), Layer(4, 1)])
    with pytest.raises(ValueError, match="at least one layer"):
        MLP.from_layers([])


@pytest.mark.parametrize("call, message", [
    (lambda: Layer(0, 3), "nin"),
    (lambda: Layer(2, 2.5), "nout"),
    (lambda: Layer(2, 3, activation="gelu"), "unknown activation 'gelu'"),
    (lambda: MLP(2, 5), "list of layer sizes"),
    (lambda: MLP(2, []), "at least one"),
    (lambda: MLP(2, [3, 0]), "nouts"),
    (lambda: MLP(2, [3], activation="swish"), "swish"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_parameters_of_an_integer_dtype_are_refused():
    with pytest.raises(TypeError, match="float64 or float32 numbers, not int64"):
        Layer(2, 3, dtype=np.int64)


def test_repr():
    assert repr(Layer(2, 3, activation="tanh")) == "Layer(nin=2, nout=3, activation='tanh')"
    assert repr(Linear(2, 3)) == "Linear(nin=2, nout=3)"
    assert repr(MLP(2, [3, 1])) == "MLP(2, [3, 1], activations=['relu', 'linear'])"


def test_an_mlp_learns_moons():
    X, y = minigrad.make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    opt = minigrad.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        loss = model(X).mse(Tensor(y.reshape(-1, 1) * 2.0 - 1.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = ((model(X).data[:, 0] > 0) == (y == 1)).mean()
    assert accuracy > 0.95
