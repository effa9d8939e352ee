"""minigrad.gradcheck: it passes correct rules, catches wrong ones, and never passes what it cannot compare."""
import math

import numpy as np
import pytest

from minigrad import Tensor, Value, gradcheck
from minigrad.exercises import check_gradients
from minigrad.gradcheck import analytic_gradients, numerical_gradients

def rule(name, local):
    """An operation x -> x² whose derivative rule (deliberately) says d/dx = local(x)."""
    class Op(Value):
        __slots__ = ()
        _op = name

        def __init__(self, a):
            self._record(a.data * a.data, a)

        def _backward(self, grad):
            return (local(self._prev[0].data) * grad,)
    return Op


WrongSquare = rule("wrong²", lambda x: x)  # forgot the factor 2
NanSquare = rule("nan²", lambda x: math.nan)
InfSquare = rule("inf²", lambda x: math.inf)


def test_gradcheck_passes_a_correct_function():
    x, y = Value(0.7), Value(-1.2)
    gap = gradcheck(lambda a, b: (a * b).tanh() + a.exp() / (1 + b ** 2), [x, y])
    assert gap < 1e-8


def test_gradcheck_catches_a_wrong_derivative_rule():
    x = Value(1.5)
    assert gradcheck(lambda a: a ** 2, [x]) < 1e-8
    # gap 2x - x = 1.5, relative to the largest number involved, the true gradient 2x = 3
    assert math.isclose(gradcheck(lambda a: WrongSquare(a), [x]), 0.5, rel_tol=1e-6)


def test_gradcheck_reports_the_largest_gap_whichever_input_has_it():
    x, y = Value(1.5), Value(2.0)
    # only the second input goes through the wrong rule: its gap (2y - y = 2) over the
    # largest number involved (f = 4.5 + 4 = 8.5) is the answer
    assert math.isclose(gradcheck(lambda a, b: a * 3 + WrongSquare(b), [x, y]), 2.0 / 8.5, rel_tol=1e-6)
    assert math.isclose(gradcheck(lambda a, b: WrongSquare(b) + a * 3, [x, y]), 2.0 / 8.5, rel_tol=1e-6)


def test_gradcheck_works_on_tensors():
    rng = np.random.default_rng(1)
    gap = gradcheck(lambda a, b: ((a @ b).tanh() ** 2).mean(),
                    [Tensor(rng.standard_normal((3, 4))), Tensor(rng.standard_normal((4, 2)))])
    assert gap < 1e-7


def test_gradcheck_takes_one_input_alone():
    assert gradcheck(lambda a: a ** 3, Value(0.5)) < 1e-8
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])  # a Tensor alone is one input, not a list of its rows
    assert gradcheck(lambda a: (a ** 2).sum(), t) < 1e-7
    assert numerical_gradients(lambda a: (a ** 2).sum(), t)[0].shape == (2, 2)


def test_numerical_gradients_restore_the_inputs():
    x, y = Value(0.3), Value(2.0)
    grads = numerical_gradients(lambda a, b: a * b * b, [x, y])
    assert (x.data, y.data) == (0.3, 2.0)
    assert grads == [pytest.approx(4.0, abs=1e-8), pytest.approx(1.2, abs=1e-8)]
    t = Tensor([0.5, -1.0])
    numerical_gradients(lambda a: (a * a).sum(), [t])
    np.testing.assert_array_equal(t.data, [0.5, -1.0])


def test_analytic_gradients_are_copies_and_leave_the_grads_as_they_were():
    t = Tensor([1.0, 2.0])
    (g,) = analytic_gradients(lambda a: (a * a).sum(), [t])
    np.testing.assert_array_equal(g, [2.0, 4.0])
    g[0] = 100.0
    np.testing.assert_array_equal(t.grad, [0.0, 0.0])


# ----- what cannot be compared is not called a pass ----------------------------------------


@pytest.mark.parametrize("bad_rule, shown", [(NanSquare, "nan"), (InfSquare, "inf")])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_gradient_that_is_not_finite_is_refused_for_any_input_naming_it(position, bad_rule, shown):
    # Python's max() skips a nan that does not come first: such a check once reported a pass
    def f(a, b, c):
        xs = [a, b, c]
        xs[position] = bad_rule(xs[position])
        return xs[0] * 2 + xs[1] * xs[2]

    inputs = [Value(1.0, name="a"), Value(2.0, name="b"), Value(3.0, name="c")]
    name = "abc"[position]
    with pytest.raises(ValueError, match=rf"backpropagation gives {shown} for the gradient of input {position} "
                                         rf"\('{name}'\); a gradient that is not a finite number cannot be checked"):
        gradcheck(f, inputs)


