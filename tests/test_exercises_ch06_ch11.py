"""The checkers of chapter 6 (chapter 11's: test_exercises_ch11.py): each PASSes the solution
and FAILs wrong answers, saying what is wrong without printing the expected answer."""
import numpy as np
import pytest

from minigrad.exercises import ch06


def verdict(capsys, ok):
    """The checker's message, its lines (wrapped to a notebook's width) joined again."""
    out = capsys.readouterr().out
    assert out.startswith("PASS" if ok else "FAIL"), out
    return " ".join(out.split())


# ----- chapter 6 -------------------------------------------------------------------

def test_layer_nodes_passes_the_formula(capsys):
    assert ch06.check_layer_nodes(lambda nin, nout, batch: batch * nout * (2 * nin + 1)) is True
    verdict(capsys, True)


@pytest.mark.parametrize("answer, says", [
    (None, "not filled in yet"),
    (lambda nin, nout, batch: ..., "not filled in yet"),
    (lambda nin, nout, batch: batch * nout * 2 * nin, "builds more than that"),           # forgot the ReLU
    (lambda nin, nout, batch: batch * nout * (2 * nin + 1) + nin * nout + nout,   # counted the parameters
     "builds fewer than that"),
    (lambda nin, nout, batch: nout * (2 * nin + 1), "batch=5"),                    # one point only
    (lambda nin, nout, batch: float(batch * nout * (2 * nin + 1)), "whole number"),
    (lambda nin, nout: 0, "raised TypeError"),
    (42, "expected a function"),
])
def test_layer_nodes_fails_wrong_answers(capsys, answer, says):
    assert ch06.check_layer_nodes(answer) is False
    assert says in verdict(capsys, False)


def test_layer_nodes_built_counts_only_new_nodes():
    # one neuron of one input on one point: w*x, b + w*x, relu
    assert ch06.layer_nodes_built(1, 1, 1) == 3
    assert ch06.layer_nodes_built(3, 2, 5) == 5 * 2 * 7


@pytest.mark.parametrize("nin, nout, batch", [(1, 1, 1), (3, 2, 5), (7, 4, 3), (16, 16, 10), (39, 2, 3)])
def test_the_checkers_formula_is_the_graphs_count(nin, nout, batch):
    assert ch06.layer_nodes_by_formula(nin, nout, batch) == ch06.layer_nodes_built(nin, nout, batch)


def test_layer_nodes_refuses_counting_by_program(capsys):
    from minigrad.autograd import topological_order
    from minigrad.value import Value
    from minigrad.value_nn import ValueMLP

    def built(nin, nout, batch):  # issue 16's cheat: build the layer and count its graph
        return ch06.layer_nodes_built(nin, nout, batch)
    assert ch06.check_layer_nodes(built) is False
    assert ("calls the checker's own layer_nodes_built: the exercise asks for the count by formula"
            in verdict(capsys, False))

    def through_a_model(nin, nout, batch):
        model = ValueMLP(nin, [nout], activation="relu")
        return sum(len(topological_order(model([Value(0.0)] * nin))) for _ in range(batch))
    assert ch06.check_layer_nodes(through_a_model) is False
    assert "calls minigrad's ValueMLP" in verdict(capsys, False)

    def own_graph(nin, nout, batch):  # the nodes made by hand, with the package's Value
        before = [Value(1.0) for _ in range(nin)]
        return batch * nout * len([sum(v * v for v in before).relu()])
    assert ch06.check_layer_nodes(own_graph) is False
    assert "calls minigrad's Value" in verdict(capsys, False)


class _Node:
    """A node of a graph a cheating answer builds itself, to count."""
    def __init__(self, *parents):
        self.parents = parents


def count_own_graph(nin, nout, batch):
    """Issue 16's cheat, with classes of the reader's own: build every node and count."""
    made = 0
    for _ in range(batch):
        for _ in range(nout):
            total = _Node()
            for _ in range(nin):
                product = _Node()
                total = _Node(total, product)
                made += 2
            _Node(total)
            made += 1
    return made


ENGINE_SOURCE = """
class Value:
    def __init__(self, data, parents=()):
        self.data, self.parents = data, parents
    def __mul__(self, other):
        return Value(self.data * other.data, (self, other))
"""


