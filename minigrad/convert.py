"""Copying a network from one engine to the other, so that the two can be compared.

Neuron j of scalar layer l holds ``w[i] = W[i, j]`` and ``b = b[j]`` of tensor
layer l: a tensor layer's weight matrix has one column per neuron.
"""
import numpy as np

from minigrad import tensor_nn, value_nn


def to_scalar(model):
    """A :class:`minigrad.value_nn.ValueMLP` with the same weights as ``model`` (a tensor MLP or Layer).

    The scalar engine has no softmax, so softmax layers cannot be converted.
    """
    layers = model.layers if isinstance(model, tensor_nn.MLP) else [model]
    for layer in layers:
        if layer.activation not in value_nn.ACTIVATIONS:
            raise ValueError(f"the scalar engine has no {layer.activation!r} activation; "
                             f"it has {', '.join(value_nn.ACTIVATIONS)}")
    sizes = [layers[0].nin] + [layer.nout for layer in layers]
    copy = value_nn.ValueMLP(sizes[0], sizes[1:], activation=layers[0].activation,
                             last_activation=layers[-1].activation, seed=0)
    for layer, scalar_layer in zip(layers, copy.layers):
        W, b = layer.W.data, layer.b.data
        for j, neuron in enumerate(scalar_layer.neurons):
            neuron.activation = layer.activation
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])
    return copy


def from_scalar(scalar_model, dtype=np.float64):
    """A tensor :class:`minigrad.tensor_nn.MLP` with the same weights as a ``ValueMLP``.

    Column j of each ``W`` (and entry j of ``b``) comes from neuron j of the
    corresponding scalar layer, whose neurons must share one activation.
    """
    layers = []
    for index, scalar_layer in enumerate(scalar_model.layers):
        neurons = scalar_layer.neurons
        activations = {n.activation for n in neurons}
        if len(activations) != 1:
            raise ValueError(f"layer {index} mixes activations {sorted(activations)}; a tensor layer has one")
        W = np.array([[w.data for w in n.w] for n in neurons], dtype=dtype).T
        b = np.array([n.b.data for n in neurons], dtype=dtype)
        layers.append(tensor_nn.Layer._from_arrays(W, b, activations.pop()))
    return tensor_nn.MLP.from_layers(layers)
