"""Checkers for the exercises of chapter 3, Backpropagation, automated.

Exercises 3.3 to 3.5 write the core of the reader's own engine, kept in
``yourgrad/value.py``: a topological sort, one class per operation with its
rule, and ``backward()``.
"""
import contextlib
import math
import numbers
import os
import sys
import threading

from minigrad import autograd, tensor as tensor_module, value as value_module
from minigrad.exercises import ForbiddenCall, package_rule_entries
from minigrad.exercises import rule_verdict
from minigrad.exercises import (EXACT, autograd_entries, backward_entries, close_detail,
                                degree, describe_error, forbidding, fresh_rng, gradient_detail,
                                is_placeholder, not_filled_in, report, reports_forbidden,
                                sources, traced)
from minigrad.exercises.what_runs import works_like_a_table
from minigrad.exercises.your_engine import keep
from minigrad.value import Value

RULE = "the exercise asks you to write the rule itself"


def softplus_reference(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sigmoid_reference(x):
    """The sigmoid, without an exponential that could overflow."""
    e = math.exp(-abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


# the derivative of softplus is the sigmoid: the rule computes it, not the package's
# (the scalar engine's or the tensor engine's, which computes it on arrays)
SIGMOID_ENTRIES = [(Value, "sigmoid", "minigrad's Value.sigmoid"),
                   (value_module, "Sigmoid", "minigrad's Sigmoid"),
                   (value_module, "_sigmoid", "minigrad's sigmoid"),
                   (tensor_module.Tensor, "sigmoid", "minigrad's Tensor.sigmoid"),
                   (tensor_module.Sigmoid, "__init__", "minigrad's Sigmoid")]


@reports_forbidden("Softplus")
def check_softplus(cls):
    """Exercise 3.1: a ``Softplus`` operation class in minigrad's recipe; its rule is compared
    with the exact derivative (to 1e-13) at points shown and drawn at random, while the
    package's autograd is a trap."""
    what = "Softplus"
    if is_placeholder(cls):
        return not_filled_in(what)
    if not (isinstance(cls, type) and issubclass(cls, Value)):
        return report(False, what,
                      f"Softplus should be a class derived from minigrad's Value "
                      f"(class Softplus(minigrad.value.Value)), got {cls!r}")
    for x in [0.0, 1.5, -2.0, 30.0, 1000.0, -1000.0]:
        try:
            node = cls(Value(x))
        except Exception as error:
            return report(False, what, f"Softplus(Value({x:g})) raised {describe_error(error)}")
        if not (hasattr(node, "data") and hasattr(node, "_prev")):
            return report(False, what, "not filled in yet: Softplus.__init__ recorded no result "
                                       "(it should call self._record(result, a))")
        if not math.isclose(node.data, softplus_reference(x), rel_tol=1e-12, abs_tol=1e-300):
            return report(False, what, f"Softplus(Value({x:g})).data = {node.data!r} is not "
                                       f"ln(1 + e^{x:g})")
        if len(node._prev) != 1 or node._prev[0].data != x:
            return report(False, what, "a Softplus node should record its one input in _prev")
    rng = fresh_rng()
    drawn = [float(x) for x in rng.uniform(-30, 30, size=4)]
    for x in [0.3, -2.5, 8.0, -20.0] + drawn:
        at = "at an a drawn at random" if x in drawn else f"at a = {x:g}"
        a = Value(x)
        node = cls(a)
        try:
            with forbidding(autograd_entries() + package_rule_entries() + SIGMOID_ENTRIES,
                            [cls], RULE):
                returned = node._backward(2.0)
        except Exception as error:
            return report(False, what, f"_backward(2.0) {at} raised {describe_error(error)}")
        if returned is None and a.grad == 0.0:
            return not_filled_in(what)
        if a.grad != 0.0:
            return report(False, what, "_backward changed the input's grad itself; it should "
                                       "return the local gradient and leave the adding to the "
                                       "traversal")
        if not isinstance(returned, (tuple, list)) or len(returned) != 1:
            return report(False, what, "_backward should return a tuple of one gradient per "
                                       f"input, (g,), got {returned!r}")
        right = 2.0 * sigmoid_reference(x)
        got = returned[0]
        if isinstance(got, numbers.Real) and not math.isclose(got, right, rel_tol=1e-9) \
                and math.isclose(got, right, rel_tol=1e-2):
            return report(False, what, f"{at}, _backward(2.0) is close to the gradient but not "
                                       "accurate: does your rule subtract two nearly equal "
                                       "numbers (cancellation)?")
        if not isinstance(got, numbers.Real) \
                or not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-300):
            returns = "" if x in drawn else f" returns {got!r}"
            return report(False, what, f"{at}, _backward(2.0){returns}: it should be the "
                                       "gradient it receives times the derivative of softplus")
        if not math.isclose(got, right, rel_tol=1e-13):
            return report(False, what, f"{at}, _backward(2.0): {EXACT}")
    for x in [1000.0, -1000.0]:
        a = Value(x)
        try:
            cls(a).backward()
        except Exception as error:
            return report(False, what,
                          f"the backward pass at a = {x:g} raised {describe_error(error)}")
        if not math.isclose(a.grad, 1.0 if x > 0 else 0.0, abs_tol=1e-12):
            return report(False, what,
                          f"at a = {x:g} the gradient is {a.grad!r}: not the sigmoid of a")

    def softplus_of(a, b):
        return cls(a * b - 1.0) * b

    for point in ([0.8, -1.5], [3.0, 2.0], [-4.0, 5.0]):
        detail = gradient_detail(softplus_of, [Value(point[0]), Value(point[1])])
        if detail is not None:
            return report(False, what, f"softplus(a * b - 1) * b at a, b = {point}: {detail}")
    return report(True, what)


BY_HAND = "the exercise asks you to work the gradients out by hand"
#: The degrees in x of d out/dz = y, d out/dy = z + y and d out/dx = 2x(z + y) + y.
PATHS_DEGREES = (2, 2, 3)


@reports_forbidden("gradients along several paths")
def check_paths(paths_by_hand):
    """Exercise 3.2: ``paths_by_hand(x)`` returns [d out/dz, d out/dy, d out/dx] for
    y = x², z = y + x, out = z y, worked out by hand; tried at x = 2, the exercise's
    point, and at points drawn at random, while every ``backward`` is a trap. x is a
    :func:`traced` float: out is a polynomial, on which differences with big steps are
    exact, but they are of out's degree, higher than the chain rule's gradients'."""
    what = "gradients along several paths"
    names = ["d out/dz", "d out/dy", "d out/dx"]
    if is_placeholder(paths_by_hand):
        return not_filled_in(what)
    drawn = [float(x) for x in fresh_rng().uniform(-3, 3, size=3)]
    answers = []
    for x in [2.0] + drawn:
        entries = (autograd_entries() + package_rule_entries()
                   + backward_entries(paths_by_hand))
        with forbidding(entries, [paths_by_hand], BY_HAND):
            try:
                got = paths_by_hand(traced(x, "x"))
            except Exception as error:
                return report(False, what, f"paths_by_hand raised {describe_error(error)}")
        y, z = x * x, x * x + x
        # out = z y: dz = y; y feeds out and z; x feeds y twice, z once
        right = [y, z + y, 2 * x * (z + y) + y]
        detail = close_detail(got, right, names=names)
        if detail is not None and x == 2.0:
            return report(False, what, f"at x = 2: {detail}")
        if detail is not None:
            return report(False, what, "right at x = 2 but not at an x drawn at random: compute "
                                       "the gradients from x, not from numbers worked out once")
        # by the chain rule the answer is exact to rounding; nudging x is not
        scale = max(1.0, 4 * abs(x) ** 3 + 3 * x * x)
        inexact = [name for name, g, r in zip(names, got, right) if not abs(g - r) <= 1e-12 * scale]
        if inexact:
            at = "at x = 2" if x == 2.0 else "at an x drawn at random"
            return report(False, what, f"{at}, {', '.join(inexact)}: {EXACT}")
        answers.append((got, traced(x, "x")))
    # out = x⁴ + x³ is a polynomial: differences of its values with big steps (even written
    # out) are exact, but of its degree; the chain rule's gradients have degrees 2, 2 and 3
    for got, x in answers:
        y, z = x * x, x * x + x
        rules = [y, z + y, 2 * x * (z + y) + y]
        for name, gradient, most, rule in zip(names, got, PATHS_DEGREES, rules):
            if sources(gradient) == {"x"} and degree(gradient) > most:
                return report(False, what, f"your {name} is written as a polynomial of degree "
                                           f"{degree(gradient)} in x (or divides by x), more "
                                           "than the chain rule's: differences of out's "
                                           "values, even written out, are a numerical "
                                           f"derivative, exact here because out is a "
                                           f"polynomial; {BY_HAND}")
            verdict = rule_verdict(gradient, rule, {"x"}, name, "x", BY_HAND,
                                   ops="+, -, * and **")
            if verdict is not None:
                return report(False, what, verdict)
    return report(True, what, "at x = 2 and at three x drawn at random")


def drawn_graph(Node, rng, operations):
    """A graph drawn at random, built from ``Node`` (the package's Value or the reader's):
    three leaves, then ``operations`` nodes, each tanh(p + q), tanh(p * q) or tanh(2 p), q
    mostly the newest node and p one of the last few, so that intermediate nodes are shared
    and a node often sits in _prev before (or after) a node it feeds; the root is the sum
    of the nodes nothing used. Returns (root, leaves); the tanh keeps every value in [-1, 1]."""
    leaves = [Node(float(x)) for x in rng.uniform(-1, 1, size=3)]
    nodes, unused = list(leaves), set(range(3))
    for _ in range(operations):
        # an older node and, mostly second, the newest, which often uses it
        i, j = int(rng.integers(max(0, len(nodes) - 5), len(nodes))), len(nodes) - 1
        if rng.random() < 0.3:
            i, j = j, i
        kind = int(rng.integers(3))
        made = nodes[i] + nodes[j] if kind == 0 else \
            nodes[i] * nodes[j] if kind == 1 else 2.0 * nodes[i]
        unused -= {i, j} if kind < 2 else {i}
        unused.add(len(nodes))
        nodes.append(made.tanh())
    tops = [nodes[k] for k in sorted(unused)]
    root = tops[0]
    for node in tops[1:]:
        root = node + root  # the newest first in _prev
    return root, leaves


def _graphs():
    """The graphs the sort is tried on: (description, root)."""
    x = Value(2.0, name="x")
    y = x * x
    y.name = "y"
    z = y + x
    z.name = "z"
    t = z.tanh()
    t.name = "t"
    small = t * x
    small.name = "out"
    # a diamond: a feeds b and c, both feed d, and d is used twice
    a = Value(1.5, name="a")
    b = a * 2.0
    b.name = "b"
    c = a.exp()
    c.name = "c"
    d = b + c
    d.name = "d"
    e = d * d
    e.name = "e"
    twice = []
    for t_first, root_name in ((True, "q"), (False, "r")):
        t, m, root = _t_used_twice(Value(2.0, name="a"), Value(3.0, name="b"), t_first)
        t.name, m.name, root.name = "t", "m", root_name
        twice.append(root)
    q, r = twice
    rng = fresh_rng()
    drawn = []
    for operations in (6, 20, 60):
        root, _ = drawn_graph(Value, rng, operations)
        for i, node in enumerate(_every_node(root)):
            node.name = node.name or f"n{i}"
        drawn.append(("a graph drawn at random", root))
    deep = Value(1.0, name="start")
    for i in range(10_000):
        deep = deep * 1.0001
        deep.name = f"step {i + 1}"
    return [("out = tanh(x * x + x) * x", small), ("e = (2a + exp a)²", e),
            ("q = t + t * b with t = a * 1, t used twice", q),
            ("r = t * b + t with t = a * 1", r), *drawn,
            ("a chain of 10,000 multiplications", deep)]


def _label(node):
    return f"'{node.name}'" if node.name else f"a constant {node.data:g}"


def _every_node(root):
    """Every node ``root``'s graph holds, in no particular order (the reference the order is
    checked against, written here rather than taken from the package's sort)."""
    found, stack = {id(root): root}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if id(parent) not in found:
                found[id(parent)] = parent
                stack.append(parent)
    return list(found.values())


def check_topological_sort(sort):
    """Exercise 3.3: ``sort(root)`` returns a topological order of root's graph, without recursion
    (and without minigrad's ``topological_order``, a trap while it runs). A pass keeps it in
    the reader's ``yourgrad/value.py`` as ``topological_order``."""
    if is_placeholder(sort):
        return not_filled_in("topological order")
    return keep("value", 3, 3, _check_topological_sort, topological_order=sort)


NO_RECURSION = ("the exercise asks for a sort without recursion: Python's recursion limit "
                "stops it on deep graphs; keep the nodes still to visit in a list used as "
                "a stack")
_LIBRARY = (os.path.dirname(os.__file__), os.path.dirname(os.path.dirname(__file__)))


class _CallsItself(BaseException):
    """Raised inside the reader's sort when one of its functions calls itself."""


@contextlib.contextmanager
def _refusing_recursion():
    """While the block runs, a function of the reader's (not the standard library's, not
    minigrad's) that is called while a call of it is still running, directly or through
    others, in this thread or in one it starts, stops the block with :class:`_CallsItself`
    naming it; so does raising the recursion limit or taking the watch off (traps on
    sys.setrecursionlimit and sys.setprofile)."""
    calling_itself, owner = [], threading.get_ident()

    def watch(frame, event, arg):
        if event != "call" or calling_itself or frame.f_code.co_filename.startswith(_LIBRARY):
            return
        caller, code = frame.f_back, frame.f_code
        # the same code, or a copy of it (``code.replace(co_name=...)`` makes a new object)
        while caller is not None:
            if caller.f_code is code or (caller.f_code.co_code, caller.f_code.co_filename,
                                         caller.f_code.co_firstlineno) == (
                    code.co_code, code.co_filename, code.co_firstlineno):
                calling_itself.append(frame.f_code.co_name)
                if threading.get_ident() == owner:  # another thread is left to finish
                    raise _CallsItself(frame.f_code.co_name)
                return
            caller = caller.f_back

    set_profile = sys.setprofile

    def kept_on(function):
        """sys.setprofile while the watch is on: refused in this thread (it would take the
        watch off); in a thread started meanwhile, threading sets the watch with it."""
        if threading.get_ident() == owner:
            took_off.append("sys.setprofile")
            raise ForbiddenCall(f"your answer calls sys.setprofile: {NO_RECURSION}")
        set_profile(function)

    took_off = []
    before, before_threads = sys.getprofile(), getattr(threading, "_profile_hook", None)
    set_profile(watch)
    threading.setprofile(watch)  # a recursion run in a thread of its own
    sys.setprofile = kept_on
    try:
        with forbidding([(sys, "setrecursionlimit", "sys.setrecursionlimit"),
                         (threading, "setprofile", "threading.setprofile")], [],
                        NO_RECURSION):
            yield
    finally:
        sys.setprofile = set_profile
        set_profile(before)
        threading.setprofile(before_threads)
        found = list(calling_itself)
    if took_off:
        raise ForbiddenCall(f"your answer calls sys.setprofile: {NO_RECURSION}")
    if found:  # the reader's code caught the exception and carried on
        raise _CallsItself(found[0])


@reports_forbidden("topological order")
def _check_topological_sort(topological_order):
    sort = topological_order
    what = "topological order"
    if is_placeholder(sort):
        return not_filled_in(what)
    entries = [(autograd, "topological_order", "minigrad's topological_order")]
    entries += autograd_entries()
    for description, root in _graphs():
        try:
            with forbidding(entries, [sort], "the exercise asks you to write the sort"):
                with _refusing_recursion():
                    order = sort(root)
        except _CallsItself as name:
            return report(False, what, f"{NO_RECURSION} (your function `{name}` calls itself)")
        except RecursionError:
            return report(False, what, f"on {description} your sort hit Python's recursion limit: "
                                       "keep the nodes still to visit in a list used as a stack")
        except Exception as error:
            return report(False, what, f"on {description} your sort raised {describe_error(error)}")
        if is_placeholder(order):
            return not_filled_in(what)
        try:
            order = list(order)
        except TypeError:
            return report(False, what,
                          f"your sort returned {type(order).__name__}, not a list of nodes")
        everything = _every_node(root)
        position = {}
        for i, node in enumerate(order):
            if id(node) in position:
                return report(False, what, f"on {description}, node {_label(node)} appears twice")
            position[id(node)] = i
        missing = [node for node in everything if id(node) not in position]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            return report(False, what,
                          f"on {description}, node {_label(missing[0])} is missing{more}")
        if len(order) != len(everything):
            return report(False, what, f"on {description}, the order has {len(order)} entries, "
                                       f"the graph {len(everything)} nodes")
        # every node after all its inputs (so the root, which all others feed, last)
        for node in order:
            for parent in node._prev:
                if position[id(parent)] > position[id(node)]:
                    return report(False, what, f"on {description}, node {_label(node)} comes "
                                               f"before its input {_label(parent)}")
    return report(True, what, "on graphs with shared nodes, fixed and drawn at random, and a "
                              "chain 10,000 deep")


# ----- your engine: its operations (3.4) and backward() (3.5) ---------------------------

OWN_RULE = "the exercise asks you to write the rule itself, in your own engine"
UPSTREAM = "does it multiply by the gradient that arrives (its argument grad)?"


def _operation_cases(rng):
    """(text, build(a, b), class name, inputs(a, b), value(x, y), local derivatives of the
    recorded inputs' data) for each operation of exercise 3.4, at a = x, b = y; a plain
    number is wrapped into a Value."""
    # a whole and a fractional exponent on every run: differences of a**3 with big steps
    # (Richardson's extrapolation) are exact, of a**2.5 never
    whole, fraction = float(rng.choice([3.0, -1.0])), float(rng.choice([0.5, 2.5]))
    add = ("Add", lambda p, q: (1.0, 1.0))
    mul = ("Mul", lambda p, q: (q, p))
    powers = [(f"a ** {n:g}", lambda a, b, n=n: a ** n, "Pow",
               lambda p, n=n: (n * p ** (n - 1),), lambda a, b: (a,), lambda x, y, n=n: x ** n)
              for n in (whole, fraction)]
    return [
        ("a + b", lambda a, b: a + b, *add, lambda a, b: (a, b), lambda x, y: x + y),
        ("a * b", lambda a, b: a * b, *mul, lambda a, b: (a, b), lambda x, y: x * y),
        ("a + 2.0", lambda a, b: a + 2.0, *add, lambda a, b: (a, 2.0), lambda x, y: x + 2.0),
        ("2.0 + a", lambda a, b: 2.0 + a, *add, lambda a, b: (2.0, a), lambda x, y: 2.0 + x),
        ("3.0 * a", lambda a, b: 3.0 * a, *mul, lambda a, b: (3.0, a), lambda x, y: 3.0 * x),
        ("a * 3.0", lambda a, b: a * 3.0, *mul, lambda a, b: (a, 3.0), lambda x, y: x * 3.0),
        *powers,
        ("a.exp()", lambda a, b: a.exp(), "Exp", lambda p: (math.exp(p),),
         lambda a, b: (a,), lambda x, y: math.exp(x)),
        ("a.tanh()", lambda a, b: a.tanh(), "Tanh", lambda p: (1 - math.tanh(p) ** 2,),
         lambda a, b: (a,), lambda x, y: math.tanh(x)),
    ]


def _same_inputs(recorded, expected):
    """Whether the recorded inputs are the Values given, and Values wrapping the numbers
    given, in order (either order where a number meets a Value: 2 * a is a * 2)."""
    def same(got, given):
        if isinstance(given, float):
            return getattr(got, "data", None) == given and not getattr(got, "_prev", ())
        return got is given
    if len(recorded) != len(expected):
        return False
    orders = [expected, expected[::-1]] if any(isinstance(e, float) for e in expected) \
        else [expected]
    return any(all(map(same, recorded, order)) for order in orders)


def check_rules(Value, as_value, Add, Mul, Pow, Exp, Tanh):
    """Exercise 3.4: the reader's engine gets one class per operation (``Add``, ``Mul``,
    ``Pow``, ``Exp``, ``Tanh``, derived from their ``Value``), whose ``__init__`` computes
    and records and whose ``_backward(grad)`` returns the local gradients; the operators
    make these nodes, wrapping plain numbers with ``as_value``. Each rule is called
    directly, with a gradient arriving that is not 1, at points shown and drawn at random,
    and compared with the exact derivative. A pass keeps the piece in yourgrad/value.py."""
    answers = [Value, as_value, Add, Mul, Pow, Exp, Tanh]
    if any(is_placeholder(answer) for answer in answers):
        return not_filled_in("your operations and their rules")
    return keep("value", 3, 4, _check_rules, Value=Value, as_value=as_value, Add=Add, Mul=Mul,
                Pow=Pow, Exp=Exp, Tanh=Tanh)


@reports_forbidden("your operations and their rules")
def _check_rules(Value, as_value, Add, Mul, Pow, Exp, Tanh):
    what = "your operations and their rules"
    classes = {"Add": Add, "Mul": Mul, "Pow": Pow, "Exp": Exp, "Tanh": Tanh}
    for name, cls in classes.items():
        if not (isinstance(cls, type) and issubclass(cls, Value)):
            return report(False, what, f"{name} should be a class derived from your Value, "
                                       f"got {cls!r}")
    wrapped = as_value(2.5)
    if not isinstance(wrapped, Value) or wrapped.data != 2.5 or as_value(wrapped) is not wrapped:
        return report(False, what, "as_value(x) should give x itself for a Value, and "
                                   "Value(x) for a plain number")
    rng = fresh_rng()
    points = [(0.7, -1.3, True)]
    points += [(float(x), float(y), False) for x, y in rng.uniform(-2.5, 2.5, size=(3, 2))]
    for text, build, name, slopes, inputs, value in _operation_cases(rng):
        for x, y, shown in points:
            x = abs(x) + 0.2 if text.startswith("a **") else x  # a power of a positive number
            if "b" in text:
                at = f"at a = {x:g}, b = {y:g}" if shown else "at a, b drawn at random"
            else:
                at = f"at a = {x:g}" if shown else "at an a drawn at random"
            problem = _rule_problem(Value, classes[name], text, build, name, slopes, inputs,
                                    value, x, y, at)
            if problem is not None:
                return False if problem is True else report(False, what, problem)
    problem = _rules_by_differences(Value, classes)
    if problem is not None:
        return report(False, what, problem)
    return report(True, what, "+, *, ** n, exp and tanh, with numbers on either side: each "
                              "node of its class, each rule exact where a gradient of 3 arrives")


def rules_by_differences(nodes, traced_nodes=None):
    """Why the rules of ``nodes`` (name -> a node made by the reader's class) are numerical
    derivatives (a sentence), or None: a rule taking more Python steps than a rule does (a
    table of differences, extrapolated to look exact), or, for ``traced_nodes`` (built on
    :func:`traced` data ``a`` and ``b``), a gradient for an input computed from that input
    itself (a difference of a product's or a sum's values, exact at any step, since each
    is a straight line in each input)."""
    for name, node in nodes.items():
        try:
            with forbidding(autograd_entries() + package_rule_entries(), [type(node)],
                            OWN_RULE):
                table = works_like_a_table(node._backward, 3.0)
        except Exception:  # noqa: BLE001 - judged already at plain numbers
            continue
        if table is not None:
            return f"{name}._backward: {table.replace('your derivative', 'it')}"
    for name, node in (traced_nodes or {}).items():
        try:
            with forbidding(autograd_entries() + package_rule_entries(), [type(node)],
                            OWN_RULE):
                local = node._backward(3.0)
        except Exception:  # noqa: BLE001 - judged already at plain numbers
            continue
        for got, own in zip(local, ("a", "b")):
            if own in sources(got):
                return (f"{name}._backward's gradient for {own} is computed from {own} "
                        "itself: a difference of the node's values as it changes (a "
                        "numerical derivative, exact at any step here, since the node "
                        f"is a straight line in {own}); {RULE}")
    return None


def _rules_by_differences(Value, classes):
    """:func:`rules_by_differences` for exercise 3.4's five classes."""
    a, b = Value(traced(0.7, "a")), Value(traced(-1.3, "b"))
    try:
        nodes = {"Add": classes["Add"](Value(0.7), Value(-1.3)),
                 "Mul": classes["Mul"](Value(0.7), Value(-1.3)),
                 "Pow": classes["Pow"](Value(1.7), 3), "Exp": classes["Exp"](Value(0.4)),
                 "Tanh": classes["Tanh"](Value(0.4))}
        traced_nodes = {"Add": classes["Add"](a, b), "Mul": classes["Mul"](a, b)}
    except Exception:  # noqa: BLE001 - the classes were judged already, at plain numbers
        return None
    return rules_by_differences(nodes, traced_nodes)


def _rule_problem(Value, cls, text, build, name, slopes, inputs, value, x, y, at):
    """What is wrong with the node ``build`` makes at a = x, b = y, and its rule (a
    sentence), None if nothing, or True after reporting a placeholder."""
    a, b = Value(x), Value(y)
    try:
        with forbidding(autograd_entries() + package_rule_entries(), [cls], OWN_RULE):
            node = build(a, b)
    except Exception as error:
        number = any(f"'{kind}' object" in str(error) for kind in ("float", "int"))
        hint = ": is the plain number wrapped with as_value?" \
            if isinstance(error, AttributeError) and number else \
            ": is the method set on your Value?" \
            if isinstance(error, (TypeError, AttributeError)) else ""
        return f"{text} {at} raised {describe_error(error)}{hint}"
    if is_placeholder(node):
        return not_filled_in("your operations and their rules") or True
    if isinstance(node, Value) and not hasattr(node, "data"):
        return (f"not filled in yet: {name}.__init__ recorded nothing (it should call "
                "super().__init__(result, inputs, op))")
    if not isinstance(node, cls):
        return (f"{text} gave a {type(node).__name__}, not a {name} node: set the operator on "
                f"Value to a function that makes {name}(...)")
    if not math.isclose(node.data, value(x, y), rel_tol=1e-12, abs_tol=1e-300):
        return f"{text} {at} computes the wrong value"
    expected = inputs(a, b)
    recorded = tuple(getattr(node, "_prev", ()))
    if not _same_inputs(recorded, expected):
        return (f"{text} should record its input{'s' if len(expected) > 1 else ''} in _prev, in "
                "order (a plain number wrapped by as_value)")
    call = f"{name}._backward(3.0)" + (f" for {text}" if name == "Pow" else "")
    grads_before = [getattr(v, "grad", None) for v in recorded]
    try:
        with forbidding(autograd_entries() + package_rule_entries(), [cls], OWN_RULE):
            local = node._backward(3.0)
    except Exception as error:
        return f"{call} {at} raised {describe_error(error)}"
    if is_placeholder(local):
        return not_filled_in("your operations and their rules") or True
    if [getattr(v, "grad", None) for v in recorded] != grads_before:
        return (f"{name}._backward changed an input's grad itself; it should return the local "
                "gradients and leave the adding to backward()")
    try:
        local = tuple(local)
    except TypeError:
        return f"{name}._backward should return a tuple of one gradient per input, got {local!r}"
    if len(local) != len(expected):
        return (f"{name}._backward should return {len(expected)} gradient"
                f"{'s' if len(expected) > 1 else ''}, one per input, got {len(local)}")
    for got, slope in zip(local, slopes(*(v.data for v in recorded))):
        right = 3.0 * slope
        if not isinstance(got, numbers.Real) or isinstance(got, bool):
            return f"{name}._backward returned {got!r}, not a number"
        if math.isclose(got, slope, rel_tol=1e-9) and not math.isclose(got, right, rel_tol=1e-9):
            return f"{call} {at}: right for a gradient of 1, not 3: {UPSTREAM}"
        if not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-12):
            return (f"{call} {at}: not 3 times the local derivative (see the table "
                    "at the start of the chapter)")
        if not math.isclose(got, right, rel_tol=1e-13, abs_tol=1e-15):
            return f"{call} {at}: {EXACT}"
    return None


