"""minigrad: a small deep-learning framework, built chapter by chapter in the course.

Two engines share one autograd core (:mod:`minigrad.autograd`): ``Value``, one
number per node (Part I, :mod:`minigrad.value` and :mod:`minigrad.value_nn`),
and ``Tensor``, one NumPy array per node (Part II, :mod:`minigrad.tensor` and
:mod:`minigrad.tensor_nn`). Losses, optimizers, gradient checks and drawings
serve both. Part III adds layers to the tensor engine, an idea per module:
convolution and pooling (:mod:`minigrad.tensor_conv`), normalisation and
dropout (:mod:`minigrad.tensor_norm`), embeddings
(:mod:`minigrad.tensor_embedding`) and attention
(:mod:`minigrad.tensor_attention`).
"""
from minigrad import datasets, model_files  # model_files makes Module.save and .load work
from minigrad.autograd import is_grad_enabled, no_grad
from minigrad.convert import from_scalar, to_scalar
from minigrad.datasets import (DataLoader, load_digits, load_names, make_circles, make_linear_regression,
                               make_moons, make_spirals, make_xor, train_test_split)
from minigrad.draw import draw_dot
from minigrad.gradcheck import gradcheck, numerical_gradients
from minigrad.losses import binary_cross_entropy, cross_entropy_loss, hinge_loss, mse_loss
from minigrad.module import Module, Sequential
from minigrad.optim import SGD, Adam
from minigrad.tensor import Tensor
from minigrad.tensor_attention import CausalSelfAttention, TransformerBlock, scaled_dot_product_attention
from minigrad.tensor_conv import Conv2d, Flatten, MaxPool2d, conv2d, max_pool2d
from minigrad.tensor_embedding import Embedding
from minigrad.tensor_nn import MLP, Layer, Linear
from minigrad.tensor_norm import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm, batch_norm, layer_norm
from minigrad.value import Value
from minigrad.value_nn import Neuron, ValueLayer, ValueMLP

__version__ = "0.1.0"
