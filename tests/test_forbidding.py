"""The exercises' traps (``minigrad.exercises.forbidding``) against answers that cheat.

Each answer below is the exact code of an answer that once fooled a checker;
each must now FAIL, naming what it called, and the trapped functions must be
whole again afterwards.
"""
import itertools
import linecache
import types

import pytest

from minigrad import autograd
from minigrad.exercises import COMPLEX_STEP, ForbiddenCall, ch09, ch12, ch13, forbidding

_cells = itertools.count(1)


def run_cell(source):
    """Run ``source`` as a notebook cell would (its source readable by inspect)."""
    name = f"<ipython-input-{next(_cells)}-trap>"
    linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
    namespace = {}
    exec(compile(source, name, "exec"), namespace)
    return namespace


# ----- the mechanism ---------------------------------------------------------------

def _closure(y):
    def add(a, b=1):
        return a + b + y
    return add


class _Owner:
    pass


def test_a_saved_reference_still_springs_the_trap_and_the_code_comes_back():
    function = _closure(3)
    _Owner.add = function
    code = function.__code__
    saved = autograd.topological_order

    def answer(x, _walk=autograd.topological_order, _add=function):
        return _walk(x), _add(x)
    entries = [(_Owner, "add", "the add"), (autograd, "topological_order", "the walk")]
    with pytest.raises(ForbiddenCall, match="your answer calls the walk: TASK"):
        with forbidding(entries, [answer], "TASK"):
            answer(1)
    assert function.__code__ is code and function(1) == 5
    assert autograd.topological_order is saved and _Owner.add is function


def test_names_put_back_by_the_answer_still_spring_the_trap():
    saved = autograd.topological_order

    def answer(_saved=autograd.topological_order):
        autograd.topological_order = _saved
        return autograd.topological_order(None)
    with pytest.raises(ForbiddenCall, match="your answer calls the walk: TASK"):
        with forbidding([(autograd, "topological_order", "the walk")], [answer], "TASK"):
            answer()
    assert autograd.topological_order is saved
    assert saved.__code__.co_name == "topological_order"


def test_the_code_comes_back_after_a_keyboard_interrupt():
    saved = autograd.topological_order
    code = saved.__code__
    with pytest.raises(KeyboardInterrupt):
        with forbidding([(autograd, "topological_order", "the walk")], [], "TASK"):
            raise KeyboardInterrupt
    assert saved.__code__ is code


def test_the_answer_being_the_entry_itself_leaves_nothing_swapped():
    saved = autograd.topological_order
    code = saved.__code__
    with pytest.raises(ForbiddenCall, match="your answer is the walk itself"):
        with forbidding([(autograd, "topological_order", "the walk")], [saved], "TASK"):
            pass
    assert saved.__code__ is code and autograd.topological_order is saved


# ----- answers that fooled the checkers (saved references, H1) -----------------------

ADAM_DEFAULT = '''
import numpy as np
def adam_step(p, g, m, v, t, lr, beta1, beta2, eps, _A=__import__("minigrad.optim", fromlist=["Adam"]).Adam,
              _S=__import__("minigrad.optim", fromlist=["Adam"]).Adam.step):
    class _P:
        def __init__(s, d, g): s.data, s.grad = d, g
    q = _P(np.array(p, dtype=float), np.array(g, dtype=float))
    o = object.__new__(_A)
    _A.__mro__[1].__init__(o, [q], lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=0.0)
    o.t, o.m, o.v = t - 1, [np.array(m, dtype=float)], [np.array(v, dtype=float)]
    _S(o)
    return q.data, o.m[0], o.v[0]
'''

CONV_DEFAULT = '''
import numpy as np
def conv2d_loops(x, w, b, stride, padding, _c=__import__("minigrad.tensor_conv", fromlist=["x"]).conv2d,
                 _T=__import__("minigrad.tensor", fromlist=["x"]).Tensor):
    return _c(_T(x), _T(w), _T(b), stride=stride, padding=padding).data
'''

