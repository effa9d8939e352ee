"""The checkers of chapter 12 PASS the solutions and FAIL wrong or cheating answers, saying why."""
import numpy as np
import pytest

import minigrad
from minigrad import Tensor, gradcheck
from minigrad.exercises import ch12
from exercise_verdicts import fails_saying, passes_the_same_way, run


# ----- the solutions, as the chapter gives them ----------------------------------------

def conv2d_loops(x, w, b, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for image in range(n):
        for f in range(o):
            for i in range(oh):
                for j in range(ow):
                    top, left = i * stride, j * stride
                    window = x[image, :, top:top + kh, left:left + kw]
                    out[image, f, i, j] = np.sum(window * w[f]) + b[f]
    return out


def conv_weight_grad(x, G, kh, kw):
    n, o, oh, ow = G.shape
    grad = np.zeros((o, x.shape[1], kh, kw))
    for image in range(n):
        for f in range(o):
            for i in range(oh):
                for j in range(ow):
                    grad[f] += G[image, f, i, j] * x[image, :, i:i + kh, j:j + kw]
    return grad


def max_pool_backward(x, G, k):
    grad = np.zeros_like(x)
    n, c, oh, ow = G.shape
    for image in range(n):
        for channel in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = x[image, channel, i * k:(i + 1) * k, j * k:(j + 1) * k]
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    grad[image, channel, i * k + p, j * k + q] += G[image, channel, i, j]
    return grad


# ----- the closed forms the checkers use agree with minigrad's convolution and pooling ----

def test_reference_conv2d_is_minigrads_conv2d():
    rng = np.random.default_rng(0)
    for x_shape, w_shape, stride, padding in ch12._CONV_CASES:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        ours = ch12.reference_conv2d(x, w, b, stride, padding)
        theirs = minigrad.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding).data
        assert ours.shape == theirs.shape
        assert np.allclose(ours, theirs, rtol=0, atol=1e-12)


def test_exact_gradients_are_minigrads():
    rng = np.random.default_rng(1)
    x, w = Tensor(rng.normal(size=(2, 3, 6, 5))), Tensor(rng.normal(size=(4, 3, 3, 2)))
    out = minigrad.conv2d(x, w)
    G = rng.normal(size=out.shape)
    (out * G).sum().backward()
    assert np.allclose(ch12.exact_weight_grad(x.data, G, 3, 2)[0], w.grad, rtol=0, atol=1e-12)
    x = Tensor(rng.integers(0, 3, size=(2, 2, 7, 6)).astype(float))  # ties, an edge left over
    out = minigrad.max_pool2d(x, 2)
    G = rng.normal(size=out.shape)
    (out * G).sum().backward()
    assert np.array_equal(ch12.exact_pool_grad(x.data, G, 2), x.grad)


def test_the_solutions_loops_agree_with_finite_differences():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(1, 2, 5, 4)), rng.normal(size=(2, 2, 2, 3))
    G = rng.normal(size=(1, 2, 4, 2))
    gap = gradcheck(lambda w: (minigrad.conv2d(Tensor(x, requires_grad=False), w)
                    * Tensor(G, requires_grad=False)).sum(), [Tensor(w)])
    assert gap < 1e-6
    assert np.allclose(conv_weight_grad(x, G, 2, 3), ch12.exact_weight_grad(x, G, 2, 3)[0])


# ----- the right answers pass, with the same text on every run ----------------------------

@pytest.mark.parametrize("checker, answer", [
    (ch12.check_conv2d_loops, conv2d_loops),
    (ch12.check_conv_weight_grad, conv_weight_grad),
    (ch12.check_max_pool_backward, max_pool_backward),
])
def test_solutions_pass_with_the_same_text(capsys, checker, answer):
    passes_the_same_way(capsys, checker, answer, runs=4)


def test_vectorised_answers_pass_too(capsys):
    def conv_by_einsum(x, w, b, stride, padding):  # another method, not the package's
        from numpy.lib.stride_tricks import sliding_window_view
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        views = sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
        return np.einsum("ncijpq,ocpq->noij", views, w) + b[:, None, None]
    assert run(capsys, ch12.check_conv2d_loops, conv_by_einsum)[0]


@pytest.mark.parametrize("checker, name", [
    (ch12.check_conv2d_loops, "conv2d_loops"),
    (ch12.check_conv_weight_grad, "conv_weight_grad"),
    (ch12.check_max_pool_backward, "max_pool_backward"),
])
def test_placeholders_are_not_filled_in(capsys, checker, name):
    fails_saying(capsys, checker, None, f"{name} is not filled in yet")
    fails_saying(capsys, checker, lambda *args: ..., "not filled in yet")


# ----- exercise 1: the convolution as loops ------------------------------------------------

