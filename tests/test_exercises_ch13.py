"""The checkers of chapter 13 PASS the solutions, FAIL wrong and cheating answers, saying why."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import Tensor
from minigrad.exercises import ch13
from exercise_verdicts import fails_saying, passes_the_same_way


# ----- 13.1: batch norm in training mode -----------------------------------------------

def batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps):
    n = len(x)
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return y, new_mean, new_var


def test_batch_norm_train_passes(capsys):
    passes_the_same_way(capsys, ch13.check_batch_norm_train, batch_norm_train, runs=4)


def test_batch_norm_train_agrees_with_the_package():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=(7, 4)) * 3 + 1, rng.normal(size=4), rng.normal(size=4)
    layer = minigrad.BatchNorm1d(4, momentum=0.3)
    layer.weight.data, layer.bias.data = gamma.copy(), beta.copy()
    y, new_mean, new_var = batch_norm_train(x, gamma, beta, np.zeros(4), np.ones(4), 0.3, 1e-5)
    assert np.allclose(layer(x).data, y, rtol=0, atol=1e-12)
    assert np.allclose(layer.running_mean, new_mean, rtol=0, atol=1e-12)
    assert np.allclose(layer.running_var, new_var, rtol=0, atol=1e-12)


def _with(**changes):
    """The solution with one step replaced (a common slip)."""
    def answer(x, gamma, beta, running_mean, running_var, momentum, eps):
        n = len(x)
        axis = changes.get("axis", 0)
        mean = x.mean(axis=axis, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
        norm_var = var * n / (n - 1) if changes.get("unbiased_y") else var
        y = gamma * (x - mean) / np.sqrt(norm_var + (0 if changes.get("no_eps") else eps)) + beta
        mean, var = x.mean(axis=0), x.var(axis=0)
        weight = 1 - momentum if changes.get("swapped") else momentum
        new_mean = (1 - weight) * running_mean + weight * mean
        run_var = var if changes.get("biased_running") else var * n / (n - 1)
        new_var = (1 - weight) * running_var + weight * run_var
        return y, new_mean, new_var
    return answer


@pytest.mark.parametrize("answer, says", [
    (_with(axis=1), "each example's features; batch norm takes them over the batch"),
    (_with(unbiased_y=True), "normalise with the batch's biased variance"),
    (_with(no_eps=True), "is eps added to the variance"),
    (_with(swapped=True), "new_running_mean is wrong: momentum is the weight of the new batch"),
    (_with(biased_running=True), "the running variance averages the unbiased variance"),
    (lambda *args: (..., ..., ...), "not filled in yet"),
    (lambda *args: args[0], "should return three arrays"),
])
def test_batch_norm_train_fails(capsys, answer, says):
    fails_saying(capsys, ch13.check_batch_norm_train, answer, says)


def test_batch_norm_train_fails_an_update_in_place(capsys):
    def in_place(x, gamma, beta, running_mean, running_var, momentum, eps):
        y, new_mean, new_var = batch_norm_train(x, gamma, beta, running_mean, running_var,
                                                momentum, eps)
        running_mean[:] = new_mean
        return y, running_mean, new_var
    fails_saying(capsys, ch13.check_batch_norm_train, in_place,
                 "changed running_mean in place: return new arrays")


def test_batch_norm_train_refuses_the_package(capsys):
    def calls_the_package(x, gamma, beta, running_mean, running_var, momentum, eps):
        rm, rv = running_mean.copy(), running_var.copy()
        y = minigrad.batch_norm(Tensor(x), rm, rv, Tensor(gamma), Tensor(beta), training=True,
                                momentum=momentum, eps=eps)
        return y.data, rm, rv
    fails_saying(capsys, ch13.check_batch_norm_train, calls_the_package,
                 "your answer calls minigrad's batch_norm")


def test_batch_norm_train_refuses_the_layer(capsys):
    def uses_the_layer(x, gamma, beta, running_mean, running_var, momentum, eps):
        layer = minigrad.BatchNorm1d(x.shape[1], momentum=momentum, eps=eps)
        layer.weight.data, layer.bias.data = gamma, beta
        layer.running_mean, layer.running_var = running_mean, running_var
        return layer(x).data, layer.running_mean, layer.running_var
    fails_saying(capsys, ch13.check_batch_norm_train, uses_the_layer, "minigrad's BatchNorm1d")


def test_batch_norm_train_is_not_fooled_by_a_hard_coded_shape(capsys):
    def only_eight_by_three(x, *args):
        if x.shape != (8, 3):
            return np.zeros((8, 3)), np.zeros(3), np.zeros(3)
        return batch_norm_train(x, *args)
    out = fails_saying(capsys, ch13.check_batch_norm_train, only_eight_by_three, "drawn at random")
    assert "shape" in out, out


def test_batch_norm_train_refuses_pytorch(capsys):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    def with_torch(x, gamma, beta, running_mean, running_var, momentum, eps):
        rm, rv = torch.tensor(running_mean), torch.tensor(running_var)
        y = F.batch_norm(torch.tensor(x), rm, rv, torch.tensor(gamma), torch.tensor(beta),
                         training=True, momentum=momentum, eps=eps)
        return y.numpy(), rm.numpy(), rv.numpy()
    fails_saying(capsys, ch13.check_batch_norm_train, with_torch, "PyTorch's batch_norm")


# ----- 13.2: batch norm's backward rule ------------------------------------------------

class BatchNormalize(Tensor):
    _op = "batchnorm"

    def __init__(self, a, eps):
        centred = a.data - a.data.mean(axis=0)
        self.r = 1.0 / np.sqrt((centred ** 2).mean(axis=0) + eps)
        self._record(centred * self.r, a)

    def _backward(self, grad):
        x_hat = self.data
        along = (grad * x_hat).mean(axis=0)
        return (self.r * (grad - grad.mean(axis=0) - x_hat * along),)


class StagedBatchNormalize(BatchNormalize):
    """The six steps of the chapter's derivation: more roundings, still exact."""

    def _backward(self, grad):
        x = self._prev[0].data
        m = len(x)
        c = x - x.mean(axis=0)
        r = self.r
        d_r = (grad * c).sum(axis=0)
        d_v = -0.5 * r ** 3 * d_r
        d_c = grad * r + d_v * 2 * c / m
        return (d_c - d_c.sum(axis=0) / m,)