TN = '__import__("minigrad.tensor_norm", fromlist=["x"])'
UNTRAP = '''
def _untrapped(call, modules, saved):
    changed = []
    for m, s in zip(modules, saved):
        for k, v in list(vars(m).items()):
            if k in s and v is not s[k]:
                changed.append((m, k, v)); setattr(m, k, s[k])
    try:
        return call()
    finally:
        for m, k, v in changed: setattr(m, k, v)
'''
BATCH_NORM_UNTRAP = f'''
import numpy as np
def batch_norm_train(x, gamma, beta, running_mean, running_var, momentum, eps,
                     _mods=({TN}, {TN}.Normalize, __import__("minigrad")),
                     _saved=(dict(vars({TN})), dict(vars({TN}.Normalize)), dict(vars(__import__("minigrad")))),
                     _T=__import__("minigrad.tensor", fromlist=["x"]).Tensor):
{UNTRAP.replace(chr(10), chr(10) + "    ")}
    rm, rv = running_mean.copy(), running_var.copy()
    y = _untrapped(lambda: _mods[0].batch_norm(_T(x), rm, rv, _T(gamma), _T(beta), training=True,
                                               momentum=momentum, eps=eps), _mods, _saved)
    return y.data, rm, rv
'''

DROPOUT_DEFAULT = f'''
import numpy as np
def dropout(x, p, rng, training, _d={TN}.dropout, _T=__import__("minigrad.tensor", fromlist=["x"]).Tensor):
    out = _d(_T(x, requires_grad=False), p, rng, training)
    return np.array(out.data)
'''

SAVED_REFERENCES = [
    ("adam_step", ADAM_DEFAULT, ch09.check_adam_step),
    ("conv2d_loops", CONV_DEFAULT, ch12.check_conv2d_loops),
    ("batch_norm_train", BATCH_NORM_UNTRAP, ch13.check_batch_norm_train),
    ("dropout", DROPOUT_DEFAULT, ch13.check_dropout),
]


@pytest.mark.parametrize("name, source, checker", SAVED_REFERENCES,
                         ids=[case[0] for case in SAVED_REFERENCES])
def test_a_saved_reference_fails(capsys, name, source, checker):
    assert checker(run_cell(source)[name]) is False
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and "your answer calls minigrad" in out, out


# ----- the package's walk and rules, and the checkers' own reference code (H2, H3) ----

# the notebook cell of chapter 1 that the answers below build on
CHAPTER_1_CELL = ("import math, cmath\nfrom minigrad.exercises import ch01\n"
                  "def q(x):\n    return 4 * x**3 - 2 * x**2 + x - 5\n"
                  "def sigmoid(x):\n    return 1 / (1 + math.exp(-x))\n"
                  "def r(a, b):\n    return a**2 * b - 3 * b\n")

PACKAGE_WALK = CHAPTER_1_CELL + '''
from minigrad.value import Value
from minigrad.autograd import topological_order
def walk(root):
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        if node._prev:
            for p, g in zip(node._prev, node._backward(node.grad)):
                p.grad += g
def dq(x):
    v = Value(x); walk(q(v)); return v.grad
'''

PACKAGE_SIGMOID_RULE = CHAPTER_1_CELL + '''
from minigrad.value import Value
def dsigmoid(x):
    return Value(x).sigmoid()._backward(1.0)[0]
'''

GETITEM_RULE_DEFAULT = '''
import numpy as np
def embedding_grad(tokens, grad, vocabulary, _T=__import__("minigrad.tensor", fromlist=["x"]).Tensor,
                   _bw=__import__("minigrad.tensor", fromlist=["x"]).GetItem._backward):
    table = _T(np.zeros((vocabulary, grad.shape[-1])))
    out = table[tokens]
    return _bw(out, grad)[0]
'''