def _t_used_twice(a, b, t_first):
    """``(t, m, root)``: the intermediate node t = a * 1 used twice, in m = t * b and in the
    root, t + m (t listed before the node that also uses it: a sort that marks nodes when
    it meets them, not when it places them, puts m before t) or, with ``t_first`` false,
    m + t (for a sort that pushes ``_prev`` reversed)."""
    t = a * 1.0
    m = t * b
    return t, m, (t + m if t_first else m + t)


def _backward_cases(Value, rng):
    """(description, build(leaves) -> root, leaves' data, exact gradients(data)) for
    exercise 3.5's graphs, where no value is used twice first."""
    def neuron(x1, x2, w1, w2, b):
        return (x1 * w1 + x2 * w2 + b).tanh()

    def neuron_slopes(x1, x2, w1, w2, b):
        g = 1 - math.tanh(x1 * w1 + x2 * w2 + b) ** 2
        return [w1 * g, w2 * g, x1 * g, x2 * g, g]

    def shared(a, b):
        return _t_used_twice(a, b, t_first=True)[2]

    def shared_last(a, b):
        return _t_used_twice(a, b, t_first=False)[2]

    drawn = [float(v) for v in rng.uniform(-1.5, 1.5, size=5)]
    return [
        ("tanh(x1 w1 + x2 w2 + b), the neuron of chapter 2", neuron,
         [2.0, 0.5, -0.75, 1.2, 1.7], neuron_slopes),
        ("the neuron at numbers drawn at random", neuron, drawn, neuron_slopes),
        ("a * b + a, a used twice", lambda a, b: a * b + a, [2.0, -3.0],
         lambda a, b: [b + 1, a]),
        ("a * a", lambda a: a * a, [1.5], lambda a: [2 * a]),
        ("(a * b).exp() + a ** 3 / ... , a graph with every operation",
         lambda a, b: (a * b).exp() + a ** 3 * (b * b).tanh(), [0.5, -1.2],
         lambda a, b: [b * math.exp(a * b) + 3 * a * a * math.tanh(b * b),
                       a * math.exp(a * b) + a ** 3 * (1 - math.tanh(b * b) ** 2) * 2 * b]),
        ("q = t + t * b with t = a * 1, an intermediate node used twice", shared,
         [2.0, 3.0], lambda a, b: [1 + b, a]),
        ("r = t * b + t with t = a * 1, an intermediate node used twice", shared_last,
         [2.0, 3.0], lambda a, b: [1 + b, a]),
    ]