def test_a_nan_gradient_of_a_tensor_is_refused_with_its_index():
    # |x| written as sqrt(x²): at 0 the rule computes (1 / 2·sqrt(0)) · 2·0 = inf · 0 = nan
    t = Tensor([1.0, 0.0, -2.0])
    with np.errstate(divide="ignore", invalid="ignore"), \
            pytest.raises(ValueError, match=r"backpropagation gives nan for the gradient of input 0 at index \(1,\)"):
        gradcheck(lambda a: ((a * a) ** 0.5).sum(), [t])


def test_a_gradient_that_is_not_finite_from_the_differences_is_refused_with_its_index():
    t = Tensor([1.0, 2.0, 3.0])

    def f(a):  # its value is infinite once the middle entry moves: so is the difference quotient
        return (a * 0.0).sum() + (np.inf if a.data[1] != 2.0 else 0.0)

    with np.errstate(invalid="ignore"), \
            pytest.raises(ValueError, match=r"finite differences give (nan|inf) for the gradient of input 0 "
                                            r"at index \(1,\)"):
        gradcheck(f, [t])


@pytest.mark.parametrize("make, error, message", [
    (lambda: gradcheck(lambda a: a.sum(), [Tensor([1.0], dtype=np.float32)]), TypeError, r"float64"),
    (lambda: gradcheck(lambda a: a * 2, [Tensor([1.0, 2.0])]), ValueError,
     r"f to return a single number, got shape \(2,\)"),
    (lambda: gradcheck(lambda a: 2.0, [Value(1.0)]), TypeError, r"f to return a Value or a Tensor, got float"),
    (lambda: gradcheck(lambda a: a, [1.0]), TypeError, r"input 0 is float 1.0, not a Value or a Tensor"),
    (lambda: gradcheck(lambda a: a, 1.0), TypeError, r"needs a list of inputs .* got float"),
    (lambda: gradcheck(lambda a, b: (a * b).sum(), [Tensor([1.0], requires_grad=False), Tensor([2.0])]), ValueError,
     r"input 0 gets no gradient \(it has requires_grad=False\)"),
])
def test_bad_arguments_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ----- the exercises' checker, built on the same functions --------------------------------


def test_exercise_checker_reports_pass_and_fail(capsys):
    assert check_gradients(lambda a: a ** 2, [Value(1.5, name="x")]) is True
    assert "PASS" in capsys.readouterr().out
    assert check_gradients(lambda a: WrongSquare(a), [Value(1.5, name="x")]) is False
    report = capsys.readouterr().out
    assert "FAIL" in report and "backpropagation gives 1.5" in report and "finite differences give 3.0" in report


# ----- the gap is relative: the size of the numbers does not decide (issue 15) ---------------


def wrong_tensor_rule(name, factor):
    """e^x as a Tensor operation whose rule is (deliberately) off by ``factor``."""
    class Op(Tensor):
        __slots__ = ()
        _op = name

        def __init__(self, a):
            self._record(np.exp(a.data), a)

        def _backward(self, grad):
            return (factor * grad * self.data,)
    return Op


def test_a_rule_wrong_by_two_fails_on_tiny_numbers():
    # e^-25 is 1.4e-11: the absolute gap of a rule wrong by 2x is tiny, the relative one is not
    doubled = wrong_tensor_rule("exp×2", 2.0)
    gap = gradcheck(lambda a: doubled(a).sum(), [Tensor([-30.0, -25.0])])
    assert gap > 0.4
    assert gradcheck(lambda a: wrong_tensor_rule("exp", 1.0)(a).sum(), [Tensor([-30.0, -25.0])]) < 1e-6
    assert gradcheck(lambda a: a.exp().sum(), [Tensor([-30.0, -25.0])]) < 1e-6
    assert gradcheck(lambda a: WrongSquare(a), [Value(1e-6)]) > 0.4


@pytest.mark.parametrize("f, x", [
    (lambda a: a.exp(), 30.0),       # gradient 1e13: an absolute gap of ~1e4 is rounding
    (lambda a: a ** 3, 1e4),         # gradient 3e8, f 1e12
    (lambda a: a.tanh() * 1e-9, 0.3),
])
def test_correct_rules_pass_on_large_and_small_numbers(f, x):
    assert gradcheck(f, [Value(x)]) < 1e-6
    assert gradcheck(lambda t: f(t).sum(), [Tensor([x, x / 2])]) < 1e-6