BATCH_NORM_PACKAGE_WALK = '''
import numpy as np
from minigrad.tensor import Tensor
from minigrad.autograd import topological_order
class BatchNormalize(Tensor):
    _op = "batchnorm"
    def __init__(self, a, eps):
        x = a.data
        self.eps = eps
        mean = x.mean(axis=0)
        var = ((x - mean) ** 2).mean(axis=0)
        self._record((x - mean) / np.sqrt(var + eps), a)
    def _backward(self, grad):
        a = Tensor(self._prev[0].data)
        c = a - a.mean(axis=0)
        out = c / ((c * c).mean(axis=0) + self.eps) ** 0.5
        loss = (out * Tensor(grad, requires_grad=False)).sum()
        grads = {id(loss): np.ones_like(loss.data)}
        for node in reversed(topological_order(loss)):
            g = grads.get(id(node))
            if g is None or not node._prev: continue
            for parent, pg in zip(node._prev, node._backward(g)):
                if pg is None: continue
                pg = np.asarray(pg)
                while pg.ndim > parent.data.ndim: pg = pg.sum(axis=0)
                for ax, n in enumerate(parent.data.shape):
                    if n == 1 and pg.shape[ax] != 1: pg = pg.sum(axis=ax, keepdims=True)
                grads[id(parent)] = grads.get(id(parent), 0) + pg
        return (grads[id(a)],)
'''

NORMALIZE_RULE_DEFAULT = f'''
import numpy as np
class BatchNormalize({TN}.Normalize):
    _op = "batchnorm"
    def __init__(self, a, eps):
        x = a.data
        self.axes = (0,)
        self.mean = x.mean(axis=0, keepdims=True)
        self.var = ((x - self.mean) ** 2).mean(axis=0, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(self.var + eps)
        self._record((x - self.mean) * self.inv_std, a)
    def _backward(self, grad, _bw={TN}.Normalize._backward):
        return _bw(self, grad)
'''

CHECKERS_SUM_TO_SHAPE = '''
import numpy as np
def unbroadcast(grad, shape):
    from minigrad.exercises.ch07 import sum_to_shape
    return sum_to_shape(grad, shape)
'''

CHECKERS_PRECISION_RECALL = '''
def precision_recall(C):
    from minigrad.exercises import ch09
    return ch09._precision_recall(C)
'''

CHECKERS_ADAM = '''
def adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    from minigrad.exercises import ch09
    return ch09._adam_reference(p, g, m, v, t, lr, beta1, beta2, eps)
'''

CHECKERS_WARMUP_COSINE = '''
def warmup_cosine(step, total_steps, warmup_steps, lr_max, lr_min):
    from minigrad.exercises import ch13
    return ch13._warmup_cosine_reference(step, total_steps, warmup_steps, lr_max, lr_min)
'''

CHECKERS_EMBEDDING_GRAD = '''
import importlib
def embedding_grad(tokens, grad, vocabulary):
    return importlib.import_module("minigrad.exercises.ch14").reference_embedding_grad(tokens, grad, vocabulary)
'''

CHECKERS_ATTENTION_GRADIENTS = '''
def attention_backward(q, k, v, grad):
    from minigrad.exercises import ch15
    return ch15._reference_gradients(q, k, v, grad)
'''


PACKAGE_SIGMOID = '''
import math, minigrad
from minigrad.value import _sigmoid
class Softplus(minigrad.value.Value):
    __slots__ = ()
    _op = "softplus"
    def __init__(self, a):
        self._record(max(a.data, 0.0) + math.log1p(math.exp(-abs(a.data))), a)
    def _backward(self, grad):
        return (grad * _sigmoid(self._prev[0].data),)
'''


def _checker(module, name):
    def check(answer):
        from importlib import import_module
        return getattr(import_module(f"minigrad.exercises.{module}"), name)(answer)
    return check


