"""Checkers for the course's exercises: each prints a clear PASS or FAIL.

A checker judges the reader's answer and, when it is wrong, says *what* is
wrong (which entry, which input, which node) without printing the answer
itself. It also returns ``True`` or ``False``, so that a notebook can keep the
result. A placeholder (``...`` or ``None``) left in an answer is reported as
"not filled in yet", so an exercise's starter cell runs without an error.

The generic helpers are here; the checkers of chapter NN, which hold each
exercise's data so that the starter cells need not, are in ``chNN``.

A checker judges the method as well as the numbers:

- while the reader's code runs, the package's entry points that the exercise
  asks the reader to write (``backward``, ``topological_order``, the
  optimizers, ``state_dict``, pickle, ...), the package's rules where a rule
  is asked for, and the checker's own reference answers are traps
  (:func:`forbidding`): calling one fails the exercise, saying which was
  called, however the reader's code reached it;
- an answer that uses a library doing what the exercise asks (PyTorch,
  SymPy, graphlib, SciPy, decimal, fractions, ...: :data:`LIBRARIES`) fails,
  naming it, found through what the answer's code, and the reader's code it
  reaches, imports, names or holds (:func:`library_used`); so does one that
  reads the checker's frames, looks modules up in ``sys.modules``, or holds a
  copy of the package's code, which the traps would not reach;
- a complex step, exact as no finite difference is, is refused where a
  derivative rule is asked for: named in the answer's code, or seen as it
  runs (a complex number among a function's variables or its result); so is
  code that is a copy of the package's, however it was made (its source
  compiled again under another name is told by what it does);
- where the function an exercise is about is a polynomial (or a straight
  line in an input), a difference of its values with big steps is exact too:
  the inputs are then handed over as :func:`traced` floats, which record what
  each result is computed from (:func:`sources`), its degree (:func:`degree`)
  and the polynomial it is (:func:`polynomial`), so that an answer computed
  from what a difference needs fails, and so does a number worked out
  another way and dressed up as computed from the inputs (``d + (x - x)``
  is the constant d): its polynomial is not the rule's;
- answers are tried on inputs drawn afresh on every run (:func:`fresh_rng`),
  so that a number copied in fails; the messages about those inputs name no
  drawn number, so a correct answer prints the same PASS on every run;
- a derivative rule is compared with the exact derivative far more tightly
  than finite differences can reach (:func:`check_derivative`).
"""
import ast
import builtins
import cmath
import contextlib
import dis
import functools
import importlib
import inspect
import linecache
import math
import numbers
import os
import sys
import textwrap
import types
import weakref

import numpy as np

from minigrad.autograd import unbroadcast
from minigrad.gradcheck import TOLERANCE, analytic_gradients, numerical_gradients, relative_gaps

__all__ = ["ForbiddenCall", "forbidding", "LIBRARIES", "library_used", "traced", "sources",
           "degree", "polynomial", "same_polynomial", "NOT_BY_RULE", "package_copy",
           "reports_forbidden", "recording_calls", "fresh_rng",
           "autograd_entries", "package_rule_entries", "backward_entries", "method_entries",
           "model_entries", "numerical_entries", "speed_entries", "EXACT", "COMPLEX_STEP",
           "report", "is_unset", "is_placeholder", "not_filled_in",
           "describe_error", "call_answer", "unusable_function", "unusable_class",
           "as_numbers", "as_gradients", "arrays_close",
           "summed_to_shape", "close_detail", "check_close", "check_derivative",
           "gradient_detail", "check_gradients"]

NOT_FILLED_IN = "not filled in yet: replace the ... with your answer"
#: The same, for a starter cell whose code has several ``...`` to replace.
NOT_FILLED_IN_CODE = "not filled in yet: replace each ... with your code and run the cell again"


# ----- judging the method ------------------------------------------------------------

class ForbiddenCall(BaseException):
    """The reader's answer called what the exercise asks them to write.

    A BaseException, so that the reader's own ``except Exception`` does not
    swallow it; :func:`forbidding` also remembers the call, in case it is.
    """


class _Trap:
    """What stands in for a forbidden entry: calling it, or using any of its attributes
    (``np.logaddexp.reduce``), records the use and raises :class:`ForbiddenCall`."""

    def __init__(self, label, task, used):
        self._label, self._task, self._used = label, task, used

    def _spring(self):
        self._used.append(f"your answer calls {self._label}: {self._task}")
        raise ForbiddenCall(self._used[-1])

    def __call__(self, *args, **kwargs):
        self._spring()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._spring()


def _functions_of(answer):
    """The plain functions behind ``answer``: itself, a bound method's function, a class's
    methods."""
    if isinstance(answer, type):
        found = []
        for klass in answer.__mro__:
            # the package's own classes are what is being trapped; a class made by exec
            # without a __name__ says it is from "builtins" too, and is the reader's
            if klass.__module__.startswith("minigrad") \
                    or getattr(builtins, klass.__name__, None) is klass:
                continue
            for member in vars(klass).values():
                member = getattr(member, "__func__", member)  # static and class methods
                found += _functions_of(member) if callable(member) else []
        return found
    answer = getattr(answer, "__func__", answer)
    return [answer] if hasattr(answer, "__code__") and hasattr(answer, "__globals__") else []


def _swap_references(answers, replacements):
    """Replace every reference to a key of ``replacements`` (an ``id``), or to a bound
    method of one (``np.logaddexp.reduce``), by its value: in the globals, closures,
    defaults and keyword defaults of the reader's functions that ``answers`` reach
    (:func:`_reach`), and in the attributes of their classes. Return a function that
    puts the originals back."""
    undo, seen_globals = [], set()

    def new_for(value):
        new = replacements.get(id(value))
        if new is None and not isinstance(value, types.ModuleType):
            try:
                new = replacements.get(id(getattr(value, "__self__", None)))
            except Exception:  # an object whose attributes raise holds nothing trapped
                new = None
        return new

    reached = {id(f.__func__ if hasattr(f, "__func__") else f): f
               for f in _reach(answers)[1] + list(answers)}
    for thing in reached.values():
        thing = getattr(thing, "__func__", thing)
        if isinstance(thing, type) and _is_readers(thing):
            for name, value in list(vars(thing).items()):
                new = new_for(value)
                if new is not None:
                    undo.append(_replace_attribute(thing, name, new))
        if not isinstance(thing, types.FunctionType) or not _is_readers(thing):
            continue
        namespace = thing.__globals__
        if id(namespace) not in seen_globals:
            seen_globals.add(id(namespace))
            for name, value in list(namespace.items()):
                new = new_for(value)
                if new is not None:
                    namespace[name] = new
                    undo.append(functools.partial(namespace.__setitem__, name, value))
        for cell in thing.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not filled yet
                continue
            new = new_for(value)
            if new is not None:
                cell.cell_contents = new
                undo.append(functools.partial(setattr, cell, "cell_contents", value))
        if thing.__defaults__ and any(new_for(v) is not None for v in thing.__defaults__):
            undo.append(functools.partial(setattr, thing, "__defaults__", thing.__defaults__))
            thing.__defaults__ = tuple(new_for(v) or v for v in thing.__defaults__)
        if thing.__kwdefaults__ and any(new_for(v) is not None
                                        for v in thing.__kwdefaults__.values()):
            undo.append(functools.partial(setattr, thing, "__kwdefaults__",
                                          thing.__kwdefaults__))
            thing.__kwdefaults__ = {k: new_for(v) or v for k, v in thing.__kwdefaults__.items()}

    def restore():
        for step in reversed(undo):
            step()
    return restore


def _other_homes(value, owner):
    """``(module, name)`` for each loaded module other than ``owner`` that holds ``value``
    itself (``np._core.umath.logaddexp`` is ``np.logaddexp``), looked up once per
    object and again when modules have been loaded since."""
    key = (id(value), len(sys.modules))
    homes = _HOMES.get(key)
    if homes is None:
        homes = [(module, name) for module in list(sys.modules.values())
                 if isinstance(module, types.ModuleType) and module is not owner
                 for name, held in list(getattr(module, "__dict__", {}).items())
                 if held is value]
        _HOMES[key] = homes
    return homes


_HOMES = {}


def _replace_attribute(owner, name, new):
    """Set ``owner.name = new``; return a function that undoes it exactly."""
    if isinstance(owner, type):
        if name not in vars(owner):
            setattr(owner, name, new)
            return functools.partial(delattr, owner, name)
        old = vars(owner)[name]  # as stored: a classmethod must not come back as a bound method
    else:
        old = getattr(owner, name)
    setattr(owner, name, new)
    return functools.partial(setattr, owner, name, old)


#: What a trap's code calls: a constant the trap replaces in the code's constants.
_TRAP_SLOT = "minigrad trap"
#: The file name of the traps' code (tracing tells it from the reader's by this).
TRAP_FILE = "<minigrad trap>"


