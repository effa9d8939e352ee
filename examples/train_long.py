"""A longer run with checkpoints: 5-class spirals, resumable at any checkpoint.

    python examples/train_long.py                      # demo in a temporary directory
    python examples/train_long.py DIR [--epochs N] [--stop-after N]

Every few epochs the model, the Adam optimizer's state (m, v and the step
count t), the epoch number and the loss history go into DIR/checkpoint.npz.
Run the script again with the same DIR and it continues from there exactly as
if it had never stopped: the same mini-batches (the DataLoader's order depends
only on its seed and the epoch number), the same updates, the same numbers.

Without DIR, the script shows this on its own: it stops half way, as if
interrupted, then resumes from the checkpoint in a temporary directory.
"""
import argparse
import os
import tempfile

import numpy as np

from minigrad import MLP, Adam, DataLoader, cross_entropy_loss, make_spirals, no_grad
from minigrad.model_files import load_checkpoint, save_checkpoint

CHECKPOINT_EVERY = 50  # epochs


def accuracy(model, X, y):
    with no_grad():
        return np.mean(np.argmax(model(X).data, axis=1) == y)


def run(directory, epochs, stop_after=None):
    for name, value in (("epochs", epochs), ("stop_after", stop_after)):
        if value is not None and (type(value) is not int or value < 1):
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    X, y = make_spirals(n_samples=500, n_classes=5, noise=0.03, rotations=1.0, seed=0)
    loader = DataLoader(X, y, batch_size=50, seed=0)
    model = MLP(2, [64, 64, 5], activation="relu", seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    history = []

    path = os.path.join(directory, "checkpoint.npz")
    if os.path.exists(path):
        info = load_checkpoint(path, model, optimizer).info  # weights and Adam state, in place
        loader.epoch, history = info["epoch"], info["history"]
        print(f"resumed from {path} at epoch {loader.epoch}")

    last = epochs if stop_after is None else min(epochs, stop_after)
    while loader.epoch < last:
        losses = []
        for xb, yb in loader:  # loader.epoch counts the epochs started
            loss = cross_entropy_loss(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
        if loader.epoch % CHECKPOINT_EVERY == 0 or loader.epoch == last:
            save_checkpoint(model, optimizer, path, epoch=loader.epoch, history=history)
            print(f"epoch {loader.epoch:3d}  mean loss {history[-1]:.4f}  "
                  f"accuracy {100 * accuracy(model, X, y):5.1f}%  (checkpoint saved)")

    if loader.epoch < epochs:
        print(f"stopped at epoch {loader.epoch} of {epochs}; run again with the same directory to resume")
        return None
    print(f"final loss: {history[-1]:.4f}")
    print(f"final accuracy: {100 * accuracy(model, X, y):.1f}%")
    return model


def positive_int(text):
    """``text`` as a whole number of at least 1, else an argparse error saying so."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number (at least 1), got {value}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", help="where to keep checkpoint.npz (default: a temporary demo)")
    parser.add_argument("--epochs", type=positive_int, default=300, help="train until this epoch (default 300)")
    parser.add_argument("--stop-after", type=positive_int, default=None,
                        help="stop after this many epochs, as if interrupted")
    args = parser.parse_args(argv)
    if args.directory:
        os.makedirs(args.directory, exist_ok=True)
        run(args.directory, args.epochs, args.stop_after)
        return
    with tempfile.TemporaryDirectory() as directory:
        half = args.stop_after or max(1, args.epochs // 2)
        print(f"--- first run: training, stopping at epoch {half} as if interrupted")
        run(directory, args.epochs, stop_after=half)
        print("--- second run: fresh objects, resuming from the checkpoint")
        run(directory, args.epochs)


if __name__ == "__main__":
    main()