BORROWED = [
    ("dq", PACKAGE_WALK, _checker("ch01", "check_power_rule"),
     "minigrad's topological_order"),
    ("dsigmoid", PACKAGE_SIGMOID_RULE, _checker("ch01", "check_sigmoid_derivative"),
     "minigrad's Sigmoid._backward"),
    ("embedding_grad", GETITEM_RULE_DEFAULT, _checker("ch14", "check_embedding_grad"),
     "minigrad's GetItem._backward"),
    ("BatchNormalize", BATCH_NORM_PACKAGE_WALK, ch13.check_batch_norm_rule,
     "minigrad's topological_order"),
    ("BatchNormalize", NORMALIZE_RULE_DEFAULT, ch13.check_batch_norm_rule,
     "minigrad's Normalize"),
    ("unbroadcast", CHECKERS_SUM_TO_SHAPE, _checker("ch07", "check_unbroadcast"),
     "the checker's own sum_to_shape"),
    ("precision_recall", CHECKERS_PRECISION_RECALL, ch09.check_precision_recall,
     "the checker's own _precision_recall"),
    ("adam_step", CHECKERS_ADAM, ch09.check_adam_step, "the checker's own _adam_reference"),
    ("warmup_cosine", CHECKERS_WARMUP_COSINE, ch13.check_warmup_cosine,
     "the checker's own _warmup_cosine_reference"),
    ("embedding_grad", CHECKERS_EMBEDDING_GRAD, _checker("ch14", "check_embedding_grad"),
     "the checker's own reference_embedding_grad"),
    ("Softplus", PACKAGE_SIGMOID, _checker("ch03", "check_softplus"), "minigrad's sigmoid"),
    ("attention_backward", CHECKERS_ATTENTION_GRADIENTS,
     _checker("ch15", "check_attention_backward"), "the checker's own _reference_gradients"),
]


@pytest.mark.parametrize("name, source, checker, called", BORROWED,
                         ids=[case[3].split()[-1] for case in BORROWED])
def test_a_borrowed_rule_walk_or_reference_fails(capsys, name, source, checker, called):
    assert checker(run_cell(source)[name]) is False
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and f"your answer calls {called}" in out, out


# ----- a complex step is a numerical derivative (H4) ---------------------------------

