"""The checkers of chapters 9 and 10 PASS the books' solutions and FAIL wrong answers, saying what is wrong."""
import os
import pickle
import tempfile

import numpy as np
import pytest

# The judges themselves: the check_* that the notebooks call also keep a passing answer in
# yourgrad/tensor.py (tests/test_your_tensor.py).
from minigrad.exercises.ch09 import (_check_adam_step as check_adam_step, check_precision_recall,
                                     check_stratified_split)
from minigrad.exercises.ch10 import (_check_atomic_save as check_atomic_save,
                                     _check_resume as check_resume,
                                     _check_weights_round_trip as check_weights_round_trip)
from minigrad.model_files import load_checkpoint, save_checkpoint
from minigrad.tensor_nn import MLP


def outcome(capsys, checker, *answers):
    """The checker's verdict, and what it printed with the line wrapping undone."""
    ok = checker(*answers)
    out = capsys.readouterr().out
    assert out.startswith("PASS" if ok else "FAIL"), out
    return ok, " ".join(out.split())


# ----- 9.1 stratified split ---------------------------------------------------------

def stratified_split(y, test_fraction, rng):
    train, test = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        k = round(test_fraction * len(members))
        test.append(members[:k])
        train.append(members[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def test_stratified_split_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_stratified_split, stratified_split)
    assert ok, out


@pytest.mark.parametrize("wrong, says", [
    (None, "not filled in"),
    (lambda y, f, rng: ..., "not filled in"),
    (lambda y, f, rng: (rng.permutation(len(y))[int(f * len(y)):], rng.permutation(len(y))[:int(f * len(y))]),
     "appears"),  # two separate permutations: overlapping sets
    (lambda y, f, rng: (lambda order: (order[round(f * len(y)):], order[:round(f * len(y))]))(rng.permutation(len(y))),
     "class"),  # a plain random split: the proportions per class are off
    (lambda y, f, rng: tuple(np.concatenate(parts) for parts in zip(*[
        (np.flatnonzero(y == c)[round(f * np.sum(y == c)):], np.flatnonzero(y == c)[:round(f * np.sum(y == c))])
        for c in np.unique(y)])), "first (or last)"),  # stratified but not random
    (lambda y, f, rng: stratified_split(y, f, np.random.default_rng()), "same seed"),
    (lambda y, f, rng: stratified_split(y, f, np.random.default_rng(5)), "different seeds"),
    (lambda y, f, rng: stratified_split(y, f, rng)[0], "two index arrays"),
    (lambda y, f, rng: (stratified_split(y, f, rng)[0], np.array([], dtype=int)), "in neither set"),
    (lambda y, f, rng: 1 / 0, "ZeroDivisionError"),
])
def test_stratified_split_fails_wrong_answers(capsys, wrong, says):
    ok, out = outcome(capsys, check_stratified_split, wrong)
    assert not ok and says in out, out


# ----- 9.2 precision and recall --------------------------------------------------------

def precision_recall(C):
    C = np.asarray(C, dtype=float)
    right = np.diag(C)
    predicted, actual = C.sum(axis=0), C.sum(axis=1)
    precision = np.divide(right, predicted, out=np.zeros(len(C)), where=predicted > 0)
    recall = np.divide(right, actual, out=np.zeros(len(C)), where=actual > 0)
    return precision, recall


def test_precision_recall_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_precision_recall, precision_recall)
    assert ok, out


def _naive(C):  # divides by zero for a class never predicted: nan (NumPy warns; silence it here)
    C = np.asarray(C, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)


@pytest.mark.parametrize("wrong, says", [
    (None, "not filled in"),
    (lambda C: (None, None), "not filled in"),
    (lambda C: precision_recall(C)[::-1], "swapped"),
    (_naive, "nan"),
    (lambda C: (np.diag(C) / np.asarray(C).sum(), precision_recall(C)[1]), "precision of class"),
    (lambda C: (precision_recall(C)[0], precision_recall(C)[1][:-1]), "shape"),
    (lambda C: precision_recall(C)[0], "two arrays"),
])
def test_precision_recall_fails_wrong_answers(capsys, wrong, says):
    ok, out = outcome(capsys, check_precision_recall, wrong)
    assert not ok and says in out, out


