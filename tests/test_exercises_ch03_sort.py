"""Chapter 3's checkers against the holes a new-learner review found: a sort that marks
nodes when it meets them (wrong where an intermediate node is used twice), recursion
with a raised limit, and messages that pointed the wrong way."""
import math
import sys

from minigrad import Value
from minigrad.exercises import ch03
from test_exercises_part1 import (RULES, assert_fails, assert_passes, backward_engine,
                                  engine_piece, rules, softplus_class, stable_sigmoid, topo_iterative)

NO_RECURSION = "the exercise asks for a sort without recursion"


def marked_when_pushed(root):
    """The review's wrong sort: a node is marked when pushed, so a node that meets an
    input already pushed by another path is placed before that input."""
    order, visited = [], {root}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in node._prev:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, False))
    return order


def recursive_visit(root):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node._prev:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def test_the_solution_passes_with_one_text(capsys, own_engine_directory):
    assert_passes(capsys, ch03.check_topological_sort, topo_iterative)  # fills in chapter 2
    outputs = {assert_passes(capsys, ch03.check_topological_sort, topo_iterative)
               for _ in range(4)}
    assert len(outputs) == 1


def test_marking_when_pushed_fails_on_a_shared_intermediate_node(capsys):
    assert_fails(capsys, ch03.check_topological_sort, marked_when_pushed,
                 says="node 'm' comes before its input 't'")


def test_drawn_graphs_have_shared_intermediate_nodes():
    # the graphs drawn per run do what they are drawn for: the wrong sort fails on them
    rng = ch03.fresh_rng()
    failed = 0
    for _ in range(20):
        root, _ = ch03.drawn_graph(Value, rng, 20)
        order = marked_when_pushed(root)
        position = {id(node): i for i, node in enumerate(order)}
        failed += any(position[id(p)] > position[id(n)] for n in order for p in n._prev)
    assert failed >= 15


def test_recursion_with_a_raised_limit_fails(capsys):
    def raising_the_limit(root):
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(200_000)
        try:
            return recursive_visit(root)
        finally:
            sys.setrecursionlimit(old)

    assert_fails(capsys, ch03.check_topological_sort, raising_the_limit, says=NO_RECURSION)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200_000)  # raised before the checker runs
    try:
        out = assert_fails(capsys, ch03.check_topological_sort, recursive_visit,
                           says=NO_RECURSION)
    finally:
        sys.setrecursionlimit(old)
    assert "`visit` calls itself" in out
    assert sys.getprofile() is None and sys.getrecursionlimit() == old


def test_recursion_that_swallows_the_stop_still_fails(capsys):
    def swallowing(root):
        try:
            return recursive_visit(root)
        except BaseException:
            return topo_iterative(root)

    assert_fails(capsys, ch03.check_topological_sort, swallowing, says=NO_RECURSION)


def test_recursion_through_a_generator_fails(capsys):
    def generated(root):
        seen = set()

        def walk(node):
            if node not in seen:
                seen.add(node)
                for parent in node._prev:
                    yield from walk(parent)
                yield node

        return list(walk(root))

    assert_fails(capsys, ch03.check_topological_sort, generated, says=NO_RECURSION)


BACKWARD_SORT = "    order = topological_order(self)"


def test_backward_forwards_points_at_the_order(capsys, own_engine_directory):
    out = assert_fails(capsys, ch03.check_backward, backward_engine(
        ("    for node in reversed(order):", "    for node in order:")),
        says="in reverse order, from the root back")
    assert "rather than set" not in out


def test_backward_resetting_the_leaves_says_they_keep_theirs(capsys, own_engine_directory):
    out = assert_fails(capsys, ch03.check_backward, backward_engine(
        ("        if node._prev:\n            node.grad = 0.0",
         "        if True:\n            node.grad = 0.0")),
        says="the leaves keep their grads")
    assert "start every intermediate" not in out


def test_backward_with_the_wrong_sort_fails_on_shared_intermediates(capsys,
                                                                   own_engine_directory):
    Value = backward_engine((BACKWARD_SORT, "    order = marked_when_pushed(self)"))
    Value.backward.__globals__["marked_when_pushed"] = marked_when_pushed
    assert_fails(capsys, ch03.check_backward, Value, says="an intermediate node used twice")


def test_backward_solution_passes_with_one_text(capsys, own_engine_directory):
    outputs = {assert_passes(capsys, ch03.check_backward, backward_engine())
               for _ in range(3)}  # backward_engine() catches up first: the same file
    assert len(outputs) == 1


def test_rules_messages_for_one_input_and_for_pow(capsys, own_engine_directory):
    out = assert_fails(capsys, ch03.check_rules, *rules(
        ("return (grad * (1 - self.data ** 2),)", "return (grad * (1 - self.data),)")),
        says="Tanh._backward(3.0) at a = 0.7:")
    assert "b = " not in out
    out = assert_fails(capsys, ch03.check_rules, *rules(
        ("return (grad * self.n * a.data ** (self.n - 1),)",
         "return (grad * a.data ** self.n,)")), says="Pow._backward(3.0) for a ** ")
    assert "at a = 0.9:" in out  # the point it was tried at, 0.7 made positive
    assert_fails(capsys, ch03.check_rules, *rules(
        ("def rmul(self, other):\n    return Mul(as_value(other), self)",
         "def rmul(self, other):\n    return Mul(other, self)")),
        says="is the plain number wrapped with as_value?")


def test_softplus_rule_with_cancellation_is_called_close_but_not_accurate(capsys):
    class Cancelling(softplus_class()):
        __slots__ = ()

        def _backward(self, grad):
            return (grad * (1 - math.exp(-self.data)),)

    assert_fails(capsys, ch03.check_softplus, Cancelling, says="close to the gradient but not "
                                                               "accurate")
    assert_passes(capsys, ch03.check_softplus, softplus_class())
    assert stable_sigmoid(0.0) == 0.5