COMPLEX_STEPS = [
    ("dq", "check_power_rule", "ch01", CHAPTER_1_CELL + '''
def dq(x):
    return q(complex(x, 1e-30)).imag / 1e-30
'''),
    ("dsigmoid", "check_sigmoid_derivative", "ch01", CHAPTER_1_CELL + '''
def dsigmoid(x):
    s = lambda z: 1 / (1 + cmath.exp(-z)) if z.real >= 0 else cmath.exp(z) / (1 + cmath.exp(z))
    return s(complex(x, 1e-30)).imag / 1e-30
'''),
    ("r_partials", "check_partials", "ch01", CHAPTER_1_CELL + '''
def r_partials(a, b):
    rr = lambda a, b: a**2 * b - 3 * b
    return rr(complex(a, 1e-30), b).imag / 1e-30, rr(a, complex(b, 1e-30)).imag / 1e-30
'''),
    ("paths_by_hand", "check_paths", "ch03", '''
def paths_by_hand(x):
    h = 1e-30
    y = x * x
    return [y, ((complex(y, h) + x) * complex(y, h)).imag / h,
            ((complex(x, h) ** 2 + complex(x, h)) * complex(x, h) ** 2).imag / h]
'''),
    ("mse_gradient", "check_mse_gradient", "ch05", '''
def mse_gradient(predictions, targets):
    ps = [complex(p.data) for p in predictions]
    out = []
    for j in range(len(ps)):
        q = list(ps); q[j] += 1e-30j
        out.append((sum((a - t) ** 2 for a, t in zip(q, targets)) / len(q)).imag / 1e-30)
    return out
'''),
    ("conv_weight_grad", "check_conv_weight_grad", "ch12", '''
import numpy as np
def conv_weight_grad(x, G, kh, kw):
    o, c = G.shape[1], x.shape[1]
    w = np.random.default_rng(1).normal(size=(o, c, kh, kw)).astype(complex)
    grad = np.zeros((o, c, kh, kw))
    def L(w):
        total = 0
        for i in range(G.shape[2]):
            for j in range(G.shape[3]):
                total = total + np.sum(G[:, :, i, j] * np.einsum("ncpq,ocpq->no", x[:, :, i:i+kh, j:j+kw], w))
        return total
    for k in np.ndindex(grad.shape):
        h = 1e-20
        w2 = w.copy(); w2[k] += 1j * h
        grad[k] = L(w2).imag / h
    return grad
'''),
    ("col2im", "check_col2im", "ch12", '''
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
def col2im(grad_cols, x_shape, kh, kw, stride, padding):
    def L(x):
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        v = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
        return np.sum(grad_cols * v.transpose(0, 2, 3, 1, 4, 5).reshape(grad_cols.shape))
    grad = np.zeros(x_shape)
    for k in np.ndindex(x_shape):
        z = np.zeros(x_shape, dtype=complex); z[k] += 1e-30j
        grad[k] = L(z).imag / 1e-30
    return grad
'''),
    ("BatchNormalize", "check_batch_norm_rule", "ch13", '''
import numpy as np
from minigrad.tensor import Tensor
def _f(x, eps):
    c = x - x.mean(axis=0)
    return c / np.sqrt((c * c).mean(axis=0) + eps)
class BatchNormalize(Tensor):
    _op = "batchnorm"
    def __init__(self, a, eps):
        self.eps = eps
        self._record(_f(a.data, eps), a)
    def _backward(self, grad):
        x = self._prev[0].data
        out = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            z = x.astype(complex); z[idx] += 1e-30j
            out[idx] = np.sum(grad * _f(z, self.eps).imag) / 1e-30
        return (out,)
'''),
    ("attention_backward", "check_attention_backward", "ch15", '''
import numpy as np
def _att(q, k, v):
    s = q @ k.T / np.sqrt(q.shape[-1])
    s = s - s.real.max(axis=-1, keepdims=True)
    w = np.exp(s) * np.tril(np.ones(s.shape))
    return (w / w.sum(axis=-1, keepdims=True)) @ v
def attention_backward(q, k, v, grad):
    out = []
    for which in range(3):
        args = [q, k, v]
        g = np.zeros_like(args[which])
        for idx in np.ndindex(g.shape):
            z = [a.astype(complex) for a in args]
            z[which][idx] += 1e-30j
            g[idx] = np.sum(grad * _att(*z).imag) / 1e-30
        out.append(g)
    return tuple(out)
'''),
]


@pytest.mark.parametrize("name, checker, module, source", COMPLEX_STEPS,
                         ids=[f"{case[2]}-{case[0]}" for case in COMPLEX_STEPS])
def test_a_complex_step_fails(capsys, name, checker, module, source):
    assert _checker(module, checker)(run_cell(source)[name]) is False
    out = capsys.readouterr().out
    assert out.startswith("FAIL") and out.split("\n")[1].strip() == COMPLEX_STEP, out


def test_real_parts_and_complex_free_answers_are_not_refused():
    from minigrad.exercises import _takes_complex_step
    namespace = run_cell('''
import numpy as np
def helper(x):
    return 3 * x ** 2
def dq(x):
    """The derivative, by the power rule."""
    return helper(x) + np.cos(x).real
''')
    assert not _takes_complex_step([namespace["dq"]])
    namespace = run_cell('''
def step(x):
    return x.imag
def dq(x):
    return step(x + 1e-30j)
''')
    assert _takes_complex_step([namespace["dq"]])


# ----- libraries that do what the exercise asks ----------------------------------------

def _verdict(checker, answer, capsys):
    ok = checker(answer)
    return ok, capsys.readouterr().out


