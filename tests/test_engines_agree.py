"""The scalar engine (Values) and the tensor engine compute the same network, number for number."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import SGD, Tensor, Value, ValueMLP
from minigrad import from_scalar, to_scalar
from minigrad.tensor_nn import MLP, Layer

TOL = 1e-12
SCALAR_ACTS = ["relu", "tanh", "sigmoid", "linear"]


def scalar_outputs(smlp, X):
    """The scalar MLP's outputs for each row of X, as a list of lists of Values."""
    rows = []
    for x in X:
        out = smlp([Value(float(v)) for v in x])
        rows.append([out] if isinstance(out, Value) else out)
    return rows


def both_losses(model, smlp, X, T):
    """The same loss, mean over the batch of Σ_k (out_k - t_k)², in each engine."""
    tensor_loss = ((model(X) - T) ** 2).sum() / len(X)
    rows = scalar_outputs(smlp, X)
    scalar_loss = sum(sum((o - float(t)) ** 2 for o, t in zip(row, trow)) for row, trow in zip(rows, T))
    return tensor_loss, scalar_loss * (1.0 / len(X))


def assert_same_gradients(model, smlp):
    for tensor_layer, scalar_layer in zip(model.layers, smlp.layers):
        for j, neuron in enumerate(scalar_layer.neurons):
            np.testing.assert_allclose([w.grad for w in neuron.w], tensor_layer.W.grad[:, j], rtol=0, atol=TOL)
            assert abs(neuron.b.grad - tensor_layer.b.grad[j]) <= TOL


def check_agreement(model, X, T):
    smlp = to_scalar(model)
    # forward
    rows = scalar_outputs(smlp, X)
    np.testing.assert_allclose([[o.data for o in row] for row in rows], model(X).data, rtol=0, atol=TOL)
    # backward
    tensor_loss, scalar_loss = both_losses(model, smlp, X, T)
    assert abs(tensor_loss.item() - scalar_loss.data) <= TOL
    tensor_loss.backward()
    scalar_loss.backward()
    assert_same_gradients(model, smlp)


@pytest.mark.parametrize("act", SCALAR_ACTS)
@pytest.mark.parametrize("last", SCALAR_ACTS)
def test_forward_and_every_gradient_agree(act, last):
    model = MLP(3, [5, 4, 2], activation=act, last_activation=last, seed=4 * SCALAR_ACTS.index(act) + SCALAR_ACTS.index(last))
    for layer in model.layers:  # non-zero biases, so that their gradients are tested too
        layer.b.data[:] = np.random.default_rng(1).normal(size=layer.b.shape) * 0.3
    rng = np.random.default_rng(0)
    check_agreement(model, rng.normal(size=(7, 3)), rng.normal(size=(7, 2)))


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       acts=st.lists(st.sampled_from(SCALAR_ACTS), min_size=3, max_size=3),
       batch=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_agreement_for_random_architectures(sizes, acts, batch, seed):
    rng = np.random.default_rng(seed)
    layers = [Layer(sizes[i], sizes[i + 1], activation=acts[i % 3], seed=rng) for i in range(len(sizes) - 1)]
    for layer in layers:
        layer.b.data[:] = rng.normal(size=layer.b.shape) * 0.3
    model = MLP.from_layers(layers)
    check_agreement(model, rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[-1])))


def test_weight_layout_neuron_j_is_column_j():
    model = MLP(2, [3], last_activation="tanh", seed=0)
    smlp = to_scalar(model)
    W, b = model.layers[0].W.data, model.layers[0].b.data
    for j, neuron in enumerate(smlp.layers[0].neurons):
        assert [w.data for w in neuron.w] == W[:, j].tolist()
        assert neuron.b.data == b[j] and neuron.activation == "tanh"


def test_round_trip_is_exact():
    model = MLP(4, [6, 3], activation="sigmoid", last_activation="tanh", seed=2)
    back = from_scalar(to_scalar(model))
    assert back.activations == ["sigmoid", "tanh"]
    for p, q in zip(model.parameters(), back.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        assert p is not q


def test_from_scalar_of_a_scalar_mlp():
    smlp = ValueMLP(3, [4, 4, 1], act="tanh", seed=0)
    model = from_scalar(smlp)
    assert model.sizes == [3, 4, 4, 1] and model.activations == ["tanh", "tanh", "linear"]
    x = [0.5, -1.0, 2.0]
    assert abs(model(np.array(x)).data[0] - smlp([Value(v) for v in x]).data) <= TOL


def test_a_layer_converts_too():
    layer = Layer(3, 2, activation="relu", seed=5)
    smlp = to_scalar(layer)
    x = np.array([0.3, -0.2, 0.9])
    np.testing.assert_allclose([o.data for o in smlp(list(x))], layer(x).data, rtol=0, atol=TOL)


def test_what_cannot_be_converted():
    with pytest.raises(ValueError, match="no 'softmax' activation"):
        to_scalar(MLP(2, [3, 2], last_activation="softmax"))
    smlp = ValueMLP(2, [3, 1], seed=0)
    smlp.layers[0].neurons[0].activation = "tanh"
    with pytest.raises(ValueError, match="mixes activations"):
        from_scalar(smlp)


def test_training_steps_agree():
    """Five SGD steps with momentum, the same optimizer class driving floats and arrays."""
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    smlp = to_scalar(model)
    rng = np.random.default_rng(4)
    X, T = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    tensor_opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    scalar_opt = SGD(smlp.parameters(), lr=0.1, momentum=0.9)
    for _ in range(5):
        tensor_loss, scalar_loss = both_losses(model, smlp, X, T)
        tensor_opt.zero_grad()
        scalar_opt.zero_grad()
        tensor_loss.backward()
        scalar_loss.backward()
        tensor_opt.step()
        scalar_opt.step()
    back = from_scalar(smlp)
    for p, q in zip(model.parameters(), back.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=TOL)
    assert isinstance(model(X), Tensor)
