"""Neuron, Layer and MLP over scalar Values: structure, outputs, gradients, errors, and micrograd's demo."""
import math
import random

import pytest

from minigrad import Value, gradcheck
from minigrad.autograd import topological_order
from minigrad.datasets import make_moons
from minigrad.value_nn import ACTIVATIONS, Neuron, ValueLayer as Layer, ValueMLP as MLP

ACT = {
    "relu": lambda z: max(z, 0.0),
    "tanh": math.tanh,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "linear": lambda z: z,
}


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_neuron_computes_act_of_w_dot_x_plus_b(act):
    neuron = Neuron(3, act=act, seed=random.Random(0))
    neuron.b.data = 0.25
    x = [0.5, -1.5, 2.0]
    expected = ACT[act](sum(w.data * xi for w, xi in zip(neuron.w, x)) + 0.25)
    out = neuron(x)
    assert isinstance(out, Value)
    assert math.isclose(out.data, expected, rel_tol=1e-15)
    assert neuron.parameters() == neuron.w + [neuron.b]
    assert all(-1 <= w.data <= 1 for w in neuron.w)


def test_neuron_gradients():
    neuron = Neuron(2, act="tanh", seed=random.Random(1))
    x = [Value(0.3), Value(-0.8)]
    out = neuron(x)
    out.backward()
    slope = 1 - out.data ** 2
    for w, xi in zip(neuron.w, x):
        assert math.isclose(w.grad, slope * xi.data, rel_tol=1e-14)
        assert math.isclose(xi.grad, slope * w.data, rel_tol=1e-14)
    assert math.isclose(neuron.b.grad, slope, rel_tol=1e-14)


def test_layer_outputs():
    layer = Layer(3, 4, act="relu", seed=random.Random(2))
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 4
    assert [o.data for o in out] == [n([1.0, 2.0, 3.0]).data for n in layer.neurons]
    assert isinstance(Layer(3, 1, seed=random.Random(2))([1.0, 2.0, 3.0]), Value)  # one output: no list
    assert len(layer.parameters()) == 4 * (3 + 1)


def test_mlp_structure_and_seed():
    model = MLP(2, [16, 16, 1], seed=7)
    assert len(model.parameters()) == model.num_parameters() == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 16
    assert model.layers[-1].neurons[0].activation == "linear"  # scores or logits, not squashed
    again = MLP(2, [16, 16, 1], seed=7)
    other = MLP(2, [16, 16, 1], seed=8)
    assert [p.data for p in model.parameters()] == [p.data for p in again.parameters()]
    assert [p.data for p in model.parameters()] != [p.data for p in other.parameters()]
    assert isinstance(model([0.1, 0.2]), Value)
    several = MLP(2, [3, 4], act="tanh", last_act="sigmoid", seed=0)([0.1, 0.2])
    assert len(several) == 4 and all(0 < o.data < 1 for o in several)


def test_zero_grad():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_one_node_per_scalar_operation():
    model = MLP(2, [3, 1], seed=0)
    out = model([Value(0.5), Value(-0.5)])
    nodes = topological_order(out)
    leaves = 2 + len(model.parameters())
    hidden = 3 * (2 + 2 + 1)  # per neuron: 2 products, 2 sums (onto b), 1 relu
    output = 1 * (3 + 3)  # 3 products, 3 sums, linear
    assert len(nodes) == leaves + hidden + output == 36
    ops = [n._op for n in nodes if n._op]
    assert ops.count("*") == 3 * 2 + 3 and ops.count("+") == 3 * 2 + 3 and ops.count("relu") == 3


def test_mlp_gradients_match_central_differences():
    """The network of the next test, without PyTorch: every parameter's gradient against differences."""
    model = MLP(3, [4, 4, 2], act="tanh", last_act="linear", seed=5)
    xs = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]]
    params = model.parameters()

    def loss(*ps):
        assert list(ps) == params  # gradcheck nudges these very Values
        return sum(sum(o * o for o in model(x)) for x in xs)
    assert gradcheck(loss, params) < 1e-7


def test_mlp_matches_pytorch(torch):
    """The same network in PyTorch, one scalar operation at a time in the same order."""
    model = MLP(3, [4, 4, 2], act="tanh", last_act="linear", seed=5)
    xs = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.7]]
    loss = sum(sum(o * o for o in model(x)) for x in xs)
    loss.backward()

    params = {id(p): torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in model.parameters()}

    def torch_forward(x):
        for layer in model.layers:
            outs = []
            for neuron in layer.neurons:
                total = params[id(neuron.b)]
                for w, xi in zip(neuron.w, x):
                    total = total + params[id(w)] * xi
                outs.append(total if neuron.activation == "linear" else getattr(total, neuron.activation)())
            x = outs
        return x

    loss_t = sum(sum(o * o for o in torch_forward(x)) for x in xs)
    loss_t.backward()
    assert math.isclose(loss.data, loss_t.item(), rel_tol=1e-12)
    for p in model.parameters():
        assert math.isclose(p.grad, params[id(p)].grad.item(), rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize("make, message", [
    (lambda: MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0]), r"this MLP takes 2 inputs, got 3"),
    (lambda: MLP(2, [3, 1], seed=0)([1.0]), r"this MLP takes 2 inputs, got 1"),
    (lambda: Neuron(2)([1.0]), r"this neuron takes 2 inputs, got 1"),
    (lambda: MLP(2, [3, 1], act="gelu"), r"unknown activation 'gelu'; choose one of relu, tanh, sigmoid, linear"),
    (lambda: MLP(2, [3, 1], last_act="softmax"), r"unknown activation 'softmax'"),
    (lambda: Neuron(2, act="ReLU"), r"unknown activation 'ReLU'"),
    (lambda: Layer(2, 3, activation=""), r"unknown activation ''"),
    (lambda: Layer(2, 3, activation="tanh", act="relu"), r"disagree"),
])
def test_bad_arguments_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.slow
def test_micrograd_demo_reaches_full_training_accuracy():
    """micrograd's demo: MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2, 100 moons points,
    100 steps of SGD with the learning rate going from 1.0 down to 0.1.

    Seeds: data seed 0 and model seed 0 (1 and 2 work too; 3 ends at 99%)."""
    X, y = make_moons(100, noise=0.1, seed=0)
    X, y = X.tolist(), [2.0 * label - 1.0 for label in y.tolist()]
    model = MLP(2, [16, 16, 1], seed=0)

    def loss_and_accuracy():
        scores = [model([Value(a), Value(b)]) for a, b in X]
        losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        accuracy = sum((s.data > 0) == (yi > 0) for s, yi in zip(scores, y)) / len(y)
        return data_loss + reg_loss, accuracy

    first_loss, first_accuracy = loss_and_accuracy()
    for k in range(100):
        loss, _ = loss_and_accuracy()
        model.zero_grad()
        loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    final_loss, final_accuracy = loss_and_accuracy()
    assert first_accuracy < 0.9
    assert final_accuracy == 1.0
    assert final_loss.data < first_loss.data / 10
