"""Part II's own engine, yourgrad/tensor.py: every piece has a checker that passes it and
keeps it, and the milestone trains the digits with the file alone. (That the reference is the
notebooks' code is tested with Part I's, in test_your_engine.py.)"""
import pytest

from exercise_verdicts import run_cell
from minigrad.exercises import ch07, ch08, ch09, ch10, part2_milestone, your_engine
from minigrad.exercises.your_engine import catch_up, pieces

#: Each piece's checker, by (chapter, exercise), called with the piece's names.
CHECKERS = {(7, 0): ch07.check_engine, (7, 1): ch07.check_divide, (7, 2): ch07.check_permute,
            (8, 1): ch08.check_matmul, (8, 3): ch08.check_layers,
            (9, 3): ch09.check_adam_step, (9, 4): ch09.check_optimizer,
            (10, 1): ch10.check_weights_round_trip, (10, 2): ch10.check_atomic_save,
            (10, 3): ch10.check_resume, (11, 4): part2_milestone.check_milestone}

#: What a checker needs beyond the piece's own names.
ALSO = {(7, 1): ("MiniTensor",), (7, 2): ("MiniTensor",), (8, 1): ("MiniTensor",),
        (8, 3): ("MiniTensor",), (11, 4): ("MLP", "Adam", "Batches", "MiniTensor")}


def test_every_piece_has_a_checker():
    assert {(p.chapter, p.exercise) for p in pieces("tensor")} == set(CHECKERS)


def _answers(module, piece):
    names = [t for t in piece.targets if "." not in t] + list(ALSO.get((piece.chapter,
                                                                          piece.exercise), ()))
    return {name: getattr(module, name) for name in names}


@pytest.mark.slow
def test_the_reference_passes_every_checker_and_is_kept(own_engine_directory, capsys):
    catch_up("tensor", 12)
    capsys.readouterr()
    for piece in pieces("tensor"):
        module = your_engine.load("tensor")  # the file as the last piece left it
        assert CHECKERS[piece.chapter, piece.exercise](**_answers(module, piece)), piece.title
        out = capsys.readouterr().out
        assert out.startswith("PASS: ") and ", kept in yourgrad/tensor.py" in out, out
        assert "counted as the course's" in out, out  # the course's own code, handed in
    text = (own_engine_directory / "tensor.py").read_text()
    assert [line for line in text.splitlines() if line.startswith("# chapter")] == \
        [f"# chapter {p.chapter}, exercise {p.exercise}: {p.title} (the course's solution)"
         for p in pieces("tensor")]


def test_a_kept_operation_brings_the_engine_it_builds_on(own_engine_directory, capsys):
    """Division kept in a fresh directory: chapter 7's engine comes with it, from the course."""
    module = catch_up("tensor", 8)
    capsys.readouterr()
    (own_engine_directory / "tensor.py").unlink()
    cell = run_cell("import numpy as np\n" + your_engine._piece("tensor", 7, 1).source,
                    {"MiniTensor": module.MiniTensor})
    assert ch07.check_divide(cell["Div"], module.MiniTensor)
    out = capsys.readouterr().out
    assert out.startswith("PASS: Div(a, b)") and "kept in yourgrad/tensor.py" in out
    kept = your_engine.load("tensor")
    assert hasattr(kept, "Div") and hasattr(kept, "mini_backpropagate")


@pytest.mark.slow
def test_the_milestone_fails_a_loop_that_never_zeroes_the_gradients(own_engine_directory, capsys):
    module = catch_up("tensor", 11)
    capsys.readouterr()
    source = your_engine._piece("tensor", 11, 4).source.replace(
        "            optimizer.zero_grad()\n", "")
    cell = run_cell("import time\n" + source, {"CrossEntropy": module.CrossEntropy})
    assert not part2_milestone.check_milestone(cell["train"], module.MLP, module.Adam,
                                               module.Batches, module.MiniTensor)
    out = capsys.readouterr().out
    assert out.startswith("FAIL: Part II milestone") and "short of 97%" in out
    assert "def train" not in (own_engine_directory / "tensor.py").read_text()


def test_the_milestone_refuses_minigrads_own_engine(own_engine_directory, capsys):
    module = catch_up("tensor", 11)
    capsys.readouterr()
    cell = run_cell('''
import time
from minigrad import Adam as PackageAdam

def train(model, optimizer, batches, epochs):
    PackageAdam(model.parameters(), lr=0.01)
    return [1.0] * epochs
''', {})
    assert not part2_milestone.check_milestone(cell["train"], module.MLP, module.Adam,
                                               module.Batches, module.MiniTensor)
    out = capsys.readouterr().out
    assert "your answer calls minigrad's Adam" in out