def test_stratified_split_refuses_the_packages_split(capsys):
    from minigrad.datasets import train_test_split

    def per_class(y, f, rng):  # the package's random split, class by class
        train, test = [], []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            a, b, _, _ = train_test_split(members, members, test_size=f, seed=int(rng.integers(2**31)))
            train.append(a)
            test.append(b)
        return np.concatenate(train), np.concatenate(test)
    ok, out = outcome(capsys, check_stratified_split, per_class)
    assert not ok and "calls minigrad's train_test_split: the exercise asks you to write it" in out, out


def test_chapter_9_answers_right_only_on_the_named_cases_fail(capsys):
    def remembers_the_first_case(C):
        return precision_recall(C) if len(C) == 3 else (np.zeros(len(C)), np.zeros(len(C)))
    ok, out = outcome(capsys, check_precision_recall, remembers_the_first_case)
    assert not ok and "10x10 confusion matrix drawn at random: the precision of some class is wrong" \
        in out, out

    def sorted_case_only(y, f, rng):  # right for 100 labels, a plain random split otherwise
        if len(y) == 100:
            return stratified_split(y, f, rng)
        order = rng.permutation(len(y))
        return order[round(f * len(y)):], order[:round(f * len(y))]
    ok, out = outcome(capsys, check_stratified_split, sorted_case_only)
    assert not ok and ("one of them a single example: a class has too" in out  # (almost always)
                       or "labels of 10 classes drawn at random: a class has too" in out), out


def test_chapter_9_verdicts_read_the_same_on_every_run(capsys):
    for checker, answer in ((check_stratified_split, stratified_split),
                            (check_precision_recall, precision_recall),
                            (check_precision_recall, _naive),
                            (check_adam_step, no_correction)):
        assert len({outcome(capsys, checker, answer)[1] for _ in range(4)}) == 1, checker


# ----- 9.3 one Adam step -----------------------------------------------------------------

def adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_adam_step_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_adam_step, adam_step)
    assert ok, out


def no_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    return p - lr * m / (np.sqrt(v) + eps), m, v


def eps_inside(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), m, v


def plain_v(p, g, m, v, t, lr, beta1, beta2, eps):
    return adam_step(p, np.abs(g), m, v, t, lr, beta1, beta2, eps)[0], beta1 * m + (1 - beta1) * g, \
        beta2 * v + (1 - beta2) * np.abs(g)


@pytest.mark.parametrize("wrong, says", [
    (None, "not filled in"),
    (lambda *args: None, "not filled in"),
    (no_correction, "step 1, the new p"),
    (plain_v, "squared gradients"),
    (eps_inside, "where eps goes"),
    (lambda p, g, m, v, t, lr, b1, b2, eps: (p - lr * g, m, v), "running average of the gradients"),
    (lambda p, g, *rest: (p, g), "three arrays"),
])
def test_adam_step_fails_wrong_answers(capsys, wrong, says):
    ok, out = outcome(capsys, check_adam_step, wrong)
    assert not ok and says in out, out


# ----- 10.1 weights round trip ------------------------------------------------------------

def save_weights(model, path):
    np.savez(path, **{f"p{i}": p.data for i, p in enumerate(model.parameters())})


def load_weights(model, path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = [archive[f"p{i}"] for i in range(len(archive.files))]
    params = model.parameters()
    if len(arrays) != len(params):
        raise ValueError(f"the file holds {len(arrays)} arrays, the model has {len(params)} parameters")
    for i, (p, a) in enumerate(zip(params, arrays)):
        if a.shape != p.data.shape:
            raise ValueError(f"p{i}: shape {a.shape} in the file, {p.data.shape} in the model")
    for p, a in zip(params, arrays):
        p.data = a


def test_weights_round_trip_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_weights_round_trip, save_weights, load_weights)
    assert ok, out


def careless_load(model, path):  # changes the first layers before finding one that does not fit
    with np.load(path) as archive:
        for i, p in enumerate(model.parameters()):
            a = archive[f"p{i}"]
            if a.shape != p.data.shape:
                raise ValueError("does not fit")
            p.data = a


