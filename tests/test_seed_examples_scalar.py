"""The usage examples of the scalar engine in the seed documents, run as written.

Only the import lines differ from the documents (they used other packages'
names); everything else is the documents' code, executed as is, and checked
against the numbers the documents give. Seed 002 calls its scalar class
``Tensor``, so it imports ``Value as Tensor``. Seed 003's digits demo runs
in full, in a fresh interpreter as a reader would run it.
"""
import math
import re
import subprocess
import sys
import textwrap

import pytest


def run_example(code, capsys):
    """Execute an example; return its namespace and what it printed."""
    namespace = {"__name__": "__example__"}
    exec(compile(textwrap.dedent(code), "<example>", "exec"), namespace)
    return namespace, capsys.readouterr().out


# ----- seed 002: a scalar engine called Tensor, with Neuron/Layer/MLP ---------------------

SEED_002_QUICK_START = """
    from minigrad import Value as Tensor
    from minigrad.value_nn import ValueMLP as MLP

    # Basic autograd
    x = Tensor(2.0)
    y = (x ** 2).relu()
    y.backward()
    print(f"dy/dx = {x.grad}")  # 4.0

    # Train a neural network
    model = MLP(3, [4, 4, 1])
"""

SEED_002_BASIC_OPERATIONS = """
    from minigrad import Value as Tensor

    # Create tensors
    a = Tensor(4)
    b = Tensor(3)
    c = Tensor(2)

    # Build computation graph
    d = a + b  # d = 7
    e = d * c  # e = 14

    # Compute gradients
    e.backward()

    print(f"a.grad: {a.grad}")  # 2 (de/da = c)
    print(f"b.grad: {b.grad}")  # 2 (de/db = c)
    print(f"c.grad: {c.grad}")  # 7 (de/dc = d)
"""

SEED_002_ADVANCED_OPERATIONS = """
    from minigrad import Value as Tensor

    # More complex computation graph
    x = Tensor(2.0)
    y = Tensor(3.0)

    # Using multiple operations
    z = (x ** 2 + y).relu()  # z = relu(4 + 3) = 7
    w = z.exp() / (z + 1)    # w = exp(7) / 8

    # Backpropagation
    w.backward()

    print(f"x.grad: {x.grad}")  # Gradient of w with respect to x
    print(f"y.grad: {y.grad}")  # Gradient of w with respect to y
"""

SEED_002_TRAINING = """
    from minigrad.value_nn import ValueMLP as MLP

    # Create a 3-layer neural network
    # Input: 3 features, Hidden layers: 4 neurons each, Output: 1 neuron
    model = MLP(3, [4, 4, 1])

    # Training data
    input_data = [
        [0.5, 0.5, 0.5],
        [0.5, 0.5, 1.0],
        [1.0, 0.5, 0.5],
        [1.0, 1.0, 1.0],
    ]
    desired_targets = [-1.0, 1.0, -1.0, 1.0]

    # Training loop
    lr = 0.01  # learning rate
    for iteration in range(100):
        # Zero gradients
        for p in model.parameters():
            p.grad = 0

        # Forward pass
        predictions = [model(x) for x in input_data]

        # Calculate loss (MSE)
        loss = sum((pred - target) ** 2 for pred, target in zip(predictions, desired_targets))

        # Backward pass
        loss.backward()

        # Update weights (gradient descent)
        for p in model.parameters():
            p.data -= lr * p.grad

        print(f"Iteration {iteration}: Loss = {loss.data:.6f}")
"""


