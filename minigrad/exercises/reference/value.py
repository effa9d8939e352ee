"""Your own scalar engine, written in the exercises of Part I.

Each block below is one exercise's answer, kept when its checker passed
(or, marked "the course's solution", filled in by a chapter's catch-up
cell for an exercise you skipped). Read it top to bottom: a Value that
records how it was made, one class per operation with its derivative rule,
backward() adding the rules' gradients in topological order, neurons,
layers and MLPs, an optimizer and a training loop.
"""
import math
import random


# chapter 2, exercise 2: a Value that records its inputs; -, ** and /
class Value:
    def __init__(self, data, _children=(), _op="", name=""):
        self.data = data
        self.grad = 0.0                 # d(result)/d(this value): not known
        self.name = name                # a label for printouts and drawings
        self._prev = tuple(_children)   # the Values it was computed from
        self._op = _op                  # the operation that computed it

    def __add__(self, other):
        return Value(self.data + other.data, (self, other), "+")

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), "*")

    def __repr__(self):
        return (f"Value(data={self.data:.6g}, grad={self.grad:.6g}, "
                f"name={self.name!r})")


def sub(self, other):
    return Value(self.data - other.data, (self, other), "-")

def power(self, k):
    return Value(self.data ** k, (self,), f"**{k}")

def div(self, other):
    return self * other ** -1

Value.__sub__ = sub
Value.__pow__ = power
Value.__truediv__ = div


# chapter 2, exercise 3: the sigmoid, forward
def sigmoid(self):
    return Value(1 / (1 + math.exp(-self.data)), (self,), "sigmoid")

Value.sigmoid = sigmoid