@functools.lru_cache(maxsize=None)
def _trap_template(free):
    """The code of a function taking any arguments that calls its constant ``_TRAP_SLOT``,
    with ``free`` free variables: only such a code can stand in for a function's own."""
    names = [f"free{i}" for i in range(free)]
    source = "def outer():\n" + "".join(f"    {name} = None\n" for name in names)
    source += "    def trap(*args, **kwargs):\n"
    if names:  # never run (args is a tuple): it makes the names free variables
        source += f"        if args is None:\n            return ({', '.join(names)},)\n"
    source += f"        spring = {_TRAP_SLOT!r}\n        return spring(*args, **kwargs)\n"
    source += "    return trap\n"
    scope = {}
    exec(compile(source, TRAP_FILE, "exec"), scope)
    return scope["outer"]().__code__


def _trap_code(function, trap):
    """A code for ``function`` that calls ``trap`` whatever the arguments."""
    code = _trap_template(len(function.__code__.co_freevars))
    constants = tuple(trap if c == _TRAP_SLOT else c for c in code.co_consts)
    return code.replace(co_consts=constants, co_name=function.__code__.co_name,
                        co_qualname=function.__code__.co_qualname)


def _python_function(value):
    """The plain function behind ``value`` (a bound, static or class method too), or None
    for a class, a C function or anything else."""
    value = getattr(value, "__func__", value)
    return value if isinstance(value, types.FunctionType) else None


class _HelperTrap(_Trap):
    """The trap in a checker's own function: the package's code (the checker) still calls
    it, through ``original``, a copy of the function; the reader's code springs it."""

    def __init__(self, label, task, used, original):
        super().__init__(label, task, used)
        self._original = original

    def __call__(self, *args, **kwargs):
        caller = sys._getframe(2)  # 1 is the trap's code, standing in for the function's
        if caller.f_globals.get("__name__", "").startswith("minigrad."):
            return self._original(*args, **kwargs)
        self._spring()


def _copy_function(function):
    """A new function with ``function``'s code, globals, defaults and closure."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    return copy


def _underlying(answer):
    """What ``answer`` runs: through ``functools.partial``, bound methods and decorators
    (``__wrapped__``), whose callers the traps would take for the package's code."""
    for _ in range(100):
        inner = answer.func if isinstance(answer, functools.partial) else \
            getattr(answer, "__func__", None) or getattr(answer, "__wrapped__", None)
        if inner is None:
            return answer
        answer = inner
    return answer


def _checker_helpers(answers):
    """The functions of the checker that runs the reader's ``answers`` (the first module of
    this package's on the stack, and any chapter's checker further down, as chapter 8's
    runs chapter 7's shared loop): all of their modules' but their ``check_`` entry points
    and those running now. Its reference answers are not the reader's to call, even those the
    checker holds (``slope``, the exact derivative it compares with): the function an
    exercise is about (``q``, for its derivative) still runs for the package's code, which
    calls it (the recorder of its calls, the checker itself); the reader's code reaches it
    through the recorder."""
    frame, running = sys._getframe(2), set()
    checkers = []
    while frame is not None:
        running.add(frame.f_code)
        name = frame.f_globals.get("__name__", "")
        module = sys.modules.get(name) if name.startswith(__name__ + ".") else None
        if module is not None and module not in checkers and (
                not checkers or _is_chapter_checker(name)):
            checkers.append(module)
        frame = frame.f_back
    return [(value, f"the checker's own {name}") for checker in checkers
            for name, value in vars(checker).items()
            if isinstance(value, types.FunctionType) and value.__module__ == checker.__name__
            and value.__code__.co_filename == checker.__file__  # not a recorder put there
            and not name.startswith("check_") and value.__code__ not in running]


def _is_chapter_checker(module_name):
    """Whether ``module_name`` is a chapter's checker, ``minigrad.exercises.ch08``."""
    last = module_name.rpartition(".")[2]
    return module_name == f"{__name__}.{last}" and last[:2] == "ch" and last[2:].isdigit()