def count_then_load(model, path):  # checks the number of arrays, then each shape while loading
    with np.load(path) as archive:
        params = model.parameters()
        if len(archive.files) != len(params):
            raise ValueError("wrong number of arrays")
        for i, p in enumerate(params):
            a = archive[f"p{i}"]
            if a.shape != p.data.shape:
                raise ValueError(f"p{i} does not fit")
            p.data = a


def pickling_save(model, path):
    np.savez(path, params=np.array([p.data for p in model.parameters()] + [None], dtype=object))


@pytest.mark.parametrize("save, load, says", [
    (None, load_weights, "not filled in"),
    (lambda m, p: None, lambda m, p: None, "wrote no file"),
    (pickling_save, load_weights, "pickled"),
    (lambda m, p: np.save(p, m.parameters()[0].data), load_weights, "it wrote first_float64.npz.npy"),
    (lambda m, p: np.save(open(p, "wb"), m.parameters()[0].data), load_weights, "single array"),
    (save_weights, lambda m, p: None, "differs from the saved one"),
    (save_weights, lambda m, p: [setattr(q, "data", a.astype(np.float64)) for q, a in
                                 zip(m.parameters(), np.load(p).values())], "dtype"),
    (save_weights, careless_load, "still changed"),
    (save_weights, count_then_load, "still changed W of layer 0 of MLP(3, [6, 6, 6, 6, 6, 4])"),
    (save_weights, lambda m, p: [setattr(q, "data", a) for q, a in zip(m.parameters(), np.load(p).values())],
     "raised no error"),
])
def test_weights_round_trip_fails_wrong_answers(capsys, save, load, says):
    ok, out = outcome(capsys, check_weights_round_trip, save, load)
    assert not ok and says in out, out


# ----- 10.2 atomic save ----------------------------------------------------------------------

def atomic_save(path, write):
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def test_atomic_save_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_atomic_save, atomic_save)
    assert ok, out


def direct(path, write):
    with open(path, "wb") as file:
        write(file)


def no_fsync(path, write):
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def leaky(path, write):  # cleans up on errors but not on KeyboardInterrupt
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except Exception:
        os.unlink(temporary)
        raise


def no_flush(path, write):  # fsyncs the descriptor while the last bytes wait in Python's buffer
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as file:
            write(file)
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def swallowing(path, write):
    try:
        atomic_save(path, write)
    except BaseException:
        pass


def elsewhere(path, write):
    with tempfile.NamedTemporaryFile(delete=False) as file:  # in the system's temporary directory
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(file.name, path)


@pytest.mark.parametrize("wrong, says", [
    (None, "not filled in"),
    (lambda path, write: None, "never called write"),
    (direct, "rename"),
    (no_fsync, "fsync"),
    (no_flush, "flush Python's buffer before fsync"),
    (leaky, "left a temporary file"),
    (swallowing, "raised nothing"),
])
def test_atomic_save_fails_wrong_answers(capsys, wrong, says):
    ok, out = outcome(capsys, check_atomic_save, wrong)
    assert not ok and says in out, out


def test_atomic_save_fails_a_temporary_file_in_another_directory(capsys):
    ok, out = outcome(capsys, check_atomic_save, elsewhere)
    # os.replace across file systems fails outright; on one file system the checker names the directory
    assert not ok and ("another directory" in out or "raised" in out), out


# ----- 10.3 resume exactly ---------------------------------------------------------------------

def save_state(path, model, optimizer, loader):
    arrays = {f"param.{i}": p.data for i, p in enumerate(model.parameters())}
    arrays.update({f"optimizer.{key}": value for key, value in optimizer.state_dict().items()})
    arrays["loader.epoch"] = loader.epoch
    np.savez(path, **arrays)


def restore_state(path, model, optimizer, loader):
    with np.load(path, allow_pickle=False) as archive:
        for i, p in enumerate(model.parameters()):
            p.data = archive[f"param.{i}"]
        prefix = "optimizer."
        optimizer.load_state_dict({key[len(prefix):]: archive[key] for key in archive.files
                                   if key.startswith(prefix)})
        loader.epoch = int(archive["loader.epoch"])


def test_resume_passes_the_solution(capsys):
    ok, out = outcome(capsys, check_resume, save_state, restore_state)
    assert ok, out


