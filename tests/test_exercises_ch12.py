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


def _corner_at_ij(x, w, b, stride, padding):  # window (i, j) placed at (i, j), stride ignored
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    oh, ow = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("ncpq,ocpq->no", x[:, :, i:i + kh, j:j + kw], w) + b
    return out


@pytest.mark.parametrize("answer, says", [
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, 1, p)[:, :, ::s, ::s][:, :, :2, :2] if s > 1
     else conv2d_loops(x, w, b, 1, p), "height or width is wrong"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, s, 0), "x of shape (1, 2, 6, 7)"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, 0 * b, s, p), "is the bias added?"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, 2 * b, s, p), "not once per product"),
    (lambda x, w, b, s, p: conv2d_loops(x, w[:, :, ::-1, ::-1], b, s, p), "wrong numbers"),
    (lambda x, w, b, s, p: conv2d_loops(x, w, b, s, p)[0], "shape (N, O, OH, OW)"),
    (lambda x, w, b, s, p: 1 / 0, "raised ZeroDivisionError"),
    (_corner_at_ij, "where does window (i, j) start?"),
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
    (lambda x, G, kh, kw: conv_weight_grad(x, G, kh, kw)[:, :, ::-1, ::-1],
     "the right numbers at the wrong offsets"),
    (lambda x, G, kh, kw: conv_weight_grad(x, G, kh, kw) / G[:, 0].size,
     "times a constant factor"),
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


# ----- exercise 4: col2im with np.add.at, any stride and padding -----------------------------

def col2im(grad_cols, x_shape, kh, kw, stride, padding):
    n, c, height, width = x_shape
    padded_h, padded_w = height + 2 * padding, width + 2 * padding
    oh, ow = (padded_h - kh) // stride + 1, (padded_w - kw) // stride + 1
    i, j = np.divmod(np.arange(oh * ow), ow)
    p, q = np.divmod(np.arange(kh * kw), kw)
    rows, cols = stride * i[:, None] + p[None, :], stride * j[:, None] + q[None, :]
    per_image = grad_cols.reshape(n, oh * ow, c, kh * kw)
    grad = np.zeros((n, c, padded_h, padded_w))
    np.add.at(grad, (slice(None), slice(None), rows, cols), per_image.transpose(0, 2, 1, 3))
    return grad[:, :, padding:padding + height, padding:padding + width]


def _out_size(x_shape, kh, kw, stride, padding):  # (the checker's own is a trap in answers)
    return ((x_shape[2] + 2 * padding - kh) // stride + 1,
            (x_shape[3] + 2 * padding - kw) // stride + 1)


def _im2col(x, kh, kw, stride, padding):
    """The chapter's im2col, any stride and padding: (N·OH·OW, C·kh·kw)."""
    from numpy.lib.stride_tricks import sliding_window_view
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    views = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = views.shape[:4]
    return views.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)


def _col2im_case(rng, case):
    x_shape, kh, kw, stride, padding = case
    oh, ow = ch12._output_size(*case)
    return rng.normal(size=(x_shape[0] * oh * ow, x_shape[1] * kh * kw))


def _identity_filters(c, kh, kw):
    """Weights (C·kh·kw, C, kh, kw) whose convolution is im2col: filter (c, p, q) picks
    channel c's pixel at offset (p, q)."""
    return np.eye(c * kh * kw).reshape(c * kh * kw, c, kh, kw)


def test_exact_col2im_is_minigrads_conv2d_gradient():
    """cols = conv2d(x, identity filters): its x-gradient, minigrad's col2im, is the closed
    form's, for every named case (strides and paddings)."""
    rng = np.random.default_rng(5)
    for case in ch12._COL2IM_CASES:
        x_shape, kh, kw, stride, padding = case
        grad_cols = _col2im_case(rng, case)
        x = Tensor(rng.normal(size=x_shape))
        out = minigrad.conv2d(x, Tensor(_identity_filters(x_shape[1], kh, kw)), None,
                              stride, padding)
        assert np.allclose(out.data.transpose(0, 2, 3, 1).reshape(grad_cols.shape),
                           _im2col(x.data, kh, kw, stride, padding), rtol=0, atol=1e-12)
        G = grad_cols.reshape(out.shape[0], out.shape[2], out.shape[3], -1).transpose(0, 3, 1, 2)
        (out * G).sum().backward()
        assert np.allclose(ch12.exact_col2im(grad_cols, *case)[0], x.grad, rtol=0, atol=1e-12)
        assert np.allclose(col2im(grad_cols, *case), x.grad, rtol=0, atol=1e-12)


