"""Optimizers on Tensors: float32 kept, agreement with PyTorch, state dicts through .npz files, a network that learns."""
import numpy as np
import pytest

from minigrad import SGD, Adam, Tensor, Value, cross_entropy_loss, mse_loss


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")


# ----- optimizers on Tensors ----------------------------------------------------------------------------

def _quadratic_problem(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    W = Tensor(rng.standard_normal((3, 2)), dtype=dtype, name="W")
    b = Tensor(rng.standard_normal(2), dtype=dtype, name="b")
    X = Tensor(rng.standard_normal((8, 3)), dtype=dtype, requires_grad=False)
    y = rng.standard_normal((8, 2)).astype(dtype)

    def loss():
        return mse_loss((X @ W + b).tanh(), y)
    return [W, b], loss


def _train(optimizer, params, loss, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    return value


@pytest.mark.parametrize("make_opt", [
    lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.01), lambda ps: Adam(ps, lr=0.01, weight_decay=0.1),
])
def test_optimizers_keep_float32(make_opt):
    params, loss = _quadratic_problem(np.float32)
    opt = make_opt(params)
    first = float(loss().data)
    last = _train(opt, params, loss, 20)
    assert float(last.data) < first
    for p in params:
        assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    for name in opt.buffers:
        assert all(buf.dtype == np.float32 for buf in getattr(opt, name))


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam", "adam_wd"])
def test_optimizers_match_pytorch(kind):
    torch = _torch()
    params, loss = _quadratic_problem()
    t_params = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    rng = np.random.default_rng(0)  # the same draws as _quadratic_problem: weights, then data
    rng.standard_normal((3, 2)), rng.standard_normal(2)
    tX = torch.tensor(rng.standard_normal((8, 3)))
    ty = torch.tensor(rng.standard_normal((8, 2)))
    ours, theirs = {
        "sgd": (lambda: SGD(params, lr=0.1), lambda: torch.optim.SGD(t_params, lr=0.1)),
        "momentum": (lambda: SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
                     lambda: torch.optim.SGD(t_params, lr=0.1, momentum=0.9, weight_decay=0.01)),
        "adam": (lambda: Adam(params, lr=0.01), lambda: torch.optim.Adam(t_params, lr=0.01)),
        "adam_wd": (lambda: Adam(params, lr=0.01, weight_decay=0.1),
                    lambda: torch.optim.Adam(t_params, lr=0.01, weight_decay=0.1)),
    }[kind]
    opt, t_opt = ours(), theirs()
    _train(opt, params, loss, 15)
    for _ in range(15):
        t_opt.zero_grad()
        torch.nn.functional.mse_loss(torch.tanh(tX @ t_params[0] + t_params[1]), ty).backward()
        t_opt.step()
    for p, tp in zip(params, t_params):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_zero_grad_makes_no_arrays_but_reads_as_zeros():
    params, loss = _quadratic_problem()
    opt = SGD(params, lr=0.1)
    loss().backward()
    opt.zero_grad()
    assert all(p._grad is None for p in params)
    np.testing.assert_array_equal(params[0].grad, np.zeros((3, 2)))


def test_optimizer_refuses_a_parameter_without_gradient():
    with pytest.raises(ValueError, match="requires_grad=False"):
        SGD([Tensor([1.0], requires_grad=False)])


# ----- optimizer checkpoints: state_dict / load_state_dict ----------------------------------------------

@pytest.mark.parametrize("make_opt", [
    lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01), lambda ps: Adam(ps, lr=0.02, betas=(0.8, 0.99)),
], ids=["sgd", "adam"])
def test_state_dict_through_npz_resumes_exactly(make_opt, tmp_path):
    # uninterrupted: 10 steps
    params, loss = _quadratic_problem()
    _train(make_opt(params), params, loss, 10)
    expected = [p.data.copy() for p in params]

    # interrupted after 4 steps: save parameters and optimizer state, rebuild everything, resume for 6
    params, loss = _quadratic_problem()
    opt = make_opt(params)
    _train(opt, params, loss, 4)
    state = opt.state_dict()
    assert all(isinstance(v, (int, float, np.ndarray)) and not isinstance(v, bool) for v in state.values())
    path = tmp_path / "checkpoint.npz"
    np.savez(path, **{f"param.{i}": p.data for i, p in enumerate(params)}, **{f"opt.{k}": v for k, v in state.items()})

    params, loss = _quadratic_problem()
    for p in params:
        p.data[...] = 7.0  # other weights: everything must come from the file
    opt = make_opt(params)
    opt.lr = 123.0  # and the settings too
    with np.load(path) as saved:
        for i, p in enumerate(params):
            p.data[...] = saved[f"param.{i}"]
        opt.load_state_dict({k[4:]: saved[k] for k in saved.files if k.startswith("opt.")})
    assert opt.lr != 123.0
    _train(opt, params, loss, 6)
    for p, e in zip(params, expected):
        np.testing.assert_array_equal(p.data, e)


def test_state_dict_contents_are_copies():
    params, loss = _quadratic_problem()
    opt = SGD(params, lr=0.1, momentum=0.9)
    _train(opt, params, loss, 2)
    state = opt.state_dict()
    assert set(state) == {"lr", "momentum", "weight_decay", "velocities.0", "velocities.1"}
    before = state["velocities.0"].copy()
    _train(opt, params, loss, 2)
    np.testing.assert_array_equal(state["velocities.0"], before)
    adam = Adam(params)
    assert set(adam.state_dict()) == {"lr", "beta1", "beta2", "eps", "weight_decay", "t", "m.0", "m.1", "v.0", "v.1"}
    assert adam.state_dict()["t"] == 0 and isinstance(adam.state_dict()["t"], int)


def test_load_state_dict_errors():
    params, _ = _quadratic_problem()
    sgd = SGD(params, lr=0.1, momentum=0.9)
    adam = Adam(params)
    with pytest.raises(ValueError, match="missing.*unexpected"):
        sgd.load_state_dict(adam.state_dict())
    state = sgd.state_dict()
    state["velocities.0"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"velocities.0.*\(2, 3\).*\(3, 2\)"):
        sgd.load_state_dict(state)
    with pytest.raises(ValueError, match="missing"):
        SGD(params + [Tensor([1.0])], lr=0.1).load_state_dict(sgd.state_dict())


def test_state_dict_for_value_parameters():
    a, b = Value(1.0), Value(-2.0)
    opt = Adam([a, b], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = (a * a + b * b)
        loss.backward()
        opt.step()
    state = opt.state_dict()
    assert isinstance(state["m.0"], float) and state["t"] == 3
    other = Adam([Value(a.data), Value(b.data)])
    other.load_state_dict({k: np.asarray(v) for k, v in state.items()})  # as an .npz gives them back
    assert other.t == 3 and other.m == opt.m and other.v == opt.v and other.lr == 0.1


# ----- training end to end ----------------------------------------------------------

def test_a_tensor_mlp_learns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # xor of the signs: not linearly separable
    W1, b1 = Tensor(rng.standard_normal((2, 16))), Tensor(np.zeros(16))
    W2, b2 = Tensor(rng.standard_normal((16, 2)) * 0.3), Tensor(np.zeros(2))
    opt = Adam([W1, b1, W2, b2], lr=0.05)
    inputs = Tensor(X, requires_grad=False)
    for _ in range(150):
        loss = cross_entropy_loss((inputs @ W1 + b1).relu() @ W2 + b2, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = np.mean(((inputs @ W1 + b1).relu() @ W2 + b2).data.argmax(axis=1) == y)
    assert loss.data < 0.2 and accuracy > 0.95