def test_seed_002_quick_start(capsys, seeded_random):
    namespace, printed = run_example(SEED_002_QUICK_START, capsys)
    assert printed == "dy/dx = 4.0\n"
    assert len(namespace["model"].parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 1


def test_seed_002_basic_operations(capsys):
    _, printed = run_example(SEED_002_BASIC_OPERATIONS, capsys)
    grads = dict(re.findall(r"^(\w)\.grad: (\S+)$", printed, flags=re.M))
    assert {name: float(g) for name, g in grads.items()} == {"a": 2.0, "b": 2.0, "c": 7.0}


def test_seed_002_advanced_operations(capsys):
    namespace, printed = run_example(SEED_002_ADVANCED_OPERATIONS, capsys)
    assert namespace["z"].data == 7.0
    assert math.isclose(namespace["w"].data, math.exp(7) / 8, rel_tol=1e-15)
    # dw/dz = e^z/(z+1) - e^z/(z+1)² = 7 e^7 / 64; dz/dx = 2x = 4, dz/dy = 1
    grads = dict(re.findall(r"^(\w)\.grad: (\S+)$", printed, flags=re.M))
    assert math.isclose(float(grads["x"]), 4 * 7 * math.exp(7) / 64, rel_tol=1e-12)
    assert math.isclose(float(grads["y"]), 7 * math.exp(7) / 64, rel_tol=1e-12)


def test_seed_002_training_loop_reduces_the_loss(capsys, seeded_random):
    _, printed = run_example(SEED_002_TRAINING, capsys)
    losses = [float(v) for v in re.findall(r"^Iteration \d+: Loss = (\S+)$", printed, flags=re.M)]
    assert len(losses) == 100
    assert losses[-1] < losses[0] / 2
    assert max(losses[50:]) < losses[0]  # it wobbles (a step of 0.01 on relu units) but goes down
    assert sum(losses[-10:]) < sum(losses[:10]) / 2


# ----- seed 004: the scalar examples of a NumPy engine that also takes single numbers -------

SEED_004_BASIC_OPERATIONS = """
    from minigrad import Value

    # Works with scalars
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    print(f'{g.data:.4f}')  # prints 24.7041
    g.backward()
    print(f'{a.grad:.4f}')  # prints 138.8338, i.e. dg/da
    print(f'{b.grad:.4f}')  # prints 645.5773, i.e. dg/db
"""

SEED_004_VISUALIZATION = """
    from minigrad import Value
    from minigrad import draw_dot

    x = Value(2.0, name='x')
    y = Value(-3.0, name='y')
    z = x * y + x
    z.name = 'z'
    z.backward()

    # Create visualization
    graph = draw_dot(z)
    graph.render('computation_graph')  # Saves as SVG
"""


@pytest.mark.parametrize("engine", ["Value", "Tensor as Value"])
def test_seed_004_basic_operations(capsys, engine):
    # The document's Value is a NumPy engine that also takes single numbers: both of ours run it.
    code = SEED_004_BASIC_OPERATIONS.replace("from minigrad import Value", f"from minigrad import {engine}")
    _, printed = run_example(code, capsys)
    assert printed == "24.7041\n138.8338\n645.5773\n"


@pytest.mark.parametrize("engine", ["Value", "Tensor as Value"])
def test_seed_004_visualization(capsys, tmp_path, monkeypatch, dot_executable, engine):
    monkeypatch.chdir(tmp_path)
    code = SEED_004_VISUALIZATION.replace("from minigrad import Value", f"from minigrad import {engine}")
    namespace, _ = run_example(code, capsys)
    assert (namespace["x"].grad, namespace["y"].grad, namespace["z"].data) == (-2.0, 2.0, -4.0)
    svg = (tmp_path / "computation_graph.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    for text in (">x<", ">y<", ">z<", ">data &#45;4.0000<"):
        assert text in svg


# ----- seed 003: a Value engine trained on the 8x8 digits ----------------------------------

SEED_003_DIGITS = """
    from minigrad import datasets
    from minigrad.datasets import train_test_split
    import numpy as np

    # Import the minigrad engine
    from minigrad import Value
    from minigrad.value_nn import ValueMLP as MLP
    from minigrad.losses import cross_entropy_loss
    from minigrad.optim import SGD

    # 1. Load and prepare the dataset
    digits = datasets.load_digits()
    n_samples = len(digits.images)
    data = digits.images.reshape((n_samples, -1)) # Make the features into one-dim array
    n_features = data.shape[1]
    n_classes = 10
    X = digits.data / 16.0 # Normalize pixel values to [0, 1]
    y = digits.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)

    # 2. Initialize the Model and Optimizer
    model = MLP(n_features, [32, 16, n_classes], act = 'relu')
    optim = SGD(model.parameters(), lr=0.05)

    # 3. Training Loop
    epochs = 5
    for epoch in range(epochs):
        for i in range(len(X_train)):
            # Convert raw data to Value objects
            inputs = [Value(x) for x in X_train[i]]

            # Forward pass
            logits = model(inputs)
            loss = cross_entropy_loss(logits, [int(y_train[i])])

            # Backward pass and optimization step
            optim.zero_grad()
            loss.backward()
            optim.step()

        n_correct = 0
        for i in range(len(X_test)):
            inputs = [Value(x) for x in X_test[i]]

            ypred = model(inputs)
            index = np.argmax([y.data for y in ypred])

            n_correct += index == y_test[i]
        accuracy = n_correct / len(X_test)
        print(f"Epoch {epoch+1}, Accuracy: {accuracy*100:.2f}%")
"""


def test_seed_003_digits_demo_runs_as_written(tmp_path):
    # The whole demo, as the document has it: five epochs over 1,347 images (about a minute).
    # A fresh interpreter, as a reader runs it: inside this test process, with every other
    # test's objects alive, Python's garbage collector would triple its running time.
    script = tmp_path / "digits_demo.py"
    script.write_text("import random\nrandom.seed(12345)\n" + textwrap.dedent(SEED_003_DIGITS)
                      + "print('sizes', len(X_train), len(X_test))\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    printed = run.stdout
    assert "sizes 1347 450" in printed
    accuracies = [float(a) for a in re.findall(r"^Epoch \d, Accuracy: (\d+\.\d\d)%$", printed, re.M)]
    assert len(accuracies) == 5, printed
    assert accuracies[-1] > 80.0, printed  # chance is 10%