class StatisticsAsConstants(BatchNormalize):
    def _backward(self, grad):
        return (grad * self.r,)


class MeanPathOnly(BatchNormalize):
    def _backward(self, grad):
        return (self.r * (grad - grad.mean(axis=0)),)


class NumericalRule(BatchNormalize):
    """Central differences of sum(grad * normalize(x)): close, not exact."""

    def __init__(self, a, eps):
        super().__init__(a, eps)
        self.eps = eps

    def _backward(self, grad):
        x = self._prev[0].data

        def f(z):
            c = z - z.mean(axis=0)
            return np.sum(grad * c / np.sqrt((c ** 2).mean(axis=0) + self.eps))
        out, h = np.zeros_like(x), 1e-6
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = h
            out[index] = (f(x + step) - f(x - step)) / (2 * h)
        return (out,)


class BareArray(BatchNormalize):
    def _backward(self, grad):
        return BatchNormalize._backward(self, grad)[0]


class UsesThePackage(Tensor):
    def __init__(self, a, eps):
        inner = minigrad.tensor_norm.normalize(Tensor(a.data), 0, eps)
        self._record(inner.data, a)

    def _backward(self, grad):
        return (grad,)


class UsesAutograd(BatchNormalize):
    def _backward(self, grad):
        x = Tensor(self._prev[0].data.copy())
        c = x - x.mean(axis=0)
        y = c / ((c * c).mean(axis=0) + 1e-5) ** 0.5
        (y * Tensor(grad)).sum().backward()
        return (x.grad,)


class Placeholder(Tensor):
    def __init__(self, a, eps):
        ...

    def _backward(self, grad):
        ...


class ForwardUnbiased(BatchNormalize):
    def __init__(self, a, eps):
        n = len(a.data)
        centred = a.data - a.data.mean(axis=0)
        self.r = 1.0 / np.sqrt((centred ** 2).sum(axis=0) / (n - 1) + eps)
        self._record(centred * self.r, a)


class SumsForMeans(BatchNormalize):
    def _backward(self, grad):
        x_hat = self.data
        return (self.r * (grad - grad.sum(axis=0) - x_hat * (grad * x_hat).sum(axis=0)),)


def test_batch_norm_rule_passes(capsys):
    passes_the_same_way(capsys, ch13.check_batch_norm_rule, BatchNormalize, runs=4)
    passes_the_same_way(capsys, ch13.check_batch_norm_rule, StagedBatchNormalize, runs=4)