def test_layer_nodes_refuses_building_a_graph_of_its_own_or_the_readers_engine(capsys):
    import types
    assert ch06.check_layer_nodes(count_own_graph) is False
    assert "does work for every node it counts" in verdict(capsys, False)

    engine = types.ModuleType("yourgrad.value")  # as catch_up() loads the reader's engine
    exec(ENGINE_SOURCE, vars(engine))

    def through_the_readers_engine(nin, nout, batch):
        one = engine.Value(1.0)
        return batch * nout * (len([one * one for _ in range(nin)]) * 2 + 1)
    assert ch06.check_layer_nodes(through_the_readers_engine) is False
    assert "runs the code of yourgrad.value" in verdict(capsys, False)

    def untraced(nin, nout, batch):
        import sys
        sys.settrace(None)
        return batch * nout * (2 * nin + 1)
    assert ch06.check_layer_nodes(untraced) is False
    assert "turned off or replaced the checker's tracing" in verdict(capsys, False)


def test_layer_nodes_passes_a_sum_over_points_and_neurons(capsys):
    def summed(nin, nout, batch):  # a loop, not a graph: still a formula
        total = 0
        for _ in range(batch):
            for _ in range(nout):
                total += nin + nin + 1
        return total
    assert ch06.check_layer_nodes(summed) is True
    verdict(capsys, True)


def test_layer_nodes_fails_a_table_of_the_named_sizes(capsys):
    table = {sizes: ch06.layer_nodes_by_formula(*sizes) for sizes in ch06.NODE_SIZES}
    assert ch06.check_layer_nodes(lambda nin, nout, batch: table.get((nin, nout, batch), 0)) is False
    out = verdict(capsys, False)
    assert "for sizes drawn at random, layer_nodes is wrong" in out and "right at the sizes named" in out


def test_chapter_6_verdicts_read_the_same_on_every_run(capsys):
    for checker, answer in ((ch06.check_layer_nodes, lambda nin, nout, batch: batch * nout * (2 * nin + 1)),
                            (ch06.check_layer_nodes, lambda nin, nout, batch: batch * nout * 2 * nin),
                            (ch06.check_dot_products, lambda A, B: A @ B.T),
                            (ch06.check_dot_products, lambda A, B: A @ B.T + 1)):
        outputs = set()
        for _ in range(4):
            checker(answer)
            outputs.add(capsys.readouterr().out)
        assert len(outputs) == 1, outputs


def test_dot_products_passes_one_matrix_product(capsys):
    assert ch06.check_dot_products(lambda A, B: A @ B.T) is True
    verdict(capsys, True)


@pytest.mark.parametrize("answer, says", [
    (lambda A, B: ..., "not filled in yet"),
    (lambda A, B: A @ B, "raised ValueError"),
    (lambda A, B: B @ A.T, "has shape (5, 3)"),
    (lambda A, B: np.zeros((A.shape[0], B.shape[0])), "entry [0, 0] is not the dot product"),
    (lambda A, B: (A @ B.T) * (1 + 1e-6), "is not the dot product"),
    (lambda A, B: (row for row in A @ B.T), "returned generator: it should return an array of numbers"),
    (lambda A, B: [[1.0], [1.0, 2.0]], "returned list: it should return an array of numbers"),
])
def test_dot_products_fails_wrong_answers(capsys, answer, says):
    assert ch06.check_dot_products(answer) is False
    out = verdict(capsys, False)
    assert says in out
    assert "array(" not in out  # arrays are described by their shape, not printed


@pytest.mark.parametrize("answer", [
    lambda A, B: np.array([[a @ b for b in B] for a in A]),
    lambda A, B: np.array([[np.dot(A[i], B[j]) for j in range(len(B))]
                           for i in range(len(A))]),
    lambda A, B: np.array([A @ row for row in B]).T,
])
def test_dot_products_fails_a_python_loop(capsys, answer):
    """Right numbers, but the exercise asks for one matrix product and no Python loop."""
    assert ch06.check_dot_products(answer) is False
    assert "row by row (or entry by entry) in Python" in verdict(capsys, False)


