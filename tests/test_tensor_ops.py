"""The Tensor engine's forward side: construction, dtypes, every operation's value, errors, seed 004's examples."""
import numpy as np
import pytest

from minigrad import Tensor, no_grad

RNG = np.random.default_rng(0)


def rand(*shape, positive=False):
    x = RNG.standard_normal(shape)
    return np.abs(x) + 0.5 if positive else x


# ----- construction ---------------------------------------------------------------------

@pytest.mark.parametrize("data, shape", [
    (5.0, ()), (3, ()), (True, ()), (np.float32(2.5), ()), ([1.0, 2.0, 3.0], (3,)),
    ([[1, 2], [3, 4]], (2, 2)), (np.zeros((2, 3, 4)), (2, 3, 4)), ([], (0,)),
])
def test_construction_shapes(data, shape):
    t = Tensor(data)
    assert isinstance(t.data, np.ndarray)
    assert t.shape == shape and t.ndim == len(shape) and t.size == int(np.prod(shape))
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=t.dtype))


def test_default_dtype_is_float64_and_float32_is_kept():
    assert Tensor(1).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(np.arange(3)).dtype == np.float64  # integers become float64
    assert Tensor(np.ones(2, np.float16)).dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32  # a float32 array stays float32
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32
    assert Tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64


def test_an_array_of_the_right_dtype_is_not_copied():
    a = np.ones(3)
    assert Tensor(a).data is a
    t = Tensor(a)
    assert Tensor(t).data is a


def test_tensor_from_tensor_is_a_new_leaf():
    x = Tensor([1.0, 2.0])
    y = x * 2
    z = Tensor(y)
    assert z._prev == () and z.requires_grad
    np.testing.assert_array_equal(z.data, [2.0, 4.0])


def test_attributes_and_defaults():
    t = Tensor([[1.0, 2.0]], name="w")
    assert t.name == "w" and t.requires_grad is True
    np.testing.assert_array_equal(t.grad, [[0.0, 0.0]])  # zeros before any backward pass
    assert t.grad.dtype == t.dtype and t.grad.shape == t.shape
    assert Tensor(1.0, requires_grad=False).grad is None
    assert not hasattr(t, "__dict__")  # __slots__: lean nodes


@pytest.mark.parametrize("bad, error", [
    ("abc", TypeError), (b"ab", TypeError), (["a", "b"], TypeError), ([1, "a"], TypeError),
    ([[1, 2], [3]], ValueError), (np.array([1, None], dtype=object), TypeError), (None, TypeError),
    ({"a": 1}, TypeError), (1 + 2j, TypeError), ([1.0, [2.0]], ValueError),
])
def test_bad_input_is_refused_clearly(bad, error):
    with pytest.raises(error) as info:
        Tensor(bad)
    assert "Tensor" in str(info.value)


def test_bad_dtype_is_refused():
    with pytest.raises(TypeError, match="float64 or float32"):
        Tensor([1, 2], dtype=np.int64)
    with pytest.raises(TypeError, match="float64 or float32"):
        Tensor([1, 2], dtype=np.float16)


def test_grad_setter_checks_shape_and_casts_dtype():
    t = Tensor(np.ones((2, 2), np.float32))
    t.grad = np.ones((2, 2))  # the seeds' `p.grad = np.zeros_like(p.data)` pattern, and friends
    assert t.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 2\)"):
        t.grad = np.ones(3)
    t.grad = None  # reads as zeros again
    np.testing.assert_array_equal(t.grad, np.zeros((2, 2)))


def test_repr_item_len_iter_format():
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], name="m")
    assert repr(t).startswith("Tensor([[1., 2.],") and "name='m'" in repr(t)
    assert "dtype=float32" in repr(Tensor([1], dtype=np.float32))
    assert "requires_grad=False" in repr(Tensor(1.0, requires_grad=False))
    assert Tensor(2.5).item() == 2.5 and Tensor([[7.0]]).item() == 7.0
    with pytest.raises(ValueError, match="one number"):
        t.item()
    assert len(t) == 2
    rows = list(t)
    assert len(rows) == 2 and isinstance(rows[0], Tensor)
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    with pytest.raises(TypeError):
        len(Tensor(1.0))
    with pytest.raises(TypeError):
        iter(Tensor(1.0))
    assert f"{Tensor(24.70412):.4f}" == "24.7041"
    np.testing.assert_array_equal(np.asarray(t), t.data)


