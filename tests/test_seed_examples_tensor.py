"""The tensor-engine usage examples of the specification documents (seeds 000, 001, 004)
run as written, with only their import lines adapted, and the example scripts run.

Each snippet is kept exactly as its document shows it, apart from the import
line; where a document leaves a name undefined ("# ... training code ...",
``X_test``, ``inputs``), the test defines it beforehand. Snippets run in a
temporary directory, since some of them write files.
"""
import contextlib
import io
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from minigrad import MLP, Tensor
from minigrad import tensor_nn as nn

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_snippet(code, tmp_path, monkeypatch, **names):
    """Execute ``code`` in a fresh namespace (plus ``names``) inside ``tmp_path``; returns (namespace, stdout)."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__snippet__", **names}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(textwrap.dedent(code), "<seed snippet>", "exec"), namespace)
    return namespace, out.getvalue()


def numbers_after(label, text):
    return [float(x) for x in re.findall(label + r"\s*([-+0-9.eE]+)", text)]


# ----- seed 000 -----------------------------------------------------------------------

SEED_000_USAGE = """
import numpy as np
from minigrad import MLP, Tensor, make_moons

# Generate dataset (returns numpy arrays)
X, y = make_moons(n_samples=100, noise=0.1)

# Create model: 2 inputs -> 16 hidden -> 16 hidden -> 1 output
model = MLP(2, [16, 16, 1])

# Training loop with batch processing
learning_rate = 0.01
for step in range(200):
    # Forward pass (entire batch at once)
    X_tensor = Tensor(X)
    y_tensor = Tensor(y.reshape(-1, 1))

    ypred = model(X_tensor)

    # Mean squared error loss
    loss = ((ypred - y_tensor) ** 2).mean()

    # Zero gradients
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)

    # Backward pass
    loss.backward()

    # Update parameters (SGD)
    for p in model.parameters():
        p.data += -learning_rate * p.grad

    if step % 20 == 0:
        print(f"Step {step}: loss = {loss.data:.4f}")
"""


def test_seed_000_example_usage_trains(tmp_path, monkeypatch):
    nn.manual_seed(0)
    namespace, out = run_snippet(SEED_000_USAGE, tmp_path, monkeypatch)
    losses = numbers_after("loss =", out)
    assert len(losses) == 10
    assert losses[-1] < losses[0] and losses[-1] < 0.25
    assert namespace["ypred"].shape == (100, 1)


SEED_000_SAVE_LOAD = """
# Train a model
model = MLP(2, [16, 16, 1])
# ... training code ...

# Save the trained model
model.save('my_model.npz')

# Load the model later
loaded_model = MLP.load('my_model.npz')

# Use for predictions
predictions = loaded_model(Tensor(X_test))

# Or continue training from checkpoint
for step in range(100):
    # ... continue training ...
    pass
"""


def test_seed_000_saving_and_loading(tmp_path, monkeypatch):
    X_test = np.random.default_rng(0).normal(size=(7, 2))
    namespace, _ = run_snippet(SEED_000_SAVE_LOAD, tmp_path, monkeypatch, MLP=MLP, Tensor=Tensor, X_test=X_test)
    assert (tmp_path / "my_model.npz").exists()
    np.testing.assert_array_equal(namespace["predictions"].data, namespace["model"](Tensor(X_test)).data)


SEED_000_LAYER = """
# Forward: y = activation(x @ W + b)
layer = Layer(nin=10, nout=20, activation='relu')
output = layer(input_tensor)  # Handles batches automatically
"""

SEED_000_MLP = """
model = MLP(nin=784, nouts=[128, 64, 10], activation='relu')
predictions = model(inputs)  # (batch_size, 784) -> (batch_size, 10)
"""


def test_seed_000_001_layer_and_mlp(tmp_path, monkeypatch):
    from minigrad import Layer
    namespace, _ = run_snippet(SEED_000_LAYER, tmp_path, monkeypatch, Layer=Layer,
                               input_tensor=Tensor(np.ones((5, 10))))
    assert namespace["output"].shape == (5, 20) and np.all(namespace["output"].data >= 0)
    namespace, _ = run_snippet(SEED_000_MLP, tmp_path, monkeypatch, MLP=MLP,
                               inputs=Tensor(np.random.default_rng(0).uniform(size=(32, 784))))
    assert namespace["predictions"].shape == (32, 10)


# ----- seed 001 -------------------------------------------------------------------------

SEED_001_IMPORTS = """
from minigrad import Tensor, Layer, MLP, make_moons, make_circles, make_linear_regression, make_spirals
"""

SEED_001_LOOP = """
import numpy as np
from minigrad import MLP, Tensor, make_moons