def test_rounding_in_a_constant_function_is_not_a_gap():
    # sigmoid(a) + sigmoid(-a) is 1: its gradient is 0, its differences are rounding noise
    def one(a):
        return (a.sigmoid() + (-a).sigmoid()).sum()
    assert gradcheck(one, [Tensor([0.3, -1.7, 2.2])]) < 1e-6


def test_exercise_checker_uses_the_same_relative_measure(capsys):
    doubled = wrong_tensor_rule("exp×2", 2.0)
    assert check_gradients(lambda a: doubled(a).sum(), [Tensor([-30.0, -25.0])]) is False
    assert check_gradients(lambda a: a ** 3, [Value(1e4)]) is True


# ----- the step h, read-only inputs, the caller's gradients (issue 15) -------------------------


@pytest.mark.parametrize("h, error, message", [
    (0, ValueError, r"the step h must be a positive finite number, got 0\.0"),
    (-1e-6, ValueError, r"positive finite number, got -1e-06"),
    (math.nan, ValueError, r"positive finite number, got nan"),
    (math.inf, ValueError, r"positive finite number, got inf"),
    ("a", TypeError, r"the step h must be a number, got str 'a'"),
    (True, TypeError, r"the step h must be a number, got bool True"),
    (None, TypeError, r"got NoneType None"),
])
def test_a_bad_step_is_refused(h, error, message):
    for check in (gradcheck, numerical_gradients):
        with pytest.raises(error, match=message):
            check(lambda a: a ** 2, [Value(1.0)], h=h)


def test_a_tiny_step_is_warned_about():
    with pytest.warns(RuntimeWarning, match=r"h = 1e-12 is so small that rounding errors"):
        gradcheck(lambda a: a ** 2, [Value(1.0)], h=1e-12)
    with pytest.warns(RuntimeWarning, match=r"rounding errors"):
        numerical_gradients(lambda a: a ** 2, [Value(1.0)], h=1e-9)


def test_a_step_that_vanishes_next_to_the_input_is_refused():
    with pytest.raises(ValueError, match=r"input 0 at index \(1,\) is 1e\+12, so large that x \+ h rounds back"):
        gradcheck(lambda a: a.sum(), [Tensor([1.0, 1e12])])
    with pytest.raises(ValueError, match=r"input 1 \('y'\) is 1e\+20"):
        gradcheck(lambda a, b: a * b, [Value(1.0), Value(1e20, name="y")])


def test_a_read_only_input_is_checked_and_left_as_it_was():
    array = np.array([0.5, -1.0, 2.0])
    array.setflags(write=False)
    t = Tensor(array)
    assert t.data is array
    assert gradcheck(lambda a: (a * a * a).sum(), [t]) < 1e-6
    assert t.data is array and not array.flags.writeable
    np.testing.assert_array_equal(array, [0.5, -1.0, 2.0])
    np.testing.assert_allclose(numerical_gradients(lambda a: (a * a).sum(), [t])[0], [1.0, -2.0, 4.0])


def test_the_callers_gradients_are_left_as_they_were():
    x, y = Value(1.5), Value(2.0)
    x.grad, y.grad = 7.0, -3.0
    assert gradcheck(lambda a, b: a * b, [x, y]) < 1e-6
    assert (x.grad, y.grad) == (7.0, -3.0)

    t = Tensor([1.0, 2.0])
    w = Tensor([[0.5, -1.0], [2.0, 0.1]])  # a parameter f uses without it being an input
    t.grad = np.array([10.0, 20.0])
    w.grad = np.ones((2, 2))
    kept_t, kept_w = t.grad, w.grad
    assert gradcheck(lambda a: (a @ w).tanh().sum(), [t]) < 1e-6
    assert t.grad is kept_t and w.grad is kept_w
    np.testing.assert_array_equal(t.grad, [10.0, 20.0])
    np.testing.assert_array_equal(w.grad, np.ones((2, 2)))


def test_the_inputs_are_put_back_when_f_raises():
    t = Tensor([1.0, 2.0])
    t.grad = np.array([5.0, 6.0])
    calls = []

    def f(a):
        calls.append(1)
        if len(calls) > 2:
            raise ArithmeticError("boom")
        return (a * a).sum()

    with pytest.raises(ArithmeticError):
        gradcheck(f, [t])
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    np.testing.assert_array_equal(t.grad, [5.0, 6.0])