LIBRARY_USES = [
    ("import inside the answer", "graphlib", "ch03", "check_topological_sort", "sort", '''
def sort(root):
    import graphlib
    graph, stack, seen = {}, [root], set()
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            graph[node] = set(node._prev)
            stack.extend(node._prev)
    return list(graphlib.TopologicalSorter(graph).static_order())
'''),
    ("a module global", "graphlib", "ch03", "check_topological_sort", "sort", '''
import graphlib
def helper(graph):
    return list(graphlib.TopologicalSorter(graph).static_order())
def sort(root):
    graph, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node not in graph:
            graph[node] = set(node._prev)
            stack.extend(node._prev)
    return helper(graph)
'''),
    ("a class held in a default", "decimal", "ch05", "check_logsumexp", "logsumexp", '''
import decimal
def logsumexp(zs, exact=decimal.Decimal):
    return float(sum(exact(z).exp() for z in zs).ln())
'''),
    ("a function held in a closure", "fractions", "ch05", "check_mse_gradient", "mse_gradient", '''
def make():
    from fractions import Fraction
    def mse_gradient(ps, ts):
        n = Fraction(len(ps))
        return [float(2 * (Fraction(p.data) - Fraction(t)) / n) for p, t in zip(ps, ts)]
    return mse_gradient
mse_gradient = make()
'''),
    ("an instance held in a class attribute", "decimal", "ch01", "check_power_rule", "dq", '''
import decimal
class Rule:
    context = decimal.Context(prec=50)
    def __call__(self, x):
        d = self.context.create_decimal_from_float(x)
        return float(12 * d * d - 4 * d + 1)
dq = Rule().__call__
'''),
    ("a name built at run time", "graphlib", "ch03", "check_topological_sort", "sort", '''
import importlib
def sort(root):
    module = importlib.import_module("graph" + "lib")
    graph, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node not in graph:
            graph[node] = set(node._prev)
            stack.extend(node._prev)
    return list(module.TopologicalSorter(graph).static_order())
'''),
    ("__import__ of a name built at run time", "graphlib", "ch03", "check_topological_sort",
     "sort", '''
def sort(root):
    module = __import__("graph" + "lib")
    graph, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node not in graph:
            graph[node] = set(node._prev)
            stack.extend(node._prev)
    return list(module.TopologicalSorter(graph).static_order())
'''),
]


@pytest.mark.parametrize("how, library, module, checker, name, source", LIBRARY_USES,
                         ids=[case[0] for case in LIBRARY_USES])
def test_an_answer_using_a_library_fails_naming_it(capsys, how, library, module, checker, name,
                                                    source):
    ok, out = _verdict(_checker(module, checker), run_cell(source)[name], capsys)
    assert ok is False, out
    assert f"your answer uses {library}: the exercise asks" in out, out


def test_sympy_derivative_through_lambdify_fails(capsys):
    pytest.importorskip("sympy")
    namespace = run_cell('''
import sympy
def q(x):
    return 4 * x**3 - 2 * x**2 + x - 5
_x = sympy.Symbol("x")
_slope = sympy.lambdify(_x, sympy.diff(q(_x), _x))
def dq(x):
    return float(_slope(x))
''')
    ok, out = _verdict(_checker("ch01", "check_power_rule"), namespace["dq"], capsys)
    assert ok is False and "your answer uses sympy" in out, out


@pytest.mark.parametrize("source", ['''
import torch
def logsumexp(zs):
    return float(torch.special.logsumexp(torch.tensor(zs, dtype=torch.float64), 0))
''', '''
def logsumexp(zs, lse=None):
    import torch
    return float(torch.tensor(zs, dtype=torch.float64).log_softmax(0)[0].neg() + zs[0])
'''])
def test_torch_where_the_exercise_asks_to_write_it_fails(capsys, source):
    pytest.importorskip("torch")
    ok, out = _verdict(_checker("ch05", "check_logsumexp"), run_cell(source)["logsumexp"], capsys)
    assert ok is False and "your answer uses torch" in out, out