X, y = make_moons(n_samples=100, noise=0.1)
model = MLP(2, [16, 16, 1])
learning_rate = 0.01

for step in range(200):
    # Forward pass (batch processing)
    X_tensor = Tensor(X)
    y_tensor = Tensor(y.reshape(-1, 1))
    ypred = model(X_tensor)

    # Mean squared error loss
    loss = ((ypred - y_tensor) ** 2).mean()

    # Zero gradients
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)

    # Backward pass
    loss.backward()

    # Update parameters (SGD)
    for p in model.parameters():
        p.data += -learning_rate * p.grad
"""

SEED_001_COMMON = """
from minigrad import MLP, Tensor, make_moons
import numpy as np

# Create dataset
X, y = make_moons(n_samples=40, noise=0.1)

# Initialize model
model = MLP(2, [8, 8, 1])  # 2 inputs -> 8 hidden -> 8 hidden -> 1 output

# Training loop
for step in range(200):
    # Wrap data in Tensors
    X_tensor = Tensor(X)
    y_tensor = Tensor(y.reshape(-1, 1))

    # Forward
    ypred = model(X_tensor)
    loss = ((ypred - y_tensor) ** 2).mean()

    # Zero gradients
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)

    # Backward
    loss.backward()

    # Update
    for p in model.parameters():
        p.data += -0.05 * p.grad
"""


def test_seed_001_imports(tmp_path, monkeypatch):
    namespace, _ = run_snippet(SEED_001_IMPORTS, tmp_path, monkeypatch)
    assert callable(namespace["make_spirals"]) and namespace["Layer"] is not None


@pytest.mark.parametrize("snippet, sizes", [(SEED_001_LOOP, [16, 16, 1]), (SEED_001_COMMON, [8, 8, 1])])
def test_seed_001_training_loops_decrease_the_loss(tmp_path, monkeypatch, snippet, sizes):
    nn.manual_seed(1)
    namespace, _ = run_snippet(snippet, tmp_path, monkeypatch)
    X, y = namespace["X"], namespace["y"]
    nn.manual_seed(1)  # the same initial weights as the snippet's model
    initial = MLP(2, sizes)
    first = ((initial(Tensor(X)) - Tensor(y.reshape(-1, 1))) ** 2).mean().item()
    final = ((namespace["model"](Tensor(X)) - Tensor(y.reshape(-1, 1))) ** 2).mean().item()
    assert final < first and final < 0.25


SEED_001_TENSOR_DATA = """
# Create tensor
x = Tensor([1.0, 2.0, 3.0])

# Access underlying NumPy array
print(x.data)  # numpy array [1. 2. 3.]

# Access gradient (after backward pass)
print(x.grad)  # numpy array [0. 0. 0.] initially

# Shape
print(x.shape)  # (3,)
"""

SEED_001_SHAPES = """
# Scalar (0-d tensor)
x = Tensor(5.0)
print(x.shape)  # ()

# Vector (1-d tensor)
x = Tensor([1.0, 2.0, 3.0])
print(x.shape)  # (3,)

# Matrix (2-d tensor)
x = Tensor([[1.0, 2.0], [3.0, 4.0]])
print(x.shape)  # (2, 2)

# Reshape
x = x.reshape(4, 1)  # (2, 2) -> (4, 1)