# ----- forward values -------------------------------------------------------------------------

BINARY = {
    "+": (lambda a, b: a + b, np.add),
    "-": (lambda a, b: a - b, np.subtract),
    "*": (lambda a, b: a * b, np.multiply),
    "/": (lambda a, b: a / b, np.divide),
}


@pytest.mark.parametrize("op", BINARY)
def test_mixing_with_numbers_and_arrays_on_either_side(op):
    f, ref = BINARY[op]
    x = rand(2, 3, positive=True)
    t = Tensor(x)
    for other in [2, 2.5, np.float64(2), np.int64(3), np.float32(1.5), np.full(3, 2.0), [1.0, 2.0, 4.0],
                  np.full((2, 3), 3.0)]:
        for left, right in [(t, other), (other, t)]:
            out = f(left, right)
            assert isinstance(out, Tensor), (op, type(other))
            expected = ref(x if left is t else np.asarray(left, float), x if right is t else np.asarray(right, float))
            np.testing.assert_allclose(out.data, expected)


@pytest.mark.parametrize("f, value, slope", [
    (lambda t: np.float64(2) * t, lambda x: 2 * x, lambda x: np.full(2, 2.0)),
    (lambda t: np.float64(2) + t, lambda x: x + 2, lambda x: np.ones(2)),
    (lambda t: np.float32(2) - t, lambda x: 2 - x, lambda x: -np.ones(2)),
    (lambda t: np.ones(2) / t, lambda x: 1 / x, lambda x: -1 / x ** 2),
    (lambda t: np.array(2.0) ** t, lambda x: 2 ** x, lambda x: 2 ** x * np.log(2)),
], ids=["np.float64 *", "np.float64 +", "np.float32 -", "array /", "0-d array **"])
def test_numpy_scalar_on_the_left_gives_a_tensor_in_the_graph(f, value, slope):
    """NumPy must hand the operation to the Tensor (not loop over it): the result is a Tensor,
    with the right numbers, and a gradient flows back through it."""
    x = np.array([1.0, 2.0])
    t = Tensor(x)
    result = f(t)
    assert isinstance(result, Tensor) and result.dtype == np.float64
    np.testing.assert_allclose(result.data, value(x), rtol=1e-15)
    result.sum().backward()
    np.testing.assert_allclose(t.grad, slope(x), rtol=1e-15)


def test_unsupported_operands():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"\+"):
        t + "a"
    with pytest.raises(TypeError):
        "a" * t
    with pytest.raises(TypeError):
        t ** "a"


def test_unary_plus_is_the_tensor_itself():
    t = Tensor(rand(3, 2))
    assert (+t) is t


def test_arithmetic_errors():
    with pytest.raises(ZeroDivisionError):
        Tensor([1.0, 2.0]) / Tensor([1.0, 0.0])
    with pytest.raises(ZeroDivisionError):
        Tensor([1.0]) / 0
    with pytest.raises(ValueError, match="non-integer"):
        Tensor([-1.0, 2.0]) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Tensor([0.0, 2.0]) ** -1
    with pytest.raises(ValueError, match="negative"):
        Tensor([-1.0]) ** Tensor(2.0)
    with pytest.raises(ValueError, match="positive"):
        Tensor([1.0, 0.0]).log()