PLAIN_NUMPY_TRAIN = '''
import time
import numpy as np
def train(model, optimizer, batches, epochs):
    """Trains in plain NumPy: never the engine's MiniTensor, backward(), Adam or Batches."""
    params = [np.array(p.data, dtype=float) for p in model.parameters()]
    X, y = np.asarray(batches.X, dtype=float), np.asarray(batches.y).astype(int)
    m = [np.zeros_like(p) for p in params]; v = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(0)
    t, seconds = 0, []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(X))
        for s in range(0, len(X), 32):
            rows = order[s:s + 32]
            acts = [X[rows]]
            for i in range(0, len(params), 2):
                z = acts[-1] @ params[i] + params[i + 1]
                acts.append(np.maximum(z, 0) if i + 2 < len(params) else z)
            p = np.exp(acts[-1] - acts[-1].max(axis=1, keepdims=True)); p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(rows)), y[rows]] -= 1; g = p / len(rows)
            grads = [None] * len(params)
            for i in range(len(params) - 2, -1, -2):
                grads[i], grads[i + 1] = acts[i // 2].T @ g, g.sum(axis=0)
                g = (g @ params[i].T) * (acts[i // 2] > 0)
            t += 1
            for j in range(len(params)):
                m[j] = 0.9 * m[j] + 0.1 * grads[j]; v[j] = 0.999 * v[j] + 0.001 * grads[j] ** 2
                params[j] -= 0.01 * (m[j] / (1 - 0.9 ** t)) / (np.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8)
        seconds.append(time.perf_counter() - start)
    for p, a in zip(model.parameters(), params):
        p.data = a
    return seconds
'''


def test_the_milestone_fails_a_loop_in_plain_numpy(own_engine_directory, capsys):
    # session 5's A15: a train() that never uses the engine's backward(), Adam or Batches
    module = catch_up("tensor", 11)
    capsys.readouterr()
    cell = run_cell(PLAIN_NUMPY_TRAIN, {})
    assert not part2_milestone.check_milestone(cell["train"], module.MLP, module.Adam,
                                               module.Batches, module.MiniTensor)
    out = capsys.readouterr().out
    assert out.startswith("FAIL: Part II milestone")
    assert "train went over your Batches 0 times in 20 epochs" in out
    assert "def train" not in (own_engine_directory / "tensor.py").read_text()


def test_the_milestone_wants_each_batch_stepped_after_backward(own_engine_directory, capsys):
    module = catch_up("tensor", 11)
    capsys.readouterr()
    source = your_engine._piece("tensor", 11, 4).source
    for old, new, says in [
            ("            loss.backward()\n", "", "without a backward() before it"),
            ("            optimizer.step()\n",
             "            for p in model.parameters():\n"
             "                p.grad = p.grad * 1.5\n"
             "            optimizer.step()\n", "the gradients changed between backward() and"),
            ("            optimizer.step()\n", "", "step() 0 times in ")]:
        assert old in source
        cell = run_cell("import time\n" + source.replace(old, new),
                        {"CrossEntropy": module.CrossEntropy})
        assert not part2_milestone.check_milestone(cell["train"], module.MLP, module.Adam,
                                                   module.Batches, module.MiniTensor)
        out = capsys.readouterr().out
        assert out.startswith("FAIL: Part II milestone") and says in out, out


def test_the_milestone_summary_says_who_wrote_each_piece(own_engine_directory, capsys,
                                                          monkeypatch):
    """After a catch-up every piece is the course's, and the summary says so; a piece the
    reader kept is theirs; the epochs' seconds are those of the last passing training."""
    monkeypatch.setattr(part2_milestone, "_last_run", {})
    catch_up("tensor", 8)
    capsys.readouterr()
    part2_milestone.milestone_summary()
    out = capsys.readouterr().out
    assert "written by you: 0\n" in out and "course's solutions: 3\n" in out, out
    assert "8.1 a matrix product" not in out and "has not passed in this session" in out, out
    path = own_engine_directory / "tensor.py"
    path.write_text(path.read_text().replace(
        "# chapter 7, exercise 1: division, with broadcasting (the course's solution)",
        "# chapter 7, exercise 1: division, with broadcasting"))
    part2_milestone._last_run["seconds"] = [0.25] * 20
    part2_milestone.milestone_summary()
    out = capsys.readouterr().out
    assert "written by you: 1\n  7.1 division, with broadcasting\n" in out, out
    assert "course's solutions: 2\n" in out and out.count("0.250") == 20, out


