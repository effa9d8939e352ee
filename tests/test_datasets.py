"""The datasets: shapes, dtypes, determinism, balance, the shipped digits, splitting, batching."""
import numpy as np
import pytest

import minigrad
from minigrad import datasets
from minigrad.datasets import (DataLoader, load_digits, make_circles, make_linear_regression, make_moons,
                               make_spirals, make_xor, train_test_split)

CLASSIFICATION = {
    "moons": lambda n, seed: make_moons(n, noise=0.1, seed=seed),
    "circles": lambda n, seed: make_circles(n, noise=0.05, factor=0.5, seed=seed),
    "spirals": lambda n, seed: make_spirals(n, n_classes=3, noise=0.1, seed=seed),
    "xor": lambda n, seed: make_xor(n, noise=0.1, seed=seed),
}
N_CLASSES = {"moons": 2, "circles": 2, "spirals": 3, "xor": 2}


def test_top_level_exports():
    for name in ["make_moons", "make_circles", "make_linear_regression", "make_spirals", "make_xor",
                 "load_digits", "train_test_split", "DataLoader"]:
        assert getattr(minigrad, name) is getattr(datasets, name)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [12, 101])
def test_classification_shapes_dtypes_balance(name, n):
    X, y = CLASSIFICATION[name](n, 0)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=N_CLASSES[name])
    assert len(counts) == N_CLASSES[name]
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = CLASSIFICATION[name](50, 7)
    X2, y2 = CLASSIFICATION[name](50, 7)
    X3, _ = CLASSIFICATION[name](50, 8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_rows_are_shuffled(name):
    _, y = CLASSIFICATION[name](60, 0)
    assert not np.all(np.diff(y) >= 0)


def test_make_moons_noiseless_points_lie_on_the_arcs():
    X, y = make_moons(40, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)


def test_make_circles_radii():
    X, y = make_circles(100, noise=0.0, factor=0.3, seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)


def test_make_spirals_noiseless_arms():
    X, y = make_spirals(50, n_classes=5, noise=0.0, rotations=1.5, seed=2)
    assert set(y) == set(range(5)) and np.all(np.bincount(y) == 10)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() == 0.0 and np.isclose(r.max(), 1.0)
    # on arm k, the angle is 2π·rotations·r + 2πk/5 (mod 2π)
    theta = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * 1.5 * r + 2 * np.pi * y / 5
    diff = np.angle(np.exp(1j * (theta - expected)))
    assert np.all(np.abs(diff[r > 0]) < 1e-9)


def test_make_xor_truth_table():
    X, y = make_xor(4, noise=0.0, seed=3)
    table = {tuple(row): label for row, label in zip(X.astype(int).tolist(), y.tolist())}
    assert table == {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}


def test_make_linear_regression_random_coef_returned_when_asked():
    X, y, w = make_linear_regression(200, n_features=3, noise=0.0, coef=True, seed=0)
    assert X.shape == (200, 3) and y.shape == (200,) and w.shape == (3,)
    assert X.dtype == y.dtype == w.dtype == np.float64
    np.testing.assert_allclose(y, X @ w)
    assert np.all(np.abs(w) <= 2)
    # coef=None draws the same coefficients and returns only X, y
    X2, y2 = make_linear_regression(200, n_features=3, noise=0.0, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert len(make_linear_regression(5, coef=False, seed=0)) == 2


def test_make_linear_regression_given_coef_bias_noise():
    X, y = make_linear_regression(5000, n_features=2, noise=0.5, coef=[3.0, -1.0], bias=2.0, seed=4)
    residual = y - (X @ np.array([3.0, -1.0]) + 2.0)
    assert abs(residual.std() - 0.5) < 0.03
    fitted, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    np.testing.assert_allclose(fitted, [3.0, -1.0, 2.0], atol=0.03)
    X1, y1 = make_linear_regression(10, n_features=1, coef=2.5, noise=0.0, seed=0)
    np.testing.assert_allclose(y1, 2.5 * X1[:, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(0), "n_samples"),
    (lambda: make_moons(10.5), "n_samples must be an integer"),
    (lambda: make_moons(10, noise=-1), "noise"),
    (lambda: make_moons(10, noise=float("nan")), "noise"),
    (lambda: make_circles(10, factor=1.0), "factor"),
    (lambda: make_circles(10, factor=0), "factor"),
    (lambda: make_circles(10, noise="a"), "noise must be a real number"),
    (lambda: make_spirals(10, n_classes=1), "n_classes"),
    (lambda: make_spirals(3, n_classes=5), "n_samples must be at least 5"),
    (lambda: make_spirals(10, rotations=0), "rotations"),
    (lambda: make_xor(3), "n_samples must be at least 4"),
    (lambda: make_linear_regression(0), "n_samples"),
    (lambda: make_linear_regression(10, n_features=0), "n_features"),
    (lambda: make_linear_regression(10, n_features=2, coef=[1.0]), "n_features = 2"),
    (lambda: make_linear_regression(10, n_features=1, coef="x"), "coef"),
    (lambda: make_linear_regression(10, bias=float("inf")), "bias"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----- digits -------------------------------------------------------------------

def test_load_digits_shapes_values_counts():
    digits = load_digits()
    assert digits.images.shape == (1797, 8, 8)
    assert digits.data.shape == (1797, 64)
    assert digits.target.shape == (1797,)
    assert digits.target.dtype == np.int64
    np.testing.assert_array_equal(digits.images.reshape(1797, 64), digits.data)
    assert digits.data.min() == 0 and digits.data.max() == 16
    assert np.all(digits.data == np.round(digits.data))
    assert set(digits.target.tolist()) == set(range(10))
    np.testing.assert_array_equal(np.bincount(digits.target),
                                  [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    # the first image is a zero: a ring of ink around an empty centre
    assert digits.target[0] == 0
    assert digits.images[0, 3:5, 3:5].max() == 0 and digits.images[0].sum() > 200


def test_load_digits_unpacks_and_is_fresh():
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    X[:] = -1
    assert load_digits().data.min() == 0
    assert "CC BY 4.0" in load_digits().DESCR and "Alpaydin" in load_digits().DESCR


def test_digits_files_ship_inside_the_package():
    from importlib import resources
    data = resources.files("minigrad").joinpath("data")
    assert data.joinpath("digits.csv.gz").is_file()
    licence = data.joinpath("DIGITS_LICENSE.txt").read_text(encoding="utf-8")
    for needed in ["CC BY 4.0", "creativecommons.org/licenses/by/4.0", "Alpaydin", "Kaynak",
                   "10.24432/C50P49", "UCI"]:
        assert needed in licence


def test_digits_prepared_and_split_as_the_digits_demo_does():
    """Seed 003's data preparation."""
    digits = datasets.load_digits()
    n_samples = len(digits.images)
    data = digits.images.reshape((n_samples, -1))
    assert data.shape[1] == 64
    X = digits.data / 16.0
    y = digits.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert 0.0 <= X.min() and X.max() == 1.0
    assert y_train.dtype == np.int64 and sorted(set(y_train) | set(y_test)) == list(range(10))


# ----- train_test_split -------------------------------------------------------------

def test_train_test_split_sizes_and_partition():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    assert len(X_test) == len(y_test) == 3 and len(X_train) == len(y_train) == 7
    np.testing.assert_array_equal(X_train[:, 0] // 2, y_train)  # rows stay with their labels
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    assert len(train_test_split(X, y, test_size=4)[1]) == 4
    assert len(train_test_split(X, y, test_size=0.01)[1]) == 1  # rounds up


def test_train_test_split_seeded():
    X, y = make_moons(50, seed=0)
    a = train_test_split(X, y, random_state=3)
    b = train_test_split(X, y, seed=3)
    c = train_test_split(X, y, random_state=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3])


@pytest.mark.parametrize("kwargs, message", [
    (dict(X=np.zeros((5, 2)), y=np.zeros(4)), "X has 5 examples but y has 4"),
    (dict(X=np.zeros((1, 2)), y=np.zeros(1)), "at least 2"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), test_size=0.0), "test_size"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), test_size=1.0), "test_size"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), test_size=5), "test_size=5"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), test_size=0.9), "no training examples"),
    (dict(X=np.zeros((5, 2)), y=np.zeros(5), random_state=1, seed=1), "not both"),
    (dict(X=np.zeros((5, 2)), y=None), "y is required"),
])
def test_train_test_split_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_test_split(**kwargs)