@pytest.mark.parametrize("answer, says", [
    (StatisticsAsConstants, "treats the mean and the variance as constants"),
    (MeanPathOnly, "the path through the variance is missing"),
    (NumericalRule, "numerical derivative"),
    (BareArray, "must return a tuple of one gradient"),
    (UsesThePackage, "your answer calls minigrad's normalize"),
    (UsesAutograd, "your answer calls minigrad's Tensor.backward()"),
    (Placeholder, "not filled in yet"),
    (ForwardUnbiased, "normalise with the biased variance"),
    (SumsForMeans, "how the two terms you take out grow with the batch size"),
    (None, "not filled in yet"),
])
def test_batch_norm_rule_fails(capsys, answer, says):
    fails_saying(capsys, ch13.check_batch_norm_rule, answer, says)


def test_batch_norm_rule_agrees_with_central_differences():
    rng = np.random.default_rng(1)
    x, grad = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    a = Tensor(x)
    (BatchNormalize(a, 1e-5) * Tensor(grad)).sum().backward()
    gap = minigrad.gradcheck(lambda t: (BatchNormalize(t, 1e-5) * Tensor(grad)).sum(), [Tensor(x)])
    assert gap < 1e-6
    package = Tensor(x)
    (minigrad.tensor_norm.normalize(package, 0) * Tensor(grad)).sum().backward()
    assert np.allclose(a.grad, package.grad, rtol=0, atol=1e-12)


# ----- 13.3: inverted dropout ----------------------------------------------------------

def dropout(x, p, rng, training):
    if not training or p == 0:
        return x.copy()
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0)


def test_dropout_passes(capsys):
    passes_the_same_way(capsys, ch13.check_dropout, dropout, runs=4)


def _dropout_with(scale=None, keep_p=False, in_place=False, global_rng=False, eval_drops=False):
    def answer(x, p, rng, training):
        if not training and not eval_drops:
            return x
        draws = np.random.random(x.shape) if global_rng else rng.random(x.shape)
        keep = draws < p if keep_p else draws >= p
        factor = 1 / (1 - p) if scale is None else scale(p)
        if in_place:
            x *= keep * factor
            return x
        return x * keep * factor
    return answer


@pytest.mark.parametrize("answer, says", [
    (_dropout_with(scale=lambda p: 1.0), "they are left as they were, so the expected output is smaller"),
    (_dropout_with(scale=lambda p: 1 - p), "multiplying by 1 - p shrinks the output further"),
    (_dropout_with(keep_p=True), "the fraction of entries zeroed is far from p"),
    (_dropout_with(in_place=True), "changed x itself"),
    (_dropout_with(global_rng=True), "two generators made from the same seed dropped different entries"),
    (_dropout_with(eval_drops=True), "when not training, dropout must return x unchanged"),
    (lambda x, p, rng, training: ..., "not filled in yet"),
    (lambda x, p, rng, training: x[:1], "should return an array of x's shape"),
])
def test_dropout_fails(capsys, answer, says):
    fails_saying(capsys, ch13.check_dropout, answer, says)


def test_dropout_with_a_fixed_mask_fails(capsys):
    def same_mask_always(x, p, rng, training):
        if not training:
            return x
        keep = np.random.default_rng(0).random(x.shape) >= p
        return x * keep / (1 - p)
    fails_saying(capsys, ch13.check_dropout, same_mask_always,
                 "different seeds dropped the same entries")


def test_dropout_refuses_the_package(capsys):
    def calls_the_package(x, p, rng, training):
        return minigrad.tensor_norm.dropout(Tensor(x), p, rng, training).data
    fails_saying(capsys, ch13.check_dropout, calls_the_package,
                 "your answer calls minigrad's dropout")

    def uses_the_layer(x, p, rng, training):
        layer = minigrad.Dropout(p, seed=rng)
        layer.train(training)
        return layer(x).data
    fails_saying(capsys, ch13.check_dropout, uses_the_layer, "minigrad's Dropout")


# ----- 13.4: warm-up and cosine --------------------------------------------------------

def warmup_cosine(step, total_steps, warmup_steps, lr_max, lr_min):
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


def test_warmup_cosine_passes(capsys):
    passes_the_same_way(capsys, ch13.check_warmup_cosine, warmup_cosine, runs=4)


def test_warmup_cosine_checks_every_step_of_the_named_case(capsys):
    def wrong_last_step(step, total_steps, warmup_steps, lr_max, lr_min):
        right = warmup_cosine(step, total_steps, warmup_steps, lr_max, lr_min)
        return right * 1.01 if step == total_steps - 1 else right
    fails_saying(capsys, ch13.check_warmup_cosine, wrong_last_step,
                 "at step 99, in the cosine part, the rate is too large")