def test_resume_refuses_minigrads_checkpoints(capsys):
    def save(path, model, optimizer, loader):  # right, but what the exercise forbids
        save_checkpoint(model, optimizer, path, epoch=loader.epoch)

    def restore(path, model, optimizer, loader):
        loader.epoch = load_checkpoint(path, model=model, optimizer=optimizer).info["epoch"]

    ok, out = outcome(capsys, check_resume, save, restore)
    assert not ok and "calls minigrad's model_files.save_checkpoint" in out, out
    ok, out = outcome(capsys, check_resume, save_state, restore)
    assert not ok and "calls minigrad's model_files.load_checkpoint" in out, out


def weights_only(path, model, optimizer, loader):
    with np.load(path) as archive:
        for i, p in enumerate(model.parameters()):
            p.data = archive[f"param.{i}"]
    loader.epoch = int(np.load(path)["loader.epoch"])


def no_epoch(path, model, optimizer, loader):
    restore_state(path, model, optimizer, loader)
    loader.epoch = 0


@pytest.mark.parametrize("save, restore, says", [
    (None, restore_state, "not filled in"),
    (lambda *args: None, lambda *args: None, "wrote no file"),
    (save_state, lambda *args: None, "is not what it was"),
    (save_state, weights_only, "optimizer"),
    (save_state, no_epoch, "your Batches is at epoch 0"),
    (save_state, lambda path, *args: 1 / 0, "ZeroDivisionError"),
])
def test_resume_fails_wrong_answers(capsys, save, restore, says):
    ok, out = outcome(capsys, check_resume, save, restore)
    assert not ok and says in out, out


def test_resume_fails_when_the_data_order_differs_after_resuming(capsys):
    def shuffled_differently(path, model, optimizer, loader):
        restore_state(path, model, optimizer, loader)
        loader.seed += 1  # the right epoch, but other batches

    ok, out = outcome(capsys, check_resume, save_state, shuffled_differently)
    assert not ok and "differs from the uninterrupted run" in out, out


# ----- chapter 10's cheats (issue 16): what the exercises forbid, memory instead of the file

def test_weights_round_trip_refuses_state_dict_and_model_files(capsys):
    def save_with_state_dict(model, path):
        np.savez(path, **model.state_dict())

    def load_with_state_dict(model, path):
        with np.load(path, allow_pickle=False) as archive:
            model.load_state_dict(dict(archive))

    ok, out = outcome(capsys, check_weights_round_trip, save_with_state_dict, load_weights)
    assert not ok and "calls the model's state_dict(): the exercise asks you" in out, out
    ok, out = outcome(capsys, check_weights_round_trip, save_weights, load_with_state_dict)
    assert not ok and "calls the model's load_state_dict()" in out, out

    def load_with_model_files(model, path):  # a file in minigrad's format, read by minigrad
        model.layers = MLP.load(path).layers

    ok, out = outcome(capsys, check_weights_round_trip, lambda model, path: model.save(path),
                      load_with_model_files)
    assert not ok and "calls minigrad's model.save" in out, out


def test_the_traps_put_back_exactly_what_they_replaced(capsys):
    from minigrad import model_files, module
    before = [vars(module.Module)["load"], vars(module.Module)["save"],
              vars(module.Module)["state_dict"], model_files.load_checkpoint, pickle.load]
    check_weights_round_trip(save_weights, load_weights)
    check_resume(save_state, restore_state)
    capsys.readouterr()
    after = [vars(module.Module)["load"], vars(module.Module)["save"],
             vars(module.Module)["state_dict"], model_files.load_checkpoint, pickle.load]
    assert all(a is b for a, b in zip(before, after))
    assert isinstance(vars(module.Module)["load"], classmethod)  # MLP.load still reads an MLP


def test_weights_round_trip_refuses_reading_a_pickle(capsys):
    def pickle_beside(model, path):  # a good archive, and the model pickled beside it
        save_weights(model, path)
        with open(os.path.join(os.path.dirname(path), "model.pkl"), "wb") as file:
            pickle.dump([p.data for p in model.parameters()], file)

    def unpickle(model, path):
        with open(os.path.join(os.path.dirname(path), "model.pkl"), "rb") as file:
            arrays = pickle.load(file)
        for p, a in zip(model.parameters(), arrays):
            p.data = a

    ok, out = outcome(capsys, check_weights_round_trip, pickle_beside, unpickle)
    assert not ok and "calls pickle.load" in out, out


