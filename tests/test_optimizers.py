"""Optimizers refuse what would train nothing, or train wrongly, with an error that says what to do.

One Tensor instead of a list, a parameter listed twice, a tensor computed
from others, settings out of range (given to the constructor or coming back
from a checkpoint through load_state_dict): each is an error naming the
problem, for both engines' parameters.
"""
import math

import numpy as np
import pytest

from minigrad import MLP, SGD, Adam, Layer, Linear, Tensor, Value, mse_loss
from minigrad.checks import check_finite_real, check_nonnegative_int

OPTIMIZERS = {"SGD": SGD, "Adam": Adam}


def tensor_params():
    rng = np.random.default_rng(0)
    return [Tensor(rng.normal(size=(3, 2)), name="W"), Tensor(np.zeros(2), name="b")]


# ----- what is being optimized ---------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("single", [lambda: Layer(3, 2, seed=0).W, lambda: Value(1.0)], ids=["Tensor", "Value"])
def test_one_parameter_instead_of_a_list_is_a_type_error_saying_to_pass_a_list(name, single):
    with pytest.raises(TypeError, match=rf"{name} takes a list of parameters, got a single (Tensor|Value): "
                                        rf"pass a list, e.g. {name}\(model.parameters\(\)\)"):
        OPTIMIZERS[name](single())


def test_the_model_itself_or_a_non_list_is_a_type_error():
    with pytest.raises(TypeError, match=r"got the MLP itself: pass SGD\(model.parameters\(\)\)"):
        SGD(MLP(2, [3, 1], seed=0))
    with pytest.raises(TypeError, match=r"takes a list of parameters, e.g. model.parameters\(\); got 0.1"):
        Adam(0.1)
    with pytest.raises(TypeError, match="parameter 1 is not a parameter .* but a ndarray"):
        SGD([Tensor([1.0]), np.ones(3)])  # a NumPy array has no gradient to learn from


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_listed_twice_is_refused_naming_both_positions(name):
    W, b = tensor_params()
    with pytest.raises(ValueError, match="parameter 2 is parameter 0 again; listed twice"):
        OPTIMIZERS[name]([W, b, W])
    q = Value(1.0)
    with pytest.raises(ValueError, match="parameter 1 is parameter 0 again"):
        OPTIMIZERS[name]([q, q])


