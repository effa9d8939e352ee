"""Binary classification: two interleaving moons.

    python examples/train_classification.py

An MLP with two hidden layers of 16 ReLU units and a sigmoid output learns to
tell the moons apart, trained with Adam on the binary cross-entropy. A quarter
of the points are held out to measure accuracy on data the model never saw.
"""
import numpy as np

from minigrad import MLP, Adam, binary_cross_entropy, make_moons, no_grad, train_test_split

X, y = make_moons(n_samples=200, noise=0.1, seed=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

model = MLP(2, [16, 16, 1], activation="relu", last_activation="sigmoid", seed=0)
optimizer = Adam(model.parameters(), lr=0.02)


def accuracy(X, y):
    with no_grad():  # evaluation: no graph needed
        return np.mean((model(X).data[:, 0] > 0.5) == (y == 1))


for step in range(301):
    probabilities = model(X_train)
    loss = binary_cross_entropy(probabilities, y_train.reshape(-1, 1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}  train accuracy {100 * accuracy(X_train, y_train):5.1f}%")

print(f"final loss: {loss.item():.4f}")
print(f"final accuracy: {100 * accuracy(X_test, y_test):.1f}% on {len(y_test)} held-out points")