# ----- DataLoader -------------------------------------------------------------------------

def test_dataloader_yields_tensor_batches_covering_every_example():
    from minigrad import Tensor
    X = np.arange(22, dtype=np.float64).reshape(11, 2)
    y = np.arange(11)
    loader = DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(xb.data) for xb, _ in batches] == [4, 4, 3]
    seen = []
    for xb, yb in batches:
        assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
        assert not xb.requires_grad and not yb.requires_grad
        np.testing.assert_array_equal(xb.data[:, 0] // 2, yb.data)
        seen += yb.data.astype(int).tolist()
    assert sorted(seen) == list(range(11)) and seen != list(range(11))


def test_dataloader_epochs_differ_and_are_reproducible():
    X = np.arange(30, dtype=np.float64).reshape(30, 1)
    loader = DataLoader(X, batch_size=30, seed=5)
    first, second = next(iter(loader)).data, next(iter(loader)).data
    assert not np.array_equal(first, second)
    again = DataLoader(X, batch_size=30, seed=5)
    np.testing.assert_array_equal(next(iter(again)).data, first)
    again.epoch = 1  # resuming at epoch 1 gives epoch 1's order
    np.testing.assert_array_equal(next(iter(again)).data, second)


def test_dataloader_no_shuffle_and_drop_last():
    X = np.arange(10, dtype=np.float64).reshape(10, 1)
    loader = DataLoader(X, batch_size=3, shuffle=False, drop_last=True)
    assert len(loader) == 3
    np.testing.assert_array_equal(np.concatenate([b.data for b in loader]).ravel(), np.arange(9))


@pytest.mark.parametrize("kwargs, message", [
    (dict(X=np.zeros((4, 2)), y=np.zeros(3)), "X has 4 examples but y has 3"),
    (dict(X=np.zeros((4, 2)), batch_size=0), "batch_size"),
    (dict(X=np.zeros((0, 2))), "empty"),
    (dict(X=np.zeros((4, 2)), batch_size=5, drop_last=True), "no batch"),
    (dict(X=np.zeros((4, 2)), seed=-1), "seed"),
])
def test_dataloader_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(**kwargs)