def test_warmup_cosine_refuses_pytorchs_schedulers(capsys):
    torch = pytest.importorskip("torch")

    def with_torch(step, total_steps, warmup_steps, lr_max, lr_min):
        if step < warmup_steps:
            return lr_max * (step + 1) / warmup_steps
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr_max)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=total_steps - warmup_steps, eta_min=lr_min)
        for _ in range(step - warmup_steps):
            optimizer.step()
            cosine.step()
        return optimizer.param_groups[0]["lr"]
    fails_saying(capsys, ch13.check_warmup_cosine, with_torch,
                 "your answer uses torch")


@pytest.mark.parametrize("answer, says", [
    (lambda s, T, w, hi, lo: hi * s / w if s < w else warmup_cosine(s, T, w, hi, lo),
     "at step 0, in the warm-up, the rate is too small"),
    (lambda s, T, w, hi, lo: warmup_cosine(s, T, w, hi, lo) if s < w
     else lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * s / T)),
     "in the cosine part, the rate is too small"),
    (lambda s, T, w, hi, lo: 0.1 * (s + 1) / 10 if s < 10 else
     0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * (s - 10) / 90)),
     "with settings drawn at random"),
    (lambda s, T, w, hi, lo: warmup_cosine(s, T, w, hi, 0.0),
     "in the cosine part, the rate is too small: where should the cosine part end"),
    (lambda s, T, w, hi, lo: ..., "not filled in yet"),
])
def test_warmup_cosine_fails(capsys, answer, says):
    fails_saying(capsys, ch13.check_warmup_cosine, answer, says)


# ----- cheat round 2: what traps do not see, the tracing does ---------------------------------

def test_warmup_cosine_fails_the_checkers_code_copied_out(capsys):
    import types
    box = types.SimpleNamespace(code=ch13._warmup_cosine_reference.__code__,
                                names=ch13.__dict__)

    def schedule(step, total_steps, warmup_steps, lr_max, lr_min):
        return types.FunctionType(box.code, box.names)(step, total_steps, warmup_steps,
                                                       lr_max, lr_min)
    fails_saying(capsys, ch13.check_warmup_cosine, schedule,
                 "runs the code of minigrad.exercises.ch13")


def test_dropout_fails_the_packages_code_kept_in_an_object(capsys):
    import types
    from minigrad import tensor_norm
    box = types.SimpleNamespace(code=tensor_norm.dropout.__code__, names=tensor_norm.__dict__)

    def copied(x, p, rng, training):
        function = types.FunctionType(box.code, box.names)
        return np.array(function(Tensor(x.copy()), p, rng, training).data)
    fails_saying(capsys, ch13.check_dropout, copied, "runs the code of minigrad")


def test_batch_norm_train_fails_pytorch_kept_in_an_object(capsys):
    import types
    torch = pytest.importorskip("torch")
    box = types.SimpleNamespace(t=torch)

    def batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps):
        t = box.t
        mean, var = t.from_numpy(running_mean), t.from_numpy(running_var)
        y = t.batch_norm(t.from_numpy(x), t.from_numpy(gamma), t.from_numpy(beta), mean, var,
                         True, momentum, eps, False)
        return y.numpy(), mean.numpy(), var.numpy()
    fails_saying(capsys, ch13.check_batch_norm_train, batch_norm_train, "torch")


def test_dropout_and_warmup_cosine_pass_traced_with_the_same_text(capsys):
    passes_the_same_way(capsys, ch13.check_dropout, dropout)
    passes_the_same_way(capsys, ch13.check_warmup_cosine, warmup_cosine)


# ----- 13.5: AdamW's step ----------------------------------------------------------------

def adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * p), m, v


def _torch_adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """PyTorch's AdamW, started from the state (m, v, t - 1) and stepped once."""
    import torch
    param = torch.nn.Parameter(torch.from_numpy(p.copy()))
    optimizer = torch.optim.AdamW([param], lr=lr, betas=(beta1, beta2), eps=eps,
                                  weight_decay=weight_decay, foreach=False)
    param.grad = torch.from_numpy(g.copy())
    optimizer.state[param] = {"step": torch.tensor(float(t - 1)),
                              "exp_avg": torch.from_numpy(m.copy()),
                              "exp_avg_sq": torch.from_numpy(v.copy())}
    optimizer.step()
    state = optimizer.state[param]
    return (param.detach().numpy().copy(), state["exp_avg"].numpy().copy(),
            state["exp_avg_sq"].numpy().copy())


