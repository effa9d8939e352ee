"""Learn XOR, the smallest problem that no straight line can solve.

    python examples/train_xor.py

A network with one hidden layer of 8 tanh units learns the four rows of the
truth table with full-batch gradient descent on the mean squared error,
written out by hand: forward, zero the gradients, backward, update.
"""
import numpy as np

from minigrad import MLP, Tensor

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([0.0, 1.0, 1.0, 0.0])

model = MLP(2, [8, 1], activation="tanh", last_activation="sigmoid", seed=0)
learning_rate = 1.0

for step in range(1001):
    predictions = model(X)                          # shape (4, 1): all four rows at once
    loss = ((predictions - Tensor(y.reshape(-1, 1))) ** 2).mean()

    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if step % 200 == 0:
        print(f"step {step:4d}  loss {loss.item():.5f}")

predictions = model(X).data[:, 0]
print("\n x1 x2 | target  prediction")
for (x1, x2), target, p in zip(X, y, predictions):
    print(f"  {x1:.0f}  {x2:.0f} |   {target:.0f}       {p:.3f}")
accuracy = np.mean((predictions > 0.5) == (y == 1))
print(f"final loss: {loss.item():.5f}")
print(f"final accuracy: {100 * accuracy:.1f}%")
