"""The checkers of chapters 7 and 8 PASS the solutions and FAIL wrong answers, saying what is wrong.

Chapter 7's checkers take the reader's own ``MiniTensor`` class: a copy of
the chapter's class (the part the checkers use) is defined here.
"""
import numpy as np
import pytest

from minigrad import Tensor, numerical_gradients
from minigrad.exercises import ch07, ch08, summed_to_shape
from exercise_verdicts import run, run_cell


# ----- a reader's MiniTensor, as chapter 7 builds it ---------------------------------

class MiniTensor:
    _op = ""
    _grad_zero = None

    def __init__(self, data, name=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None
        self.name = name
        self._prev = ()

    def _record(self, data, *inputs):
        self.data = data
        self.grad = None
        self.name = ""
        self._prev = inputs

    @property
    def shape(self):
        return self.data.shape


class Div(MiniTensor):
    def __init__(self, a, b):
        self._record(a.data / b.data, a, b)

    def _backward(self, grad):
        a, b = self._prev
        return grad / b.data, -grad * a.data / b.data ** 2


class DivSummingItself(Div):
    """Un-broadcasting inside the rule as well is redundant, and still right."""

    def _backward(self, grad):
        a, b = self._prev
        ga, gb = Div._backward(self, grad)
        return summed_to_shape(ga, a.shape), summed_to_shape(gb, b.shape)


class DivPassingGradOn(Div):
    def _backward(self, grad):  # as if it were an addition
        return grad, grad


class DivSumsRowsOnly(Div):
    def _backward(self, grad):  # sums over the rows whenever b was broadcast: wrong for (2, 1)
        a, b = self._prev
        ga, gb = Div._backward(self, grad)
        return ga, gb.sum(axis=0) if gb.shape != b.data.shape else gb


class DivForwardWrong(Div):
    def __init__(self, a, b):
        self._record(a.data * b.data, a, b)


class DivPlaceholder(MiniTensor):
    def __init__(self, a, b):
        ...

    def _backward(self, grad):
        ...


class DivBackwardPlaceholder(Div):
    def _backward(self, grad):
        ...


class DivOneGradient(Div):
    def _backward(self, grad):
        a, b = self._prev
        return (grad / b.data,)


class DivRecordingANode(Div):
    def __init__(self, a, b):  # records a node where its array belongs
        self._record(Div(a, b), a, b)


class Permute(MiniTensor):
    def __init__(self, a, axes):
        self.axes = tuple(axes)
        self._record(np.transpose(a.data, self.axes), a)

    def _backward(self, grad):
        return (np.transpose(grad, np.argsort(self.axes)),)


class PermuteSameAxesAgain(Permute):
    def _backward(self, grad):
        return (np.transpose(grad, self.axes),)


class PermuteBareArray(Permute):
    def _backward(self, grad):  # the array itself, not a tuple holding it
        return np.transpose(grad, np.argsort(self.axes))


class PermuteReversing(Permute):
    def _backward(self, grad):
        return (grad.T,)


class PermutePlaceholder(MiniTensor):
    def __init__(self, a, axes):
        self.axes = tuple(axes)
        ...

    def _backward(self, grad):
        ...


# ----- chapter 7 ----------------------------------------------------------------------

def test_divide_pass(capsys):
    assert run(capsys, ch07._check_divide, Div, MiniTensor)[0]
    assert run(capsys, ch07._check_divide, DivSummingItself, MiniTensor)[0]


@pytest.mark.parametrize("cls, says", [
    (DivPassingGradOn, "the gradient for a is wrong (for a of shape (3, 4), b of shape (3, 4))"),
    (DivSumsRowsOnly, "the gradient for b has shape (3,), which cannot belong to b of shape (2, 1)"),
    (DivForwardWrong, "forward pass: the result of Div for a of shape (3, 4), b of shape (3, 4) is wrong"),
    (DivPlaceholder, "Div's __init__ (it records no result) is not filled in yet"),
    (DivBackwardPlaceholder, "Div._backward is not filled in yet"),
    (DivOneGradient, "returned 1 gradient(s) for 2 input(s)"),
    (DivRecordingANode, "the result Div's __init__ records is not an array of numbers"),
])
def test_divide_fail(capsys, cls, says):
    ok, out = run(capsys, ch07._check_divide, cls, MiniTensor)
    assert not ok
    assert says in out


def test_divide_failure_does_not_print_numbers(capsys):
    ok, out = run(capsys, ch07._check_divide, DivPassingGradOn, MiniTensor)
    assert not any(ch.isdigit() for ch in out.replace("(3, 4)", ""))


def test_permute_pass(capsys):
    assert run(capsys, ch07._check_permute, Permute, MiniTensor)[0]


@pytest.mark.parametrize("cls, says", [
    (PermuteSameAxesAgain, "has shape (4, 2, 3), which cannot belong to a of shape (2, 3, 4)"),
    (PermuteReversing, "(for a of shape (2, 3, 4), axes (1, 2, 0))"),
    (PermuteBareArray, "Permute._backward must return a tuple, one gradient per input: (g,) for one input"),
    (PermutePlaceholder, "not filled in yet"),
])
def test_permute_fail(capsys, cls, says):
    ok, out = run(capsys, ch07._check_permute, cls, MiniTensor)
    assert not ok
    assert says in out


def test_permute_catches_a_wrong_rule_of_the_right_shape(capsys, monkeypatch):
    # For a cube, applying the permutation again has the right shape: the numbers must be checked.
    monkeypatch.setattr(ch07, "_PERMUTE_CASES", [((3, 3, 3), (1, 2, 0))])
    ok, out = run(capsys, ch07._check_permute, PermuteSameAxesAgain, MiniTensor)
    assert not ok
    assert "the gradient for a is wrong (for a of shape (3, 3, 3), axes (1, 2, 0))" in out


def test_placeholders_for_the_classes_themselves(capsys):
    for checker in (ch07._check_divide, ch07._check_permute):
        ok, out = run(capsys, checker, None, MiniTensor)
        assert not ok and "not filled in yet" in out


# ----- chapter 8 ----------------------------------------------------------------------

class BatchMatMul(MiniTensor):
    _op = "@"

    def __init__(self, a, b):
        self._record(a.data @ b.data, a, b)

    def _backward(self, grad):
        a, b = self._prev
        return grad @ np.swapaxes(b.data, -1, -2), np.swapaxes(a.data, -1, -2) @ grad


class BatchMatMulSummingB(BatchMatMul):
    def _backward(self, grad):
        a, b = self._prev
        grad_a, grad_b = BatchMatMul._backward(self, grad)
        return grad_a, grad_b.sum(axis=0) if grad_b.ndim > b.data.ndim else grad_b


class BatchMatMulWithT(BatchMatMul):
    def _backward(self, grad):  # .T reverses all three axes
        a, b = self._prev
        return grad @ b.data.T, a.data.T @ grad


class BatchMatMulMeanB(BatchMatMul):
    def _backward(self, grad):
        a, b = self._prev
        grad_a, grad_b = BatchMatMul._backward(self, grad)
        return grad_a, grad_b.mean(axis=0) if b.data.ndim == 2 else grad_b


class BatchMatMulTransposedB(BatchMatMul):
    def _backward(self, grad):  # b's gradient transposed: (5, 4) for b of shape (4, 5)
        a, b = self._prev
        grad_a, grad_b = BatchMatMul._backward(self, grad)
        return grad_a, np.swapaxes(grad_b.sum(axis=0), -1, -2) if b.data.ndim == 2 else grad_b


class BatchMatMulOneGradient(BatchMatMul):
    def _backward(self, grad):
        return BatchMatMul._backward(self, grad)[0]


class BatchMatMulPlaceholder(MiniTensor):
    def __init__(self, a, b):
        ...

    def _backward(self, grad):
        ...


def test_batch_matmul_pass(capsys):
    assert run(capsys, ch08._check_matmul, BatchMatMul, MiniTensor)[0]
    assert run(capsys, ch08._check_matmul, BatchMatMulSummingB, MiniTensor)[0]


@pytest.mark.parametrize("cls, says", [
    (BatchMatMulWithT, "(for a of shape (3, 2, 4), b of shape (4, 5))"),
    (BatchMatMulMeanB, "the gradient for b is wrong (for a of shape (3, 2, 4), b of shape (4, 5))"),
    (BatchMatMulTransposedB, "the gradient for b has shape (5, 4), which cannot belong to b of "
                             "shape (4, 5) (for a of shape (3, 2, 4), b of shape (4, 5))"),
    (BatchMatMulOneGradient, "MatMul._backward must return a tuple, one gradient per input"),
    (BatchMatMulPlaceholder, "not filled in yet"),
    (None, "not filled in yet"),
])
def test_batch_matmul_fail(capsys, cls, says):
    ok, out = run(capsys, ch08._check_matmul, cls, MiniTensor)
    assert not ok
    assert says in out


def _matmul_rule(A, B, G):
    """The test's BatchMatMul rule, summed back to the inputs' shapes as the shared loop does."""
    node = BatchMatMul(MiniTensor(A), MiniTensor(B))
    grad_a, grad_b = node._backward(G)
    return summed_to_shape(grad_a, A.shape), summed_to_shape(grad_b, B.shape)


def test_batch_matmul_reference_agrees_with_central_differences():
    """The same check as the next test, without PyTorch: the rule against differences of the forward."""
    rng = np.random.default_rng(1)
    for sa, sb in ch08._BATCH_CASES:
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        G = rng.normal(size=(A @ B).shape)
        numeric = numerical_gradients(lambda a, b: (ch08.tensor.MatMul(a, b) * G).sum(),
                                      [Tensor(A), Tensor(B)])
        for got, expected in zip(_matmul_rule(A, B, G), numeric):
            np.testing.assert_allclose(got, expected, atol=1e-8)


def test_batch_matmul_reference_agrees_with_torch(torch):
    """The checker's expected gradients (einsum) against PyTorch's autograd."""
    rng = np.random.default_rng(0)
    for sa, sb in ch08._BATCH_CASES:
        A, B, = rng.normal(size=sa), rng.normal(size=sb)
        G = rng.normal(size=(A @ B).shape)
        a = torch.tensor(A, requires_grad=True)
        b = torch.tensor(B, requires_grad=True)
        (a @ b * torch.tensor(G)).sum().backward()
        grad_a, grad_b = _matmul_rule(A, B, G)
        np.testing.assert_allclose(grad_a, a.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(grad_b, b.grad.numpy(), atol=1e-12)
        (exact_a, _), (exact_b, _) = ch08._batch_gradients(A, B, G)
        np.testing.assert_allclose(exact_a, a.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(exact_b, b.grad.numpy(), atol=1e-12)


def leaky_solution(nin, slope):
    return np.sqrt(2.0 / ((1.0 + slope ** 2) * nin))


def test_leaky_init_pass(capsys):
    assert run(capsys, ch08.check_leaky_init, leaky_solution)[0]


@pytest.mark.parametrize("answer, says", [
    (lambda nin, slope: np.sqrt(2.0 / nin), "with nin = 256 and slope = 0.01, your std makes every layer"),
    (lambda nin, slope: 0.05, "with nin = 256 and slope = 0.0"),
    (lambda nin, slope: -leaky_solution(nin, slope), "a standard deviation is a positive number"),
    (lambda nin, slope: [leaky_solution(nin, slope)], "should return one number"),
    (lambda nin, slope: ..., "not filled in yet"),
])
def test_leaky_init_fail(capsys, answer, says):
    ok, out = run(capsys, ch08.check_leaky_init, answer)
    assert not ok
    assert says in out


def test_leaky_init_factor_close_to_one_is_not_printed_as_one(capsys):
    # Off by 2.5e-5 in the std, 5e-5 in the factor: "by 1" would contradict "should stay the same".
    ok, out = run(capsys, ch08.check_leaky_init, lambda nin, slope: leaky_solution(nin, slope) * (1 + 2.5e-5))
    assert not ok
    assert "multiply the mean square of the signal by 1 + 5e-05; it should stay the same" in out
    ok, out = run(capsys, ch08.check_leaky_init, lambda nin, slope: leaky_solution(nin, slope) * 0.999)
    assert "by 1 - 0.002;" in out
    ok, out = run(capsys, ch08.check_leaky_init, lambda nin, slope: 2 * leaky_solution(nin, slope))
    assert "by 4;" in out


def test_leaky_init_factor_is_what_a_deep_network_shows():
    """The factor the checker reports is measured: a layer with the derived std keeps the
    mean square of its signal, and a std twice as large multiplies it by about 4."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 300))
    for std, factor in [(leaky_solution(300, 0.3), 1.0), (2 * leaky_solution(300, 0.3), 4.0)]:
        z = x @ rng.normal(0.0, std, size=(300, 300))
        y = np.where(z > 0, z, 0.3 * z)
        assert abs(np.mean(y ** 2) / np.mean(x ** 2) - factor) < 0.05 * factor


# ----- issue 16: rules checked exactly, at inputs drawn per run, any autograd a trap --------

def _central(f, x, h=1e-6):
    """Central differences of f at every entry of x, each a slope of f's entries (same shape)."""
    slopes = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        slopes[index] = ((f(up) - f(down)) / (2 * h))[index]
    return slopes


class DivByFiniteDifferences(Div):
    def _backward(self, grad):  # slopes measured a small step away: close, not exact
        a, b = self._prev
        return (grad * _central(lambda x: x / b.data, np.broadcast_to(a.data, grad.shape).copy()),
                grad * _central(lambda y: a.data / y, np.broadcast_to(b.data, grad.shape).copy()))


class DivThroughThePackage(Div):
    def _backward(self, grad):
        from minigrad import tensor
        return tensor.Div._backward(self, grad)


class DivWithAutograd(Div):
    def _backward(self, grad):
        a, b = self._prev
        ta, tb = Tensor(a.data), Tensor(b.data)
        ((ta * tb ** -1) * Tensor(grad)).sum().backward()  # no Div node, still the package's autograd
        return ta.grad, tb.grad


class PermuteByFiniteDifferences(Permute):
    def _backward(self, grad):
        a, = self._prev
        h = 1e-6
        moved = np.zeros_like(a.data)
        for index in np.ndindex(a.data.shape):
            step = np.zeros_like(a.data)
            step[index] = h
            up = np.transpose(a.data + step, self.axes)
            down = np.transpose(a.data - step, self.axes)
            moved[index] = np.sum(grad * (up - down) / (2 * h))
        return (moved,)


class BatchMatMulByFiniteDifferences(BatchMatMul):
    def _backward(self, grad):
        a, b = self._prev
        h = 1e-6
        found = []
        for x, product in ((a.data, lambda x: x @ b.data), (b.data, lambda y: a.data @ y)):
            g = np.zeros_like(x)
            for index in np.ndindex(x.shape):
                up, down = x.copy(), x.copy()
                up[index] += h
                down[index] -= h
                g[index] = np.sum(grad * (product(up) - product(down))) / (2 * h)
            found.append(g)
        return tuple(found)


class BatchMatMulThroughThePackage(BatchMatMul):
    def _backward(self, grad):
        from minigrad import tensor
        return tensor._matmul_backward(*self._prev, grad)


@pytest.mark.parametrize("checker, cls, says", [
    (ch07._check_divide, DivByFiniteDifferences, "is close to the right one but not equal to it, as a "
                                                "numerical derivative (finite differences) would be: "
                                                "the rule must be exact"),
    (ch07._check_divide, DivThroughThePackage, "your answer calls minigrad's Div: the exercise asks you to "
                                              "write the rule, without any autograd"),
    (ch07._check_divide, DivWithAutograd, "your answer calls minigrad's Tensor.backward()"),
    (ch07._check_permute, PermuteByFiniteDifferences, "the rule must be exact"),
])
def test_chapter_7_rules_must_be_exact_and_by_hand(capsys, checker, cls, says):
    ok, out = run(capsys, checker, cls, MiniTensor)
    assert not ok and says in out, out


@pytest.mark.parametrize("cls, says", [
    (BatchMatMulByFiniteDifferences, "the gradient for a is close to the right one but not equal to it"),
    (BatchMatMulThroughThePackage, "your answer calls minigrad's matrix product rule"),
])
def test_batch_matmul_must_be_exact_and_by_hand(capsys, cls, says):
    ok, out = run(capsys, ch08._check_matmul, cls, MiniTensor)
    assert not ok and says in out, out


def test_rules_refuse_pytorchs_autograd(capsys, torch):
    class DivWithTorch(Div):
        def _backward(self, grad):
            a, b = self._prev
            ta = torch.tensor(a.data, requires_grad=True)
            tb = torch.tensor(b.data, requires_grad=True)
            ((ta / tb) * torch.tensor(grad)).sum().backward()
            return ta.grad.numpy(), tb.grad.numpy()

    ok, out = run(capsys, ch07._check_divide, DivWithTorch, MiniTensor)
    assert not ok and "your answer uses torch" in out, out

    class BatchMatMulWithTorch(BatchMatMul):
        def _backward(self, grad):
            a, b = self._prev
            ta = torch.tensor(a.data, requires_grad=True)
            tb = torch.tensor(b.data, requires_grad=True)
            return torch.autograd.grad((ta @ tb * torch.tensor(grad)).sum(), (ta, tb))

    ok, out = run(capsys, ch08._check_matmul, BatchMatMulWithTorch, MiniTensor)
    assert not ok and ("your answer calls PyTorch's autograd.grad" in out
                       or "your answer uses torch" in out), out


def test_the_checkers_exact_gradients_are_the_slopes():
    # the closed forms the rules are held to, against central differences (to 1e-8)
    rng = np.random.default_rng(4)
    for shapes in ch07._DIVIDE_CASES:
        a, b = rng.normal(size=shapes[0]), rng.uniform(0.5, 2, size=shapes[1])
        G = rng.normal(size=np.broadcast_shapes(*shapes))
        (da, _), (db, _) = ch07._divide_gradients(G, [a, b], None)
        np.testing.assert_allclose(da, _central(lambda x: np.sum(G * x / b) + 0 * x, a), atol=1e-8)
        np.testing.assert_allclose(db, _central(lambda y: np.sum(G * a / y) + 0 * y, b), atol=1e-8)
    for shape, axes in ch07._PERMUTE_CASES:
        a = rng.normal(size=shape)
        G = rng.normal(size=np.transpose(a, axes).shape)
        (da, _), = ch07._permute_gradients(G, [a], axes)
        np.testing.assert_allclose(da, _central(lambda x: np.sum(G * np.transpose(x, axes)) + 0 * x, a),
                                   atol=1e-8)
    for sa, sb in ch08._BATCH_CASES:
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        G = rng.normal(size=(A @ B).shape)
        (da, _), (db, _) = ch08._batch_gradients(A, B, G)
        np.testing.assert_allclose(da, _central(lambda x: np.sum(G * (x @ B)) + 0 * x, A), atol=1e-8)
        np.testing.assert_allclose(db, _central(lambda y: np.sum(G * (A @ y)) + 0 * y, B), atol=1e-8)


@pytest.mark.parametrize("shape, copies", [((3, 1), (2, 3, 4)), ((), (2, 3)), ((4,), (3, 4)),
                                           ((1, 1), (5, 1)), ((2, 3), (2, 3))])
def test_sum_to_shape_is_the_packages_unbroadcast(shape, copies):
    g = np.random.default_rng(0).normal(size=copies)
    np.testing.assert_allclose(ch07.sum_to_shape(g, shape), summed_to_shape(g, shape), rtol=1e-14, atol=1e-15)


def test_leaky_init_fails_a_table_of_the_named_cases(capsys):
    table = {case: leaky_solution(*case) for case in ch08._LEAKY_CASES}
    ok, out = run(capsys, ch08.check_leaky_init, lambda nin, slope: table.get((nin, slope), 0.05))
    assert not ok and "with a layer size and slope drawn at random" in out and "right for the cases" in out


def test_chapters_7_and_8_verdicts_read_the_same_on_every_run(capsys):
    walk, namespace = _chapter_7_engine()
    for checker, args in ((ch07.check_walk, walk),
                          (ch07.check_unbroadcast, (namespace["unbroadcast"],)),
                          (ch07._check_divide, (Div, MiniTensor)),
                          (ch07._check_divide, (DivPassingGradOn, MiniTensor)),
                          (ch07._check_permute, (Permute, MiniTensor)),
                          (ch08._check_matmul, (BatchMatMul, MiniTensor)),
                          (ch08._check_matmul, (BatchMatMulByFiniteDifferences, MiniTensor)),
                          (ch08.check_leaky_init, (leaky_solution,))):
        assert len({run(capsys, checker, *args)[1] for _ in range(3)}) == 1, checker


# ----- in chapter 7's text: the reader's walk and unbroadcast ------------------------

def _chapter_7_engine(replacement=""):
    """The course's engine of chapter 7 (its text's code), then ``replacement`` run over it."""
    from minigrad.exercises.your_engine import _piece
    from exercise_verdicts import run_cell
    namespace = run_cell("import numpy as np\n" + _piece("tensor", 7, 0).source)
    if replacement:
        namespace = run_cell("import numpy as np\n" + replacement, namespace)
    return [namespace[name] for name in ("MiniTensor", "Add", "Mul", "Tanh",
                                         "mini_backpropagate")], namespace


_WALK_HEAD = """
def mini_backpropagate(root):
    order = topological_order(root)
"""
_RESET = """    for node in order:
        if node._prev:
            node.grad = None
"""
_LOOP = """    root.grad = np.ones_like(root.data)
    for node in reversed(order):
        if not node._prev or node.grad is None:
            continue
        for parent, g in zip(node._prev, node._backward(node.grad)):
            {adds}
"""
WRONG_WALKS = {
    "sets": (_WALK_HEAD + _RESET + _LOOP.format(adds="parent.grad = g") + "    accumulate\n",
             "used three times: an input used several times must get the sum"),
    "never resets": (_WALK_HEAD + _LOOP.format(adds="accumulate(parent, g)"),
                     "does it start the operations' results afresh (None)"),
    "recursive": ("""
def mini_backpropagate(root):
    root.grad = np.ones_like(root.data)
    def visit(node):
        for parent, g in zip(node._prev, node._backward(node.grad)):
            accumulate(parent, g)
            visit(parent)
    for node in topological_order(root):
        if node._prev:
            node.grad = None
    visit(root)
""", "used three times"),
    "adds itself": (_WALK_HEAD + _RESET + _LOOP.format(
        adds="parent.grad = g if parent.grad is None else parent.grad + g"),
        "your walk does not call accumulate"),
    "the package's": ("""
from minigrad.autograd import backpropagate
def mini_backpropagate(root):
    accumulate
    backpropagate(root)
""", "your answer calls minigrad's backpropagate"),
    "reads the checker's frame": ("""
import sys
def mini_backpropagate(root):
    accumulate
    root.grad = np.ones_like(root.data)
    frame = sys._getframe(1)
    while frame is not None:  # issue 16: the leaves' gradients, taken from the checker
        for case in frame.f_locals.get("cases", None) or ():
            for leaf, *expected in case[2]:
                if expected and callable(expected[0]):
                    expected = [expected[0](*expected[1])]
                leaf.grad = expected[0] if leaf.grad is None else leaf.grad + expected[0]
        frame = frame.f_back
""", "your answer reads the checker's frames"),
    "placeholder": ("""
def mini_backpropagate(root):
    order = ...
    ...
    root.grad = ...
""", "not filled in yet"),
}


def test_walk_pass(capsys):
    pieces, _ = _chapter_7_engine()
    ok, out = run(capsys, ch07.check_walk, *pieces)
    assert ok and "chain of 5,000 operations" in out


@pytest.mark.parametrize("name", WRONG_WALKS)
def test_walk_fail(capsys, name):
    source, says = WRONG_WALKS[name]
    pieces, _ = _chapter_7_engine(source)
    ok, out = run(capsys, ch07.check_walk, *pieces)
    assert not ok and says in out, out


def test_a_walk_by_recursion_fails_on_the_long_chain(capsys):
    pieces, _ = _chapter_7_engine("""
def mini_backpropagate(root):
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = None
    root.grad = np.ones_like(root.data)
    def walk(position):
        if position < 0:
            return
        node = order[position]
        if node._prev and node.grad is not None:
            for parent, g in zip(node._prev, node._backward(node.grad)):
                accumulate(parent, g)
        walk(position - 1)
    walk(len(order) - 1)
""")
    ok, out = run(capsys, ch07.check_walk, *pieces)
    assert not ok and "recursion limit" in out, out


def _unbroadcast_without_keepdims(grad, shape):
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1))


WRONG_UNBROADCASTS = {
    "unsummed": (lambda grad, shape: grad, "returned the gradient unsummed"),
    "no keepdims": (_unbroadcast_without_keepdims, "are the axes of size 1 kept"),
    "first axis only": (lambda grad, shape: grad.sum(axis=0) if grad.ndim > len(shape) else grad,
                        "for a gradient of shape"),
    "the package's": (lambda grad, shape: summed_to_shape(grad, shape), "your answer calls"),
    "by autograd": (lambda grad, shape: _by_autograd(grad, shape),
                    "your answer calls minigrad's Tensor.backward()"),
    "made of zeros": (lambda grad, shape: np.zeros(shape), "right shape but wrong numbers"),
}


def _by_autograd(grad, shape):
    leaf = Tensor(np.zeros(shape))
    ((leaf + Tensor(np.zeros(grad.shape))) * Tensor(grad)).sum().backward()
    return leaf.grad


def test_unbroadcast_pass(capsys):
    _, namespace = _chapter_7_engine()
    ok, out = run(capsys, ch07.check_unbroadcast, namespace["unbroadcast"])
    assert ok and "ten pairs of shapes drawn afresh" in out


@pytest.mark.parametrize("name", WRONG_UNBROADCASTS)
def test_unbroadcast_fail(capsys, name):
    answer, says = WRONG_UNBROADCASTS[name]
    ok, out = run(capsys, ch07.check_unbroadcast, answer)
    assert not ok and says in out, out


def test_unbroadcast_is_not_fooled_by_shapes_the_text_used(capsys):
    """An answer that knows the text's shapes, (4, 3) to (3,) or (4, 1), fails on shapes drawn
    afresh."""
    def known(grad, shape):
        if grad.shape == (4, 3) and shape == (3,):
            return grad.sum(axis=0)
        if grad.shape == (4, 3) and shape == (4, 1):
            return grad.sum(axis=1, keepdims=True)
        return grad
    ok, out = run(capsys, ch07.check_unbroadcast, known)
    assert not ok


def test_the_engine_check_fails_a_recursive_walk(capsys):
    pieces, namespace = _chapter_7_engine("""
def mini_backpropagate(root):
    order = topological_order(root)
    for node in order:
        if node._prev:
            node.grad = None
    root.grad = np.ones_like(root.data)
    def walk(position):
        if position >= 0:
            node = order[position]
            if node._prev and node.grad is not None:
                for parent, g in zip(node._prev, node._backward(node.grad)):
                    if g is not None:
                        accumulate(parent, g)
            walk(position - 1)
    walk(len(order) - 1)
""")
    names = ("MiniTensor", "topological_order", "unbroadcast", "accumulate", "mini_backpropagate",
             "Add", "Mul", "Tanh", "Relu", "Sum", "Mean", "Max", "Reshape", "Transpose", "GetItem")
    ok, out = run(capsys, ch07._check_engine, *[namespace[n] for n in names])
    assert not ok and "recursion limit" in out, out


def _unbroadcast_by_torch(grad, shape):
    import torch  # imported inside: the checker's traps are set before the first call
    summed = torch.from_numpy(np.asarray(grad)).sum_to_size(shape) if shape else None
    return summed.numpy() if shape else np.asarray(grad).sum()


def test_unbroadcast_fails_pytorch_routes(capsys):
    """Issue 16's cheat: PyTorch's sum_to_size does the summing, reached as the reader likes."""
    torch = pytest.importorskip("torch")
    ok, out = run(capsys, ch07.check_unbroadcast, _unbroadcast_by_torch)
    # (named by the trap it springs, or refused before it runs: either way, for torch)
    assert not ok and ("PyTorch's sum_to_size" in out or "uses torch" in out), out

    def saved(grad, shape, _sum=torch.Tensor.sum_to_size, _zeros=torch.zeros):
        if not shape:
            return np.asarray(grad).sum()
        return _sum(_zeros(1, dtype=torch.float64).new_tensor(grad), shape).numpy()
    ok, out = run(capsys, ch07.check_unbroadcast, saved)
    assert not ok and ("PyTorch's sum_to_size" in out or "uses torch" in out), out
    # the reference solution still passes, with the same text, once PyTorch is imported
    _, namespace = _chapter_7_engine()
    texts = {run(capsys, ch07.check_unbroadcast, namespace["unbroadcast"])[1] for _ in range(3)}
    assert len(texts) == 1 and "ten pairs of shapes drawn afresh" in texts.pop()


def test_leaky_init_refuses_the_packages_and_pytorchs_formulas(capsys):
    """Issue 16: the package's init_std (fed a scaled size) and PyTorch's gain give the right
    std, but the exercise asks for the formula."""
    from minigrad.tensor_nn import init_std
    ok, out = run(capsys, ch08.check_leaky_init,
                  lambda nin, slope: init_std(nin * (1 + slope ** 2), 1, "relu"))
    assert not ok and "runs the code of minigrad.tensor_nn" in out, out
    ok, out = run(capsys, ch08.check_leaky_init,
                  lambda nin, slope: (2 / (nin * (1 + slope ** 2))) ** 0.5)
    assert ok, out
    torch = pytest.importorskip("torch")
    ok, out = run(capsys, ch08.check_leaky_init,
                  lambda nin, slope: torch.nn.init.calculate_gain("leaky_relu", slope) / nin ** 0.5)
    assert not ok and ("runs the code of torch" in out or "uses torch" in out), out


def test_leaky_init_refuses_a_numerical_integral(capsys):
    """E[leaky(z)²] summed on a grid (trapezoid's rule is exact to rounding here, the
    integrand vanishing at both ends) gives the std without the formula."""
    cell = run_cell('''
import numpy as np
def leaky_relu_std(nin, slope):
    z = np.linspace(-10, 10, 20001)
    f = np.where(z > 0, z, slope * z) ** 2 * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    return 1 / np.sqrt(nin * np.trapezoid(f, z))
''')
    ok, out = run(capsys, ch08.check_leaky_init, cell["leaky_relu_std"])
    assert not ok and "NumPy's trapezoid" in out, out


def test_a_rule_by_unit_step_differences_fails(capsys):
    """Issue 16: the product is linear in each input, so differences with a step of 1 are
    exact to rounding; the rule's Python work then grows with the entries."""
    pieces, namespace = _chapter_7_engine()
    MiniTensorClass = namespace["MiniTensor"]

    class MatMul(MiniTensorClass):
        _op = "@"

        def __init__(self, a, b):
            self._record(a.data @ b.data, a, b)

        def _backward(self, grad):
            a, b = self._prev
            base = a.data @ b.data
            gradients = []
            for which, array in enumerate((a.data, b.data)):
                g = np.zeros_like(array)
                for index in np.ndindex(array.shape):
                    step = np.zeros_like(array)
                    step[index] = 1.0
                    moved = (array + step) @ b.data if which == 0 else a.data @ (array + step)
                    g[index] = np.sum(grad * (moved - base))
                gradients.append(g)
            return tuple(gradients)
    ok, out = run(capsys, ch08._check_matmul, MatMul, MiniTensorClass)
    assert not ok and "does Python work for every entry" in out, out


def test_layers_fail_an_mlp_that_does_not_wrap_a_plain_array(capsys, own_engine_directory):
    """A training loop's batches are NumPy arrays: an MLP whose forward pass only works on
    MiniTensors passed 8.3 and broke chapters later, far from its cause."""
    from minigrad.exercises.your_engine import catch_up, pieces
    engine = catch_up("tensor", 8, 3)
    capsys.readouterr()
    source = next(p for p in pieces("tensor") if (p.chapter, p.exercise) == (8, 3)).source
    unwrapped = source.replace("if not isinstance(x, MiniTensor):", "if False:")
    assert unwrapped != source
    for text, ok in ((source, True), (unwrapped, False)):
        namespace = run_cell(text, {**vars(engine), "np": np})
        passed, out = run(capsys, ch08.check_layers, namespace["CrossEntropy"],
                          namespace["Linear"], namespace["MLP"], engine.MiniTensor)
        assert passed is ok, out
    assert "called on a NumPy array of examples" in out and "wrap" in out


def _layers_verdict(capsys, engine, source):
    namespace = run_cell(source, {**vars(engine), "np": np})
    return run(capsys, ch08.check_layers, namespace["CrossEntropy"], namespace["Linear"],
               namespace["MLP"], engine.MiniTensor)


@pytest.mark.parametrize("wrong, says", [
    # the text asks for zeros, and the scale argument counts on sums centred at 0
    (("self.b = MiniTensor(np.zeros(nout), \"b\")",
      "self.b = MiniTensor(np.ones(nout), \"b\")"), "bias that is not zero"),
    # He's factor 2 makes up for a ReLU's half; the last layer has none
    (("if relu else np.sqrt(2.0 / (nin + nout))", "if relu else np.sqrt(2.0 / nin)"),
     "He's scale, which doubles"),
])
def test_layers_fail_a_bias_of_ones_and_hes_scale_on_the_last_layer(capsys, own_engine_directory,
                                                                     wrong, says):
    """Two wrong answers to 8.3 that passed: b of ones, and He's scale where no ReLU follows."""
    from minigrad.exercises.your_engine import catch_up, pieces
    engine = catch_up("tensor", 8, 3)
    capsys.readouterr()
    source = next(p for p in pieces("tensor") if (p.chapter, p.exercise) == (8, 3)).source
    changed = source.replace(*wrong)
    assert changed != source
    texts = {_layers_verdict(capsys, engine, source) for _ in range(2)}
    assert len(texts) == 1 and texts.pop()[0]
    ok, out = _layers_verdict(capsys, engine, changed)
    assert not ok and says in out, out


def test_layers_name_an_unfinished_matmul(capsys, own_engine_directory):
    """8.3 with 8.1's template left unfilled: the failure points at MatMul, exercise 8.1."""
    from minigrad.exercises.your_engine import catch_up, pieces
    engine = catch_up("tensor", 8, 3)
    capsys.readouterr()
    source = next(p for p in pieces("tensor") if (p.chapter, p.exercise) == (8, 3)).source
    template = ("class MatMul(MiniTensor):\n    _op = '@'\n\n    def __init__(self, a, b):\n"
                "        ...\n\n    def _backward(self, grad):\n        ...\n\n")
    namespace = run_cell(template, {**vars(engine), "np": np})
    namespace = run_cell(source, namespace)
    ok, out = run(capsys, ch08.check_layers, namespace["CrossEntropy"], namespace["Linear"],
                  namespace["MLP"], engine.MiniTensor)
    assert not ok and "MatMul (exercise 8.1) missing or unfinished" in out, out


# ----- the re-review's 8.1 and 8.3: the checker's own helpers, and hints ----------------

class BatchMatMulCheckersOwn(BatchMatMul):
    def _backward(self, grad):  # chapter 8's checker's exact gradients, called by the answer
        a, b = self._prev
        return tuple(exact for exact, _ in ch08._batch_gradients(a.data, b.data, grad))


class BatchMatMulIgnoringGrad(BatchMatMul):
    def _backward(self, grad):  # the rule with a grad of ones
        return BatchMatMul._backward(self, np.ones_like(grad))


def test_batch_matmul_calling_the_checkers_own_gradients_fails_there(capsys):
    """8.1 runs chapter 7's shared loop: chapter 8's own helpers are traps all the same, so
    the verdict names them (it used to pass, and fail only when kept)."""
    ok, out = run(capsys, ch08._check_matmul, BatchMatMulCheckersOwn, MiniTensor)
    assert not ok and "the checker's own _batch_gradients" in out, out
    # the checker itself still computes with them: the right rule passes after the trap
    assert run(capsys, ch08._check_matmul, BatchMatMul, MiniTensor)[0]


def test_batch_matmul_ignoring_grad_gets_a_hint(capsys):
    ok, out = run(capsys, ch08._check_matmul, BatchMatMulIgnoringGrad, MiniTensor)
    assert not ok and "is wrong" in out and "a grad of ones would give" in out, out


@pytest.mark.parametrize("wrong, says", [
    (("return (grad * g / len(g),)", "return (grad * g,)"), "times too large, and the logits"),
    (("return (grad * g / len(g),)", "return (g / len(g),)"), "a grad of ones would give"),
])
def test_cross_entropy_wrong_gradients_get_hints(capsys, own_engine_directory, wrong, says):
    from minigrad.exercises.your_engine import catch_up, pieces
    engine = catch_up("tensor", 8, 3)
    capsys.readouterr()
    source = next(p for p in pieces("tensor") if (p.chapter, p.exercise) == (8, 3)).source
    changed = source.replace(*wrong)
    assert changed != source
    ok, out = _layers_verdict(capsys, engine, changed)
    assert not ok and "the gradient for the logits is wrong" in out and says in out, out
    assert "/ n" not in out and "len(" not in out  # the hint does not give the rule


def test_layers_calling_the_checkers_own_softmax_fails(capsys, own_engine_directory):
    from minigrad.exercises.your_engine import catch_up, pieces
    engine = catch_up("tensor", 8, 3)
    capsys.readouterr()
    source = next(p for p in pieces("tensor") if (p.chapter, p.exercise) == (8, 3)).source
    changed = source.replace("g = self.softmax.copy()",
                             "g = ch08._softmax_rows(self.logits_data)")
    changed = changed.replace("z = logits.data\n", "z = logits.data\n        "
                              "self.logits_data = z\n")
    assert changed.count("ch08._softmax_rows") == 1 and "self.logits_data = z" in changed
    namespace = run_cell(changed, {**vars(engine), "np": np, "ch08": ch08})
    ok, out = run(capsys, ch08.check_layers, namespace["CrossEntropy"], namespace["Linear"],
                  namespace["MLP"], engine.MiniTensor)
    assert not ok and "the checker's own _softmax_rows" in out, out