def test_recursion_in_a_thread_with_a_big_stack_fails(capsys):
    import threading
    from sys import setrecursionlimit as raise_limit  # taken before the trap is set

    def threaded(root):
        result = []
        old = sys.getrecursionlimit()
        raise_limit(200_000)
        threading.stack_size(512 * 1024 * 1024)
        try:
            worker = threading.Thread(target=lambda: result.append(recursive_visit(root)))
            worker.start()
            worker.join()
        finally:
            threading.stack_size(0)
            raise_limit(old)
        return result[0] if result else []

    assert_fails(capsys, ch03.check_topological_sort, threaded, says=NO_RECURSION)


def test_exercise_3_5_after_skipping_3_3_and_3_4_catches_up(capsys, own_engine_directory):
    """The notebook's cell for 3.5, on a file that has chapter 2 only: no ImportError,
    the course's 3.3 and 3.4 are filled in and named, and the solution passes."""
    import contextlib
    import io
    import json
    from pathlib import Path
    from exercise_verdicts import run_cell
    from minigrad.exercises.your_engine import catch_up
    with contextlib.redirect_stdout(io.StringIO()):
        catch_up("value", 3)  # chapter 2's pieces only
    notebook = Path(__file__).parent.parent / "notebooks" / "03_backpropagation.ipynb"
    cells = ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]]
    solution = next(cell for cell in cells if cell.startswith("# A solution")
                    and "Value.backward = backward" in cell)
    capsys.readouterr()
    namespace = run_cell("import math\n" + solution, {"ch03": ch03})
    out = capsys.readouterr().out
    assert "the rest filled in from the course's solutions" in out, out
    assert "exercise 3: a topological sort" in out and "PASS: your backward()" in out, out
    assert namespace["ok"] is True


def test_backward_messages_for_a_numerical_walk_and_a_leaf_rule(capsys, own_engine_directory):
    Value = backward_engine()
    walk, sort = Value.backward, Value.backward.__globals__["topological_order"]

    def off_by_rounding(self):  # gradients close to the walk's, as a numerical one would be
        walk(self)
        for node in sort(self):
            if not node._prev:
                node.grad *= 1 + 1e-9

    Value.backward = off_by_rounding
    assert_fails(capsys, ch03.check_backward, Value, says="the derivative must be exact")
    out = assert_fails(capsys, ch03.check_backward, backward_engine(
        ("        if node._prev:                   # leaves have no rule\n",
         "        if True:\n")), says="a leaf has no rule to call")
    assert "d/d(leaf" not in out


def test_taking_the_watch_off_fails(capsys):
    import ctypes

    def unwatched(root):
        sys.setprofile(None)
        ctypes.pythonapi.Py_SetRecursionLimit(200_000)
        try:
            return recursive_visit(root)
        finally:
            ctypes.pythonapi.Py_SetRecursionLimit(1000)

    old = sys.getrecursionlimit()
    assert_fails(capsys, ch03.check_topological_sort, unwatched, says="calls sys.setprofile")
    assert sys.getprofile() is None and sys.getrecursionlimit() == old
    assert sys.setprofile.__module__ == "sys"  # put back


# ----- rules and backward() that go another way (round 2) ---------------------------------

HIDDEN_COMPLEX_TANH = '''
    def _backward(self, grad):
        i = float("-1") ** 0.5           # the imaginary unit, never named
        up = math.e ** (2 * (self._prev[0].data + 1e-30 * i))
        down = math.e ** (2 * (self._prev[0].data - 1e-30 * i))
        difference = (up - 1) / (up + 1) - (down - 1) / (down + 1)
        return (grad * (difference * (-i) / 2).real / 1e-30,)
'''


def test_a_rule_taking_a_hidden_complex_step_fails(capsys, own_engine_directory):
    from minigrad.exercises import COMPLEX_STEP
    tanh_rule = ("    def _backward(self, grad):      # d(tanh a)/da = 1 - tanh² a\n"
                 "        return (grad * (1 - self.data ** 2),)\n")
    namespace = engine_piece(3, 4, ((tanh_rule, HIDDEN_COMPLEX_TANH),))
    assert_fails(capsys, ch03.check_rules, *(namespace[name] for name in RULES),
                 says=COMPLEX_STEP)


NETWORKX_WALK = '''    import networkx
    graph, stack, seen = networkx.DiGraph(), [self], {id(self): self}
    graph.add_node(id(self))
    while stack:
        node = stack.pop()
        for parent in node._prev:
            graph.add_edge(id(parent), id(node))
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    order = [seen[key] for key in networkx.topological_sort(graph)]'''

RECOMPILED_WALK = '''    import io, os, types, minigrad
    path = os.path.join(os.path.dirname(minigrad.__file__), "".join(["auto", "grad"]) + ".py")
    code = compile(io.open(path).read(), "mine", "exec")
    walk = [c for c in code.co_consts if getattr(c, "co_name", "") == "topological_order"][0]
    order = types.FunctionType(walk, {})(self)'''


def test_backward_walking_with_networkx_fails(capsys, own_engine_directory):
    assert_fails(capsys, ch03.check_backward, backward_engine((BACKWARD_SORT, NETWORKX_WALK)),
                 says="your answer uses networkx")


def test_backward_walking_with_the_package_compiled_again_fails(capsys, own_engine_directory):
    assert_fails(capsys, ch03.check_backward, backward_engine((BACKWARD_SORT, RECOMPILED_WALK)),
                 says="runs a copy of minigrad's topological_order")