def test_the_course_solutions_are_text_that_no_answer_can_import():
    # cheat round 2: `from minigrad.exercises.reference.tensor import unbroadcast` passed 7.x
    import importlib
    for engine in ("tensor", "value"):
        with pytest.raises(ImportError):
            importlib.import_module(f"minigrad.exercises.reference.{engine}")
        assert any(p.source for p in pieces(engine))  # still read, as text


@pytest.mark.parametrize("source", [
    "import sys\nref = getattr(sys, 'mod' + 'ules')['minigrad.tensor']\n",
    "import sys\nref = vars(sys)['modules']['minigrad.tensor']\n",
    "import sys\nref = sys.__dict__['modules']\n",
    "import sys as s\nt = s\nref = t.modules\n",
    "from sys import modules\n",
])
def test_a_piece_reaching_sys_modules_any_way_is_refused(source):
    assert your_engine.outside_reaches(source) == ["sys.modules"]


def test_a_piece_using_sys_for_other_things_is_not_refused():
    assert your_engine.outside_reaches("import sys\neps = sys.float_info.epsilon\n") == []


def test_layers_whose_rule_hands_its_work_to_the_packages_rule_fail(own_engine_directory,
                                                                     capsys):
    # cheat round 2: CrossEntropy._backward returning minigrad's CrossEntropy._backward passed
    from minigrad import tensor
    module = catch_up("tensor", 8, 3)
    capsys.readouterr()
    piece = your_engine._piece("tensor", 8, 3)
    cell = run_cell("import numpy as np\n" + piece.source, dict(vars(module)))
    answers = {name: cell[name] for name in piece.targets if "." not in name}
    answers["MiniTensor"] = module.MiniTensor

    def handed_over(self, grad, theirs=tensor.CrossEntropy._backward):
        return theirs(self, grad)
    answers["CrossEntropy"] = type("CrossEntropy", (cell["CrossEntropy"],),
                                   {"_backward": handed_over})
    assert ch08.check_layers(**answers) is False
    out = capsys.readouterr().out
    assert "minigrad's CrossEntropy._backward" in out, out


def test_a_matmul_rule_calling_numpys_broadcast_to_when_b_is_shared_passes(own_engine_directory,
                                                                           capsys):
    # cheat round 2 (an honest answer failed): NumPy's own Python lines were counted as the
    # rule's "Python work for every entry"
    module = catch_up("tensor", 8, 1)
    capsys.readouterr()
    cell = run_cell('''import numpy as np
class MatMul(MiniTensor):
    _op = "@"
    def __init__(self, a, b):
        self._record(a.data @ b.data, a, b)
    def _backward(self, grad):
        a, b = self._prev
        B = b.data
        if B.ndim < a.data.ndim:
            B = np.broadcast_to(B, a.data.shape[:-2] + B.shape[-2:])
        ga = np.einsum("...nm,...km->...nk", grad, B)
        gb = np.einsum("...nk,...nm->...km", a.data, grad)
        if gb.ndim > b.data.ndim:
            gb = gb.sum(axis=tuple(range(gb.ndim - b.data.ndim)))
        return ga, gb
''', {"MiniTensor": module.MiniTensor})
    texts = set()
    for _ in range(2):
        assert ch08.check_matmul(cell["MatMul"], module.MiniTensor) is True, \
            capsys.readouterr().out
        texts.add(capsys.readouterr().out)
    assert len(texts) == 1


@pytest.mark.parametrize("change, says", [
    (None, None),
    ("after", "the parameters changed after the last step()"),
    ("between", "changed outside step()"),
])
def test_training_watched_refuses_weights_put_in_outside_step(own_engine_directory, capsys,
                                                               change, says):
    # cheat round 2: train trained a side model (lr forced to 0 on the real one) and copied
    # its weights in when it returned
    import numpy as np
    from minigrad.exercises.your_engine import training_problem, watching_training
    module = catch_up("tensor", 10)
    capsys.readouterr()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    model = module.MLP(3, [4, 2])
    optimizer = module.Adam(model.parameters(), lr=0.01)
    with watching_training(module.MiniTensor, module.Adam, model.parameters()) as record:
        for step in range(3):
            optimizer.zero_grad()
            module.CrossEntropy(model(module.MiniTensor(X)), y).backward()
            optimizer.step()
            if change == "between" and step == 0:
                model.parameters()[0].data = model.parameters()[0].data + 1.0
        if change == "after":
            model.parameters()[0].data = model.parameters()[0].data * 2.0
    problem = training_problem(record, 3)
    assert problem is None if says is None else says in problem, problem