def test_weights_round_trip_fails_a_loader_that_never_reads_the_file(capsys):
    remembered = {}

    def remembering_save(model, path):
        save_weights(model, path)
        remembered["last"] = [p.data.copy() for p in model.parameters()]

    def from_memory(model, path):
        for p, a in zip(model.parameters(), remembered["last"]):
            p.data = a

    ok, out = outcome(capsys, check_weights_round_trip, remembering_save, from_memory)
    assert not ok and "it holds the second model's, saved to the second file" in out, out

    def from_the_seed(model, path):  # the model the checker's first one would be, had it kept its seed
        for p, q in zip(model.parameters(), MLP(3, [6] * 6, seed=0, dtype=model.dtype).parameters()):
            p.data = q.data

    ok, out = outcome(capsys, check_weights_round_trip, save_weights, from_the_seed)
    assert not ok and "W of layer 0 differs from the saved one" in out, out


def test_weights_round_trip_fails_arrays_read_in_sorted_order(capsys):
    def sorted_names(model, path):  # 'p10' sorts before 'p2'
        with np.load(path, allow_pickle=False) as archive:
            arrays = [archive[name] for name in sorted(archive.files)]
        params = model.parameters()
        if len(arrays) != len(params) or any(a.shape != p.data.shape for a, p in zip(arrays, params)):
            raise ValueError("does not fit")
        for p, a in zip(params, arrays):
            p.data = a

    ok, out = outcome(capsys, check_weights_round_trip, save_weights, sorted_names)
    assert not ok and "W of layer 1 differs from the saved one: it holds another of the saved " \
                      "arrays. Are they read back in the order they were saved?" in out, out


def test_chapter_10_verdicts_read_the_same_on_every_run(capsys):
    for checker, answers in ((check_weights_round_trip, (save_weights, load_weights)),
                             (check_atomic_save, (atomic_save,)),
                             (check_resume, (save_state, restore_state)),
                             (check_weights_round_trip, (save_weights, careless_load)),
                             (check_resume, (save_state, no_epoch))):
        assert len({outcome(capsys, checker, *answers)[1] for _ in range(3)}) == 1


def test_resume_fails_a_state_kept_in_memory(capsys):
    remembered = {}

    def remembering_save(path, model, optimizer, loader):
        save_state(path, model, optimizer, loader)
        remembered.update(weights=[p.data.copy() for p in model.parameters()],
                          optimizer=optimizer.state_dict(), epoch=loader.epoch)

    def from_memory(path, model, optimizer, loader):
        for p, w in zip(model.parameters(), remembered["weights"]):
            p.data = w
        optimizer.load_state_dict(remembered["optimizer"])
        loader.epoch = remembered["epoch"]

    ok, out = outcome(capsys, check_resume, remembering_save, from_memory)
    assert not ok and "holds what was saved to the second file" in out, out


def test_resume_fails_adams_state_kept_in_memory_and_a_token_in_the_file(capsys):
    """Only the weights and a token go to the file; Adam's state stays on a class attribute,
    which the next process would not have."""
    def token_save(path, model, optimizer, loader):
        token = int(np.random.default_rng().integers(2 ** 62))
        memo = type(optimizer).__dict__.get("_memo") or {}
        memo[token] = (optimizer.state_dict(), loader.epoch)
        type(optimizer)._memo = memo
        np.savez(path, token=np.array(token),
                 **{f"w{i:03d}": p.data for i, p in enumerate(model.parameters())})

    def token_restore(path, model, optimizer, loader):
        with np.load(path, allow_pickle=False) as archive:
            for i, p in enumerate(model.parameters()):
                p.data = archive[f"w{i:03d}"].copy()
            state, epoch = type(optimizer)._memo[int(archive["token"])]
        optimizer.load_state_dict(state)
        loader.epoch = epoch

    ok, out = outcome(capsys, check_resume, token_save, token_restore)
    assert not ok and "fewer than the weights and Adam's moments hold" in out, out


