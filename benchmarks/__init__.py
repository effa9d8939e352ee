"""Benchmarks of minigrad's two engines, each against a reference run in the same process.

* :mod:`benchmarks.scalar`: the scalar ``Value`` engine against micrograd,
  on one training step of micrograd's own demo network.
* :mod:`benchmarks.tensor`: the ``Tensor`` engine against NumPy written
  by hand and against PyTorch.

Run them with ``python -m benchmarks scalar|tensor|all``. They are not tests:
speed is only ever reported as a ratio to a baseline timed alongside, because
absolute times depend on the machine and on whatever else it is doing.
"""