# Transpose
x_T = x.T  # (4, 1) -> (1, 4)
"""


def test_seed_001_accessing_tensor_data(tmp_path, monkeypatch):
    _, out = run_snippet(SEED_001_TENSOR_DATA, tmp_path, monkeypatch, Tensor=Tensor)
    assert out.split("\n")[:3] == ["[1. 2. 3.]", "[0. 0. 0.]", "(3,)"]


def test_seed_001_working_with_shapes(tmp_path, monkeypatch):
    namespace, out = run_snippet(SEED_001_SHAPES, tmp_path, monkeypatch, Tensor=Tensor)
    assert out.split("\n")[:3] == ["()", "(3,)", "(2, 2)"]
    assert namespace["x"].shape == (4, 1) and namespace["x_T"].shape == (1, 4)


SEED_001_SAVE_LOAD = """
# After training a model
model = MLP(2, [16, 16, 1])
# ... train model ...

# Save to disk
model.save('my_model.npz')  # .npz extension is optional

# Load later
loaded_model = MLP.load('my_model.npz')

# Use for inference
predictions = loaded_model(Tensor(X_test))

# Continue training from checkpoint
for step in range(100):
    # ... training loop ...
    if step % 50 == 0:
        loaded_model.save(f'checkpoint_{step}.npz')
"""


def test_seed_001_saving_and_loading(tmp_path, monkeypatch):
    X_test = np.random.default_rng(1).normal(size=(5, 2))
    namespace, _ = run_snippet(SEED_001_SAVE_LOAD, tmp_path, monkeypatch, MLP=MLP, Tensor=Tensor, X_test=X_test)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint_0.npz", "checkpoint_50.npz", "my_model.npz"]
    assert namespace["predictions"].shape == (5, 1)
    namespace["model"].save("no_extension")
    assert (tmp_path / "no_extension.npz").exists()


# ----- seed 004, with `from micrograd.engine import Value` -> `from minigrad import Tensor as Value` -----

# Seed 004's scalar example runs on both engines in test_seed_examples_scalar.py.

SEED_004_MATRIX = """
from minigrad import Tensor as Value
import numpy as np

# Matrix multiplication
A = Value([[1, 2], [3, 4]])
B = Value([[5, 6], [7, 8]])
C = A @ B
print(C.data)  # Matrix product

# Broadcasting works automatically
x = Value([[1, 2, 3], [4, 5, 6]])  # 2x3 matrix
b = Value([1, 0, -1])               # 1x3 vector (broadcasts)
y = x + b                           # Element-wise addition with broadcasting
"""


def test_seed_004_matrix_operations(tmp_path, monkeypatch):
    namespace, _ = run_snippet(SEED_004_MATRIX, tmp_path, monkeypatch)
    np.testing.assert_array_equal(namespace["C"].data, [[19, 22], [43, 50]])
    np.testing.assert_array_equal(namespace["y"].data, [[2, 2, 2], [5, 5, 5]])
    namespace["y"].sum().backward()
    np.testing.assert_array_equal(namespace["b"].grad, [2, 2, 2])  # summed over the broadcast rows


SEED_004_TRAINING = """
from minigrad import MLP
from minigrad import Tensor as Value
import numpy as np

# Create a 3-layer network: 3 inputs → 16 hidden → 16 hidden → 1 output
model = MLP(nin=3, nouts=[16, 16, 1])

# Prepare data (batch processing supported!)
X_train = np.array([[1, 2, 3], [4, 5, 6]])  # 2 samples, 3 features
y_train = np.array([[1.0], [2.0]])           # 2 targets