def test_an_mlp_that_uses_one_layer_twice_lists_it_once_and_trains_it_with_one_step():
    shared = Layer(2, 2, activation="tanh", seed=0)
    model = MLP.from_layers([shared, shared, Linear(2, 1, seed=1)])
    assert len(model.parameters()) == 4 and len({id(p) for p in model.parameters()}) == 4
    optimizer = SGD(model.parameters(), lr=0.1)
    X, y = np.random.default_rng(0).normal(size=(8, 2)), np.ones((8, 1))
    loss = mse_loss(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    expected = [p.data - 0.1 * p.grad for p in model.parameters()]  # both uses add into one gradient
    optimizer.step()
    for p, e in zip(model.parameters(), expected):
        np.testing.assert_array_equal(p.data, e)  # stepped once, not twice


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_tensor_computed_from_others_is_refused(name):
    W, b = tensor_params()
    with pytest.raises(ValueError, match=r"parameter 1 was computed from other values \(by '\*'\)"):
        OPTIMIZERS[name]([W, W * 2.0])
    with pytest.raises(ValueError, match=r"parameter 0 was computed from other values \(by '\+'\)"):
        OPTIMIZERS[name]([Value(1.0) + 1.0])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_list_of_values_still_trains(name):
    x, y = Value(-2.0), Value(2.0)
    optimizer = OPTIMIZERS[name]([x, y], lr=0.05)
    for _ in range(300):
        loss = (x - 3) ** 2 + (y + 1) ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert abs(x.data - 3) < 1e-3 and abs(y.data + 1) < 1e-3
    assert isinstance(x.data, float)


def test_a_generator_of_parameters_is_accepted():
    model = MLP(2, [3, 1], seed=0)
    assert Adam(p for p in model.parameters()).params == model.parameters()


def test_no_parameters_is_refused():
    with pytest.raises(ValueError, match="SGD got no parameters to optimize"):
        SGD([], lr=0.1)


# ----- settings ----------------------------------------------------------------------------

BAD_SETTINGS = [
    (SGD, {"lr": 0}, r"SGD: lr must be a finite number > 0, got 0\.0"),
    (SGD, {"lr": -0.1}, r"SGD: lr must be a finite number > 0, got -0\.1"),
    (Adam, {"lr": float("nan")}, r"Adam: lr must be a finite number > 0, got nan"),
    (Adam, {"lr": float("inf")}, r"Adam: lr must be a finite number > 0, got inf"),
    (Adam, {"betas": (1.0, 0.999)}, r"Adam: beta1 must be a finite number in \[0, 1\), got 1\.0"),
    (Adam, {"betas": (0.9, 1.0)}, r"Adam: beta2 must be a finite number in \[0, 1\), got 1\.0"),
    (Adam, {"betas": (-0.1, 0.999)}, r"Adam: beta1 must be a finite number in \[0, 1\), got -0\.1"),
    (Adam, {"betas": (0.9, float("nan"))}, r"Adam: beta2 must be a finite number in \[0, 1\), got nan"),
    (Adam, {"eps": 0}, r"Adam: eps must be a finite number > 0, got 0\.0"),
    (Adam, {"eps": -1e-8}, r"Adam: eps must be a finite number > 0, got -1e-08"),
    (Adam, {"eps": float("inf")}, r"Adam: eps must be a finite number > 0, got inf"),
    (SGD, {"momentum": -0.9}, r"SGD: momentum must be a finite number >= 0, got -0\.9"),
    (SGD, {"momentum": float("nan")}, r"SGD: momentum must be a finite number >= 0, got nan"),
    (SGD, {"weight_decay": -1e-4}, r"SGD: weight_decay must be a finite number >= 0, got -0\.0001"),
    (Adam, {"weight_decay": float("nan")}, r"Adam: weight_decay must be a finite number >= 0, got nan"),
]


@pytest.mark.parametrize("make, settings, message", BAD_SETTINGS)
def test_a_setting_out_of_range_is_a_value_error_naming_it_and_its_value(make, settings, message):
    with pytest.raises(ValueError, match=message):
        make(tensor_params(), **settings)
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)], **settings)


@pytest.mark.parametrize("make, settings, message", [
    (SGD, {"lr": "0.1"}, r"SGD: lr must be a real number, got '0.1' \(str\)"),
    (SGD, {"lr": True}, r"SGD: lr must be a real number, got True \(bool\)"),
    (Adam, {"betas": 0.9}, r"Adam: betas must be a pair of numbers \(beta1, beta2\), got 0.9"),
    (Adam, {"betas": (0.9, 0.99, 0.999)}, r"betas must be a pair of numbers"),
    (Adam, {"eps": None}, r"Adam: eps must be a real number, got None"),
])
def test_a_setting_that_is_no_number_is_a_type_error_naming_it(make, settings, message):
    with pytest.raises(TypeError, match=message):
        make(tensor_params(), **settings)


def test_settings_at_the_edges_of_their_ranges_are_accepted_as_python_floats():
    sgd = SGD(tensor_params(), lr=np.float32(0.5), momentum=0, weight_decay=0)
    adam = Adam(tensor_params(), lr=1e-6, betas=(0, 0.5), eps=1e-300)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.5, 0.0, 0.0)
    assert (adam.beta1, adam.beta2, adam.eps) == (0.0, 0.5, 1e-300)
    assert all(type(value) is float for value in (sgd.lr, sgd.momentum, adam.beta1, adam.eps))


# ----- the same checks for settings that come back from a checkpoint --------------------------

def trained_adam():
    params = tensor_params()
    adam = Adam(params, lr=0.01)
    for _ in range(3):
        adam.zero_grad()
        ((params[0] ** 2).sum() + (params[1] - 1.0).sum()).backward()
        adam.step()
    return adam


