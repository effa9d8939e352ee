"""Checkers for the exercises of chapter 12, convolution and pooling.

Each prints PASS, or FAIL with what is wrong (which case, which part),
without printing the expected answer; each also returns True or False.
Answers are tried on cases named in the messages and on shapes drawn afresh
on every run (whose messages name no drawn number). The reference answers
are closed forms in plain NumPy (windows read with ``sliding_window_view``
and summed with ``einsum``), never the package's convolution; while the
reader's code runs, the package's convolution and pooling, any autograd and
PyTorch's versions (if imported) are traps. A gradient rule is compared with
the exact one to about 1e-13, closer than finite differences reach. col2im's
Python steps are counted too (traced): asked for with ``np.add.at``, they must
not grow with the number or size of the images, as a loop over them does.
"""
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigrad import tensor_conv
from minigrad.exercises import package_rule_entries
from minigrad.exercises import (as_numbers, autograd_entries, forbidding, fresh_rng, is_unset,
                                not_filled_in, report, reports_forbidden)
from minigrad.exercises.ch07 import rule_problem
from minigrad.exercises.what_runs import loop_in_python, watching

__all__ = ["check_conv2d_loops", "check_conv_weight_grad", "check_max_pool_backward",
           "check_col2im"]

WRITE_LOOPS = "the exercise asks you to write the convolution yourself, with loops"
WRITE_RULE = ("the exercise asks you to write the rule yourself, without any autograd "
              "or the course's own code")
WRITE_COL2IM = "the exercise asks you to write col2im yourself, with np.add.at"

#: What the answers must not run (traced, which sees what traps do not: a module kept in an
#: object, a relay, code copied or compiled again out of the package's engine). The checkers'
#: own closed forms are not watched: an answer may well be written the same way.
_WATCHED = ("torch", "micrograd", "minigrad", "yourgrad")  # the reader's autograd too


def _package_entries(*names):
    """:func:`forbidding`'s entries for the package's convolution and pooling (``names`` of
    :mod:`minigrad.tensor_conv`), as ``minigrad.conv2d`` reaches them too, and PyTorch's
    functional versions if the reader imported PyTorch."""
    import minigrad
    entries = []
    for name in names:
        entries.append((tensor_conv, name, f"minigrad's {name}"))
        if hasattr(minigrad, name):
            entries.append((minigrad, name, f"minigrad's {name}"))
    entries += [(tensor_conv.Conv2dOp, "__init__", "minigrad's conv2d"),
                (tensor_conv.Conv2dOp, "_backward", "minigrad's conv2d rule"),
                (tensor_conv.MaxPool2dOp, "__init__", "minigrad's max_pool2d"),
                (tensor_conv.MaxPool2dOp, "_backward", "minigrad's max_pool2d rule")]
    functional = sys.modules.get("torch.nn.functional")
    if functional is not None:  # only if the reader imported it: the checker never does
        entries += [(functional, name, f"PyTorch's {name}")
                    for name in ("conv2d", "max_pool2d", "unfold", "fold")]
    return entries