def test_exact_col2im_is_pytorchs_fold():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for case in ch12._COL2IM_CASES:
        (n, c, h, w), kh, kw, stride, padding = case
        grad_cols = _col2im_case(rng, case)
        blocks = torch.tensor(grad_cols).reshape(n, -1, c * kh * kw).transpose(1, 2)
        folded = torch.nn.functional.fold(blocks, (h, w), (kh, kw), padding=padding,
                                          stride=stride).numpy()
        assert np.allclose(ch12.exact_col2im(grad_cols, *case)[0], folded, rtol=0, atol=1e-12)


def test_exact_col2im_agrees_with_a_numerical_derivative():
    rng = np.random.default_rng(7)
    for case in ch12._COL2IM_CASES[2:4]:
        x_shape, kh, kw, stride, padding = case
        grad_cols, x = _col2im_case(rng, case), rng.normal(size=x_shape)
        numerical, h = np.zeros(x_shape), 1e-5
        for index in np.ndindex(x_shape):
            step = np.zeros(x_shape)
            step[index] = h
            numerical[index] = np.sum(grad_cols * (_im2col(x + step, kh, kw, stride, padding)
                                                   - _im2col(x - step, kh, kw, stride, padding))
                                      ) / (2 * h)
        assert np.allclose(ch12.exact_col2im(grad_cols, *case)[0], numerical, atol=1e-7)


def test_col2im_solution_passes_with_the_same_text(capsys):
    passes_the_same_way(capsys, ch12.check_col2im, col2im, runs=4)


def test_col2im_placeholder_is_not_filled_in(capsys):
    fails_saying(capsys, ch12.check_col2im, None, "col2im is not filled in yet")
    fails_saying(capsys, ch12.check_col2im, lambda *args: ..., "not filled in yet")


def _written_once(grad_cols, x_shape, kh, kw, stride, padding):  # plain += keeps one copy
    n, c, height, width = x_shape
    oh, ow = _out_size(x_shape, kh, kw, stride, padding)
    i, j = np.divmod(np.arange(oh * ow), ow)
    p, q = np.divmod(np.arange(kh * kw), kw)
    rows, cols = stride * i[:, None] + p, stride * j[:, None] + q
    grad = np.zeros((n, c, height + 2 * padding, width + 2 * padding))
    grad[:, :, rows, cols] += grad_cols.reshape(n, oh * ow, c, -1).transpose(0, 2, 1, 3)
    return grad[:, :, padding:padding + height, padding:padding + width]


def _not_cropped(grad_cols, x_shape, kh, kw, stride, padding):
    n, c, h, w = x_shape
    return col2im(grad_cols, (n, c, h + 2 * padding, w + 2 * padding), kh, kw, stride, 0)


def _cropped_top_left(grad_cols, x_shape, kh, kw, stride, padding):
    n, c, h, w = x_shape  # the right shape, but the padding cut off the bottom and right only
    padded = (n, c, h + 2 * padding, w + 2 * padding)
    return col2im(grad_cols, padded, kh, kw, stride, 0)[:, :, :h, :w]


def _stride_ignored(grad_cols, x_shape, kh, kw, stride, padding):
    oh, ow = _out_size(x_shape, kh, kw, stride, padding)
    n, c, h, w = x_shape  # the windows placed one pixel apart, whatever the stride
    grad = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    g = grad_cols.reshape(n, oh, ow, c, kh, kw)
    for i in range(oh):
        for j in range(ow):
            grad[:, :, i:i + kh, j:j + kw] += g[:, i, j]
    return grad[:, :, padding:padding + h, padding:padding + w]


def _loop_over_windows(grad_cols, x_shape, kh, kw, stride, padding):
    n, c, h, w = x_shape
    oh, ow = _out_size(x_shape, kh, kw, stride, padding)
    grad = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    g = grad_cols.reshape(n, oh, ow, c, kh, kw)
    for i in range(oh):
        for j in range(ow):
            grad[:, :, stride * i:stride * i + kh, stride * j:stride * j + kw] += g[:, i, j]
    return grad[:, :, padding:padding + h, padding:padding + w]