def test_libraries_not_used_are_not_named():
    from minigrad.exercises import library_used
    namespace = run_cell('''
import math
import numpy as np
def helper(zs):
    return max(zs)
def logsumexp(zs, log=math.log, tools=(np.exp, sum)):
    m = helper(zs)
    text = "the decimal point"
    return m + log(sum(math.exp(z - m) for z in zs))
''')
    assert library_used([namespace["logsumexp"]]) is None


def test_a_trapped_function_saved_in_a_default_still_springs():
    # issue 16: np.logaddexp.reduce kept as a default argument escaped the name swap
    import numpy as np
    namespace = run_cell('''
import numpy as np
def logsumexp(zs, lse=np.logaddexp.reduce, *, also=np.logaddexp):
    return float(lse(zs))
class Holder:
    reduce = np.logaddexp.reduce
def held(zs):
    return float(Holder.reduce(zs))
''')
    for name in ("logsumexp", "held"):
        with pytest.raises(ForbiddenCall, match="NumPy's logaddexp"):
            with forbidding([(np, "logaddexp", "NumPy's logaddexp")], [namespace[name]],
                            "write it"):
                namespace[name]([1.0, 2.0])
    assert namespace["logsumexp"].__defaults__[0] == np.logaddexp.reduce  # put back
    assert namespace["logsumexp"].__kwdefaults__["also"] is np.logaddexp
    assert namespace["Holder"].__dict__["reduce"] == np.logaddexp.reduce
    assert namespace["logsumexp"]([0.0, 0.0]) == pytest.approx(np.log(2))


GOING_AROUND = [
    ("the checker's frame", "ch01", "check_power_rule", "dq", "reads the checker's frames", '''
import sys
def dq(x):
    return sys._getframe(1).f_locals["slope"](x)
'''),
    ("the checker's frame, by names built at run time", "ch01", "check_power_rule", "dq",
     "reads the checker's frames", '''
import sys
def dq(x):
    frame = getattr(sys, "".join(["_get", "frame"]))(1)
    return getattr(frame, "".join(["f_lo", "cals"]))["slope"](x)
'''),
    ("sys.modules", "ch05", "check_logsumexp", "logsumexp", "looks modules up in sys.modules", '''
import sys
def logsumexp(zs):
    lse = sys.modules["".join(["scipy", ".special"])].logsumexp
    return float(lse(zs))
'''),
    ("a copy of a package function", "ch03", "check_topological_sort", "sort",
     "holds a copy of minigrad's topological_order", '''
import types
from minigrad import autograd
_sort = types.FunctionType(autograd.topological_order.__code__,
                           autograd.topological_order.__globals__, "my_sort")
def sort(root):
    return _sort(root)
'''),
    ("a package function's code, saved", "ch03", "check_topological_sort", "sort",
     "holds a copy of minigrad's topological_order", '''
import types
from minigrad import autograd
_code = autograd.topological_order.__code__
def sort(root):
    return types.FunctionType(_code, vars(autograd))(root)
'''),
    ("__import__ saved in a default", "ch03", "check_topological_sort", "sort",
     "your answer uses graphlib", '''
def sort(root, load=__import__):
    module = load("".join(["graph", "lib"]))
    graph, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node not in graph:
            graph[node] = set(node._prev)
            stack.extend(node._prev)
    return list(module.TopologicalSorter(graph).static_order())
'''),
]


@pytest.mark.parametrize("how, module, checker, name, says, source", GOING_AROUND,
                         ids=[case[0] for case in GOING_AROUND])
def test_an_answer_going_around_the_traps_fails(capsys, how, module, checker, name, says, source):
    import sys
    getframe = sys._getframe
    ok, out = _verdict(_checker(module, checker), run_cell(source)[name], capsys)
    assert ok is False, out
    assert says in out, out
    assert sys._getframe is getframe  # put back


def test_the_reference_answers_pass_with_the_traps_around(capsys):
    namespace = run_cell('''
import sys
def dq(x):
    return 12 * x ** 2 - 4 * x + 1
''')
    for _ in range(3):
        ok, out = _verdict(_checker("ch01", "check_power_rule"), namespace["dq"], capsys)
        assert ok is True, out


