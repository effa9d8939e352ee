"""Losses and optimizers on Tensors (the Value forms kept intact), optimizer checkpoints, the benchmark."""
import io

import numpy as np
import pytest

from minigrad import (SGD, Adam, Tensor, Value, binary_cross_entropy, cross_entropy_loss, gradcheck, hinge_loss,
                      mse_loss)
from benchmarks import tensor as bench

RNG = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: no comparison with it")


# ----- the same numbers through Values and through a Tensor --------------------------------------------

def _values(rows):
    return [[Value(float(v)) for v in row] for row in rows]


def _value_grads(rows):
    return np.array([[v.grad for v in row] for row in rows])


def test_mse_loss_tensor_matches_values():
    p, y = RNG.standard_normal(5), RNG.standard_normal(5)
    vs = [Value(float(v)) for v in p]
    lv = mse_loss(vs, list(y))
    lv.backward()
    t = Tensor(p)
    lt = mse_loss(t, y)
    lt.backward()
    assert isinstance(lt, Tensor) and lt.shape == ()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, [v.grad for v in vs])
    np.testing.assert_allclose(mse_loss(Tensor(p), Tensor(y)).data, lv.data)  # targets as a Tensor
    np.testing.assert_allclose(mse_loss(Tensor(p), list(y)).data, lv.data)    # or a list


def test_mse_loss_refuses_shapes_that_would_broadcast():
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        mse_loss(Tensor(np.ones((4, 1))), np.ones(4))


def test_hinge_loss_tensor_matches_values():
    s = np.array([0.3, -2.0, 1.5, 0.9, -0.2])
    y = np.array([1, -1, -1, 1, 1])
    vs = [Value(float(v)) for v in s]
    lv = hinge_loss(vs, [int(v) for v in y])
    lv.backward()
    t = Tensor(s)
    lt = hinge_loss(t, y)
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, [v.grad for v in vs])
    with pytest.raises(ValueError, match="-1 or \\+1"):
        hinge_loss(Tensor(s), np.array([0, 1, 1, 1, 1]))


def test_binary_cross_entropy_tensor_matches_values_and_pytorch():
    p = np.array([0.1, 0.8, 0.5, 0.999, 0.02])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    vs = [Value(float(v)) for v in p]
    lv = binary_cross_entropy(vs, list(y))
    lv.backward()
    t = Tensor(p)
    lt = binary_cross_entropy(t, y)
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(t.grad, [v.grad for v in vs])
    torch = _torch()
    tp = torch.tensor(p, requires_grad=True)
    tl = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(lt.data, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tp.grad.numpy(), rtol=1e-10)


def test_binary_cross_entropy_is_finite_at_0_and_1():
    t = Tensor([0.0, 1.0, 0.5])
    loss = binary_cross_entropy(t, [1.0, 0.0, 1.0])
    loss.backward()
    assert np.isfinite(loss.data) and loss.data > 9  # a confident mistake costs a lot, finitely
    np.testing.assert_array_equal(t.grad[:2], [0.0, 0.0])  # clipped: constants, no gradient
    assert np.all(np.isfinite(t.grad))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy(Tensor([0.5]), [2.0])


def test_cross_entropy_tensor_matches_values():
    logits = RNG.standard_normal((4, 3))
    targets = [2, 0, 1, 1]
    vs = _values(logits)
    lv = cross_entropy_loss(vs, targets)
    lv.backward()
    t = Tensor(logits)
    lt = cross_entropy_loss(t, np.array(targets))
    lt.backward()
    np.testing.assert_allclose(lt.data, lv.data, rtol=1e-12)
    np.testing.assert_allclose(t.grad, _value_grads(vs), rtol=1e-10, atol=1e-14)


def test_cross_entropy_one_example():
    logits = np.array([1.0, 2.0, 0.5])
    vs = [Value(v) for v in logits]
    lv = cross_entropy_loss(vs, 1)
    lt = cross_entropy_loss(Tensor(logits), 1)
    np.testing.assert_allclose(lt.data, lv.data)
    np.testing.assert_allclose(cross_entropy_loss(Tensor(logits), [1]).data, lv.data)


