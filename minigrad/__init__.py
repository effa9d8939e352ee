"""minigrad: a small deep-learning framework, built chapter by chapter in the course.

Two engines share one autograd core: ``Value`` (one number per node, Part I)
and ``Tensor`` (a NumPy array per node, Part II).
"""
from minigrad import datasets
from minigrad.autograd import is_grad_enabled, no_grad
from minigrad.datasets import (DataLoader, load_digits, make_circles, make_linear_regression, make_moons,
                               make_spirals, make_xor, train_test_split)
from minigrad.draw import draw_dot
from minigrad.gradcheck import gradcheck, numerical_gradients
from minigrad.losses import binary_cross_entropy, cross_entropy_loss, hinge_loss, mse_loss
from minigrad.module import Module
from minigrad.nn import MLP, Layer, Linear
from minigrad.optim import SGD, Adam
from minigrad.tensor import Tensor
from minigrad.value import Value

__version__ = "0.1.0"