def reference_conv2d(x, w, b, stride, padding):
    """out[n, o, i, j] = b[o] + Σ_c Σ_p Σ_q w[o, c, p, q] x[n, c, s·i + p, s·j + q], x padded."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    views = sliding_window_view(x, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("ncijpq,ocpq->noij", views, w) + b[:, None, None]


def _describe(shapes, stride=None, padding=None):
    x_shape, w_shape = shapes
    text = f"x of shape {x_shape} and a weight of shape {w_shape}"
    if stride is not None:
        text += f", stride {stride}, padding {padding}"
    return text


# ----- exercise: the convolution as loops, with stride and padding -----------------

# (x's shape, the weight's shape, stride, padding): named in the messages
_CONV_CASES = [((2, 1, 5, 5), (3, 1, 3, 3), 1, 0),
               ((1, 2, 6, 7), (2, 2, 3, 2), 1, 1),
               ((2, 3, 7, 7), (4, 3, 3, 3), 2, 1),
               ((1, 1, 8, 8), (2, 1, 2, 2), 2, 0),
               ((2, 2, 6, 5), (3, 2, 3, 3), 2, 0),
               ((1, 1, 4, 4), (1, 1, 3, 3), 3, 2)]


def _drawn_conv_case(rng):
    n, c, o = (int(v) for v in rng.integers(1, 4, size=3))
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    h = int(rng.integers(max(kh - 2 * padding, 1), 10))
    wd = int(rng.integers(max(kw - 2 * padding, 1), 10))
    return (n, c, h, wd), (o, c, kh, kw), stride, padding


def _run_answer(what, name, function, entries, task, described, *args):
    """The reader's function called on ``args`` with the package's ``entries``
    trapped: ``(array, None)``, or ``(None, verdict)`` after reporting that it
    raised, is not filled in, or returned no array of numbers."""
    try:
        with forbidding(entries, [function], task), watching(task, _WATCHED):
            got = function(*args)
    except Exception as error:  # the reader's code is under test: report, don't crash
        return None, report(False, what, f"for {described}, your function raised "
                                         f"{type(error).__name__}: {error}")
    if is_unset(got):
        return None, not_filled_in(what, name)
    got = as_numbers(got)
    if got is None:
        return None, report(False, what, f"{name} should return an array of numbers")
    return got, None


@reports_forbidden("conv2d_loops(x, w, b, stride, padding)")
def check_conv2d_loops(conv_fn):
    """Check the reader's ``conv2d_loops(x, w, b, stride, padding)`` (NumPy arrays in, a NumPy
    array out) against the closed form on the named cases and on 6 drawn at random."""
    what = "conv2d_loops(x, w, b, stride, padding)"
    if is_unset(conv_fn):
        return not_filled_in(what, "conv2d_loops")
    rng = fresh_rng()
    cases = [(case, True) for case in _CONV_CASES]
    cases += [(_drawn_conv_case(rng), False) for _ in range(6)]
    for (x_shape, w_shape, stride, padding), named in cases:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        b = rng.normal(size=w_shape[0])
        described = (_describe((x_shape, w_shape), stride, padding) if named
                     else "shapes, a stride and a padding drawn at random")
        entries = _package_entries("conv2d", "im2col", "col2im", "windows")
        got, verdict = _run_answer(what, "conv2d_loops", conv_fn, entries, WRITE_LOOPS,
                                   described, x.copy(), w.copy(), b.copy(), stride, padding)
        if got is None:
            return verdict
        expected = reference_conv2d(x, w, b, stride, padding)
        if got.shape != expected.shape:
            if got.ndim != 4 or got.shape[:2] != expected.shape[:2]:
                problem = ("the output should have shape (N, O, OH, OW): N images, one "
                           "channel per filter")
            else:
                problem = ("the output's height or width is wrong: how many places can a "
                           "window of kh rows stop at, in H + 2·padding rows, moving "
                           "stride rows at a time?")
            if named:
                problem += f" (got shape {got.shape})"
            if not named:
                return report(False, what, f"for {described}, {problem}; it is right for the "
                                           "cases named here: compute the size from the shapes")
            return report(False, what, f"for {described}, {problem}")
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-9):
            hint, gap = "", got - expected
            if np.allclose(gap, -b[:, None, None]):
                hint = ": is the bias added?"
            elif np.allclose(got, _corner_at_ij(x, w, b, padding, got.shape)):
                hint = (": where does window (i, j) start? With stride S its corner "
                        "is (S·i, S·j)")
            elif np.allclose(gap, gap[:, :, :1, :1]):  # off by one number per filter
                hint = ": is the bias added once to each output (not once per product)?"
            return report(False, what, f"for {described}, the output has the right shape but "
                                       f"wrong numbers{hint}")
    return report(True, what, f"for {len(_CONV_CASES)} named cases and 6 drawn at random, "
                              "strides and paddings included")


def _corner_at_ij(x, w, b, padding, shape):
    """What an answer gives whose window (i, j) starts at (i, j), whatever the stride, for
    an output of ``shape``."""
    every = reference_conv2d(x, w, b, 1, padding)
    return every[:, :, :shape[2], :shape[3]]


# ----- exercise: the weight gradient, a sum over positions ---------------------------

_GRAD_CASES = [((2, 1, 5, 5), (3, 1, 3, 3)), ((1, 2, 6, 7), (2, 2, 3, 2)),
               ((3, 3, 4, 4), (4, 3, 2, 2)), ((2, 2, 5, 4), (1, 2, 1, 1))]


def _spread_out(rng, shape):
    """Normal numbers whose channels (axis 1) are scaled by powers of ten from 1e-4 to
    1e4: the weight gradient's entries then span 16 orders of magnitude. A rule sums each
    entry's own terms, exact to its last bits; a difference of two losses rounds at the size
    of the largest terms, which swamps the small entries (whatever the step)."""
    scales = 10.0 ** rng.uniform(-4, 4, size=shape[1])
    return rng.normal(size=shape) * scales[None, :, None, None]


def exact_weight_grad(x, G, kh, kw):
    """dL/dw[o, c, p, q] = Σ_n Σ_i Σ_j G[n, o, i, j] x[n, c, i + p, j + q] (stride 1, no
    padding), and the same sum over the sizes of its terms."""
    views = sliding_window_view(x, (kh, kw), axis=(2, 3))
    grad = np.einsum("noij,ncijpq->ocpq", G, views)
    scale = np.einsum("noij,ncijpq->ocpq", np.abs(G), np.abs(views))
    return grad, scale


def _weight_grad_hint(got, exact):
    """What a wrong weight gradient ``got`` most likely got wrong, as the end of a sentence."""
    if np.allclose(got, exact[:, :, ::-1, ::-1], rtol=1e-9, atol=0):
        return (": the right numbers at the wrong offsets, as for a flipped filter: weight "
                "(p, q) meets pixel (i + p, j + q) of the window at (i, j)")
    ratio = got.ravel() @ exact.ravel() / (exact.ravel() @ exact.ravel())
    if np.allclose(got, ratio * exact, rtol=1e-9, atol=0):
        return (": it is the right one times a constant factor; add the products, one "
                "per use, without dividing (or multiplying) the sum")
    return (": each weight meets the pixel under it at every position of the window; "
            "add one product per position (and per image)")


@reports_forbidden("conv_weight_grad(x, G, kh, kw)")
def check_conv_weight_grad(grad_fn):
    """Check ``grad_fn(x, G, kh, kw)`` = dL/dw for out = conv2d(x, w) (stride 1, no padding)
    and G = dL/dout, against the exact sum over positions (to about 1e-13), on inputs whose
    channels span many orders of magnitude, which a finite difference cannot follow."""
    what = "conv_weight_grad(x, G, kh, kw)"
    if is_unset(grad_fn):
        return not_filled_in(what, "conv_weight_grad")
    rng = fresh_rng()
    cases = [(case, True) for case in _GRAD_CASES]
    for _ in range(4):
        n, c = (int(v) for v in rng.integers(1, 4, size=2))
        o = int(rng.integers(2, 5))  # two filters at least: gradients of different sizes
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        h, wd = int(rng.integers(kh, 8)), int(rng.integers(kw, 8))
        cases.append((((n, c, h, wd), (o, c, kh, kw)), False))
    entries = (autograd_entries() + package_rule_entries()
               + _package_entries("conv2d", "im2col", "col2im", "windows"))
    for (x_shape, w_shape), named in cases:
        n, c, h, wd = x_shape
        o, _, kh, kw = w_shape
        x, G = _spread_out(rng, x_shape), _spread_out(rng, (n, o, h - kh + 1, wd - kw + 1))
        described = _describe((x_shape, w_shape)) if named else "shapes drawn at random"
        got, verdict = _run_answer(what, "conv_weight_grad", grad_fn, entries, WRITE_RULE,
                                   described, x.copy(), G.copy(), kh, kw)
        if got is None:
            return verdict
        if got.shape != w_shape:
            shown = f" (got shape {got.shape})" if named else ""
            return report(False, what, f"for {described}, the gradient should have the "
                                       f"weight's shape, (O, C, kh, kw){shown}")
        exact, scale = exact_weight_grad(x, G, kh, kw)
        problem = rule_problem("the weight", got, exact, scale, described)
        if problem:
            if "is wrong" in problem:
                problem += _weight_grad_hint(got, exact)
            return report(False, what, problem)
    return report(True, what, f"for {len(_GRAD_CASES)} named cases and 4 drawn at random, exact")


# ----- exercise: max pooling's backward ----------------------------------------------

# (x's shape, k): windows of k x k, side by side
_POOL_CASES = [((1, 1, 4, 4), 2), ((2, 3, 6, 6), 2), ((1, 2, 6, 6), 3), ((2, 1, 5, 7), 2)]


def exact_pool_grad(x, G, k):
    """dL/dx for out = max over each k x k window (stride k): G goes to the first largest
    entry of its window (in reading order), 0 elsewhere; rows and columns left over get 0."""
    n, c, h, w = x.shape
    oh, ow = h // k, w // k
    windows = x[:, :, :oh * k, :ow * k].reshape(n, c, oh, k, ow, k).transpose(0, 1, 2, 4, 3, 5)
    first = windows.reshape(n, c, oh, ow, k * k).argmax(axis=-1)
    routed = np.zeros((n, c, oh, ow, k * k))
    np.put_along_axis(routed, first[..., None], G[..., None], axis=-1)
    grad = np.zeros_like(x)
    grad[:, :, :oh * k, :ow * k] = (routed.reshape(n, c, oh, ow, k, k)
                                    .transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh * k, ow * k))
    return grad


@reports_forbidden("max_pool_backward(x, G, k)")
def check_max_pool_backward(backward_fn):
    """Check ``backward_fn(x, G, k)`` = dL/dx for max pooling over k x k windows with stride k,
    on inputs with ties (the first largest entry gets the gradient) and leftover edges."""
    what = "max_pool_backward(x, G, k)"
    if is_unset(backward_fn):
        return not_filled_in(what, "max_pool_backward")
    rng = fresh_rng()
    cases = [(shape, k, True, False) for shape, k in _POOL_CASES]
    cases.append(((2, 2, 6, 6), 2, True, True))  # small whole numbers: windows with ties
    for _ in range(4):
        k = int(rng.integers(2, 4))
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)),
                 int(rng.integers(k, 3 * k + 2)), int(rng.integers(k, 3 * k + 2)))
        cases.append((shape, k, False, bool(rng.integers(2))))
    entries = autograd_entries() + package_rule_entries() + _package_entries("max_pool2d")
    for shape, k, named, ties in cases:
        x = (rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape))
        G = rng.normal(size=shape[:2] + (shape[2] // k, shape[3] // k))
        described = (f"x of shape {shape}, k = {k}" + (", with ties" if ties else "") if named
                     else "a shape drawn at random")
        got, verdict = _run_answer(what, "max_pool_backward", backward_fn, entries, WRITE_RULE,
                                   described, x.copy(), G.copy(), k)
        if got is None:
            return verdict
        if got.shape != shape:
            shown = f" (got shape {got.shape})" if named else ""
            return report(False, what, f"for {described}, the gradient should have x's "
                                       f"shape{shown}")
        exact = exact_pool_grad(x, G, k)
        if np.array_equal(got, exact):
            continue
        if np.allclose(got, exact, rtol=1e-6, atol=1e-6):
            return report(False, what, f"for {described}, the gradient is close to the right one "
                                       "but not equal to it, as a numerical derivative would be: "
                                       "route each gradient, exactly")
        windows_hit = np.count_nonzero(got[:, :, :shape[2] // k * k, :shape[3] // k * k])
        if ties and windows_hit > G.size:
            hint = (": where several entries tie for the largest, only the first (in reading "
                    "order) gets the window's gradient")
        elif np.any(got[:, :, shape[2] // k * k:]) or np.any(got[:, :, :, shape[3] // k * k:]):
            hint = ": rows or columns left over at the edge belong to no window"
        else:
            hint = ": each window's gradient goes to the position of its largest entry"
        return report(False, what, f"for {described}, the gradient is wrong{hint}")
    return report(True, what, f"for {len(_POOL_CASES) + 1} named cases (ties included) and 4 "
                              "drawn at random, exact")


# ----- exercise: col2im with np.add.at, for any stride and padding --------------------

def _output_size(x_shape, kh, kw, stride, padding):
    h, w = x_shape[2] + 2 * padding, x_shape[3] + 2 * padding
    return (h - kh) // stride + 1, (w - kw) // stride + 1


def exact_col2im(grad_cols, x_shape, kh, kw, stride, padding):
    """dL/dx for cols = im2col(x) of the chapter (row ``(n·OH + i)·OW + j`` the window whose
    corner is ``(s·i, s·j)`` of the padded x, columns channel, row, column of the window),
    given ``grad_cols`` = dL/dcols: entry ``(c, p, q)`` of window ``(i, j)`` is added to
    pixel ``(c, s·i + p, s·j + q)`` of the padded image, whose border (the padding, constants)
    is then cropped off. Also the same sums over the sizes of their terms. One sliced sum
    per offset (p, q): for a fixed offset, no two windows share a pixel."""
    n, c, h, w = x_shape
    oh, ow = _output_size(x_shape, kh, kw, stride, padding)
    per_offset = grad_cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    padded = (n, c, h + 2 * padding, w + 2 * padding)
    grad, scale = np.zeros(padded), np.zeros(padded)
    for p in range(kh):
        for q in range(kw):
            rows = slice(p, p + stride * oh, stride)
            cols = slice(q, q + stride * ow, stride)
            grad[:, :, rows, cols] += per_offset[:, :, p, q]
            scale[:, :, rows, cols] += np.abs(per_offset[:, :, p, q])
    inside = (slice(None), slice(None), slice(padding, padding + h), slice(padding, padding + w))
    return grad[inside], scale[inside]


def _cropped_top_left(grad_cols, x_shape, kh, kw, stride, padding):
    """The padded image's gradient cropped to x's shape from its top-left corner, instead of
    by ``padding`` on every side."""
    n, c, h, w = x_shape
    padded = (n, c, h + 2 * padding, w + 2 * padding)
    return exact_col2im(grad_cols, padded, kh, kw, stride, 0)[0][:, :, :h, :w]


def _written_once(grad_cols, x_shape, kh, kw, stride, padding):
    """What ``grad[:, :, rows, cols] += copies`` gives instead of ``np.add.at``: a pixel in
    several windows keeps one copy's gradient, not their sum."""
    n, c, h, w = x_shape
    oh, ow = _output_size(x_shape, kh, kw, stride, padding)
    i, j = np.divmod(np.arange(oh * ow), ow)
    p, q = np.divmod(np.arange(kh * kw), kw)
    rows, cols = stride * i[:, None] + p, stride * j[:, None] + q
    copies = grad_cols.reshape(n, oh * ow, c, kh * kw).transpose(0, 2, 1, 3)
    grad = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    grad[:, :, rows, cols] += copies
    return grad[:, :, padding:padding + h, padding:padding + w]


