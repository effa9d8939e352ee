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


SHAPES = {"X @ W": (100, 16), "X @ W + b": (100, 16), "(X @ W + b).sum(axis=0)": (16,),
          "X.T @ G": (2, 16), "G @ W.T": (100, 2), "G.mean()": ()}


def test_shapes_passes_the_right_shapes(capsys):
    assert ch06.check_shapes(dict(SHAPES)) is True
    verdict(capsys, True)


@pytest.mark.parametrize("change, says", [
    ({"X @ W": None}, "'X @ W': not filled in yet"),
    ({"G.mean()": (1,)}, "'G.mean()': (1,) is not its shape"),
    ({"X.T @ G": (16, 2)}, "'X.T @ G': (16, 2) is not its shape"),
    ({"G @ W.T": "100 by 2"}, "a shape is a tuple of whole numbers"),
    ({"X + 1": (100, 2)}, "not one of the expressions asked about"),
])
def test_shapes_fails_wrong_answers(capsys, change, says):
    answers = {**SHAPES, **change}
    assert ch06.check_shapes(answers) is False
    out = verdict(capsys, False)
    assert says in out
    wrong_key = next(iter(change))
    if wrong_key in SHAPES:  # the right shape is not given away
        assert out.replace(wrong_key, "").count(str(SHAPES[wrong_key])) == 0


def test_shapes_notices_a_missing_answer(capsys):
    answers = dict(SHAPES)
    del answers["G @ W.T"]
    assert ch06.check_shapes(answers) is False
    assert "no answer for 'G @ W.T'" in verdict(capsys, False)
    assert ch06.check_shapes(None) is False
    assert "not filled in yet" in verdict(capsys, False)


def test_summed_to_shape_is_the_engines_own_unbroadcast_or_none():
    from minigrad.exercises import summed_to_shape
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(summed_to_shape(grad, (3, 1)), grad.sum(axis=(0, 2)).reshape(3, 1))
    assert summed_to_shape(grad, (5,)) is None and summed_to_shape(np.ones(3), (2, 3)) is None