@pytest.mark.parametrize("answer", [
    lambda A, B: np.array([[a @ b for b in np.asarray(B)] for a in np.asarray(A)]),
    lambda A, B: np.vstack([A[i:i + 1] @ B.T for i in range(A.shape[0])]),
    lambda A, B: np.hstack([A @ B[j:j + 1].T for j in range(B.shape[0])]),
    lambda A, B: sum(np.outer(A[:, t], B[:, t]) for t in range(A.shape[1])),
    lambda A, B: np.array(list(map(lambda row: row @ np.asarray(B).T, np.asarray(A)))),
])
def test_dot_products_fails_a_loop_over_plain_copies_or_slices(capsys, answer):
    """Issue 16's cheats: the loop goes over np.asarray(A)'s rows, or over slices."""
    assert ch06.check_dot_products(answer) is False
    assert "row by row (or entry by entry) in Python" in verdict(capsys, False)


def test_dot_products_passes_more_whole_array_forms(capsys):
    for answer in (lambda A, B: np.tensordot(A, B, axes=(1, 1)), lambda A, B: np.inner(A, B),
                   lambda A, B: (B @ A.T).T, lambda A, B: np.asarray(A) @ np.asarray(B).T,
                   lambda A, B: (A[:, None, :] * B[None, :, :]).sum(axis=2)):
        assert ch06.check_dot_products(answer) is True
        verdict(capsys, True)


def test_dot_products_passes_whole_array_forms(capsys):
    for answer in (lambda A, B: np.dot(A, B.T), lambda A, B: np.matmul(A, np.transpose(B)),
                   lambda A, B: np.einsum("ik,jk->ij", A, B)):
        assert ch06.check_dot_products(answer) is True
        verdict(capsys, True)


def test_dot_products_fails_an_answer_for_the_named_shapes_only(capsys):
    named = {(m, k) for m, n, k in ch06.DOT_SHAPES}
    assert ch06.check_dot_products(lambda A, B: A @ B.T if A.shape in named else A @ B.T * 2) is False
    assert "for A and B of shapes drawn at random, an entry is not the dot product" \
        in verdict(capsys, False)


def shapes_by_rule(n, d, h):
    return {"X @ W": (n, h), "X @ W + b": (n, h), "(X @ W + b).sum(axis=0)": (h,),
            "X.T @ G": (d, h), "G @ W.T": (n, d), "G.mean()": ()}


def test_shapes_passes_the_right_shapes_with_the_same_text(capsys):
    outputs = set()
    for _ in range(3):
        assert ch06.check_shapes(shapes_by_rule) is True
        outputs.add(verdict(capsys, True))
    assert len(outputs) == 1
    # a list for a shape, a helper of the reader's own: still honest
    def as_lists(n, d, h):
        def product(left, right):
            return [left[0], right[1]]
        return {**shapes_by_rule(n, d, h), "X @ W": product((n, d), (d, h))}
    assert ch06.check_shapes(as_lists) is True
    verdict(capsys, True)


@pytest.mark.parametrize("change, says", [
    (lambda n, d, h: {"X @ W": None}, "'X @ W': not filled in yet"),
    (lambda n, d, h: {"G.mean()": (n,)}, "'G.mean()': (n,) is not its shape"),
    (lambda n, d, h: {"X.T @ G": (h, d)}, "'X.T @ G': (h, d) is not its shape"),
    (lambda n, d, h: {"G @ W.T": "n by d"}, "a shape is a tuple of the sizes n, d and h"),
    (lambda n, d, h: {"X @ W": (100, 16)}, "got (100, 16)"),     # the sizes of the old question
    (lambda n, d, h: {"X + 1": (n, d)}, "not one of the expressions asked about"),
])
def test_shapes_fails_wrong_answers(capsys, change, says):
    def answer(n, d, h):
        return {**shapes_by_rule(n, d, h), **change(n, d, h)}
    assert ch06.check_shapes(answer) is False
    out = verdict(capsys, False)
    assert says in out
    wrong = next(iter(change("n", "d", "h")))
    if wrong in ch06.SHAPE_QUESTIONS:  # the right shape is not given away
        right = "(" + ", ".join(shapes_by_rule("n", "d", "h")[wrong]) + ")"
        assert out.replace(wrong, "").count(right) == 0


def test_shapes_notices_a_missing_answer_and_the_placeholder(capsys):
    def missing(n, d, h):
        answers = shapes_by_rule(n, d, h)
        del answers["G @ W.T"]
        return answers
    assert ch06.check_shapes(missing) is False
    assert "no answer for 'G @ W.T'" in verdict(capsys, False)
    assert ch06.check_shapes(None) is False
    assert "not filled in yet" in verdict(capsys, False)
    assert ch06.check_shapes(lambda n, d, h: None) is False
    assert "not filled in yet" in verdict(capsys, False)
    assert ch06.check_shapes({"X @ W": (100, 16)}) is False     # the old form of the question
    assert "should be a function" in verdict(capsys, False)