def test_conv_calling_the_package_fails(capsys):
    def package(x, w, b, stride, padding):
        return minigrad.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding).data
    fails_saying(capsys, ch12.check_conv2d_loops, package, "your answer calls minigrad's conv2d")

    def package_layer(x, w, b, stride, padding):
        from minigrad.tensor_conv import conv2d
        return conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding).data
    fails_saying(capsys, ch12.check_conv2d_loops, package_layer,
                 "your answer calls minigrad's conv2d")
    assert run(capsys, ch12.check_conv2d_loops, minigrad.conv2d)[0] is False


def test_conv_calling_pytorch_fails(capsys):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    def with_torch(x, w, b, stride, padding):
        return F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride,
                        padding=padding).numpy()
    fails_saying(capsys, ch12.check_conv2d_loops, with_torch, "PyTorch's conv2d")


@pytest.mark.parametrize("answer, says", [
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, 1, p)[:, :, ::s, ::s][:, :, :2, :2] if s > 1
     else conv2d_loops(x, w, b, 1, p), "height or width is wrong"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, s, 0), "x of shape (1, 2, 6, 7)"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, 0 * b, s, p), "is the bias added?"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, 2 * b, s, p), "not once per product"),
    (lambda x, w, b, s, p: conv2d_loops(x, w[:, :, ::-1, ::-1], b, s, p), "wrong numbers"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, s, p)[0], "shape (N, O, OH, OW)"),
    (lambda x, w, b, s, p: 1 / 0, "raised ZeroDivisionError"),
])
def test_conv_wrong_answers_fail(capsys, answer, says):
    fails_saying(capsys, ch12.check_conv2d_loops, answer, says)


def test_conv_right_only_for_the_named_cases_fails(capsys):
    named = {(x_shape, w_shape, stride, padding)
             for x_shape, w_shape, stride, padding in ch12._CONV_CASES}

    def only_named_cases(x, w, b, stride, padding):  # forgets the stride elsewhere
        if (x.shape, w.shape, stride, padding) in named:
            return conv2d_loops(x, w, b, stride, padding)
        return conv2d_loops(x, w, b, 1, padding)
    for _ in range(5):  # a run whose drawn cases all have stride 1 passes: most runs fail
        ok, out = run(capsys, ch12.check_conv2d_loops, only_named_cases)
        if not ok:
            assert "drawn at random" in out and "right for the cases named here" in out
            assert "shape (" not in out  # no drawn number is named
            return
    pytest.fail("a stride ignored outside the named cases was never caught")


# ----- exercise 2: the weight gradient ----------------------------------------------------

@pytest.mark.parametrize("h", [1e-5, 1.0, 2.0 ** -10])
def test_weight_grad_numerical_fails_as_not_exact(capsys, h):
    """Finite differences fail, the big steps too that a loss linear in w makes exact but
    for rounding: the inputs' channels span orders of magnitude that rounding swamps."""
    def numerical(x, G, kh, kw):
        o = G.shape[1]
        w = np.random.default_rng(4).normal(size=(o, x.shape[1], kh, kw))
        grad = np.zeros_like(w)

        def loss(w):
            return np.sum(G * conv2d_loops(x, w, np.zeros(o), 1, 0))
        for index in np.ndindex(w.shape):
            step = np.zeros_like(w)
            step[index] = h
            grad[index] = (loss(w + step) - loss(w - step)) / (2 * h)
        return grad
    fails_saying(capsys, ch12.check_conv_weight_grad, numerical, "the rule must be exact")


def test_weight_grad_through_autograd_fails(capsys):
    def autograd(x, G, kh, kw):
        w = Tensor(np.zeros((G.shape[1], x.shape[1], kh, kw)))
        (minigrad.conv2d(Tensor(x, requires_grad=False), w) * G).sum().backward()
        return w.grad
    fails_saying(capsys, ch12.check_conv_weight_grad, autograd,
                 "your answer calls minigrad's conv2d")


@pytest.mark.parametrize("answer, says", [
    (lambda x, G, kh, kw: conv_weight_grad(x, G, kh, kw)[:, :1], "the weight's shape"),
    (lambda x, G, kh, kw: conv_weight_grad(x[:1], G[:1], kh, kw),
     "add one product per position (and per image)"),
    (lambda x, G, kh, kw: conv_weight_grad(x, G, kh, kw) / G[0, 0, 0, 0], "is wrong"),
])
def test_weight_grad_wrong_answers_fail(capsys, answer, says):
    fails_saying(capsys, ch12.check_conv_weight_grad, answer, says)


# ----- exercise 3: max pooling's backward ---------------------------------------------------

def test_pool_every_tied_entry_fails(capsys):
    def to_every_maximum(x, G, k):
        n, c, oh, ow = G.shape
        grad = np.zeros_like(x)
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i * k:(i + 1) * k, j * k:(j + 1) * k]
                top = window == window.max(axis=(2, 3), keepdims=True)
                grad[:, :, i * k:(i + 1) * k, j * k:(j + 1) * k] = top * G[:, :, i:i + 1, j:j + 1]
        return grad
    fails_saying(capsys, ch12.check_max_pool_backward, to_every_maximum,
                 "only the first (in reading order)")