def test_cross_entropy_is_one_operation_equal_to_its_composition():
    x = RNG.standard_normal((6, 5))
    y = np.array([0, 4, 4, 1, 2, 0])
    a, b = Tensor(x), Tensor(x)
    fused = cross_entropy_loss(a, y)
    composed = -b.log_softmax(axis=1)[np.arange(6), y].mean()
    assert fused._op == "cross_entropy" and len(fused._prev) == 1
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-14)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scale", [1.0, 30.0, 1000.0])
def test_cross_entropy_matches_pytorch_and_stays_finite(scale):
    torch = _torch()
    x = RNG.standard_normal((8, 5)) * scale
    x[0] = [1000.0, -1000.0, 0.0, 1000.0, -1000.0]
    x[1] = [-1000.0, -1000.0, -1000.0, -1000.0, -1000.0]
    y = np.array([1, 3, 0, 4, 2, 2, 0, 1])
    t = Tensor(x)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = cross_entropy_loss(t, y)
        loss.backward()
    assert np.isfinite(loss.data) and np.all(np.isfinite(t.grad))
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(y))
    tl.backward()
    np.testing.assert_allclose(loss.data, tl.item(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_gradcheck_and_float32():
    x = Tensor(RNG.standard_normal((5, 4)))
    y = np.array([3, 0, 1, 1, 2])
    assert gradcheck(lambda t: cross_entropy_loss(t, y), [x]) < 1e-8
    x32 = Tensor(RNG.standard_normal((5, 4)), dtype=np.float32)
    loss = cross_entropy_loss(x32, y)
    loss.backward()
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32


def test_cross_entropy_accepts_integer_valued_float_labels():
    x = RNG.standard_normal((3, 2))
    a = cross_entropy_loss(Tensor(x), np.array([0.0, 1.0, 1.0]))
    b = cross_entropy_loss(Tensor(x), np.array([0, 1, 1]))
    np.testing.assert_allclose(a.data, b.data)


@pytest.mark.parametrize("targets, match", [
    (np.array([0, 1, 3]), "not a class index"), (np.array([0, -1, 1]), "not a class index"),
    (np.array([0.5, 1, 1]), "integer class indices"), (np.array([0, 1]), "targets of shape"),
    (np.array(["a", "b", "c"]), "integer class indices"),
])
def test_cross_entropy_target_errors(targets, match):
    with pytest.raises(ValueError, match=match):
        cross_entropy_loss(Tensor(np.zeros((3, 3))), targets)


def test_cross_entropy_logit_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        cross_entropy_loss(Tensor(np.zeros((2, 3, 4))), [0, 1])
    with pytest.raises(ValueError, match="no rows"):
        cross_entropy_loss(Tensor(np.zeros((0, 3))), np.array([], dtype=int))


@pytest.mark.parametrize("loss", ["mse", "hinge", "bce"])
def test_tensor_losses_pass_gradcheck(loss):
    p = Tensor(RNG.uniform(0.1, 0.9, size=(6, 1)))
    if loss == "mse":
        y = RNG.standard_normal((6, 1))
        f = lambda t: mse_loss(t, y)  # noqa: E731
    elif loss == "hinge":
        y = np.array([[1], [-1], [1], [1], [-1], [-1]])
        f = lambda t: hinge_loss(t * 3 - 1.4, y)  # noqa: E731
    else:
        y = RNG.uniform(0, 1, size=(6, 1))
        f = lambda t: binary_cross_entropy(t, y)  # noqa: E731
    assert gradcheck(f, [p]) < 1e-7


def test_value_losses_are_unchanged():
    a, b = Value(0.2), Value(-1.0)
    np.testing.assert_allclose(mse_loss([a, b], [1.0, 0.0]).data, (0.8 ** 2 + 1.0) / 2)
    np.testing.assert_allclose(hinge_loss([a, b], [1, 1]).data, (0.8 + 2.0) / 2)
    loss = cross_entropy_loss([Value(1000.0), Value(-1000.0)], 1)
    np.testing.assert_allclose(loss.data, 2000.0)
    assert isinstance(loss, Value)
    with pytest.raises(ValueError):
        cross_entropy_loss([Value(1.0), Value(2.0)], 2)


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


# ----- training end to end, and the benchmark ----------------------------------------------------------

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


@pytest.mark.parametrize("size", list(bench.SIZES))
def test_benchmark_engines_agree(size):
    layers, batch, _, _ = bench.SIZES[size]
    if size == "large":
        batch = 16  # the same layers, fewer examples: quick
    X, y, weights = bench.make_problem(layers, batch)
    engines = [bench.MinigradMLP(X, y, weights), bench.NumpyMLP(X, y, weights)]
    try:
        engines.append(bench.TorchMLP(X, y, weights))
    except ImportError:
        pass
    loss = bench.check_agreement(engines)
    assert np.isfinite(loss)
    # and one step moves all of them the same way
    for engine in engines:
        engine.step()
    bench.check_agreement(engines)


def test_benchmark_main_prints_a_table(capsys):
    assert bench.main(["--sizes", "small", "--repeats", "1", "--no-torch", "--system-malloc"]) == 0
    out = capsys.readouterr().out
    assert "[2, 16, 16, 2]" in out and "minigrad/NumPy" in out and "agreed" in out


def test_benchmark_rejects_unknown_sizes():
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "huge"])


def test_benchmark_run_returns_results():
    out = io.StringIO()
    results = bench.run(["small"], repeats=1, use_torch=False, out=out, steady_malloc=False)
    assert results[0]["minigrad"] > 0 and results[0]["numpy"] > 0 and results[0]["torch"] is None