# (x's shape, kh, kw, stride, padding): named in the messages
_COL2IM_CASES = [((1, 1, 4, 4), 3, 3, 1, 0), ((2, 3, 6, 5), 3, 2, 1, 0),
                 ((2, 2, 6, 6), 3, 3, 1, 1), ((1, 2, 7, 7), 3, 3, 2, 1),
                 ((2, 1, 8, 8), 2, 2, 2, 0), ((1, 2, 6, 7), 3, 2, 3, 1)]

#: Sizes at which an answer's Python steps are counted: the first, then more images, then
#: larger ones (the window, its stride and padding kept): np.add.at takes as many at all.
_COL2IM_GROWTH = [((1, 1, 4, 4), 2, 2, 1, 0), ((16, 1, 4, 4), 2, 2, 1, 0),
                  ((1, 1, 16, 16), 2, 2, 1, 0)]

ONE_BY_ONE = ("your function goes through the images, windows or pixels one by one in "
              "Python (its steps, traced, grow with them): the exercise asks for np.add.at, "
              "which adds every copy in one call")


def _drawn_col2im_case(rng):
    n, c = (int(v) for v in rng.integers(1, 4, size=2))
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, min(kh, kw)))
    h = int(rng.integers(max(kh - 2 * padding, 1), 10))
    w = int(rng.integers(max(kw - 2 * padding, 1), 10))
    return (n, c, h, w), kh, kw, stride, padding