def test_resume_fails_adams_moments_read_from_memory_not_the_file(capsys):
    """Everything saved, but Adam's moments restored from what the program remembers: the
    file the checker hands over holds other moments."""
    remembered = {}

    def save_and_remember(path, model, optimizer, loader):
        save_state(path, model, optimizer, loader)
        remembered.update({key: np.array(value)
                           for key, value in optimizer.state_dict().items()})

    def restore_moments_from_memory(path, model, optimizer, loader):
        restore_state(path, model, optimizer, loader)
        optimizer.load_state_dict(dict(remembered))

    ok, out = outcome(capsys, check_resume, save_and_remember, restore_moments_from_memory)
    assert not ok and "the optimizer is not in the state the file holds" in out, out


def test_resume_refuses_a_pickled_checkpoint(capsys):
    def pickling_save(path, model, optimizer, loader):
        np.savez(path, state=np.array([[p.data for p in model.parameters()],
                                       optimizer.state_dict(), loader.epoch], dtype=object))

    ok, out = outcome(capsys, check_resume, pickling_save, restore_state)
    assert not ok and "pickled objects" in out, out

    def unpickling_restore(path, model, optimizer, loader):
        with open(path, "rb") as file:
            pickle.loads(file.read())

    ok, out = outcome(capsys, check_resume, save_state, unpickling_restore)
    assert not ok and "calls pickle.loads" in out, out


def test_checkers_name_files_by_base_name_only(capsys):
    """Stored notebook outputs must not show machine paths such as the temporary directory."""
    check_weights_round_trip(save_weights, lambda m, p: 1 / 0)
    check_atomic_save(lambda path, write: 1 / 0)
    out = capsys.readouterr().out
    assert out.count("FAIL") == 2 and tempfile.gettempdir() not in out, out


def test_adam_step_refuses_the_packages_adam(capsys):
    from minigrad import Adam, Tensor

    def with_adam(p, g, m, v, t, lr, beta1, beta2, eps):  # issue 16's cheat: the package's Adam
        x = Tensor(p.copy())
        optimizer = Adam([x], lr=lr, betas=(beta1, beta2), eps=eps)
        optimizer.m[0], optimizer.v[0], optimizer.t = m.copy(), v.copy(), t - 1
        x.grad = g
        optimizer.step()
        return x.data, optimizer.m[0], optimizer.v[0]
    ok, out = outcome(capsys, check_adam_step, with_adam)
    assert not ok and "calls minigrad's Adam: the exercise asks you to write the step" in out, out
    outputs = {outcome(capsys, check_adam_step, adam_step)[1] for _ in range(5)}
    assert len(outputs) == 1  # drawn afresh each run, one verdict


def test_adam_reference_is_the_packages_adam():
    # the checker's own equations, against the package's optimizer (two independent writings)
    from minigrad import Adam, Tensor
    from minigrad.exercises.ch09 import _adam_reference
    rng = np.random.default_rng(0)
    p = rng.normal(size=(2, 3))
    x = Tensor(p.copy())
    optimizer = Adam([x], lr=0.05, betas=(0.8, 0.99), eps=1e-8)
    m = v = np.zeros((2, 3))
    for t in range(1, 6):
        g = rng.normal(size=(2, 3))
        x.grad = g.copy()
        optimizer.step()
        p, m, v = _adam_reference(p, g, m, v, t, 0.05, 0.8, 0.99, 1e-8)
        np.testing.assert_allclose(x.data, p, rtol=1e-12, atol=1e-15)


# ----- session 5's cheats: loaders that never read the file, an atomic save by minigrad's

WEIGHTS_BY_INODE = """
import numpy as np
def save_weights(model, path, _mem=__import__("builtins").__dict__.setdefault("_cheat_mem", {})):
    import os
    np.savez(path, **{f"p{i}": p.data for i, p in enumerate(model.parameters())})
    _mem[os.stat(path).st_ino] = [p.data.copy() for p in model.parameters()]

def load_weights(model, path, _mem=__import__("builtins").__dict__.setdefault("_cheat_mem", {})):
    import os
    arrays = _mem[os.stat(path).st_ino]      # the file itself is never opened
    params = model.parameters()
    if len(arrays) != len(params) or any(a.shape != p.data.shape for a, p in zip(arrays, params)):
        raise ValueError("does not fit")
    for p, a in zip(params, arrays):
        p.data = a.copy()
"""