@pytest.mark.parametrize("sa, sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((5, 3, 4), (4, 2)), ((3, 4), (5, 4, 2)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul_shapes(sa, sb):
    a, b = rand(*sa), rand(*sb)
    out = Tensor(a) @ Tensor(b)
    np.testing.assert_allclose(out.data, a @ b)
    np.testing.assert_allclose((a @ Tensor(b)).data, a @ b)  # an array on the left
    np.testing.assert_allclose((Tensor(a) @ b).data, a @ b)


def test_shape_mismatch_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2,\)"):
        Tensor(np.ones((2, 3))) * np.ones(2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        Tensor(np.ones(3)) @ Tensor(np.ones(4))
    with pytest.raises(ValueError, match="at least one dimension"):
        Tensor(2.0) @ Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(5,\)"):
        Tensor(np.ones((2, 3))).reshape(5)


def test_reduction_axis_errors():
    with pytest.raises(ValueError, match="out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match="repeated"):
        Tensor(np.ones((2, 3))).mean(axis=(0, -2))
    with pytest.raises(ValueError, match="empty"):
        Tensor(np.ones((0, 3))).max()


def test_reshape_transpose_T():
    x = rand(2, 3, 4)
    t = Tensor(x)
    np.testing.assert_array_equal(t.reshape(4, 6).data, x.reshape(4, 6))
    np.testing.assert_array_equal(t.reshape((6, -1)).data, x.reshape(6, -1))
    np.testing.assert_array_equal(t.transpose().data, x.transpose())
    np.testing.assert_array_equal(t.transpose(1, 0, 2).data, x.transpose(1, 0, 2))
    np.testing.assert_array_equal(t.transpose((2, 0, 1)).data, x.transpose(2, 0, 1))
    np.testing.assert_array_equal(Tensor(x[0]).T.data, x[0].T)
    with pytest.raises(ValueError, match="permutation"):
        t.transpose(0, 1)


@pytest.mark.parametrize("index", [0, -1, slice(1, 3), (slice(None), 2), (0, slice(None, None, -1)),
                                   (np.arange(3), np.array([0, 3, 1])), [0, 0, 2], np.array([True, False, True]),
                                   (Ellipsis, 1), (None, 1), (np.array([[0, 1], [1, 2]]),)])
def test_indexing_like_numpy(index):
    x = rand(3, 4)
    np.testing.assert_array_equal(Tensor(x)[index].data, x[index if not isinstance(index, list) else np.array(index)])


def test_a_tensor_used_as_an_index_is_refused():
    """A Tensor holds floats: a mask or positions stored in one are ambiguous (1.0: true, or row 1?)."""
    t = Tensor(rand(3, 4))
    for index in [Tensor([0, 2]), Tensor(np.array([True, False, True])), (Tensor([0]), slice(None))]:
        with pytest.raises(TypeError, match="cannot be used as an index"):
            t[index]


def test_indexing_with_a_boolean_mask_picks_the_true_rows_and_their_gradients():
    x = rand(3, 4)
    mask = np.array([True, False, True])
    t = Tensor(x)
    picked = t[mask]
    np.testing.assert_array_equal(picked.data, x[mask])
    (picked * 2.0).sum().backward()
    np.testing.assert_array_equal(t.grad, np.where(mask[:, None], 2.0, 0.0) * np.ones((3, 4)))


def test_sigmoid_is_stable_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = Tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0]).sigmoid().data
    np.testing.assert_allclose(s, [0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0])
    assert np.all(np.isfinite(s))