def _spread_columns(rng, rows, channels, kh, kw):
    """dL/dcols (rows, C·kh·kw) whose channels are scaled by powers of ten from 1e-4 to 1e4
    (see :func:`_spread_out`): a pixel's gradient adds its own channel's copies only, exact
    to its last bits, which no difference of two losses follows."""
    scales = 10.0 ** rng.uniform(-4, 4, size=channels)
    return (rng.normal(size=(rows, channels, kh * kw)) * scales[:, None]).reshape(rows, -1)


def _col2im_problem(got, case, grad_cols, described):
    """What is wrong with the reader's col2im result ``got`` for ``case`` (a sentence), or
    None."""
    x_shape, kh, kw, stride, padding = case
    if got.shape != x_shape:
        n, c, h, w = x_shape
        if got.shape == (n, c, h + 2 * padding, w + 2 * padding):
            return (f"for {described}, the gradient should have x's shape (N, C, H, W): the "
                    "padding's zeros are constants, not inputs, so crop their share off")
        return f"for {described}, the gradient should have x's shape (N, C, H, W)"
    exact, scale = exact_col2im(grad_cols, *case)
    problem = rule_problem("x", got, exact, scale, described)
    if problem is None or "is wrong" not in problem:
        return problem
    if padding and np.allclose(got, _cropped_top_left(grad_cols, *case), rtol=1e-9, atol=0):
        return problem + (": the padded image has P rows and columns of zeros on every "
                          "side: crop P from each side, not from the bottom and right only")
    if np.allclose(got, _written_once(grad_cols, *case), rtol=1e-9, atol=0):
        return problem + (": a pixel copied into several windows must collect every copy's "
                          "gradient; grad[..., rows, cols] += d keeps only one of them, "
                          "np.add.at adds them all")
    return problem + (": entry (c, p, q) of the window at (i, j) is a copy of pixel "
                      "(c, S·i + p, S·j + q) of the padded image")