def _drawn_backward_cases(Yours, rng):
    """Graphs drawn at random (see :func:`drawn_graph`), their exact gradients taken from
    the same graph built of the package's Values: (description, root, leaves, gradients)."""
    cases = []
    for operations in (12, 40):
        state = rng.bit_generator.state
        root, leaves = drawn_graph(Yours, rng, operations)
        rng.bit_generator.state = state  # the same draws again
        reference, reference_leaves = drawn_graph(Value, rng, operations)
        reference.backward()
        cases.append(("a graph drawn at random, with intermediate nodes used several times",
                      root, leaves, [leaf.grad for leaf in reference_leaves]))
    return cases


ORDER = ("does backward() call the rules in reverse order, from the root back to the "
         "leaves, each with its node's grad?")
SHARED = ("a node used twice must hold the terms of both uses before its own rule runs: "
          "does backward() walk your topological order (exercise 3.3) from the root back?")


def check_backward(Value):
    """Exercise 3.5: ``Value.backward()`` in the reader's engine: sort the graph with their
    own topological sort, start the root's gradient at 1 and every intermediate node's at 0,
    and add each rule's local gradients into the inputs, in reverse order. Tried on graphs
    with values used twice, on numbers drawn at random, twice in a row (the leaves' gradients
    add up), and on a chain 10,000 deep; minigrad's backward and sort are traps. A pass keeps
    it in yourgrad/value.py."""
    if is_placeholder(Value) or is_placeholder(getattr(Value, "backward", None)):
        return not_filled_in("your backward()")
    return keep("value", 3, 5, _check_backward, Value=Value)