class _Traced(float):
    """A float that knows what it was computed from, through ``+ - * / **``,
    ``-x`` and ``abs``, out of the checker's :func:`traced` inputs: their names
    (:func:`sources`), the degree of the polynomial in them it is written as
    (:func:`degree`; inf once divided by an input or raised to a power that is
    not a whole number), and the polynomial itself (:func:`polynomial`), its
    coefficients per monomial, in which ``x - x`` is the number 0. A formula's
    inputs and degree can then be told from those a numerical derivative needs,
    and a number computed another way (``d + (x - x)``) from the formula. A
    product with the plain number 0 depends on nothing (``b = 0`` then
    ``b = w b + b1``, folding a chain one neuron at a time, is computed from b1
    alone). What it was computed from is kept by the checker, not on the
    number: only the checker makes one (:func:`traced`), and its operations."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("a traced number is made by the checker alone: compute with the "
                        "numbers it hands your answer")

    def __reduce__(self):  # what a copy or a pickle keeps: the float alone
        return float, (float(self),)


def _make_traces():
    """``(make, trace_of)``: making a :class:`_Traced` with its trace ``(sources, degree,
    polynomial)``, and reading the trace of one made so (None for any other number). The
    traces are kept here, by the identity of numbers alive, not on the numbers."""
    made = {}

    def make(value, trace):
        number = float.__new__(_Traced, value)
        key = id(number)
        made[key] = (weakref.ref(number, lambda _, key=key: made.pop(key, None)), trace)
        return number

    def trace_of(number):
        if not isinstance(number, _Traced):
            return None
        entry = made.get(id(number))
        return entry[1] if entry is not None and entry[0]() is number else None
    return make, trace_of


_make_traced, _trace_of = _make_traces()
del _make_traces


def degree(number):
    """The degree of the polynomial in the :func:`traced` inputs that ``number`` was
    written as (0 for a plain number)."""
    trace = _trace_of(number)
    return trace[1] if trace is not None else 0


def polynomial(number):
    """The polynomial in the :func:`traced` inputs that ``number`` was computed as: a dict
    from monomials (tuples of ``(name, power)``, sorted; ``()`` for the constant) to their
    coefficients, none of them 0; a plain number is a constant; None for a number whose
    trace was lost (divided by an input, raised to a power that is not a whole number,
    through ``float()``, ``math`` or NumPy)."""
    trace = _trace_of(number)
    if trace is not None:
        return trace[2]
    if isinstance(number, numbers.Real) and not isinstance(number, (bool, _Traced)) \
            and math.isfinite(number):
        return {(): float(number)} if number != 0 else {}
    return None


def _times(left, right):
    """The product of two polynomials (see :func:`polynomial`)."""
    product = {}
    for monomial_l, coefficient_l in left.items():
        for monomial_r, coefficient_r in right.items():
            powers = dict(monomial_l)
            for name, power in monomial_r:
                powers[name] = powers.get(name, 0) + power
            monomial = tuple(sorted(powers.items()))
            product[monomial] = product.get(monomial, 0.0) + coefficient_l * coefficient_r
    return {m: c for m, c in product.items() if c != 0}


def _plus(left, right, sign=1.0):
    total = dict(left)
    for monomial, coefficient in right.items():
        total[monomial] = total.get(monomial, 0.0) + sign * coefficient
    return {m: c for m, c in total.items() if c != 0}


def _result_polynomial(name, operands, value):
    """The polynomial of ``name`` applied to ``operands`` (None once lost)."""
    polys = [polynomial(x) for x in operands]
    if any(p is None for p in polys):
        return None
    if name in ("__add__", "__radd__"):
        return _plus(polys[0], polys[1])
    if name == "__sub__":
        return _plus(polys[0], polys[1], -1.0)
    if name == "__rsub__":
        return _plus(polys[1], polys[0], -1.0)
    if name in ("__mul__", "__rmul__"):
        return _times(polys[0], polys[1])
    if name == "__pos__":
        return polys[0]
    if name == "__neg__" or name == "__abs__" and value != float(operands[0]):
        return {m: -c for m, c in polys[0].items()}
    if name == "__abs__":
        return polys[0]
    base, exponent = (operands[1], operands[0]) if name.startswith("__r") else operands
    base_poly = polys[1] if name.startswith("__r") else polys[0]
    if _trace_of(exponent) is not None and degree(exponent) > 0:
        return None
    if name in ("__truediv__", "__rtruediv__"):
        return {m: c / float(exponent) for m, c in base_poly.items()} \
            if float(exponent) != 0 else None  # (numerator, divisor)
    if not (float(exponent).is_integer() and 0 <= exponent <= 64):
        return None if degree(base) > 0 else {(): value} if value != 0 else {}
    result = {(): 1.0}
    for _ in range(int(exponent)):
        result = _times(result, base_poly)
    return result


def _result_degree(name, operands):
    degrees = [degree(x) for x in operands]
    if name in ("__add__", "__radd__", "__sub__", "__rsub__"):
        return max(degrees)
    if name in ("__mul__", "__rmul__"):
        return sum(degrees)
    if name in ("__neg__", "__pos__", "__abs__"):
        return degrees[0]
    base, exponent = (operands[1], operands[0]) if name.startswith("__r") else operands
    if name in ("__truediv__", "__rtruediv__"):
        return degree(base) if degree(exponent) == 0 else math.inf  # (numerator, divisor)
    whole = not isinstance(exponent, _Traced) and float(exponent).is_integer() \
        and exponent >= 0
    return degree(base) * int(exponent) if whole else (0 if max(degrees) == 0 else math.inf)


def _traced_operator(name):
    operation = getattr(float, name)

    def traced_operation(*operands):
        result = operation(*(float(x) if isinstance(x, _Traced) else x for x in operands))
        if not isinstance(result, float):  # NotImplemented, or a complex power
            return result
        if name in ("__mul__", "__rmul__") and any(
                x == 0 and not isinstance(x, _Traced) for x in operands):
            return _make_traced(result, (frozenset(), 0, {}))  # depends on nothing
        return _make_traced(result, (frozenset().union(*(sources(x) for x in operands)),
                                     _result_degree(name, operands),
                                     _result_polynomial(name, operands, result)))
    traced_operation.__name__ = name
    return traced_operation


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__pos__",
              "__abs__"):
    setattr(_Traced, _name, _traced_operator(_name))


def traced(number, name):
    """``number`` as a float that records that what is computed from it comes from
    ``name`` (see :func:`sources`, :func:`degree` and :func:`polynomial`)."""
    return _make_traced(number, (frozenset({name}), 1, {((name, 1),): 1.0}))


def sources(number):
    """The names of the :func:`traced` inputs that ``number`` was computed from with
    arithmetic (empty for a number that lost the trace, through ``float()``, ``math`` or
    NumPy, or was never computed from one)."""
    trace = _trace_of(number)
    return trace[0] if trace is not None else frozenset()


def same_polynomial(got, expected, tol=1e-9):
    """Whether ``got`` was computed as the same polynomial in the :func:`traced` inputs as
    ``expected`` (the checker's formula run on them), coefficient by coefficient within
    ``tol`` of the largest: not the same number alone, at these inputs, but the same
    function of them (a number worked out another way, ``d + (x - x)``, is a constant)."""
    mine, right = polynomial(got), polynomial(expected)
    if mine is None or right is None:
        return False
    scale = max([1.0] + [abs(c) for c in right.values()])
    return all(abs(mine.get(m, 0.0) - right.get(m, 0.0)) <= tol * scale
               for m in set(mine) | set(right))


#: An answer whose number is right but is not the polynomial the rule gives in the inputs
#: (``{what}``: what it is; ``{inputs}``: the inputs' names).
NOT_BY_RULE = ("your {what} does not come from {inputs} by the rule: as a function of "
               "{inputs} it is another one, though right at these numbers (a number worked "
               "out another way, dressed up as computed from {inputs}?); {task}")


def lost_track(what, inputs, ops="+, -, * and /"):
    """The message for a traced answer that is no longer computed from all of ``inputs``."""
    return (f"the checker follows how your {what} is computed from {inputs}, and cannot "
            f"here (float(), math and NumPy lose track): write it with {ops} on {inputs}")


def rule_verdict(got, rule, needed, what, inputs, task, ops="+, -, * and /"):
    """Why ``got``, a traced answer already right in value, is not ``rule`` worked out by
    hand, or None: it must still be computed from every name in ``needed`` (else the trace
    was lost on the way), and be the same polynomial of them as ``rule``. What an answer
    may not be computed from (a numerical derivative reads the function's own input) each
    checker says first, in its own words."""
    if needed - sources(got):
        return lost_track(what, inputs, ops)
    if not same_polynomial(got, rule):
        return NOT_BY_RULE.format(what=what, inputs=inputs, task=task)
    return None


COMPLEX_STEP = "a complex step is a numerical derivative: the rule must be written out"
#: Differences in extended precision (``np.longdouble``, 18 or more digits) come within
#: float64's rounding of the slope, as no float64 difference does.
EXTENDED_PRECISION = ("differences in extended precision (np.longdouble) are a numerical "
                      "derivative, near enough to look exact: the rule must be written out")

#: In :func:`forbidding`'s entries (as :func:`package_rule_entries` puts it), an entry that
#: refuses an answer taking a complex step, ``f(x + ih).imag / h``: exact to the last bit
#: as no finite difference is, it is still a numerical derivative, not the rule.
_REFUSE_COMPLEX_STEP = (None, "complex step", COMPLEX_STEP)

#: Names that an answer takes a complex step with: the type, its module, its part.
_COMPLEX_NAMES = frozenset({"complex", "cmath", "imag", "conjugate", "conj", "complex64",
                            "complex128", "complex256", "csingle", "cdouble", "clongdouble",
                            "complexfloating"})
#: The same as a dtype's name: ``astype("complex128")``.
_COMPLEX_DTYPES = _COMPLEX_NAMES | {"c8", "c16", "c32", "F", "D", "G", "complex_"}
#: Names of NumPy's extended precision, as attributes and as dtypes.
_EXTENDED_NAMES = frozenset({"longdouble", "float128", "float96", "longfloat"})
_EXTENDED_DTYPES = _EXTENDED_NAMES | {"f16", "f12"}


#: Where installed code lives (the standard library, site-packages): not the reader's.
_INSTALLED = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})


def _is_readers(thing):
    """Whether ``thing`` (a function or a class) is the reader's own: not the package's,
    not the standard library's or an installed library's, not a builtin."""
    module = getattr(thing, "__module__", None) or ""
    if module.partition(".")[0] == "minigrad":
        return False
    if isinstance(thing, types.FunctionType):  # the package's code, however named, is not
        return not thing.__code__.co_filename.startswith(_INSTALLED + (_PACKAGE_DIR,))
    if module == "builtins":  # a class made by exec has no module of its own
        return getattr(builtins, thing.__name__, None) is not thing
    if module == "__main__":
        return True
    path = getattr(sys.modules.get(module), "__file__", None) or ""
    return not path.startswith(_INSTALLED)


def _held(container):
    """The objects a list, tuple, set or dict holds (its keys and values), else none."""
    if isinstance(container, dict):
        return list(container.keys()) + list(container.values())
    if isinstance(container, (list, tuple, set, frozenset)):
        return list(container)
    return []


def _reach(answers):
    """What the reader's ``answers`` can run and name: ``(codes, values)``.

    ``codes`` are ``(code, globals)`` pairs: the answers' functions and their
    classes' methods, the functions and classes they define inside, and,
    recursively, the reader's own functions and classes they name or hold.
    ``values`` are the objects that code names (resolved in its globals), and
    that the functions hold in closures, defaults and keyword defaults, and the
    classes in their attributes, with what lists, tuples, sets and dicts among
    them hold, one level down; for a function made by exec in a namespace that is
    no module's nor the answers' (sympy's ``lambdify`` makes them), everything
    that namespace holds. The package's and installed code is not entered.
    """
    codes, values, seen = [], [], set()
    pending = list(answers)
    own = {id(function.__globals__) for answer in answers for function in _functions_of(answer)}

    def hold(value):
        values.append(value)
        pending.append(value)
        for inner in _held(value)[:1000]:
            values.append(inner)
            pending.append(inner)

    while pending:
        thing = pending.pop()
        if isinstance(thing, types.MethodType):  # a bound method: its class's attributes too
            owner = thing.__self__
            pending.append(owner if isinstance(owner, type) else type(owner))
        thing = getattr(thing, "__func__", thing)  # static, class and bound methods
        if id(thing) in seen or not isinstance(thing, (type, types.FunctionType)) \
                or not _is_readers(thing):
            continue
        seen.add(id(thing))
        if isinstance(thing, type):
            for klass in thing.__mro__:
                if _is_readers(klass):
                    for member in list(vars(klass).values()):
                        hold(member)
            continue
        for cell in thing.__closure__ or ():
            try:
                hold(cell.cell_contents)
            except ValueError:  # a cell not filled yet
                pass
        for value in list(thing.__defaults__ or ()) + list((thing.__kwdefaults__ or {}).values()):
            hold(value)
        namespace, inner = thing.__globals__, [thing.__code__]
        if "__name__" not in namespace and id(namespace) not in own:
            # made by exec in a namespace of its own, as sympy's lambdify makes them
            values += list(namespace.values())[:5000]
        while inner:
            code = inner.pop()
            codes.append((code, namespace))
            inner += [c for c in code.co_consts if isinstance(c, types.CodeType)]
            for name in code.co_names:
                if name in namespace:
                    hold(namespace[name])
    return codes, values


def _takes_complex_step(answers):
    """Why the code of ``answers`` (their functions and methods, what those define inside,
    and the functions of the reader's they call) takes an exact-looking numerical step, or
    None: it holds a complex number or names ``complex``, ``cmath`` or ``imag``
    (:data:`COMPLEX_STEP`), or names extended precision (:data:`EXTENDED_PRECISION`)."""
    codes, values = _reach(answers)
    for code, _ in codes:
        for constant in code.co_consts:
            if isinstance(constant, complex) or isinstance(constant, str) \
                    and constant in _COMPLEX_DTYPES:
                return COMPLEX_STEP
            if isinstance(constant, str) and constant in _EXTENDED_DTYPES:
                return EXTENDED_PRECISION
        if _COMPLEX_NAMES.intersection(code.co_names):
            return COMPLEX_STEP
        if _EXTENDED_NAMES.intersection(code.co_names):
            return EXTENDED_PRECISION
    if any(isinstance(value, complex) or value is cmath for value in values):
        return COMPLEX_STEP
    if any(value is np.longdouble for value in values):
        return EXTENDED_PRECISION
    return None


#: The libraries that do what the exercises ask the reader to write (derivatives,
#: sorts, optimizers, log-sum-exps, networks, exact arithmetic): an answer that uses one
#: fails, however it reached it (:func:`library_used`). NumPy is not among them: a
#: checker traps the NumPy functions its exercise is about.
LIBRARIES = frozenset({"torch", "sympy", "graphlib", "scipy", "jax", "jaxlib", "autograd",
                       "mpmath", "numdifftools", "decimal", "_decimal", "_pydecimal",
                       "fractions", "tensorflow", "keras", "functorch", "micrograd",
                       "networkx"})


def _libraries_of(value):
    """The top-level modules ``value`` belongs to: a module's own, a function's or class's
    ``__module__``, a bound method's owner's, an instance's class's."""
    names = set()
    try:
        if isinstance(value, types.ModuleType):
            return {value.__name__.partition(".")[0]}
        for candidate in (value, getattr(value, "__self__", None),
                          getattr(value, "__objclass__", None)):
            if candidate is None or isinstance(candidate, types.ModuleType):
                if candidate is not None:
                    names.add(candidate.__name__.partition(".")[0])
                continue
            module = getattr(candidate, "__module__", None)
            if isinstance(module, str):
                names.add(module.partition(".")[0])
            if not isinstance(candidate, type):
                names.add(str(getattr(type(candidate), "__module__", "")).partition(".")[0])
    except Exception:  # an object whose attributes raise is nothing of a library's
        pass
    return names


def library_used(answers, libraries=LIBRARIES):
    """The first of ``libraries`` that the reader's ``answers`` use (see :func:`_reach`):
    one their code imports, or names as a string (``sys.modules["sympy"]``), or an object
    of one (a module, function, class, method or instance) that their code names in its
    globals or holds in closures, defaults or class attributes; None if they use none."""
    codes, values = _reach(answers)
    for code, _ in codes:
        imported = [name for name in code.co_names if name.partition(".")[0] in libraries]
        if imported:  # a name of a library's is an import only if an import uses it
            for instruction in dis.get_instructions(code):
                if instruction.opname == "IMPORT_NAME" \
                        and instruction.argval.partition(".")[0] in libraries:
                    return instruction.argval.partition(".")[0]
        for constant in code.co_consts:  # a module's name, not prose that starts with one
            if isinstance(constant, str) and constant.partition(".")[0] in libraries \
                    and all(part.isidentifier() for part in constant.split(".")):
                return constant.partition(".")[0]
    for value in values:
        used = _libraries_of(value) & libraries
        if used:
            return min(used)
    imported = _cell_imports(code for code, _ in codes) & libraries
    return min(imported) if imported else None


def _called_beside(answers, entries):
    """The label of the first of ``entries`` that belongs to NumPy and that the notebook
    cell defining ``answers`` names, or None: ``np.polyder`` run beside the answer, its
    numbers then typed into the answer as plain floats, did the answer's work."""
    trapped = {id(getattr(owner, name, None)): label for owner, name, label in entries
               if owner is not None and _module_name(owner).startswith("numpy")}
    if not trapped:
        return None
    codes, _ = _reach(answers)
    namespaces = [function.__globals__ for answer in answers
                  for function in _functions_of(answer)]
    for node in _cell_nodes(code for code, _ in codes):
        for namespace in namespaces:
            found = _resolved(node, namespace)
            if found is not None and id(found) in trapped:
                return trapped[id(found)]
    return None


def _resolved(node, namespace):
    """The object a name or a dotted name (``np.random.random``) of the cell stands for in
    ``namespace``, or None (another object's attribute, ``rng.random``, is not resolved)."""
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolved(node.value, namespace)
        if isinstance(owner, (types.ModuleType, type)):
            return getattr(owner, node.attr, None)
    return None


def _module_name(owner):
    """The module an entry's owner (a module, or a class) belongs to."""
    return owner.__name__ if isinstance(owner, types.ModuleType) else \
        getattr(owner, "__module__", "") or ""


def _cell_nodes(codes):
    """The syntax nodes of the notebook cells that hold the reader's ``codes``, up to the
    line that called the checker (what comes after it, drawing samples with NumPy say, is
    not the answer's work), a cell's name being known to linecache alone (a module's file,
    with the rest of a program, is not one answer's work)."""
    nodes = []
    for filename in {code.co_filename for code in codes
                     if _readers_code(code) and not os.path.isfile(code.co_filename)}:
        try:
            cell = _cell_syntax("".join(linecache.getlines(filename)))
        except (SyntaxError, ValueError):
            continue
        frame, called_at = sys._getframe(1), None
        while frame is not None and called_at is None:
            if frame.f_code.co_filename == filename:
                called_at = frame.f_lineno
            frame = frame.f_back
        nodes += [node for node in cell
                  if called_at is None or getattr(node, "lineno", 0) <= called_at]
    return nodes


@functools.lru_cache(maxsize=64)
def _cell_syntax(source):
    """Every syntax node of a cell's ``source``, parsed once (a checker looks at the cell
    on every call of its answer)."""
    return tuple(ast.walk(ast.parse(source)))


def _cell_imports(codes):
    """The top-level modules that the notebook cells holding the reader's ``codes``
    import (up to the checker's call): a number worked out by a library in the answer's
    cell, outside the answer (``a, b, c = sympy...``), and typed into it as a plain float,
    is the library's."""
    names = set()
    for node in _cell_nodes(codes):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.partition(".")[0])
    return names


#: What the package's own code is in: no answer of the reader's holds a copy of it.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

#: Names by which code reads the frames of the code that called it (the checker's, and
#: the reference answers in them) or finds objects behind the names it is given.
_AROUND_NAMES = {"_getframe": "the checker's frames", "currentframe": "the checker's frames",
                 "getouterframes": "the checker's frames", "f_back": "the checker's frames",
                 "f_locals": "the checker's frames", "f_globals": "the checker's frames",
                 "tb_frame": "the checker's frames", "gi_frame": "the checker's frames",
                 "cr_frame": "the checker's frames", "get_referrers": "the garbage collector",
                 "get_referents": "the garbage collector", "get_objects": "the garbage collector",
                 # a copy of the package's code made from its source, or the course's
                 # solutions (text files) run as code
                 "getsource": "the package's source, to run a copy of it",
                 "getsourcelines": "the package's source, to run a copy of it",
                 "run_path": "a file run as code (the course's solutions?)",
                 "run_module": "a module run as code"}


def _is_package_copy(value):
    """Whether ``value`` is a copy of the package's code: a code object of its, or a
    function that runs one and is not the function the package holds by that name."""
    if isinstance(value, types.CodeType):
        return value.co_filename.startswith(_PACKAGE_DIR)
    if not isinstance(value, types.FunctionType) \
            or not value.__code__.co_filename.startswith(_PACKAGE_DIR):
        return False
    qualname = value.__code__.co_qualname
    if "<locals>" in qualname or value.__code__.co_filename == TRAP_FILE:
        return False  # made by a function of the package's as it runs: a trap, a recorder
    found = next((module for module in list(sys.modules.values())
                  if getattr(module, "__file__", None) == value.__code__.co_filename), None)
    for part in qualname.split("."):
        found = vars(found).get(part) if hasattr(found, "__dict__") else None
    return all(candidate is not value for candidate in (
        found, getattr(found, "__func__", None), getattr(found, "fget", None),
        getattr(found, "__wrapped__", None)))


def _fingerprint(code):
    """What a code object does, whatever file it was compiled from and whatever its
    docstring and the names of its variables: its bytecode, the names it uses and its
    constants, those of the code it defines inside included."""
    constants = code.co_consts
    if constants and (constants[0] is None or isinstance(constants[0], str)) \
            and code.co_flags & inspect.CO_NEWLOCALS:
        constants = constants[1:]  # where a function keeps its docstring
    return code.co_code, code.co_names, tuple(
        _fingerprint(c) if isinstance(c, types.CodeType) else (type(c), repr(c))
        for c in constants)


#: Below this many bytes of bytecode, code is too small to be worth copying.
_COPY_BYTES = 40


@functools.lru_cache(maxsize=1)
def _package_fingerprints():
    """The fingerprints (:func:`_fingerprint`) of the package's functions with their names:
    compiled afresh from its files (the checkers' and the course's solutions excepted, whose
    answers a reader may well write the same way), which traps do not change. Only the
    package's documented functions: a function of the reader's, however like a small helper
    of the package's (the stable sigmoid), is not one by chance."""
    found, pending = {}, []
    for folder, folders, files in os.walk(_PACKAGE_DIR):
        folders[:] = sorted(f for f in folders if f not in ("exercises", "__pycache__"))
        for file in sorted(files):  # (the checkers are not the engine: their forms are free)
            if file.endswith(".py"):
                path = os.path.join(folder, file)
                module = "minigrad." + os.path.relpath(path, _PACKAGE_DIR)[:-3].replace(
                    os.sep, ".").removesuffix(".__init__")
                with open(path, encoding="utf-8") as source:
                    pending.append((module, compile(source.read(), path, "exec")))
    while pending:
        module, code = pending.pop()
        pending += [(module, c) for c in code.co_consts if isinstance(c, types.CodeType)]
        documented = code.co_consts and isinstance(code.co_consts[0], str) \
            and code.co_flags & inspect.CO_NEWLOCALS and not code.co_name.startswith("<")
        if documented and len(code.co_code) >= _COPY_BYTES:
            found[_fingerprint(code)] = (code.co_name, module)
    return found


def package_copy(code, module=False, _seen={}):
    """The name of the package's function that ``code`` is a copy of (recompiled from its
    source under any file name, or its ``__code__`` taken), or None; with ``module``, the
    name of the package's module it is in."""
    if code.co_filename.startswith(_PACKAGE_DIR) or len(code.co_code) < _COPY_BYTES:
        return None
    if code not in _seen:
        if len(_seen) > 10000:
            _seen.clear()
        _seen[code] = _package_fingerprints().get(_fingerprint(code), (None, None))
    return _seen[code][1 if module else 0]


def _going_around(answers, reach=None):
    """How the reader's ``answers`` go around the traps (a phrase), or None: reading the
    checker's frames or the garbage collector's lists, looking modules up in
    ``sys.modules``, or holding a copy of the package's code (a function made from a
    package function's ``__code__``, which the traps do not reach)."""
    codes, values = _reach(answers) if reach is None else reach
    names_sys = any(value is sys for value in values)
    for code, _ in codes:
        for name in code.co_names:
            if name in _AROUND_NAMES:
                return f"reads {_AROUND_NAMES[name]}"
            if name == "modules" and names_sys:
                return "looks modules up in sys.modules"
    for code, _ in codes:
        if code.co_filename == "<string>":
            return ("runs code compiled from a string (exec), which the checker cannot tell "
                    "from a copy of the package's source")
    for node in _cell_nodes(code for code, _ in codes):  # beside the answer, in its cell
        name = node.attr if isinstance(node, ast.Attribute) else None
        if name in ("getsource", "getsourcelines", "run_path", "run_module"):
            return f"(or its cell) reads {_AROUND_NAMES[name]}"
    for value in values:
        if _is_package_copy(value):
            code = getattr(value, "__code__", value)
            return f"holds a copy of minigrad's {code.co_name}"
    for code, _ in codes:
        copied = package_copy(code)
        if copied is not None:
            return f"holds a copy of minigrad's {copied}"
    return None


def _is_complex(value):
    """Whether ``value`` is a complex number, Python's or NumPy's, or a float wider than
    float64, or an array of them, or a list, tuple, set or dict (its values) holding one."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set)):
        return any(_is_complex_one(v) for v in list(value)[:1000])
    return _is_complex_one(value)


def _holds_complex(value):
    """Whether ``value`` (as :func:`_is_complex` looks at it) is complex, not wider."""
    if isinstance(value, dict):
        value = list(value.values())
    values = list(value)[:1000] if isinstance(value, (list, tuple, set)) else [value]
    return any(isinstance(v, (complex, np.complexfloating))
               or isinstance(v, np.ndarray) and v.dtype.kind == "c" for v in values)


def _is_complex_one(value):
    if isinstance(value, (complex, np.complexfloating, np.longdouble)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "c" or value.dtype.kind == "f" and value.dtype.itemsize > 8
    return False


def _readers_code(code):
    """Whether ``code`` is the reader's: not the package's, not installed, not a trap's."""
    return not code.co_filename.startswith(_INSTALLED + (_PACKAGE_DIR, TRAP_FILE)) \
        and not code.co_filename.startswith("<frozen")


def _watching(refuse_complex, task, used):
    """A tracer for :func:`forbidding`: as each function of the reader's returns, a complex
    number among its variables or its result (a complex step hidden from the code's
    names: ``float("-1") ** 0.5``) is recorded in ``used`` if ``refuse_complex``; as one is
    called, code that is a copy of the package's (:func:`package_copy`) is. None if some
    tracing is on already (a checker's, a debugger's): the names in the code are still
    looked at."""
    if sys.gettrace() is not None and not getattr(sys.gettrace(), "finished", False):
        return None  # (a watch of an earlier check, put back late, is not tracing)

    def on_return(frame, event, arg):
        if event == "return" and refuse_complex and not used and (
                _is_complex(arg) or any(map(_is_complex, list(frame.f_locals.values())))):
            values = [arg] + list(frame.f_locals.values())
            used.append(COMPLEX_STEP if any(map(_holds_complex, values))
                        else EXTENDED_PRECISION)
        return on_return

    def on_call(frame, event, arg):
        if on_call.finished:  # put back after its check (a traced block restoring it late)
            sys.settrace(None)
            return None
        code = frame.f_code
        if event != "call" or not _readers_code(code):
            return None
        copied = package_copy(code)
        if copied is not None and not used:
            used.append(f"your answer runs a copy of minigrad's {copied}: {task}")
        if not refuse_complex:
            return None
        frame.f_trace_lines = False
        return on_return
    on_call.finished = False
    return on_call


def _guarded_getframe(task, used):
    """A stand-in for ``sys._getframe`` that springs when the reader's code calls it."""
    original = sys._getframe

    def getframe(depth=0):
        caller = original(1)
        module = str(caller.f_globals.get("__name__", "")).partition(".")[0]
        if module != "minigrad" and not caller.f_code.co_filename.startswith(_INSTALLED):
            used.append(f"your answer reads the checker's frames: {task}")
            raise ForbiddenCall(used[-1])
        return original(depth + 1)
    return getframe


def _importing(libraries, task, used):
    """A stand-in for ``__import__`` and ``importlib.import_module`` that springs when the
    reader's code (not a library's or the package's own) imports one of ``libraries``."""
    def wrap(original):
        def importing(name, *args, **kwargs):
            top = str(name).partition(".")[0]
            if top in libraries:
                caller = sys._getframe(1)
                module = str(caller.f_globals.get("__name__", "")).partition(".")[0]
                if module not in libraries and module != "minigrad" \
                        and not caller.f_code.co_filename.startswith(_INSTALLED):
                    used.append(f"your answer uses {top}: {task}")
                    raise ForbiddenCall(used[-1])
            return original(name, *args, **kwargs)
        return importing
    return wrap


@contextlib.contextmanager
def forbidding(entries, answers, task, libraries=LIBRARIES):
    """While the block runs, calling any of ``entries`` raises :class:`ForbiddenCall`.

    ``entries`` are ``(owner, attribute, label)`` triples: a module's function
    or class, or a class's method (``(Value, "backward", "minigrad's
    backward()")``). Each is replaced on its owner, and wherever the reader's
    ``answers`` (functions or classes) hold it in their globals or closures,
    as ``from minigrad.autograd import topological_order`` puts it. A Python
    function's code itself is swapped for the trap's, so that no reference to
    it (a default argument, a class attribute, an inherited method, a copy
    put back on its module) reaches the original. The functions of the
    checker's own module (its reference answers) are traps too, for the
    reader's code only. The message says what was called and ``task``, what
    the exercise asks for. The trap raises on exit too, should the reader's
    code have caught it. With :func:`package_rule_entries`, an answer taking a
    complex step is refused before it runs.

    An answer that uses one of ``libraries`` (:data:`LIBRARIES` unless a
    checker says otherwise: torch, sympy, graphlib, scipy, decimal, ...),
    which do what the exercises ask the reader to write, fails, the message
    naming the library (:func:`library_used`: what its code, and the reader's
    code it reaches, imports or holds): before it runs, or, where ``entries``
    trap some of that library's functions, after it has run, so that a trap
    it springs names the function. While it runs, importing one from the
    reader's code (``__import__``, ``importlib.import_module``) springs a trap
    too. An answer that reads the checker's frames (``sys._getframe``, also
    trapped while it runs, ``f_locals``, ...), looks modules up in
    ``sys.modules`` or holds a copy of the package's code fails before it runs.
    """
    entries = list(entries)
    around = _going_around(answers)
    copied = next((_underlying(answer) for answer in answers
                   if _is_package_copy(_underlying(answer))), None)
    if around is None and copied is not None:  # the answer itself, made of the package's code
        around = f"is a copy of minigrad's {copied.__code__.co_name}"
    if around is not None:
        raise ForbiddenCall(f"your answer {around}: {task}")
    library = library_used(answers, libraries) if libraries else None
    # where the checker traps some of that library's functions, the answer runs, so that
    # a trap names the function it called; it fails on exit all the same
    deferred = None if library is None else f"your answer uses {library}: {task}"
    if library is not None and not any(library in _libraries_of(entry[0])
                                       for entry in entries if entry[0] is not None):
        raise ForbiddenCall(deferred)
    refuse_complex = _REFUSE_COMPLEX_STEP in entries
    exact_looking = _takes_complex_step(answers) if refuse_complex else None
    if exact_looking is not None:
        raise ForbiddenCall(exact_looking)
    beside = _called_beside(answers, entries)
    if beside is not None:
        raise ForbiddenCall(f"your answer (or its cell) calls {beside}: {task}")
    used = []
    undo, originals = [], {}
    watch = _watching(refuse_complex, task, used)
    try:
        undo.append(_replace_attribute(sys, "_getframe", _guarded_getframe(task, used)))
        if libraries:
            hook = _importing(frozenset(libraries), task, used)
            for owner, name in ((builtins, "__import__"), (importlib, "import_module"),
                                (importlib, "__import__")):
                original = getattr(owner, name)
                originals[id(original)] = hook(original)  # saved references swapped too
                undo.append(_replace_attribute(owner, name, originals[id(original)]))
        for owner, name, label in entries:
            if owner is None or not hasattr(owner, name):
                continue  # an optional library that is not imported

            trap = _Trap(label, task, used)
            original = getattr(owner, name)
            if any(answer is original for answer in answers):
                raise ForbiddenCall(f"your answer is {label} itself: {task}")
            function = _python_function(original)
            if function is not None and id(function) not in originals:
                undo.append(functools.partial(setattr, function, "__code__", function.__code__))
                function.__code__ = _trap_code(function, trap)
                originals[id(function)] = trap
            originals[id(original)] = trap
            undo.append(_replace_attribute(owner, name, trap))
            if function is None:  # NumPy's ufuncs live in several modules under one identity
                undo += [_replace_attribute(module, alias, trap)
                         for module, alias in _other_homes(original, owner)]
        undo.append(_swap_references(answers, originals))
        helpers = _checker_helpers(answers)
        for function, label in helpers:
            if any(_underlying(answer) is function for answer in answers):
                raise ForbiddenCall(f"your answer is {label} itself: {task}")
        for function, label in helpers:
            if id(function) not in originals:
                trap = _HelperTrap(label, task, used, _copy_function(function))
                undo.append(functools.partial(setattr, function, "__code__", function.__code__))
                function.__code__ = _trap_code(function, trap)
    except BaseException:
        for step in reversed(undo):
            step()
        raise
    if watch is not None:
        sys.settrace(watch)
    try:
        yield
    except BaseException:
        if used or deferred:
            raise ForbiddenCall(used[0] if used else deferred) from None
        raise
    finally:
        if watch is not None:
            # None: an error in the watch (a recursion as deep as the limit) takes it off
            if sys.gettrace() not in (watch, None):
                used.insert(0, f"your answer replaced the checker's tracing: {task}")
            sys.settrace(None)
            watch.finished = True
        for step in reversed(undo):
            step()
    if used or deferred:
        raise ForbiddenCall(used[0] if used else deferred)


def reports_forbidden(what):
    """Decorate a checker so that a :class:`ForbiddenCall` becomes its FAIL, named ``what``."""
    def decorate(checker):
        @functools.wraps(checker)
        def run(*args, **kwargs):
            try:
                return checker(*args, **kwargs)
            except ForbiddenCall as forbidden:
                return report(False, what, str(forbidden))
        return run
    return decorate


@contextlib.contextmanager
def copies_evaluated(answer, function):
    """Record, while the block runs, the arguments (as floats) of each call of a function
    of the reader's, other than ``answer`` itself, that returns what ``function`` does for
    them: a private copy of the function an exercise differentiates. Evaluated away from
    the point asked about, its differences are a numerical derivative, exact at any step
    where the function is a straight line (``r(a, 1) - r(a, 0)``). Yields the list."""
    found, pending = [], {}
    arity = function.__code__.co_argcount
    own = {f.__code__ for f in _functions_of(answer)}

    def profiler(frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_argcount == arity and code not in own \
                and _readers_code(code):
            pending[id(frame)] = [frame.f_locals.get(name)
                                  for name in code.co_varnames[:arity]]
        elif event == "return" and id(frame) in pending:
            args = pending.pop(id(frame))
            try:
                plain = tuple(float(x) for x in args)
                if math.isclose(float(arg), function(*plain), rel_tol=1e-12, abs_tol=1e-12):
                    found.append(plain)
            except Exception:  # noqa: BLE001 - not numbers, or not a copy: nothing to say
                pass
    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield found
    finally:
        sys.setprofile(previous)


@contextlib.contextmanager
def recording_calls(answer, names, modules=()):
    """Record the arguments of every call the reader's ``answer`` makes to the functions
    called ``names`` (found in its globals and closures, and on ``modules``); yields the list."""
    calls = []

    def recorder(function):
        @functools.wraps(function)
        def recorded(*args, **kwargs):
            calls.append(args)
            return function(*args, **kwargs)
        return recorded

    replacements, undo = {}, []
    for function in _functions_of(answer):
        for name in names:
            value = function.__globals__.get(name)
            if callable(value):
                replacements[id(value)] = recorder(value)
        for cell in function.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if callable(value) and getattr(value, "__name__", None) in names:
                replacements[id(value)] = recorder(value)
    for module in modules:
        for name in names:
            value = getattr(module, name, None)
            if callable(value):
                new = replacements.setdefault(id(value), recorder(value))
                undo.append(_replace_attribute(module, name, new))
    undo.append(_swap_references([answer], replacements))
    try:
        yield calls
    finally:
        for step in reversed(undo):
            step()


def fresh_rng():
    """A generator seeded afresh on every run: the inputs an answer has not seen.

    What a checker prints about them names no drawn number, so that a right
    answer's PASS reads the same on every run.
    """
    return np.random.default_rng()


def autograd_entries():
    """:func:`forbidding`'s entries for an exercise done without autograd: the package's ways
    to get a gradient without writing the rule (backward, the shared backpropagation, the
    gradient checks' measurements), and PyTorch's if the reader imported it."""
    from minigrad import autograd, gradcheck, tensor, value
    entries = [(value.Value, "backward", "minigrad's Value.backward()"),
               (tensor.Tensor, "backward", "minigrad's Tensor.backward()"),
               (autograd, "backpropagate", "minigrad's backpropagate"),
               (autograd, "backpropagate_floats", "minigrad's backpropagate_floats"),
               (autograd, "backpropagate_arrays", "minigrad's backpropagate_arrays"),
               (gradcheck, "analytic_gradients", "minigrad's analytic_gradients"),
               (gradcheck, "numerical_gradients", "minigrad's numerical_gradients"),
               (gradcheck, "gradcheck", "minigrad's gradcheck")]
    torch = sys.modules.get("torch")
    if torch is not None:  # only if the reader imported it: the checker never does
        entries += [(torch.Tensor, "backward", "PyTorch's backward()"),
                    (torch.autograd, "grad", "PyTorch's autograd.grad"),
                    (torch.autograd, "backward", "PyTorch's autograd.backward")]
    return entries


#: The package's modules whose operation classes hold derivative rules (``_backward``).
def package_rule_entries():
    """:func:`forbidding`'s entries for an exercise that asks for a rule or a walk: the
    package's walk (``topological_order``) and the rule (``_backward``) of every operation
    class of the package, found by looking at its modules, so that a new one is trapped too.
    A class of the reader's that builds on the package's ``Tensor`` still runs: only the
    package's rules are traps, and what the reader's class inherits from one springs it.
    An answer taking a complex step is refused (:data:`COMPLEX_STEP`)."""
    from minigrad import (autograd, tensor, tensor_attention, tensor_conv, tensor_embedding,
                          tensor_norm, value)
    entries = [(autograd, "topological_order", "minigrad's topological_order")]
    for module in (value, tensor, tensor_conv, tensor_norm, tensor_attention, tensor_embedding):
        for klass in vars(module).values():
            if isinstance(klass, type) and klass.__module__ == module.__name__ \
                    and "_backward" in vars(klass):
                entries.append((klass, "_backward", f"minigrad's {klass.__name__}._backward"))
        for name, function in vars(module).items():  # the rules' helpers: _power_slope, ...
            if isinstance(function, types.FunctionType) \
                    and function.__module__ == module.__name__ \
                    and (name.endswith("_slope") or name.endswith("_backward")):
                entries.append((module, name, f"minigrad's {name}"))
    return entries + [_REFUSE_COMPLEX_STEP]


def method_entries(answer, method):
    """:func:`forbidding`'s entries for ``method`` of every class of the reader's own that
    ``answer`` can see (its globals): an exercise done by hand may not run their ``backward``."""
    entries = []
    for function in _functions_of(answer):
        for value in list(function.__globals__.values()):
            if isinstance(value, type) and not value.__module__.startswith("minigrad") \
                    and callable(getattr(value, method, None)):
                entries.append((value, method, f"{value.__name__}.{method}()"))
    return entries


def model_entries(answer):
    """:func:`forbidding`'s entries for an answer asked for by formula, without building a
    model: making any of the package's modules (the ``__init__`` of each ``Module`` class
    of its network modules), their ``parameters`` and ``state_dict``; making, or listing
    the parameters of, any class of the reader's with a ``parameters`` method that the
    answer can reach (its globals, the modules it names, such as their ``yourgrad``
    engine, and that engine itself once loaded); and PyTorch's ``nn.Module``."""
    from minigrad import (module, tensor_attention, tensor_conv, tensor_embedding, tensor_nn,
                          tensor_norm, value_nn)
    entries = [(module.Module, "parameters", "minigrad's parameters()"),
               (module.Module, "state_dict", "minigrad's state_dict()")]
    for owner in (module, value_nn, tensor_nn, tensor_conv, tensor_norm, tensor_attention,
                  tensor_embedding):
        for klass in vars(owner).values():
            if isinstance(klass, type) and issubclass(klass, module.Module) \
                    and klass.__module__ == owner.__name__ and "__init__" in vars(klass):
                entries.append((klass, "__init__", f"minigrad's {klass.__name__}"))
    reachable = _reach([answer])[1] + [sys.modules.get(f"yourgrad.{engine}")
                                       for engine in ("value", "tensor")]
    classes = {}
    for value in reachable:
        inside = vars(value).values() if isinstance(value, types.ModuleType) \
            and value.__name__.partition(".")[0] != "minigrad" else [value]
        for klass in inside:
            if isinstance(klass, type) and _is_readers(klass) \
                    and callable(getattr(klass, "parameters", None)):
                classes[id(klass)] = klass
    for klass in classes.values():
        entries += [(klass, "__init__", f"your {klass.__name__}"),
                    (klass, "parameters", f"{klass.__name__}.parameters()")]
    torch = sys.modules.get("torch")
    if torch is not None:
        entries.append((torch.nn.Module, "__init__", "PyTorch's nn.Module"))
    return entries + method_entries(answer, "parameters")


def speed_entries(names):
    """:func:`forbidding`'s entries for minigrad.speed's functions ``names``: each on the
    package and on the module of the package that defines it (``speed.counts.multiply_adds``
    is ``speed.multiply_adds`` reached another way)."""
    from minigrad import speed
    entries = []
    for name in names:
        module = sys.modules[getattr(speed, name).__module__]
        entries += [(owner, name, f"minigrad's speed.{name}") for owner in (speed, module)]
    return entries


def backward_entries(answer):
    """:func:`method_entries` for ``backward``."""
    return method_entries(answer, "backward")


def numerical_entries():
    """:func:`forbidding`'s entries for the package's finite differences."""
    from minigrad import gradcheck
    return [(gradcheck, "numerical_gradients", "minigrad's numerical_gradients"),
            (gradcheck, "gradcheck", "minigrad's gradcheck")]


def report(ok, what, detail=""):
    """Print ``PASS: what`` or ``FAIL: what`` (with ``detail`` on the next line) and return ``ok``."""
    ok = bool(ok)
    lines = [f"{'PASS' if ok else 'FAIL'}: {what}"]
    if detail:  # wrapped to fit a notebook's (and the book's) column
        lines.append(textwrap.fill(detail, width=76, initial_indent="  ", subsequent_indent="  ",
                                   break_long_words=False, break_on_hyphens=False))
    sys.stdout.write("\n".join(lines) + "\n")  # one write: one block of output
    return ok


def is_unset(value):
    """Whether ``value`` itself is an unfilled ``...`` or ``None`` (what it holds is not looked at:
    a rule's tuple of gradients may hold ``None`` on purpose, for an input that needs none)."""
    return value is None or value is Ellipsis


def is_placeholder(answer):
    """Whether ``answer`` is, or contains, an unfilled ``...`` or ``None``."""
    if is_unset(answer):
        return True
    if isinstance(answer, (list, tuple)):
        return any(is_placeholder(a) for a in answer)
    if isinstance(answer, dict):
        return any(is_placeholder(a) for a in answer.values())
    return False


def not_filled_in(what, where=None):
    """The FAIL of a starter cell whose placeholders are still there (``where``: which part)."""
    detail = NOT_FILLED_IN if where is None else f"{where} is not filled in yet (it gives None or ...)"
    return report(False, what, detail)


def unusable_function(what, answer, name, unfilled=NOT_FILLED_IN):
    """The FAIL verdict (False) for an answer that is still the placeholder, or is
    not a function (``name``: what the exercise calls it); None for a function,
    which the checker then tries."""
    if is_placeholder(answer):
        return report(False, what, unfilled)
    if not callable(answer):
        return report(False, what, f"{name} should be a function, got {type(answer).__name__}")
    return None


def unusable_class(what, answer, name):
    """The FAIL verdict (False) for an answer that is still the placeholder, or is
    not a class (``name``: what the exercise calls it); None for a class, which
    the checker then builds."""
    if is_unset(answer):
        return not_filled_in(what, name)
    if not isinstance(answer, type):
        return report(False, what, f"{name} should be a class, got {type(answer).__name__}")
    return None


def describe_error(error):
    """``TypeError: message``, for reporting an exception raised by the reader's code."""
    return f"{type(error).__name__}: {error}"


def _shapes(value, depth=2):
    """The shapes of the arrays in ``value``, nested as its lists and tuples are (the first
    few of each), or None if it holds no array."""
    if isinstance(value, np.ndarray):
        return str(value.shape)
    if not depth or not isinstance(value, (list, tuple)):
        return None
    shapes = [_shapes(item, depth - 1) for item in value[:6]]
    if not any(shapes):
        return None
    inner = ", ".join(shape or "..." for shape in shapes) + (", ..." if len(value) > 6 else "")
    return f"[{inner}]" if isinstance(value, list) else f"({inner})"


def _describe_argument(value):
    """The reader's argument in a message: arrays (also in lists and tuples) by their shapes
    only, whose numbers would fill the message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    shapes = _shapes(value)
    if shapes is not None:
        return f"a {type(value).__name__} of arrays of shapes {shapes}"
    return repr(value)


def call_answer(what, function, *args):
    """``(True, function(*args))`` for the reader's function, or ``(False, None)`` after reporting
    that it is not filled in, not a function, or raised."""
    if is_unset(function):
        report(False, what, "not filled in yet: replace the placeholder with your function")
        return False, None
    if not callable(function):
        report(False, what, f"expected a function, got {type(function).__name__} {function!r}")
        return False, None
    try:
        return True, function(*args)
    except Exception as error:  # the reader's code is under test: report, don't crash
        report(False, what, f"calling it with {', '.join(map(_describe_argument, args))} raised "
                            f"{describe_error(error)}")
        return False, None


def _readers_object(value, depth=3):
    """Whether ``value`` is (or a list or tuple of it holds) an object of a class of the
    reader's, not Python's, NumPy's or the package's: turning it into numbers would run the
    reader's code (``__array__``, ``__iter__``) after the checker has stopped watching."""
    module = getattr(type(value), "__module__", "") or ""
    if not (module == "builtins" or module.startswith(("numpy", "minigrad"))):
        return True
    if depth and isinstance(value, (list, tuple)):
        return any(_readers_object(item, depth - 1) for item in value[:1000])
    return False


def as_numbers(value):
    """``value`` as an array of floats, or None if it is no (rectangular) array of numbers
    (or is an object of the reader's own class, which would compute them unwatched)."""
    if _readers_object(value):
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def as_gradients(local):
    """What a rule returned, as a tuple of gradients, or None if it is not a tuple (or list)
    of them (an object of the reader's own class, iterated, would compute them unwatched).

    A bare array is one gradient, not a tuple: iterating it would give its rows.
    """
    if isinstance(local, np.ndarray) or _readers_object(local):
        return None
    try:
        return tuple(local)
    except TypeError:
        return None


def arrays_close(got, expected, tol=1e-6):
    """Whether the array ``got`` is finite and within ``tol`` (relative, for entries above 1)
    of ``expected``."""
    scale = max(1.0, float(np.max(np.abs(expected)))) if np.size(expected) else 1.0
    gap = float(np.max(np.abs(got - expected), initial=0.0))
    return bool(np.all(np.isfinite(got))) and gap <= tol * scale


def summed_to_shape(grad, shape):
    """``grad`` summed back to ``shape`` as the shared backward loop does, or None if it cannot be."""
    try:
        return unbroadcast(np.asarray(grad, dtype=float), tuple(shape))
    except ValueError:
        return None


def report_raised(what, call, error):
    """The FAIL for reader's code that raised: ``call`` (as the reader would write it) and the error."""
    return report(False, what, f"{call} raised {describe_error(error)}")


def close_detail(got, expected, tol=1e-6, names=None):
    """What is wrong with the numbers ``got`` (a sentence), or ``None`` if they are close to ``expected``.

    The sentence names the wrong entries and says how they are wrong (too large,
    too small, the wrong sign), never what they should be.
    """
    if is_placeholder(got):
        return NOT_FILLED_IN
    try:
        got_a = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"expected numbers, got {type(got).__name__} {got!r}"
    expected_a = np.asarray(expected, dtype=float)
    if got_a.shape != expected_a.shape:
        def count(a):
            return "one number" if a.ndim == 0 else f"{a.size} numbers" if a.ndim == 1 else f"shape {a.shape}"
        return f"expected {count(expected_a)}, got {count(got_a)}"
    flat_got, flat_expected = got_a.ravel(), expected_a.ravel()
    wrong = []
    for i, (g, e) in enumerate(zip(flat_got, flat_expected)):
        if not abs(g - e) <= tol * max(1.0, abs(e)):  # `not <=` also catches nan
            label = names[i] if names is not None else (f"entry {i}" if flat_got.size > 1 else "your answer")
            if math.isnan(g):
                how = "is nan"
            elif e != 0 and g == 0:
                how = "should not be 0"
            elif e != 0 and math.copysign(1, g) != math.copysign(1, e):
                how = "has the wrong sign"
            else:
                how = "is too large" if g > e else "is too small"
            wrong.append(f"{label}: {g:.6g} {how}")
    return "; ".join(wrong) if wrong else None


def check_close(what, got, expected, tol=1e-6, names=None):
    """Compare numbers the reader computed with the right ones, entry by entry.

    ``got`` and ``expected`` are numbers or lists (or arrays) of numbers;
    ``names`` labels the entries in a FAIL message ("dL/da: 0 is too small").
    The message never shows the expected numbers. An entry passes when it is
    within ``tol`` of the expected one, or within ``tol`` times its size for
    numbers larger than 1.
    """
    detail = close_detail(got, expected, tol, names)
    return report(detail is None, what, detail or "")


EXACT = ("the derivative must be exact: yours is close to the slope but not equal to it, "
         "as a numerical derivative (finite differences) would be; write the rule")


BY_RULE = "the exercise asks for the derivative by a rule, worked out by hand"


#: A derivative rule that evaluates its function away from the point asked about is taking
#: a numerical derivative, whatever the step: a difference with big steps (or Richardson's
#: extrapolation of them) is exact on a polynomial of low enough degree.
AWAY = ("your derivative calls {name} away from x: that is a numerical derivative "
        "(differences of {name}'s values, at any step); the exercise asks for the rule, exact")
#: The same, for a copy of the function written into the answer.
COPY_AWAY = ("your derivative evaluates a copy of {name} away from x: that is a numerical "
             "derivative (differences of {name}'s values, at any step, however combined); "
             "the exercise asks for the rule, exact")
#: The same, for a rule that needs no value of its function at all.
NEEDS_NONE = ("your derivative calls {name}: the rule of a polynomial is another polynomial, "
              "written from the power rule without evaluating {name}")


#: A rule of a polynomial written as a polynomial of a higher degree.
TOO_HIGH = ("your derivative is written as a polynomial of degree {got} in x (or divides by "
            "x), though the rule of {name} has degree {most}: differences of {name}'s values, "
            "even written out, are a numerical derivative, exact here because {name} is a "
            "polynomial; write the rule")


def _derivative_problem(f, df, x, label, h, tol, slope, abs_tol, may_call, max_degree, later,
                        entries=()):
    """What is wrong with ``df(x)`` (a sentence), or None; ``label`` names the point. What
    is wrong with how a right number was computed is added to ``later``, to be said once
    every point has its right number (a number typed in is told that it is wrong)."""
    name = getattr(f, "__name__", "f")
    with copies_evaluated(df, f) as copies, \
            recording_calls(df, [name], [sys.modules.get(getattr(f, "__module__", ""))]) as calls, \
            forbidding(autograd_entries() + package_rule_entries() + list(entries), [df],
                       BY_RULE):
        try:
            got = df(x if max_degree is None else traced(x, "x"))
        except Exception as error:  # the reader's code is under test: report, don't crash
            return f"{label} your derivative raised {describe_error(error)}"
    if is_placeholder(got):
        return NOT_FILLED_IN
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return f"{label} your derivative returned {type(got).__name__} {got!r}, not a number"
    if any(args != (x,) for args in copies):
        return COPY_AWAY.format(name=name)
    if calls and not may_call:
        return NEEDS_NONE.format(name=name)
    if any(len(args) != 1 or args[0] is not x and args[0] != x for args in calls):
        return AWAY.format(name=name)
    right = slope(x) if slope is not None else (f(x + h) - f(x - h)) / (2 * h)
    if not abs(got - right) <= tol * max(1.0, abs(right)):
        how = "too large" if got > right else "too small"
        return (f"{label} your derivative gives {got:.6g}, which is {how} to be the slope of "
                f"{name} there")
    if slope is not None and not abs(got - right) <= 1e-13 * abs(right) + abs_tol:
        return f"{label}, {EXACT}"
    if max_degree is None:
        return None
    if sources(got) == {"x"} and degree(got) > max_degree:
        later.append(TOO_HIGH.format(got=degree(got), name=name, most=max_degree))
    else:
        verdict = rule_verdict(got, slope(traced(x, "x")) if slope else got, {"x"},
                               "derivative", "x", "write the rule", ops="+, -, * and **")
        if verdict is not None:
            later.append(verdict)
    return None


def check_derivative(f, df, points, h=1e-6, tol=1e-5, slope=None, drawn=(), abs_tol=0.0,
                     may_call=True, max_degree=None, entries=(), judge_work=None):
    """Check a reader's derivative ``df`` of a function of one number ``f`` at ``points``.

    Without ``slope``, ``df(x)`` is compared with the central difference
    ``(f(x + h) - f(x - h)) / 2h``, within ``tol``. With ``slope``, the exact
    derivative (a closed form), it must also agree with it to 1e-13 relative
    (plus ``abs_tol``), far closer than finite differences get: a numerical
    derivative fails, told that the rule must be exact. ``df`` may call ``f``
    (found in its globals and closures, and on ``f``'s module) only at ``x``
    itself, and not at all unless ``may_call``: a difference of ``f``'s values
    at steps however large is a numerical derivative, and one with big steps,
    or Richardson's extrapolation of them, is exact on a polynomial of low
    enough degree, where no tolerance could tell it. With ``max_degree`` (for
    ``f`` a polynomial), ``df`` gets x as a :func:`traced` float and must
    return a polynomial in it of at most that degree: differences of a copy of
    ``f`` written out are of ``f``'s degree. ``drawn`` are more points,
    drawn at random per run and never named in a message; ``entries`` are more
    traps (:func:`forbidding`'s). ``judge_work(df, x)``, once the values are right,
    says what is wrong with the work ``df`` does (a sentence), or None. A FAIL names the
    first point where ``df`` is wrong, and what it gave there, not the slope.
    """
    name = getattr(f, "__name__", "f")
    what = f"derivative of {name}"
    labels = [f"at x = {x:g}" for x in points] + ["at a point drawn at random"] * len(drawn)
    later = []
    for x, label in zip(list(points) + list(drawn), labels):
        try:
            problem = _derivative_problem(f, df, float(x), label, h, tol, slope, abs_tol,
                                           may_call, max_degree, later, entries)
        except ForbiddenCall as forbidden:
            return report(False, what, str(forbidden))
        if problem == NOT_FILLED_IN:
            return not_filled_in(what)
        if problem is not None:
            if label.endswith("random") and "too" in problem:  # the drawn numbers stay unsaid
                problem = (f"{label} your derivative is not the slope of {name}, though it is at "
                           "the points named here: compute it from x")
            return report(False, what, problem)
    if later:
        return report(False, what, later[0])
    if judge_work is not None:
        problem = judge_work(df, float(points[0]))  # a plain float: traced ones are slower
        if problem is not None:
            return report(False, what, problem)
    where = f"{len(points)} points" + (f" and {len(drawn)} drawn at random" if len(drawn) else "")
    return report(True, f"{what} at {where}" + (", exact" if slope is not None else ""))


def gradient_detail(f, inputs, tol=TOLERANCE):
    """What is wrong with the gradients backpropagation through ``f`` gives the inputs
    (a sentence), or ``None`` if they agree with central differences: a relative
    gap (``minigrad.gradcheck``'s measure) of at most ``tol``."""
    inputs = list(inputs)
    name = getattr(f, "__name__", "f")
    try:
        analytic = analytic_gradients(f, inputs)
    except Exception as error:  # the reader's code is under test: report, don't crash
        return f"the forward or backward pass raised {describe_error(error)}"
    try:
        numeric = numerical_gradients(f, inputs)
        value = float(np.asarray(f(*inputs).data))
    except Exception as error:
        return f"the forward pass raised {describe_error(error)}"
    labels = [getattr(x, "name", "") or f"input {i}" for i, x in enumerate(inputs)]
    for label, a in zip(labels, analytic):
        if a is None or not isinstance(a, (numbers.Real, np.ndarray)):
            return f"d{name}/d{label}: backward() left grad = {a!r}, not a number"
    gaps = relative_gaps(analytic, numeric, value)
    for label, a, n, gap in zip(labels, analytic, numeric, gaps):
        if not gap <= tol:
            return (f"d{name}/d{label}: backpropagation gives {_six_digits(a)}, "
                    f"finite differences give {_six_digits(n)}")
    return None


def _six_digits(gradient):
    """A gradient for a message: six significant digits (a tiny one is not printed as 0)."""
    if np.ndim(gradient) == 0:
        value = float(gradient)
        return f"{value:.6g}" if 0 < abs(value) < 1e-4 else str(round(value, 6))
    return str(np.round(gradient, 6))


def check_gradients(f, inputs, tol=TOLERANCE):
    """Check the gradients that ``f(*inputs).backward()`` gives each input against
    central differences, as ``gradcheck`` does (a relative gap of at most ``tol``).

    ``f`` may use operations the reader wrote, and the inputs may be the
    package's ``Value``s or those of a class of the reader's own (anything with
    ``data``, ``grad`` and ``backward()``). Here the finite-difference slope is
    shown in a FAIL message: the exercise is the rule, not the number.
    """
    inputs = list(inputs)
    name = getattr(f, "__name__", "f")
    detail = gradient_detail(f, inputs, tol)
    if detail is not None:
        return report(False, f"gradients of {name}", detail)
    return report(True, f"gradients of {name} match finite differences for all {len(inputs)} inputs")