def _one_by_one(col2im_fn, rng):
    """:data:`ONE_BY_ONE` (or why the steps cannot be counted) if ``col2im_fn``'s Python
    steps, traced, grow with the images or their size, as a loop over them does; or None."""
    cases = []
    for x_shape, kh, kw, stride, padding in _COL2IM_GROWTH:
        oh, ow = _output_size(x_shape, kh, kw, stride, padding)
        grad_cols = rng.normal(size=(x_shape[0] * oh * ow, x_shape[1] * kh * kw))
        cases.append((grad_cols, x_shape, kh, kw, stride, padding))
    return loop_in_python(col2im_fn, cases, ONE_BY_ONE, "the exercise asks for np.add.at")


@reports_forbidden("col2im(grad_cols, x_shape, kh, kw, stride, padding)")
def check_col2im(col2im_fn):
    """Check ``col2im_fn(grad_cols, x_shape, kh, kw, stride, padding)`` = dL/dx for
    cols = im2col(x) of the chapter (any stride and padding), given dL/dcols: against the
    exact sums (to about 1e-13) on the named cases and on 4 drawn at random, whose channels
    span many orders of magnitude, which a finite difference cannot follow; then its Python
    steps, traced, must not grow with the number or size of the images."""
    what = "col2im(grad_cols, x_shape, kh, kw, stride, padding)"
    if is_unset(col2im_fn):
        return not_filled_in(what, "col2im")
    rng = fresh_rng()
    cases = [(case, True) for case in _COL2IM_CASES]
    cases += [(_drawn_col2im_case(rng), False) for _ in range(4)]
    entries = (autograd_entries() + package_rule_entries()
               + _package_entries("conv2d", "im2col", "col2im", "windows"))
    for case, named in cases:
        x_shape, kh, kw, stride, padding = case
        oh, ow = _output_size(*case)
        grad_cols = _spread_columns(rng, x_shape[0] * oh * ow, x_shape[1], kh, kw)
        described = (f"x of shape {x_shape}, a {kh}x{kw} window, stride {stride}, padding "
                     f"{padding}" if named else "shapes, a stride and a padding drawn at random")
        got, verdict = _run_answer(what, "col2im", col2im_fn, entries, WRITE_COL2IM, described,
                                   grad_cols.copy(), x_shape, kh, kw, stride, padding)
        if got is None:
            return verdict
        problem = _col2im_problem(got, case, grad_cols, described)
        if problem is not None:
            return report(False, what, problem)
    problem = _one_by_one(col2im_fn, rng)
    if problem is not None:
        return report(False, what, problem)
    return report(True, what, f"for {len(_COL2IM_CASES)} named cases and 4 drawn at random, "
                              "strides and paddings included, exact, with no loop over the "
                              "images or windows")