BACKWARD_TASK = ("the exercise asks you to write backward() with your own topological sort "
                 "(exercise 3.3) and your own rules")


@reports_forbidden("your backward()")
def _check_backward(Value):
    what = "your backward()"
    probe = Value(2.0) * Value(3.0)
    if not callable(getattr(probe, "_backward", None)) or getattr(probe, "_prev", ()) == ():
        return report(False, what, "your Value's operations have no rules yet: pass exercise 3.4 "
                                   "first (or run its solution)")
    entries = autograd_entries() + [(autograd, "topological_order",
                                     "minigrad's topological_order")]
    rng = fresh_rng()
    cases = [(description, data, slopes(*data), build(*leaves), leaves)
             for description, build, data, slopes in _backward_cases(Value, rng)
             for leaves in [[Value(x) for x in data]]]
    cases += [(description, None, right, root, leaves)
              for description, root, leaves, right in _drawn_backward_cases(Value, rng)]
    for description, data, right, root, leaves in cases:
        try:
            with forbidding(entries, [Value], BACKWARD_TASK):
                returned = root.backward()
        except RecursionError:
            return report(False, what, f"on {description}, backward() hit Python's recursion "
                                       "limit: use your sort from exercise 3.3")
        except Exception as error:
            leaf = isinstance(error, AttributeError) and "_backward" in str(error)
            hint = ": a leaf has no rule to call" if leaf else ""
            return report(False, what, f"on {description}, backward() raised "
                                       f"{describe_error(error)}{hint}")
        if is_placeholder(returned) and all(node.grad == 0.0 for node in leaves + [
                parent for parent in getattr(root, "_prev", ())]):
            return not_filled_in(what)
        if root.grad != 1.0:
            return report(False, what, f"on {description}, the root's gradient is {root.grad!r}: "
                                       "backward() starts it at 1")
        names = [f"d/d(leaf {i})" for i in range(len(leaves))]
        got = [leaf.grad for leaf in leaves]
        detail = close_detail(got, right, tol=1e-12, names=names)
        if detail is not None:
            if all(isinstance(g, numbers.Real) for g in got) and all(
                    math.isclose(g, r, rel_tol=1e-6, abs_tol=1e-9) for g, r in zip(got, right)):
                detail = EXACT  # close, as a numerical derivative is
            elif "neuron" in description and "random" not in description:
                detail = f"wrong: {ORDER}"
            elif "neuron" in description:
                detail = "wrong, though right at the chapter's numbers"
            elif "intermediate" in description:
                detail = f"wrong: {SHARED}"
            else:
                detail = "a value used twice must get the sum of both uses: does backward() " \
                         "add the rules' gradients into .grad rather than set them?"
            return report(False, what, f"on {description}: {detail}")
    # twice on the same graph: the leaves add up, the intermediate nodes start again at 0
    a, b = Value(0.5), Value(-2.0)
    root = (a * b).tanh() * a
    with forbidding(entries, [Value], BACKWARD_TASK):
        root.backward()
        first = a.grad
        root.backward()
    if math.isclose(a.grad, first, rel_tol=1e-12):
        return report(False, what, "after two calls of backward() on the same graph, a leaf should "
                                   "hold twice one call's gradient: the leaves keep their grads "
                                   "(they add up); only the intermediate nodes start again at 0")
    if not math.isclose(a.grad, 2 * first, rel_tol=1e-12):
        return report(False, what, "after two calls of backward() on the same graph, a leaf should "
                                   "hold twice one call's gradient: does backward() start every "
                                   "intermediate node's grad at 0 before the walk?")
    x = start = Value(1.0)
    for _ in range(10_000):
        x = x * 1.0001
    try:
        with forbidding(entries, [Value], BACKWARD_TASK):
            x.backward()
    except RecursionError:
        return report(False, what, "on a chain of 10,000 multiplications backward() hit Python's "
                                   "recursion limit: use your sort from exercise 3.3")
    if not math.isclose(start.grad, 1.0001 ** 10_000, rel_tol=1e-9):
        return report(False, what, "on a chain of 10,000 multiplications the gradient is wrong")
    return report(True, what, "values used twice, graphs and numbers drawn at random, two "
                              "calls in a row, and a chain 10,000 deep")
