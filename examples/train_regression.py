"""Linear regression: recover the coefficients that made the data.

    python examples/train_regression.py

The data are y = X·w + bias + noise for known w and bias. A single Linear
layer (y = x @ W + b) trained by plain gradient descent on the mean squared
error should find W close to w and b close to the bias.
"""
import numpy as np

from minigrad import SGD, Linear, make_linear_regression, mse_loss

X, y, true_w = make_linear_regression(n_samples=50, n_features=3, noise=0.1, coef=True, bias=0.5, seed=0)

model = Linear(3, 1, seed=0)
optimizer = SGD(model.parameters(), lr=0.1)

for step in range(201):
    loss = mse_loss(model(X), y.reshape(-1, 1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 40 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}")

np.set_printoptions(precision=3, suppress=True)
print(f"true coefficients:    {true_w}   bias 0.5")
print(f"learned coefficients: {model.W.data[:, 0]}   bias {model.b.data[0]:.3f}")
print(f"final loss: {mse_loss(model(X), y.reshape(-1, 1)).item():.5f} (noise variance 0.01)")