def test_softmax_and_log_softmax_are_stable():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = Tensor(x).softmax().data
        ls = Tensor(x).log_softmax().data
    np.testing.assert_allclose(s, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(ls, [[0, -2000, -1000], [-np.log(3)] * 3])


def test_mse_method():
    p, y = rand(4, 1), rand(4, 1)
    np.testing.assert_allclose(Tensor(p).mse(Tensor(y)).data, np.mean((p - y) ** 2))
    np.testing.assert_allclose(Tensor(p).mse(y).data, np.mean((p - y) ** 2))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        Tensor(p).mse(y.ravel())


def test_cross_entropy_method_value():
    x = rand(6, 4)
    y = np.array([0, 3, 1, 1, 2, 0])
    ls = x - x.max(axis=1, keepdims=True)
    ls = ls - np.log(np.exp(ls).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(Tensor(x).cross_entropy(y).data, -ls[np.arange(6), y].mean())


# ----- dtypes ---------------------------------------------------------------------------------------

def _every_op(t, other):
    p = t.relu() + 1.5  # positive, for log, / and powers
    yield t + other, t - other, t * other, p / (other * other + 1), 2.0 + t, 2.0 - t, 2.0 * t, 2.0 / p
    yield np.float64(3) * t, t * np.float64(3), np.ones(3) + t, t - np.ones(3), -t, p ** 2, p ** 0.5
    yield 2 ** t, p ** (other * 0 + 2), t @ other.T, t.sum(), t.sum(0), t.mean(), t.mean(1, keepdims=True)
    yield t.max(), t.max(axis=0), t.reshape(3, 2), t.transpose(), t.T, t[0], t[:, 1:], t[np.array([0, 1, 1]), 0]
    yield t.exp(), p.log(), t.tanh(), t.relu(), t.sigmoid(), t.softmax(), t.log_softmax(axis=0), t.clip(-1, 1)
    yield t.mse(other), t.cross_entropy([0, 2]), (t * other).sum(axis=(0, 1))


def test_float32_is_kept_through_every_op_and_its_gradient():
    """Every operation keeps float32 and computes, to float32's precision, what float64 does."""
    x, y = rand(2, 3), rand(2, 3)
    t, other = Tensor(x, dtype=np.float32), Tensor(y, dtype=np.float32)
    t64, other64 = Tensor(x.astype(np.float32), dtype=np.float64), Tensor(y.astype(np.float32), dtype=np.float64)
    count = 0
    for group, group64 in zip(_every_op(t, other), _every_op(t64, other64)):
        for out, out64 in zip(group, group64):
            assert out.dtype == np.float32, out._op
            np.testing.assert_allclose(out.data, out64.data, rtol=1e-5, atol=1e-6, err_msg=out._op)
            count += 1
            for tensors, result in [((t, other), out), ((t64, other64), out64)]:
                for leaf in tensors:
                    leaf.grad = None
                (result.sum() if result.ndim else result).backward()
            assert t.grad.dtype == np.float32 and other.grad.dtype == np.float32, out._op
            for g, g64 in [(t.grad, t64.grad), (other.grad, other64.grad)]:
                np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-5, err_msg=out._op)
    assert count > 40


def test_float64_and_float32_together_follow_numpy():
    a = Tensor(np.ones(2, np.float32))
    b = Tensor(np.ones(2))
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64  # each gradient in its tensor's dtype


# ----- no_grad, detach, requires_grad on results ----------------------------------------------------

def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0])
    with no_grad():
        y = (x * 2 + 1).exp().sum()
    assert y._prev == () and not y.requires_grad
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()
    z = (x * 2).sum()  # recording is back on after the block
    assert z.requires_grad and z._prev


def test_results_of_constants_record_nothing():
    c = Tensor([1.0, 2.0], requires_grad=False)
    y = (c * 3).exp() @ c
    assert not y.requires_grad and y._prev == ()


def test_detach():
    x = Tensor([1.0, 2.0], name="x")
    y = (x * 3).detach()
    assert y._prev == () and not y.requires_grad
    np.testing.assert_array_equal(y.data, [3.0, 6.0])


# ----- seed 004's examples, with `from minigrad import Tensor as Value` -------------------------------

# Seed 004's scalar example runs as written, on both engines, in test_usage_value_engine.py.


def test_matrix_product_and_broadcasting_with_tensor_imported_as_value():
    """Seed 004's matrix example, with `from minigrad import Tensor as Value`."""
    from minigrad import Tensor as Value
    A = Value([[1, 2], [3, 4]])
    B = Value([[5, 6], [7, 8]])
    C = A @ B
    np.testing.assert_array_equal(C.data, [[19, 22], [43, 50]])

    x = Value([[1, 2, 3], [4, 5, 6]])
    b = Value([1, 0, -1])
    y = x + b
    np.testing.assert_array_equal(y.data, [[2, 2, 2], [5, 5, 5]])


def test_shapes_reshape_transpose_and_zero_gradients():
    """Seed 001's shapes example."""
    assert Tensor(5.0).shape == ()
    x = Tensor([1.0, 2.0, 3.0])
    assert x.shape == (3,)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.shape == (2, 2)
    x = x.reshape(4, 1)
    assert x.shape == (4, 1)
    np.testing.assert_array_equal(x.data, [[1.0], [2.0], [3.0], [4.0]])  # row by row
    assert x.T.shape == (1, 4)
    np.testing.assert_array_equal(x.T.data, [[1.0, 2.0, 3.0, 4.0]])


def test_truth_value_as_numpy():
    assert Tensor(1.0) and not Tensor(0.0) and Tensor([[2.0]])
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_power_with_array_exponents():
    x = rand(2, 3, positive=True)
    np.testing.assert_allclose((Tensor(x) ** np.array(2.0)).data, x ** 2)
    np.testing.assert_allclose((Tensor(x) ** np.array([1.0, 2.0, 3.0])).data, x ** np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose((Tensor(x) ** [1.0, 2.0, 3.0]).data, x ** np.array([1.0, 2.0, 3.0]))