def _numerical(step, at_zero):
    """dL/dx for L = Σ grad_cols · im2col(x) by central differences (the reader's own
    im2col): at a random x, or at x = 0, where L is linear and a step of 1 is exact."""
    def answer(grad_cols, x_shape, kh, kw, stride, padding):
        x = np.zeros(x_shape) if at_zero else np.random.default_rng(8).normal(size=x_shape)
        def loss(x):
            return np.sum(grad_cols * _im2col(x, kh, kw, stride, padding))
        grad = np.zeros(x_shape)
        for index in np.ndindex(x_shape):
            e = np.zeros(x_shape)
            e[index] = step
            grad[index] = (loss(x + e) - loss(x - e)) / (2 * step)
        return grad
    return answer


@pytest.mark.parametrize("answer, says", [
    (_written_once, "np.add.at adds them all"),
    (_not_cropped, "crop their share off"),
    (_cropped_top_left, "crop P from each side"),
    (_stride_ignored, "(c, S·i + p, S·j + q) of the padded image"),
    (lambda g, xs, kh, kw, s, p: col2im(g, xs, kh, kw, s, p)[:, :1], "x's shape"),
    (_loop_over_windows, "one by one in Python"),
    (_numerical(1e-5, False), "the rule must be exact"),
    (_numerical(1.0, False), "the rule must be exact"),
    (_numerical(1.0, True), "one by one in Python"),
    (lambda *args: 1 / 0, "raised ZeroDivisionError"),
])
def test_col2im_wrong_answers_fail(capsys, answer, says):
    fails_saying(capsys, ch12.check_col2im, answer, says)


def test_col2im_calling_the_package_fails(capsys):
    from minigrad import tensor_conv

    def package(grad_cols, x_shape, kh, kw, stride, padding):
        n, c, h, w = x_shape
        oh, ow = _out_size(x_shape, kh, kw, stride, padding)
        windows = grad_cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 1, 2, 4, 5, 3)
        full = tensor_conv.col2im(windows, (n, h + 2 * padding, w + 2 * padding, c),
                                  (stride, stride))
        return full.transpose(0, 3, 1, 2)[:, :, padding:padding + h, padding:padding + w]
    fails_saying(capsys, ch12.check_col2im, package, "your answer calls minigrad's col2im")

    def autograd(grad_cols, x_shape, kh, kw, stride, padding):
        x = Tensor(np.zeros(x_shape))
        out = minigrad.conv2d(x, Tensor(_identity_filters(x_shape[1], kh, kw)), None,
                              stride, padding)
        n, _, oh, ow = out.shape
        (out * grad_cols.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)).sum().backward()
        return x.grad
    fails_saying(capsys, ch12.check_col2im, autograd, "your answer calls minigrad's")


def test_col2im_calling_pytorch_fails(capsys):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    def fold(grad_cols, x_shape, kh, kw, stride, padding):
        n, c, h, w = x_shape
        blocks = torch.tensor(grad_cols).reshape(n, -1, c * kh * kw).transpose(1, 2)
        return F.fold(blocks, (h, w), (kh, kw), padding=padding, stride=stride).numpy()
    fails_saying(capsys, ch12.check_col2im, fold, "PyTorch's fold")

    def autograd(grad_cols, x_shape, kh, kw, stride, padding):
        x = torch.zeros(x_shape, dtype=torch.float64, requires_grad=True)
        cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, Ckk, L)
        blocks = torch.tensor(grad_cols).reshape(x_shape[0], -1, cols.shape[1])
        (cols * blocks.transpose(1, 2)).sum().backward()
        return x.grad.numpy()
    ok, out = run(capsys, ch12.check_col2im, autograd)
    assert not ok and "PyTorch's" in out, out


@pytest.mark.parametrize("checker, answer", [
    (ch12.check_conv_weight_grad, lambda x, G, kh, kw: ch12.exact_weight_grad(x, G, kh, kw)[0]),
    (ch12.check_max_pool_backward, ch12.exact_pool_grad),
])
def test_calling_the_checkers_own_rule_fails(capsys, checker, answer):
    fails_saying(capsys, checker, answer, "or the course's own code")
