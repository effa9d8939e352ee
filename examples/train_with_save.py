"""Save a trained model, load it back, check it predicts the same, train it further.

    python examples/train_with_save.py [path/to/model.npz]

Without a path, the file goes to a temporary directory that is deleted at the
end. The file is one .npz archive: every weight and bias, the layer sizes and
each layer's activation (see minigrad.model_files).
"""
import os
import sys
import tempfile

import numpy as np

from minigrad import MLP, Adam, binary_cross_entropy, make_moons, no_grad


def train(model, X, y, steps, lr=0.02):
    optimizer = Adam(model.parameters(), lr=lr)
    for step in range(steps):
        loss = binary_cross_entropy(model(X), y.reshape(-1, 1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def accuracy(model, X, y):
    with no_grad():
        return np.mean((model(X).data[:, 0] > 0.5) == (y == 1))


def main(path):
    X, y = make_moons(n_samples=200, noise=0.15, seed=1)
    model = MLP(2, [16, 16, 1], last_activation="sigmoid", seed=1)
    loss = train(model, X, y, steps=100)
    print(f"trained 100 steps: loss {loss:.4f}, accuracy {100 * accuracy(model, X, y):.1f}%")

    written = model.save(path)  # adds .npz if the name lacks it
    print(f"saved to {written} ({os.path.getsize(written)} bytes)")

    loaded = MLP.load(written)
    print(f"loaded: {loaded}")
    same = np.array_equal(model(X).data, loaded(X).data)
    print(f"loaded model predicts identically: {same}")
    if not same:
        sys.exit("the loaded model's predictions differ")

    loss = train(loaded, X, y, steps=150)
    print(f"trained the loaded model 150 more steps: loss {loss:.4f}")
    print(f"final loss: {loss:.4f}")
    print(f"final accuracy: {100 * accuracy(loaded, X, y):.1f}%")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as directory:
            main(os.path.join(directory, "moons_model"))
