"""The exercises' traps (``minigrad.exercises.forbidding``) against answers that cheat.

Each answer below is the exact code of an answer that once fooled a checker;
each must now FAIL, naming what it called, and the trapped functions must be
whole again afterwards.
"""
import itertools
import linecache

import pytest

from minigrad import autograd
from minigrad.exercises import ForbiddenCall, ch09, ch12, ch13, forbidding

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