# ----- traced numbers: their polynomial, made by the checker alone (round 2) --------------

def test_a_traced_number_keeps_its_polynomial_and_x_minus_x_is_zero():
    from minigrad.exercises import polynomial, same_polynomial, traced
    x, y = traced(2.0, "x"), traced(-3.0, "y")
    assert polynomial(12 * x * x - 4 * x + 1) == {(("x", 2),): 12.0, (("x", 1),): -4.0, (): 1.0}
    assert polynomial(x - x) == {}
    assert polynomial(5.0 + (y - y) * x) == {(): 5.0}
    assert polynomial((x + y) ** 2) == polynomial(x * x + 2 * x * y + y * y)
    assert polynomial(x / 4) == {(("x", 1),): 0.25}
    assert polynomial(x / x) is None and polynomial(x ** 0.5) is None  # lost, as float() loses it
    assert same_polynomial(3 * 4 * x ** 2 - 2 * 2 * x + 1, 12 * x * x - 4 * x + 1)
    assert not same_polynomial(float(12 * x * x - 4 * x + 1) + (x - x), 12 * x * x - 4 * x + 1)


def test_a_traced_number_is_made_by_the_checker_alone():
    from minigrad.exercises import _Traced, polynomial, sources, traced
    x = traced(2.0, "x")
    with pytest.raises(TypeError, match="made by the checker alone"):
        type(x)(8.0, {"x"}, 1)
    forged = float.__new__(_Traced, 8.0)
    forged.sources = frozenset({"x"})  # what it says of itself is not read
    assert sources(forged) == frozenset() and polynomial(forged) is None


def test_a_complex_step_seen_only_as_the_answer_runs_fails(capsys):
    from minigrad.exercises import COMPLEX_STEP, _takes_complex_step
    namespace = run_cell('''
import math
def _unit():
    return float("-1") ** 0.5
def dsigmoid(x):
    h = 1e-30
    up, down = x + h * _unit(), x - h * _unit()
    y = 1 / (1 + math.e ** -up) - 1 / (1 + math.e ** -down)
    return (y * -_unit() / 2).real / h
''')
    assert not _takes_complex_step([namespace["dsigmoid"]])  # no name gives it away
    ok, out = _verdict(_checker("ch01", "check_sigmoid_derivative"), namespace["dsigmoid"], capsys)
    assert ok is False and COMPLEX_STEP in out, out


def test_the_package_compiled_again_under_another_name_fails(capsys, tmp_path):
    import minigrad.autograd
    copy = tmp_path / "mine.py"
    copy.write_text(open(minigrad.autograd.__file__).read())
    namespace = run_cell(f'''
import io, types
def sort(root):
    code = compile(io.open({str(copy)!r}).read(), "mine", "exec")
    walk = [c for c in code.co_consts if getattr(c, "co_name", "") == "topological_order"][0]
    return types.FunctionType(walk, {{}})(root)
''')
    ok, out = _verdict(_checker("ch03", "_check_topological_sort"), namespace["sort"], capsys)
    assert ok is False and "runs a copy of minigrad's topological_order" in out, out


def test_what_runs_names_the_package_compiled_again(tmp_path):
    import minigrad.autograd
    from minigrad import Value
    from minigrad.exercises.what_runs import run_traced
    code = compile(open(minigrad.autograd.__file__).read(), str(tmp_path / "mine.py"), "exec")
    walk = [c for c in code.co_consts if getattr(c, "co_name", "") == "topological_order"][0]
    function = types.FunctionType(walk, {})
    _, _, module = run_traced(function, Value(1.0) * 2, watched=("minigrad",))
    assert module == "minigrad.autograd"


def test_micrograd_and_networkx_are_libraries_refused():
    from minigrad.exercises import LIBRARIES
    assert {"micrograd", "networkx"} <= LIBRARIES