# Training loop
learning_rate = 0.01
for epoch in range(100):
    # Forward pass
    X = Value(X_train)
    y = Value(y_train)
    predictions = model(X)

    # Compute loss
    loss = predictions.mse(y)

    # Backward pass
    model.zero_grad()      # Reset gradients
    loss.backward()        # Compute gradients

    # Update parameters (SGD)
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if epoch % 10 == 0:
        print(f"Epoch {epoch}, Loss: {loss.data:.4f}")
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seed_004_training_a_neural_network(tmp_path, monkeypatch, seed):
    nn.manual_seed(seed)
    namespace, out = run_snippet(SEED_004_TRAINING, tmp_path, monkeypatch)
    losses = numbers_after("Loss:", out)
    assert len(losses) == 10 and losses[-1] < 0.5 * losses[0]
    assert namespace["loss"].item() < losses[0]


# Seed 004's drawing example runs on both engines in test_seed_examples_scalar.py.


def test_seed_004_supported_operations():
    from minigrad import Tensor as Value
    x = Value([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    assert x.relu().data.min() == 0 and np.all((x.sigmoid().data > 0) & (x.sigmoid().data < 1))
    np.testing.assert_allclose(x.softmax(axis=1).data.sum(axis=1), 1.0)
    assert x.sum(axis=0, keepdims=True).shape == (1, 3) and x.mean(axis=1).shape == (2,)
    assert x.T.shape == (3, 2) and x.mse(Value(np.zeros((2, 3)))).item() == pytest.approx(91 / 6)


# ----- the example scripts (seed 000's examples/ directory) ---------------------------------

def run_example(name, *args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def final(metric, out):
    values = numbers_after(f"final {metric}:", out)
    assert values, f"no 'final {metric}' line in:\n{out}"
    return values[-1]


@pytest.fixture
def repo_npz_files():
    """The .npz files of the repository before the test; the examples must add none."""
    def snapshot():
        return {p for p in ROOT.rglob("*.npz") if ".venv" not in p.parts and "_build" not in p.parts}
    before = snapshot()
    yield
    assert snapshot() == before


@pytest.mark.parametrize("name, metric, bound", [
    ("train_xor.py", "accuracy", 100.0),
    ("train_classification.py", "accuracy", 95.0),
    ("train_with_save.py", "accuracy", 95.0),
    ("train_long.py", "accuracy", 90.0),
])
def test_example_reaches_a_good_accuracy(tmp_path, repo_npz_files, name, metric, bound):
    out = run_example(name, cwd=tmp_path)
    assert final(metric, out) >= bound
    assert os.listdir(tmp_path) == []  # nothing left behind: files went to a temporary directory


def test_regression_example_recovers_the_coefficients(tmp_path, repo_npz_files):
    out = run_example("train_regression.py", cwd=tmp_path)
    assert final("loss", out) < 0.02
    true = np.array(re.search(r"true coefficients:\s*\[([^\]]*)\]", out).group(1).split(), dtype=float)
    learned = np.array(re.search(r"learned coefficients:\s*\[([^\]]*)\]", out).group(1).split(), dtype=float)
    np.testing.assert_allclose(learned, true, atol=0.1)


def test_save_example_writes_where_it_is_told(tmp_path, repo_npz_files):
    out = run_example("train_with_save.py", tmp_path / "moons", cwd=tmp_path)
    assert "predicts identically: True" in out
    assert os.listdir(tmp_path) == ["moons.npz"]
    assert MLP.load(tmp_path / "moons.npz").sizes == [2, 16, 16, 1]


def test_long_example_resumes_from_its_checkpoint(tmp_path, repo_npz_files):
    first = run_example("train_long.py", tmp_path / "run", "--epochs", 60, "--stop-after", 30, cwd=tmp_path)
    assert "stopped at epoch 30" in first and "final accuracy" not in first
    assert os.listdir(tmp_path / "run") == ["checkpoint.npz"]
    resumed = run_example("train_long.py", tmp_path / "run", "--epochs", 60, cwd=tmp_path)
    assert "resumed from" in resumed and "at epoch 30" in resumed
    straight = run_example("train_long.py", tmp_path / "straight", "--epochs", 60, cwd=tmp_path)
    assert final("loss", resumed) == final("loss", straight)  # exactly as if never stopped
    assert final("accuracy", resumed) == final("accuracy", straight) >= 80.0
