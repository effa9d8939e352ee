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
    assert math.isclose(gradcheck(lambda a: WrongSquare(a), [x]), 1.5, rel_tol=1e-6)  # 2x - x


def test_gradcheck_reports_the_largest_gap_whichever_input_has_it():
    x, y = Value(1.5), Value(2.0)
    # only the second input goes through the wrong rule: its gap (2y - y = 2) is the answer
    assert math.isclose(gradcheck(lambda a, b: a * 3 + WrongSquare(b), [x, y]), 2.0, rel_tol=1e-6)


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


def test_analytic_gradients_are_copies():
    t = Tensor([1.0, 2.0])
    (g,) = analytic_gradients(lambda a: (a * a).sum(), [t])
    g[0] = 100.0
    np.testing.assert_array_equal(t.grad, [2.0, 4.0])


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
