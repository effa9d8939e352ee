"""The checkers of chapters 6 and 11: each PASSes the solution and FAILs wrong answers,
saying what is wrong without printing the expected answer."""
import numpy as np
import pytest

from minigrad import speed
from minigrad.exercises import ch06, ch11


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
    assert "calls minigrad's ValueLayer: the exercise asks for the count by formula" in verdict(capsys, False)

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


# ----- chapter 11 ------------------------------------------------------------------

def solution_multiply_adds(width, batch):
    forward = batch * (2 * width + width * width + width)
    return 2 * forward + batch * (width * width + width)


def test_multiply_adds_passes_the_count_and_agrees_with_the_package(capsys):
    assert ch11.check_multiply_adds(solution_multiply_adds) is True
    verdict(capsys, True)
    for w, b in [(1, 1), (7, 3), (32, 10)]:
        assert speed.multiply_adds(w, b) == solution_multiply_adds(w, b) == ch11.matmul_work_in_graph(w, b)


@pytest.mark.parametrize("answer, says", [
    (lambda w, b: ..., "not filled in yet"),
    (lambda w, b: b * (2 * w + w * w + w), "too few"),                        # forward only
    (lambda w, b: 3 * b * (2 * w + w * w + w), "too many"),                    # a gradient for X too
    (lambda w, b: 2 * b * (2 * w + w * w + w) + b * w * w, "too few"),          # forgot one layer's input
    (lambda w, b: "many", "should be a number"),
])
def test_multiply_adds_fails_wrong_answers(capsys, answer, says):
    assert ch11.check_multiply_adds(answer) is False
    assert says in verdict(capsys, False)


def test_per_node_fit_passes_least_squares(capsys):
    fit = lambda n, t: float(np.dot(n, t) / np.dot(n, n))
    assert ch11.check_per_node_fit(fit) is True
    verdict(capsys, True)


@pytest.mark.parametrize("answer, says", [
    (lambda n, t: ..., "not filled in yet"),
    (lambda n, t: float(np.mean(np.array(t) / np.array(n))), "sum of squared errors"),   # mean of ratios
    (lambda n, t: float(sum(t) / sum(n)), "sum of squared errors"),                     # ratio of sums
    (lambda n, t: float(np.polyfit(n, t, 1)[0]), "sum of squared errors"),              # a line not through 0
    (lambda n, t: [1.0, 2.0], "expected one number"),
])
def test_per_node_fit_fails_wrong_answers(capsys, answer, says):
    assert ch11.check_per_node_fit(answer) is False
    assert says in verdict(capsys, False)


def test_crossover_passes_the_balance_point(capsys):
    def crossover(width, per_node, per_op, nodes=21):
        return per_node * nodes / (per_op * speed.multiply_adds(width, 1))
    assert ch11.check_crossover(crossover) is True
    verdict(capsys, True)


@pytest.mark.parametrize("answer, says", [
    (None, "not filled in yet"),
    (lambda w, a, c, n=21: a * n / (c * w * w), "the arithmetic would take"),                     # w^2 only
    (lambda w, a, c, n=21: a / (c * speed.multiply_adds(w, 1)), "less time than the per-node"),    # forgot N_t
    (lambda w, a, c, n=21: c * speed.multiply_adds(w, 1) / (a * n), "the arithmetic would take"),  # upside down
    (lambda w, a, c, n=21: "big", "expected a number"),
])
def test_crossover_fails_wrong_answers(capsys, answer, says):
    assert ch11.check_crossover(answer) is False
    assert says in verdict(capsys, False)


def test_summed_to_shape_is_the_engines_own_unbroadcast_or_none():
    from minigrad.exercises import summed_to_shape
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(summed_to_shape(grad, (3, 1)), grad.sum(axis=(0, 2)).reshape(3, 1))
    assert summed_to_shape(grad, (5,)) is None and summed_to_shape(np.ones(3), (2, 3)) is None


def test_multiply_adds_refuses_the_packages_count(capsys):
    # issue 16's cheats: the function itself, wrapped in a lambda, or called through the module
    import minigrad
    for answer in (speed.multiply_adds, lambda w, b: speed.multiply_adds(w, b),
                   lambda w, b: minigrad.speed.multiply_adds(w, b) + 0):
        ok = ch11.check_multiply_adds(answer)
        out = verdict(capsys, ok)
        assert not ok and "minigrad's speed.multiply_adds" in out and "write the count yourself" in out, out
    assert speed.multiply_adds(4, 8) == solution_multiply_adds(4, 8)  # put back


@pytest.mark.parametrize("width, batch", [(1, 1), (2, 3), (7, 3), (32, 10), (5, 64)])
def test_the_checkers_count_is_the_graphs(width, batch):
    assert ch11.step_multiply_adds(width, batch) == ch11.matmul_work_in_graph(width, batch)


def test_chapter_11_answers_right_only_on_the_named_cases_fail(capsys):
    counts = {(w, b): solution_multiply_adds(w, b) for w, b in [(1, 1), (4, 8), (16, 100), (3, 7), (64, 2)]}
    assert ch11.check_multiply_adds(lambda w, b: counts.get((w, b), 0)) is False
    assert "for a width and batch drawn at random you count too few, though your count is right" \
        in verdict(capsys, False)

    nodes, seconds = ch11._fits(np.random.default_rng())[0]  # the set named in messages
    first_slope = float(nodes @ seconds / (nodes @ nodes))
    assert ch11.check_per_node_fit(lambda n, t: first_slope) is False  # a number copied in
    assert "on measurements drawn at random your slope leaves a sum of squared errors larger" \
        in verdict(capsys, False)

    def crossover(width, per_node, per_op, nodes=21):
        return per_node * nodes / (per_op * solution_multiply_adds(width, 1))
    table = {case: crossover(*case) for case in ch11.CROSSOVER_CASES}
    assert ch11.check_crossover(lambda *case: table.get(case, 1.0)) is False
    assert "for costs drawn at random: at your batch the arithmetic would take" in verdict(capsys, False)


def test_crossover_passes_a_count_of_ones_own(capsys):
    def crossover(width, per_node, per_op, nodes=21):  # the first exercise's count, not the package's
        return per_node * nodes / (per_op * solution_multiply_adds(width, 1))
    assert ch11.check_crossover(crossover) is True
    verdict(capsys, True)


def test_chapter_11_verdicts_read_the_same_on_every_run(capsys):
    fit = lambda n, t: float(np.dot(n, t) / np.dot(n, n))
    for checker, answer in ((ch11.check_multiply_adds, solution_multiply_adds),
                            (ch11.check_per_node_fit, fit),
                            (ch11.check_per_node_fit, lambda n, t: float(sum(t) / sum(n))),
                            (ch11.check_crossover, lambda w, a, c, n=21: a * n / (c * speed.multiply_adds(w, 1)))):
        outputs = set()
        for _ in range(4):
            checker(answer)
            outputs.add(capsys.readouterr().out)
        assert len(outputs) == 1, outputs