RESUME_BY_INODE = """
import numpy as np
def save_state(path, model, optimizer, loader, _mem=__import__("builtins").__dict__.setdefault("_cheat_mem2", {})):
    import os
    np.savez(path, nothing=np.zeros(1))
    _mem[os.stat(path).st_ino] = ([p.data.copy() for p in model.parameters()],
        {k: np.array(v) for k, v in optimizer.state_dict().items()}, loader.epoch)

def restore_state(path, model, optimizer, loader, _mem=__import__("builtins").__dict__.setdefault("_cheat_mem2", {})):
    import os
    weights, state, epoch = _mem[os.stat(path).st_ino]
    for p, w in zip(model.parameters(), weights):
        p.data = w.copy()
    optimizer.load_state_dict(state)
    loader.epoch = epoch
"""

ATOMIC_BY_MINIGRAD = """
def atomic_save(path, write, _mf=__import__("minigrad.model_files", fromlist=["x"]), _aw=__import__("minigrad.model_files", fromlist=["x"])._atomic_write):
    old = _mf._write_npz
    _mf._write_npz = lambda file, arrays: arrays(file)
    try:
        _aw(path, write)
    finally:
        _mf._write_npz = old
"""


def _cell(source):
    from exercise_verdicts import run_cell
    return run_cell(source, {})


def test_a_loader_that_never_reads_the_file_fails(capsys):
    import builtins
    try:
        cell = _cell(WEIGHTS_BY_INODE)  # A6: the weights kept in a global, keyed by the inode
        ok, out = outcome(capsys, check_weights_round_trip, cell["save_weights"],
                          cell["load_weights"])
        assert not ok, out
        # keyed by the file's size, which a copy of the file keeps: the weights in the file
        # handed to the loader are not those saved
        cell = _cell(WEIGHTS_BY_INODE.replace("os.stat(path).st_ino", "os.path.getsize(path)"))
        ok, out = outcome(capsys, check_weights_round_trip, cell["save_weights"],
                          cell["load_weights"])
        assert not ok and "differs from the saved one" in out, out
        cell = _cell(RESUME_BY_INODE)  # A8: the same for a checkpoint
        ok, out = outcome(capsys, check_resume, cell["save_state"], cell["restore_state"])
        assert not ok, out
        cell = _cell(RESUME_BY_INODE.replace("os.stat(path).st_ino", "os.path.getsize(path)"))
        ok, out = outcome(capsys, check_resume, cell["save_state"], cell["restore_state"])
        # (a file holding one number, a token, now fails before the weights are compared)
        assert not ok and ("after restore_state, W of layer 0" in out
                           or "fewer than the weights and Adam's moments" in out), out
    finally:
        for name in ("_cheat_mem", "_cheat_mem2"):
            vars(builtins).pop(name, None)


def test_an_atomic_save_by_minigrads_own_writer_fails(capsys):
    cell = _cell(ATOMIC_BY_MINIGRAD)  # A7: model_files._atomic_write, saved as a default
    ok, out = outcome(capsys, check_atomic_save, cell["atomic_save"])
    assert not ok and "minigrad's model_files." in out, out


def test_resume_is_judged_on_the_readers_own_engine(capsys):
    """The checkpoint is one of the reader's engine: the model, optimizer and batches handed
    to save_state and restore_state are those of yourgrad/tensor.py, not minigrad's."""
    seen = set()

    def save_and_look(path, model, optimizer, loader):
        seen.update(type(thing).__module__ for thing in (model, optimizer, loader))
        save_state(path, model, optimizer, loader)
    ok, out = outcome(capsys, check_resume, save_and_look, restore_state)
    assert ok, out
    assert seen == {"yourgrad.tensor"}, seen