def test_pool_package_and_autograd_fail(capsys):
    def package(x, G, k):
        xt = Tensor(x)
        (minigrad.max_pool2d(xt, k) * G).sum().backward()
        return xt.grad
    fails_saying(capsys, ch12.check_max_pool_backward, package,
                 "your answer calls minigrad's max_pool2d")


def test_pool_numerical_fails_as_not_exact(capsys):
    def numerical(x, G, k):
        def loss(x):
            n, c, oh, ow = G.shape
            pooled = x[:, :, :oh * k, :ow * k].reshape(n, c, oh, k, ow, k).max(axis=(3, 5))
            return np.sum(G * pooled)
        grad, h = np.zeros_like(x), 1e-6
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = h
            grad[index] = (loss(x + step) - loss(x - step)) / (2 * h)
        return grad
    ok, out = run(capsys, ch12.check_max_pool_backward, numerical)
    assert not ok and ("not equal to it" in out or "is wrong" in out)


@pytest.mark.parametrize("answer, says", [
    (lambda x, G, k: G, "x's shape"),
    (lambda x, G, k: np.pad(np.repeat(np.repeat(G, k, axis=2), k, axis=3) / k ** 2,
                            ((0, 0), (0, 0), (0, x.shape[2] % k), (0, x.shape[3] % k))),
     "goes to the position of its largest entry"),
    (lambda x, G, k: max_pool_backward(x, G, k)[:, :, :, ::-1], "is wrong"),
])
def test_pool_wrong_answers_fail(capsys, answer, says):
    fails_saying(capsys, ch12.check_max_pool_backward, answer, says)


# ----- cheat round 2: what traps do not see, the tracing does ---------------------------------

def _torch_in_an_object():
    import types
    torch = pytest.importorskip("torch")
    box = types.SimpleNamespace(t=torch)

    def conv2d_loops(x, w, b, stride, padding):
        t = box.t
        return t.conv2d(t.tensor(x), t.tensor(w), t.tensor(b), stride=stride,
                        padding=padding).numpy()
    return conv2d_loops


def _relay_through_a_fake_package_module():
    namespace = {"__name__": "minigrad.mine"}
    exec("def relay(f, *a):\n    return f(*a)\n", namespace)  # noqa: S102 - the cheat
    relay = namespace["relay"]

    def conv2d_loops(x, w, b, stride, padding):
        return relay(ch12.reference_conv2d, x, w, b, stride, padding)
    return conv2d_loops


def _package_code_compiled_again():
    import inspect
    from minigrad import tensor_conv
    namespace = dict(vars(tensor_conv))
    exec(compile(inspect.getsource(tensor_conv), "<mine>", "exec"), namespace)  # noqa: S102

    def conv2d_loops(x, w, b, stride, padding):
        return namespace["conv2d"](Tensor(x), Tensor(w), Tensor(b), stride=stride,
                                   padding=padding).data
    return conv2d_loops


@pytest.mark.parametrize("make, says", [
    (_torch_in_an_object, "torch"),
    (_relay_through_a_fake_package_module, "runs the code of minigrad"),
    (_package_code_compiled_again, "runs the code of minigrad"),
])
def test_conv2d_loops_fails_what_runs_out_of_the_traps_sight(capsys, make, says):
    # (PyTorch is named by the trap it springs, "PyTorch's conv2d", or by its module)
    out = fails_saying(capsys, ch12.check_conv2d_loops, make(), "")
    assert says in out.lower(), out


def test_conv2d_loops_passes_the_loops_traced_with_the_same_text(capsys):
    passes_the_same_way(capsys, ch12.check_conv2d_loops, conv2d_loops)


def test_the_packages_code_compiled_under_another_name_is_the_packages():
    import inspect
    from minigrad import tensor_conv
    from minigrad.exercises.what_runs import run_traced
    namespace = dict(vars(tensor_conv))
    exec(compile(inspect.getsource(tensor_conv), "<mine>", "exec"), namespace)  # noqa: S102
    rng = np.random.default_rng(0)
    x, w, b = (Tensor(rng.normal(size=s)) for s in ((1, 1, 5, 5), (2, 1, 3, 3), (2,)))
    assert namespace["conv2d"] is not tensor_conv.conv2d
    found = run_traced(namespace["conv2d"], x, w, b, watched=("minigrad.tensor_conv",))[2]
    assert found == "minigrad.tensor_conv"
    # the reader's own loops are theirs
    assert run_traced(conv2d_loops, x.data, w.data, b.data, 1, 0,
                      watched=("minigrad",))[2] is None
