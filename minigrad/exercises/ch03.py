"""Checkers for the exercises of chapter 3, Backpropagation, automated."""
import math
import numbers

from minigrad import autograd
from minigrad.exercises import (EXACT, autograd_entries, backward_entries, close_detail,
                                describe_error, forbidding, fresh_rng, gradient_detail,
                                is_placeholder, not_filled_in, report, reports_forbidden)
from minigrad.value import Value

RULE = "the exercise asks you to write the rule itself"


_PLACEHOLDER = object()


def _grad_of(cls, op_text, build, x, what):
    """Build ``build(cls(x))`` and backpropagate: (output, input's gradient), or
    (None, None) after a FAIL, or (_PLACEHOLDER, None) for an unwritten method."""
    try:
        a = cls(x)
        out = build(a)
    except Exception as error:
        hint = ""
        if isinstance(error, AttributeError) or "unsupported operand" in str(error):
            hint = ": is the method attached to the class?"
        report(False, what, f"{op_text} at a = {x:g} raised {describe_error(error)}{hint}")
        return None, None
    if is_placeholder(out):
        return _PLACEHOLDER, None
    try:
        with forbidding(autograd_entries(), [cls], RULE):
            out.backward()
    except Exception as error:
        report(False, what, f"backward() through {op_text} at a = {x:g} raised {describe_error(error)}")
        return None, None
    return out, a.grad


@reports_forbidden("MiniValue's exp and **")
def check_mini_exp_pow(cls):
    """Exercise 3.1: ``exp()`` and ``** n`` on the reader's ``MiniValue``, forward and backward.

    Each operation is tried alone (where the gradient arriving at it is 1), then
    scaled by 3 (a gradient of 3 arrives, so a rule that ignores ``out.grad``
    fails), then times its own input (the input is used twice, so a rule that
    sets ``self.grad`` with ``=`` instead of adding fails).
    """
    what = "MiniValue's exp and **"
    upstream = ("the rule is right where the gradient arriving at the node is 1, "
                "but not here: does it multiply by the gradient that arrives?")
    reused = ("here a is used twice, and the gradient is not the sum of both uses: "
              "does the rule add to a.grad rather than set it?")
    alone = "not the derivative (see the table of this chapter)"
    rng = fresh_rng()
    drawn = {name: [float(x) for x in rng.uniform(low, high, size=2)]
             for name, low, high in [("exp", -4, 4), ("cube", -3, 3), ("inverse", 0.3, 5), ("root", 0.1, 9)]}
    cases = [
        ("a.exp()", lambda a: a.exp(), math.exp, math.exp, [0.7, -1.5] + drawn["exp"], alone),
        ("a ** 3", lambda a: a ** 3, lambda x: x ** 3, lambda x: 3 * x ** 2, [1.3, -0.4] + drawn["cube"],
         alone),
        ("a ** -1", lambda a: a ** -1, lambda x: 1 / x, lambda x: -1 / x ** 2, [2.0] + drawn["inverse"],
         alone),
        ("a ** 0.5", lambda a: a ** 0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.81] + drawn["root"],
         alone),
        ("3 * a.exp()", lambda a: cls(3.0) * a.exp(), lambda x: 3 * math.exp(x),
         lambda x: 3 * math.exp(x), [0.7], upstream),
        ("3 * a ** 2", lambda a: cls(3.0) * a ** 2, lambda x: 3 * x ** 2, lambda x: 6 * x, [1.3],
         upstream),
        ("a.exp() * a", lambda a: a.exp() * a, lambda x: math.exp(x) * x,
         lambda x: math.exp(x) * (1 + x), [0.7], reused),
        ("a ** 2 * a", lambda a: a ** 2 * a, lambda x: x ** 3, lambda x: 3 * x ** 2, [1.3], reused),
    ]
    drawn_points = {x for points in drawn.values() for x in points}
    for text, build, value, slope, points, hint in cases:
        for x in points:
            at = "at an a drawn at random" if x in drawn_points else f"at a = {x:g}"
            out, grad = _grad_of(cls, text, build, x, what)
            if out is None:
                return False
            if out is _PLACEHOLDER:
                return not_filled_in(what)
            if not isinstance(out, cls):
                return report(False, what, f"{text} returned {type(out).__name__}, not a {cls.__name__}")
            if not math.isclose(out.data, value(x), rel_tol=1e-12):
                return report(False, what, f"{text} {at} computes the wrong value"
                                           + ("" if x in drawn_points else f" ({out.data!r})"))
            right = slope(x)
            if not isinstance(grad, numbers.Real) or not math.isclose(grad, right, rel_tol=1e-9):
                gives = "" if x in drawn_points else f"gives a.grad = {grad!r}"
                return report(False, what, f"backpropagating through {text} {at} {gives}: {hint}")
            if not math.isclose(grad, right, rel_tol=1e-13):
                return report(False, what, f"backpropagating through {text} {at}: {EXACT}")

    def f(a, b):
        return (a * b).exp() + a ** 3 + (b ** 2).tanh()

    detail = gradient_detail(f, [cls(0.5), cls(-1.2)])
    if detail is not None:
        return report(False, what, "each rule is right alone but not in (a * b).exp() + a ** 3 + "
                                   f"(b ** 2).tanh(): {detail}")
    return report(True, what)