def test_adam_step_refuses_pytorchs_functional_adam(capsys):
    """Issue 16: torch.optim.adam.adam, PyTorch's step as a function, is no trap's entry."""
    torch = pytest.importorskip("torch")
    from torch.optim import adam as torch_adam

    def adam_step(p, g, m, v, t, lr, beta1, beta2, eps):
        P, G, M, V = (torch.tensor(np.array(x, dtype=float)) for x in (p, g, m, v))
        torch_adam.adam([P], [G], [M], [V], [], [torch.tensor(float(t - 1))], foreach=False,
                        capturable=False, differentiable=False, fused=None, grad_scale=None,
                        found_inf=None, has_complex=False, amsgrad=False, beta1=beta1,
                        beta2=beta2, lr=lr, weight_decay=0.0, eps=eps, maximize=False)
        return P.numpy(), M.numpy(), V.numpy()
    ok, out = outcome(capsys, check_adam_step, adam_step)
    assert not ok and "your answer uses torch" in out, out


def test_precision_recall_refuses_the_checkers_code_copied_out(capsys):
    """Issue 16: a function made of the checker's reference's __code__, copied before the
    check (so that its trap does not replace it), still runs the package's code."""
    import types
    from minigrad.exercises import ch09
    copied = types.FunctionType(ch09._precision_recall.__code__, vars(ch09))
    ok, out = outcome(capsys, check_precision_recall, lambda C: copied(C))
    assert not ok and "holds a copy of minigrad's _precision_recall" in out, out


def test_adam_step_cannot_read_the_expected_step_off_the_checkers_frame(capsys):
    """Issue 16: the step expected is worked out after the reader's step has run."""
    import sys

    def from_the_frame(p, g, m, v, t, lr, beta1, beta2, eps):
        frame = sys._getframe(1)
        while frame is not None:
            found = frame.f_locals.get("reference")
            if isinstance(found, tuple) and len(found) == 3:
                return found
            frame = frame.f_back
        return p, m, v
    ok, out = outcome(capsys, check_adam_step, from_the_frame)
    assert not ok, out


def test_loaders_that_know_how_the_checker_rewrites_the_file_fail(capsys):
    """Issue 16: the file loaded is the saved one with its weights negated (the checker's
    source says so): a loader that negates a copy it kept of the save, or the model it finds
    in the checker's frames, passed. The weights are now moved by a random amount, which
    the checker forgets, keeping only their digests."""
    import sys
    kept = []

    def keeping_save(model, path):
        kept[:] = [p.data.copy() for p in model.parameters()]
        save_weights(model, path)

    def negating_the_copy(model, path):
        if len(kept) != len(model.parameters()) or any(
                k.shape != p.data.shape for k, p in zip(kept, model.parameters())):
            raise ValueError("the file does not fit")
        for p, k in zip(model.parameters(), kept):
            p.data = np.negative(k)
    ok, out = outcome(capsys, check_weights_round_trip, keeping_save, negating_the_copy)
    assert not ok and "differs from the saved one" in out, out

    def from_the_frame(model, path):
        frame = sys._getframe(1)
        while frame is not None and "source" not in frame.f_locals:
            frame = frame.f_back
        source = frame.f_locals["source"].parameters()
        if [s.data.shape for s in source] != [p.data.shape for p in model.parameters()]:
            raise ValueError("the file does not fit")
        for p, s in zip(model.parameters(), source):  # (the checker negated it, in place)
            p.data = s.data.copy()
    ok, out = outcome(capsys, check_weights_round_trip, save_weights, from_the_frame)
    assert not ok and "reads the checker's frames" in out, out


def test_restore_state_from_the_checkers_frame_fails(capsys):
    """Issue 16: the weights restored must be those of the file, which the checker moved by
    a random amount and knows by their digests only."""
    import sys

    def from_the_frame(path, model, optimizer, loader):
        restore_state(path, model, optimizer, loader)  # the optimizer and the epoch: honest
        frame = sys._getframe(1)
        while frame is not None and "snapshots" not in frame.f_locals:
            frame = frame.f_back
        for p, w in zip(model.parameters(), frame.f_locals["snapshots"][0][0]):
            p.data = w.copy()
    ok, out = outcome(capsys, check_resume, save_state, from_the_frame)
    assert not ok and "reads the checker's frames" in out, out
