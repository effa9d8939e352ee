"""Convolution and pooling (minigrad.tensor_conv): values and gradients against loops,
central differences and PyTorch; im2col/col2im; layers; error messages."""
import numpy as np
import pytest

import minigrad
from minigrad import Conv2d, Flatten, Linear, MaxPool2d, Sequential, Tensor, conv2d, gradcheck, max_pool2d
from minigrad.tensor_conv import col2im, im2col, windows

# (N, C, H, W, out channels, kernel, stride, padding)
CASES = [
    (2, 3, 7, 6, 4, 3, 1, 0),
    (3, 2, 8, 8, 5, 3, 2, 1),
    (1, 1, 5, 5, 2, 2, 1, 2),
    (2, 3, 9, 7, 4, (3, 2), (2, 1), (1, 0)),
    (4, 1, 8, 8, 16, 3, 1, 1),   # the digits CNN's first layer, smaller batch
    (1, 4, 4, 4, 3, 4, 1, 0),    # one window: a fully connected layer
    (2, 2, 6, 5, 3, 1, 2, 0),    # 1x1 filters with a stride
]


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def loop_conv2d(x, w, b, stride, padding):
    """The definition, six loops deep (well, four and a dot product): the reference."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + (0 if b is None else b[None, :, None, None])


def _problem(case, seed=0):
    n, c, h, w, o, k, s, p = case
    rng = np.random.default_rng(seed)
    kh, kw = _pair(k)
    return rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw)), rng.standard_normal(o)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_the_loops(case):
    x, w, b = _problem(case)
    stride, padding = case[6], case[7]
    out = conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding)
    np.testing.assert_allclose(out.data, loop_conv2d(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)
    no_bias = conv2d(Tensor(x), Tensor(w), None, stride, padding)
    np.testing.assert_allclose(no_bias.data, loop_conv2d(x, w, None, stride, padding), atol=1e-12)


@pytest.mark.parametrize("case", CASES[:4] + CASES[5:])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_gradients_by_central_differences(case, with_bias):
    x, w, b = _problem(case, seed=1)
    stride, padding = case[6], case[7]
    weights = np.random.default_rng(2).standard_normal(loop_conv2d(x, w, b, stride, padding).shape)
    inputs = [Tensor(x), Tensor(w)] + ([Tensor(b)] if with_bias else [])

    def f(x, w, b=None):
        return (conv2d(x, w, b, stride, padding) * Tensor(weights, requires_grad=False)).sum()

    assert gradcheck(f, inputs) < 1e-7


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_pytorch(case, torch):
    x, w, b = _problem(case, seed=3)
    stride, padding = case[6], case[7]
    X, W, B = Tensor(x), Tensor(w), Tensor(b)
    out = conv2d(X, W, B, stride, padding)
    tx, tw, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    expected = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for mine, theirs in ((X, tx), (W, tw), (B, tb)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_skips_what_needs_no_gradient():
    x, w, b = _problem(CASES[0])
    X, W = Tensor(x, requires_grad=False), Tensor(w, requires_grad=False)
    B = Tensor(b)  # only the bias learns: the middle input of three is not forgotten either
    out = conv2d(X, W, B)
    out.sum().backward()
    np.testing.assert_allclose(B.grad, np.full(b.shape, out.shape[0] * out.shape[2] * out.shape[3]))
    W2 = Tensor(w)
    conv2d(X, W2, Tensor(b, requires_grad=False)).sum().backward()
    assert W2.grad.shape == w.shape and np.any(W2.grad)
    assert X.grad is None


def test_im2col_rows_are_the_windows():
    x = np.arange(2 * 3 * 5 * 4, dtype=float).reshape(2, 3, 5, 4)
    nhwc = x.transpose(0, 2, 3, 1)
    cols = im2col(nhwc, (2, 3), (2, 1))
    oh, ow = (5 - 2) // 2 + 1, 4 - 3 + 1
    assert cols.shape == (2 * oh * ow, 2 * 3 * 3)
    row = 0
    for n in range(2):
        for i in range(oh):
            for j in range(ow):  # rows, columns, then channels, as the docstring says
                window = nhwc[n, 2 * i:2 * i + 2, j:j + 3, :]
                np.testing.assert_array_equal(cols[row], window.reshape(-1))
                row += 1
    assert not windows(nhwc, (2, 3), (2, 1)).flags.writeable  # a view of x, read-only


@pytest.mark.parametrize("kernel,stride", [((3, 3), (1, 1)), ((2, 2), (2, 2)), ((3, 2), (2, 3)), ((1, 1), (1, 1))])
def test_col2im_adds_like_np_add_at(kernel, stride):
    shape = (2, 7, 6, 3)  # (N, H, W, C)
    v = windows(np.zeros(shape), kernel, stride)
    g = np.random.default_rng(0).standard_normal(v.shape)
    expected = np.zeros(shape)
    n, oh, ow, kh, kw, c = v.shape
    rows = (np.arange(oh)[:, None] * stride[0] + np.arange(kh)[None, :])  # (oh, kh)
    cols = (np.arange(ow)[:, None] * stride[1] + np.arange(kw)[None, :])  # (ow, kw)
    index = (np.arange(n)[:, None, None, None, None, None],
             rows[None, :, None, :, None, None], cols[None, None, :, None, :, None],
             np.arange(c)[None, None, None, None, None, :])
    np.add.at(expected, index, g)
    np.testing.assert_allclose(col2im(g, shape, stride), expected, atol=1e-13)


# ----- max pooling -------------------------------------------------------------------

def loop_max_pool(x, k, s):
    (kh, kw), (sh, sw) = _pair(k), _pair(s)
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
    return out


POOLS = [((2, 3, 8, 8), 2, None), ((1, 2, 7, 5), 2, None), ((2, 1, 7, 7), 3, 2), ((2, 2, 6, 6), (2, 3), (1, 2)),
         ((3, 4, 5, 5), 2, 1)]


@pytest.mark.parametrize("shape,k,s", POOLS)
def test_max_pool_values_and_gradients(shape, k, s):
    x = np.random.default_rng(5).standard_normal(shape)
    out = max_pool2d(Tensor(x), k, s)
    np.testing.assert_array_equal(out.data, loop_max_pool(x, k, k if s is None else s))
    weights = np.random.default_rng(6).standard_normal(out.shape)
    assert gradcheck(lambda t: (max_pool2d(t, k, s) * Tensor(weights, requires_grad=False)).sum(),
                     [Tensor(x)]) < 1e-7


@pytest.mark.parametrize("shape,k,s", POOLS)
def test_max_pool_matches_pytorch(shape, k, s, torch):
    x = np.random.default_rng(7).standard_normal(shape)
    x[0, 0, :2, :2] = 1.5  # a tie: the first of the window gets the gradient, as in PyTorch
    X = Tensor(x)
    out = max_pool2d(X, k, s)
    tx = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(tx, k, s)
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    g = np.random.default_rng(8).standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), atol=1e-14)


def test_max_pool_gives_a_tie_to_the_first_only():
    x = Tensor(np.ones((1, 1, 2, 2)))
    max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 0], [0, 0]])


# ----- layers --------------------------------------------------------------------------

def test_conv2d_layer_shapes_initialisation_and_seed():
    layer = Conv2d(3, 8, 3, padding=1, seed=0)
    assert layer.weight.shape == (8, 3, 3, 3) and layer.bias.shape == (8,)
    assert np.all(layer.bias.data == 0)
    big = Conv2d(16, 64, 5, seed=1)  # He: standard deviation √(2 / fan_in)
    assert big.weight.data.std() == pytest.approx(np.sqrt(2 / (16 * 25)), rel=0.05)
    np.testing.assert_array_equal(Conv2d(3, 8, 3, seed=0).weight.data, layer.weight.data)
    assert not np.array_equal(Conv2d(3, 8, 3, seed=1).weight.data, layer.weight.data)
    out = layer(np.zeros((2, 3, 8, 8)))
    assert out.shape == (2, 8, 8, 8)
    assert Conv2d(1, 2, 3, bias=False, seed=0).parameters()[0].shape == (2, 1, 3, 3)
    assert len(Conv2d(1, 2, 3, bias=False, seed=0).parameters()) == 1
    assert "Conv2d(3, 8" in repr(layer)


def test_sequential_cnn_forward_backward_and_parameters():
    model = Sequential(Conv2d(1, 4, 3, padding=1, seed=0), MaxPool2d(2), Flatten(), Linear(4 * 4 * 4, 10, seed=1))
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8))
    logits = model(x)
    assert logits.shape == (5, 10)
    loss = logits.cross_entropy(np.arange(5))
    loss.backward()
    assert len(model.parameters()) == 4 and all(np.any(p.grad) for p in model.parameters())
    assert len(model) == 4 and isinstance(model[1], MaxPool2d) and len(model[:2]) == 2
    assert [name for name, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias",
                                                              "layers.3.W", "layers.3.b"]


def test_flatten():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert Flatten()(x).shape == (2, 12)
    assert Flatten(0, 1)(x).shape == (6, 4)
    with pytest.raises(ValueError, match=r"axes 2..1 of a tensor of shape \(2, 3, 4\)"):
        Flatten(2, 1)(x)


# ----- mistakes ----------------------------------------------------------------------------

def test_conv2d_errors_name_the_shapes():
    x = Tensor(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\) has 3 channels.*\(4, 2, 3, 3\) expects 2"):
        conv2d(x, Tensor(np.zeros((4, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\), got shape \(3, 8, 8\).*add a batch axis"):
        conv2d(Tensor(np.zeros((3, 8, 8))), Tensor(np.zeros((4, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"bias must be a Tensor of shape \(4,\).*got \(3,\)"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"height 8 \(padded: 8\).*\(2, 3, 8, 8\).*kernel's 9"):
        conv2d(x, Tensor(np.zeros((4, 3, 9, 9))))
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), stride=0)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3))), padding=-1)
    with pytest.raises(ValueError, match=r"weight must be a Tensor of shape \(out_channels"):
        conv2d(x, Tensor(np.zeros((4, 3, 3))))
    layer = Conv2d(1, 2, 3, seed=0)
    with pytest.raises(ValueError, match=r"Conv2d.*got shape \(8, 8\)"):
        layer(np.zeros((8, 8)))
    model = Sequential(Conv2d(1, 2, 3, seed=0), Flatten(), Linear(10, 2, seed=0))
    with pytest.raises(ValueError, match=r"Sequential layer 2 \(Linear\).*width 10.*width 72"):
        model(np.zeros((1, 1, 8, 8)))
    with pytest.raises(TypeError, match=r"item 1 is 3 \(int\)"):
        Sequential(Flatten(), 3)


def test_max_pool_errors():
    with pytest.raises(ValueError, match=r"width 3 \(padded: 3\) of the input of shape \(1, 1, 4, 3\).*kernel's 4"):
        max_pool2d(Tensor(np.zeros((1, 1, 4, 3))), 4)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        MaxPool2d(0)


def test_part_three_names_are_exported():
    for name in ("conv2d", "max_pool2d", "scaled_dot_product_attention", "Conv2d", "MaxPool2d", "Flatten",
                 "Sequential", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Embedding",
                 "CausalSelfAttention", "TransformerBlock", "load_names"):
        assert hasattr(minigrad, name), name