def softplus_reference(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def sigmoid_reference(x):
    """The sigmoid, without an exponential that could overflow."""
    e = math.exp(-abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


@reports_forbidden("Softplus")
def check_softplus(cls):
    """Exercise 3.2: a ``Softplus`` operation class in minigrad's recipe; its rule is compared
    with the exact derivative (to 1e-13) at points shown and drawn at random, while the
    package's autograd is a trap."""
    what = "Softplus"
    if is_placeholder(cls):
        return not_filled_in(what)
    if not (isinstance(cls, type) and issubclass(cls, Value)):
        return report(False, what, f"Softplus should be a class derived from minigrad's Value, got {cls!r}")
    for x in [0.0, 1.5, -2.0, 30.0, 1000.0, -1000.0]:
        try:
            node = cls(Value(x))
        except Exception as error:
            return report(False, what, f"Softplus(Value({x:g})) raised {describe_error(error)}")
        if not (hasattr(node, "data") and hasattr(node, "_prev")):
            return report(False, what, "not filled in yet: Softplus.__init__ recorded no result "
                                       "(it should call self._record(result, a))")
        if not math.isclose(node.data, softplus_reference(x), rel_tol=1e-12, abs_tol=1e-300):
            return report(False, what, f"Softplus(Value({x:g})).data = {node.data!r} is not ln(1 + e^{x:g})")
        if len(node._prev) != 1 or node._prev[0].data != x:
            return report(False, what, "a Softplus node should record its one input in _prev")
    rng = fresh_rng()
    drawn = [float(x) for x in rng.uniform(-30, 30, size=4)]
    for x in [0.3, -2.5, 8.0] + drawn:
        at = "at an a drawn at random" if x in drawn else f"at a = {x:g}"
        a = Value(x)
        node = cls(a)
        try:
            with forbidding(autograd_entries(), [cls], RULE):
                returned = node._backward(2.0)
        except Exception as error:
            return report(False, what, f"_backward(2.0) {at} raised {describe_error(error)}")
        if returned is None and a.grad == 0.0:
            return not_filled_in(what)
        if a.grad != 0.0:
            return report(False, what, "_backward changed the input's grad itself; it should return "
                                       "the local gradient and leave the adding to the traversal")
        if not isinstance(returned, (tuple, list)) or len(returned) != 1:
            return report(False, what, f"_backward should return a tuple of one gradient per input, "
                                       f"(g,), got {returned!r}")
        right = 2.0 * sigmoid_reference(x)
        got = returned[0]
        if not isinstance(got, numbers.Real) or not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-300):
            returns = "" if x in drawn else f" returns {got!r}"
            return report(False, what, f"{at}, _backward(2.0){returns}: it should be the gradient it "
                                       "receives times the derivative of softplus")
        if not math.isclose(got, right, rel_tol=1e-13):
            return report(False, what, f"{at}, _backward(2.0): {EXACT}")
    for x in [1000.0, -1000.0]:
        a = Value(x)
        try:
            cls(a).backward()
        except Exception as error:
            return report(False, what, f"the backward pass at a = {x:g} raised {describe_error(error)}")
        if not math.isclose(a.grad, 1.0 if x > 0 else 0.0, abs_tol=1e-12):
            return report(False, what, f"at a = {x:g} the gradient is {a.grad!r}: not the sigmoid of a")

    def softplus_of(a, b):
        return cls(a * b - 1.0) * b

    for point in ([0.8, -1.5], [3.0, 2.0], [-4.0, 5.0]):
        detail = gradient_detail(softplus_of, [Value(point[0]), Value(point[1])])
        if detail is not None:
            return report(False, what, f"softplus(a * b - 1) * b at a, b = {point}: {detail}")
    return report(True, what)


BY_HAND = "the exercise asks you to work the gradients out by hand"


@reports_forbidden("gradients along several paths")
def check_paths(paths_by_hand):
    """Exercise 3.3: ``paths_by_hand(x)`` returns [d out/dz, d out/dy, d out/dx] for
    y = x², z = y + x, out = z y, worked out by hand; tried at x = 2, the exercise's
    point, and at points drawn at random, while every ``backward`` is a trap."""
    what = "gradients along several paths"
    names = ["d out/dz", "d out/dy", "d out/dx"]
    if is_placeholder(paths_by_hand):
        return not_filled_in(what)
    drawn = [float(x) for x in fresh_rng().uniform(-3, 3, size=3)]
    for x in [2.0] + drawn:
        with forbidding(autograd_entries() + backward_entries(paths_by_hand), [paths_by_hand], BY_HAND):
            try:
                got = paths_by_hand(x)
            except Exception as error:
                return report(False, what, f"paths_by_hand raised {describe_error(error)}")
        y, z = x * x, x * x + x
        # out = z y: dz = y; y feeds out and z; x feeds y twice, z once
        right = [y, z + y, 2 * x * (z + y) + y]
        detail = close_detail(got, right, names=names)
        if detail is not None and x == 2.0:
            return report(False, what, f"at x = 2: {detail}")
        if detail is not None:
            return report(False, what, "right at x = 2 but not at an x drawn at random: compute the "
                                       "gradients from x, not from numbers worked out once")
    return report(True, what, "at x = 2 and at three x drawn at random")


def _graphs():
    """The graphs the sort is tried on: (description, root, every node)."""
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
    deep = Value(1.0, name="start")
    for i in range(10_000):
        deep = deep * 1.0001
        deep.name = f"step {i + 1}"
    return [("out = tanh(x * x + x) * x", small), ("e = (2a + exp a)²", e),
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


@reports_forbidden("topological order")
def check_topological_sort(sort):
    """Exercise 3.4: ``sort(root)`` returns a topological order of root's graph, without recursion
    (and without minigrad's ``topological_order``, a trap while it runs)."""
    what = "topological order"
    if is_placeholder(sort):
        return not_filled_in(what)
    entries = [(autograd, "topological_order", "minigrad's topological_order")]
    entries += autograd_entries()
    for description, root in _graphs():
        try:
            with forbidding(entries, [sort], "the exercise asks you to write the sort"):
                order = sort(root)
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
            return report(False, what, f"your sort returned {type(order).__name__}, not a list of nodes")
        everything = _every_node(root)
        position = {}
        for i, node in enumerate(order):
            if id(node) in position:
                return report(False, what, f"on {description}, node {_label(node)} appears twice")
            position[id(node)] = i
        missing = [node for node in everything if id(node) not in position]
        if missing:
            return report(False, what, f"on {description}, node {_label(missing[0])} is missing"
                                       + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        if len(order) != len(everything):
            return report(False, what, f"on {description}, the order has {len(order)} entries, "
                                       f"the graph {len(everything)} nodes")
        for node in order:
            for parent in node._prev:
                if position[id(parent)] > position[id(node)]:
                    return report(False, what, f"on {description}, node {_label(node)} comes before "
                                               f"its input {_label(parent)}")
    return report(True, what, "on a small graph, a graph with a node used twice, and a chain "
                              "10,000 deep")