def test_adamw_step_passes(capsys):
    passes_the_same_way(capsys, ch13.check_adamw_step, adamw_step, runs=4)


def test_adamw_step_agrees_with_pytorch():
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p, m, v = rng.normal(size=(3, 4)), np.zeros((3, 4)), np.zeros((3, 4))
    settings = (0.05, 0.9, 0.99, 1e-8, 0.2)
    theirs = (p.copy(), m.copy(), v.copy())
    for t in range(1, 6):
        g = rng.normal(size=(3, 4)) * np.exp(rng.uniform(-5, 2, size=(3, 4)))
        p, m, v = adamw_step(p, g, m, v, t, *settings)
        theirs = _torch_adamw_step(*theirs[:1], g, *theirs[1:], t, *settings)
        for ours, them in zip((p, m, v), theirs):
            assert np.allclose(ours, them, rtol=1e-12, atol=1e-15)


def test_adamw_reference_is_not_adam_with_an_l2_penalty():
    # the decay outside Adam's division: a parameter whose gradient is 0 shrinks by 1 - lr·λ
    p = np.array([2.0, -3.0])
    new_p, _, _ = ch13._adamw_reference(p, np.zeros(2), np.zeros(2), np.zeros(2), 1,
                                        0.1, 0.9, 0.999, 1e-8, 0.5)
    assert np.allclose(new_p, p * (1 - 0.1 * 0.5), rtol=1e-15, atol=0)


def _adamw_with(slip):
    def answer(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
        if slip == "coupled":
            return adamw_step(p, g + weight_decay * p, m, v, t, lr, beta1, beta2, eps, 0.0)
        new_p, m, v = adamw_step(p, g, m, v, t, lr, beta1, beta2, eps, 0.0)
        if slip == "no decay":
            return new_p, m, v
        if slip == "no lr":
            return new_p - weight_decay * p, m, v
        if slip == "new p":
            return new_p - lr * weight_decay * new_p, m, v
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)   # "divided"
        return p - lr * (m_hat + weight_decay * p) / (np.sqrt(v_hat) + eps), m, v
    return answer


@pytest.mark.parametrize("answer, says", [
    (_adamw_with("coupled"), "after step 1, m (the running average of the gradients) differs "
                             "from AdamW's; it averages g + weight_decay·p"),
    (_adamw_with("no decay"), "it is Adam's step without any decay"),
    (_adamw_with("no lr"), "it is scaled by the learning rate"),
    (_adamw_with("new p"), "as they were before this step"),
    (_adamw_with("divided"), "take it out of the division"),
    (lambda *args: ..., "not filled in yet"),
    (lambda p, g, m, v, *rest: (p, m), "should return the three arrays (p, m, v)"),
])
def test_adamw_step_fails(capsys, answer, says):
    fails_saying(capsys, ch13.check_adamw_step, answer, says)


def test_adamw_step_refuses_the_packages_adam(capsys):
    def with_minigrad(p, g, m, v, t, lr, beta1, beta2, eps, weight_decay):
        param = Tensor(p.copy())
        param.grad = g.copy()
        optimizer = minigrad.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
        optimizer.m[0], optimizer.v[0], optimizer.t = m.copy(), v.copy(), t - 1
        optimizer.step()
        return param.data - lr * weight_decay * p, optimizer.m[0], optimizer.v[0]
    fails_saying(capsys, ch13.check_adamw_step, with_minigrad, "minigrad's Adam")


def test_adamw_step_refuses_pytorchs_adamw(capsys):
    pytest.importorskip("torch")
    fails_saying(capsys, ch13.check_adamw_step, _torch_adamw_step, "torch")


def test_adamw_step_fails_the_checkers_code_copied_out(capsys):
    import types
    box = types.SimpleNamespace(code=ch13._adamw_reference.__code__, names=ch13.__dict__)

    def copied(*args):
        return types.FunctionType(box.code, box.names)(*args)
    ok = ch13.check_adamw_step(copied)
    out = capsys.readouterr().out
    # the copy runs the checker's code, and through it chapter 9's reference, a trap too
    assert not ok and ("runs the code of minigrad.exercises" in out
                       or "chapter 9's checker's own _adam_reference" in out), out