def unchanged(optimizer, before):
    after = optimizer.state_dict()
    return before.keys() == after.keys() and all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("key, bad, error, message", [
    ("lr", -0.01, ValueError, r"Adam: lr must be a finite number > 0, got -0\.01"),
    ("lr", np.array(float("nan")), ValueError, r"Adam: lr must be a finite number > 0, got nan"),
    ("beta1", 1.0, ValueError, r"Adam: beta1 must be a finite number in \[0, 1\), got 1\.0"),
    ("beta2", np.array(-0.5), ValueError, r"Adam: beta2 must be a finite number in \[0, 1\), got -0\.5"),
    ("eps", 0.0, ValueError, r"Adam: eps must be a finite number > 0, got 0\.0"),
    ("weight_decay", float("-inf"), ValueError, r"Adam: weight_decay must be a finite number >= 0, got -inf"),
    ("t", -1, ValueError, "Adam: t must be 0 or more, got -1"),
    ("t", 2.5, TypeError, r"Adam: t must be a whole number, got 2\.5"),
    ("lr", "fast", TypeError, "Adam: lr must be a real number, got 'fast'"),
    ("m.1", np.array(["a", "b"]), TypeError, "m.1 should hold numbers"),
])
def test_load_state_dict_refuses_bad_settings_and_changes_nothing(key, bad, error, message):
    adam = trained_adam()
    before = adam.state_dict()
    state = adam.state_dict()
    state[key] = bad
    with pytest.raises(error, match=message):
        adam.load_state_dict(state)
    assert unchanged(adam, before)


def test_load_state_dict_refuses_bad_sgd_settings():
    sgd = SGD(tensor_params(), lr=0.1, momentum=0.9)
    before = sgd.state_dict()
    for key, bad in (("momentum", -0.1), ("weight_decay", -1.0), ("lr", 0.0)):
        with pytest.raises(ValueError, match=f"SGD: {key} must be a finite number"):
            sgd.load_state_dict({**before, key: bad})
        assert unchanged(sgd, before)
    with pytest.raises(TypeError, match="takes a dict such as state_dict"):
        sgd.load_state_dict([("lr", 0.1)])


def test_load_state_dict_takes_the_numbers_an_npz_file_gives_back():
    adam = trained_adam()
    other = Adam(tensor_params())
    other.load_state_dict({key: np.asarray(value) for key, value in adam.state_dict().items()})
    assert other.t == 3 and type(other.t) is int and other.lr == 0.01 and type(other.lr) is float
    assert all(np.array_equal(a, b) for a, b in zip(adam.m + adam.v, other.m + other.v))


def test_a_value_optimizer_state_must_hold_one_number_per_parameter():
    opt = SGD([Value(1.0), Value(2.0)], lr=0.1, momentum=0.9)
    state = opt.state_dict()
    state["velocities.1"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"velocities.1 should be one number .* shape \(3,\)"):
        opt.load_state_dict(state)


# ----- the checks themselves ------------------------------------------------------------------

def test_check_finite_real_bounds_and_types():
    assert check_finite_real(0.0, "x", 0, 1, high_open=True) == 0.0
    assert check_finite_real(np.array(2.5), "x") == 2.5
    with pytest.raises(ValueError, match=r"x must be a finite number in \(0, 1\], got 0\.0"):
        check_finite_real(0.0, "x", 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r"x must be a finite number <= 1, got 1\.5"):
        check_finite_real(1.5, "x", high=1)
    with pytest.raises(ValueError, match=r"x must be a finite number, got inf"):
        check_finite_real(math.inf, "x")
    with pytest.raises(TypeError, match=r"x must be a real number, got \[1\.0\]"):
        check_finite_real([1.0], "x")
    with pytest.raises(TypeError, match="got 1j"):
        check_finite_real(1j, "x")


def test_check_nonnegative_int():
    assert check_nonnegative_int(np.int64(4), "t") == 4 and check_nonnegative_int(np.array(0), "t") == 0
    with pytest.raises(ValueError, match="t must be 0 or more, got -2"):
        check_nonnegative_int(-2, "t")
    with pytest.raises(TypeError, match="t must be a whole number, got 3.0"):
        check_nonnegative_int(3.0, "t")
    with pytest.raises(TypeError, match="t must be a whole number, got True"):
        check_nonnegative_int(True, "t")