ARRAY = np.zeros(3)   # an array of the reader's notebook, from which to make others


def shapes_by_numpy(n, d, h):
    """Issue 16's cheat: run the expressions on arrays of stand-in sizes, read the shapes."""
    stand_in, back = {n: 2, d: 3, h: 5}, {2: n, 3: d, 5: h}
    arrays = {name: type(ARRAY)(tuple(stand_in[s] for s in shape))
              for name, shape in (("X", (n, d)), ("W", (d, h)), ("b", (h,)), ("G", (n, h)))}
    return {q: tuple(back[s] for s in np.shape(eval(q, {}, arrays)))
            for q in ch06.SHAPE_QUESTIONS}


def shapes_by_zeros(n, d, h):
    X = np.zeros((n, d))  # the sizes are no numbers: NumPy cannot make this
    return {q: X.shape for q in ch06.SHAPE_QUESTIONS}


def shapes_untraced(n, d, h):
    import sys
    sys.settrace(None)
    return shapes_by_rule(n, d, h)


@pytest.mark.parametrize("answer, says", [
    (shapes_by_numpy, "runs the code of numpy"),
    (shapes_by_zeros, "raised TypeError"),
    (shapes_untraced, "turned off or replaced the checker's tracing"),
])
def test_shapes_refuses_running_the_expressions(capsys, answer, says):
    assert ch06.check_shapes(answer) is False
    out = verdict(capsys, False)
    assert says in out


def test_summed_to_shape_is_the_engines_own_unbroadcast_or_none():
    from minigrad.exercises import summed_to_shape
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(summed_to_shape(grad, (3, 1)), grad.sum(axis=(0, 2)).reshape(3, 1))
    assert summed_to_shape(grad, (5,)) is None and summed_to_shape(np.ones(3), (2, 3)) is None


def test_layer_nodes_refuses_the_checkers_code_copied_out(capsys):
    """A function made of the checker's own code (its __code__, copied before the check, so
    that no trap replaced it) still runs the package's code."""
    import types
    copied = types.FunctionType(ch06.layer_nodes_by_formula.__code__, {})
    assert ch06.check_layer_nodes(lambda nin, nout, batch: copied(nin, nout, batch)) is False
    assert "holds a copy of minigrad's layer_nodes_by_formula" in verdict(capsys, False)


def test_shapes_refuses_the_checkers_own_shapes(capsys):
    def from_the_checker(n, d, h):
        names = {"n": n, "d": d, "h": h}
        found = ch06._true_shapes({"n": 2, "d": 3, "h": 5})
        return {q: tuple(names[s] for s in shape) for q, shape in found.items()}
    assert ch06.check_shapes(from_the_checker) is False
    assert "calls the checker's own _true_shapes" in verdict(capsys, False)


def _loop_in_a_thread(A, B):
    import threading
    plain, other, box = np.asarray(A), np.asarray(B), []
    worker = threading.Thread(target=lambda: box.append(
        np.array([[a @ b for b in other] for a in plain])))
    worker.start()
    worker.join()
    return box[0]


def _loop_in_a_process(A, B):
    import subprocess
    subprocess.run(["true"], check=True)  # the work done there is out of sight
    return np.asarray(A) @ np.asarray(B).T


def _loop_through_ctypes(A, B):
    import ctypes
    ctypes.CDLL(None)
    return np.asarray(A) @ np.asarray(B).T


@pytest.mark.parametrize("answer, says", [
    (_loop_in_a_thread, "threading"), (_loop_in_a_process, "subprocess"),
    (_loop_through_ctypes, "ctypes")])
def test_dot_products_fails_work_in_another_thread_or_process(capsys, answer, says):
    """Cheat round 2: a loop in a threading.Thread passed, its steps out of the tracing."""
    assert ch06.check_dot_products(answer) is False
    out = verdict(capsys, False)
    assert f"runs the code of {says}" in out and "another thread or process" in out


def test_run_traced_reports_process_starts_and_ctypes():
    import os
    from minigrad.exercises.what_runs import run_traced
    assert run_traced(os.system, "true")[2] == "posix"
    assert run_traced(os.getpid)[2] is None
    assert run_traced(lambda: __import__("ctypes").CDLL(None))[2].startswith("ctypes")
