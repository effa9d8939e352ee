"""Checkers for the exercises of chapter 10, Saving, loading, checkpointing.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. They work in a temporary directory
of their own, which they delete, and name files by their base names only.

They judge the method too: while the reader's functions run, minigrad's own
ways to save and load (``state_dict``, ``model_files``, ``save_checkpoint``)
and reading a pickle are traps. The weights and the training data are drawn
afresh on every run, and two different models (or runs) are saved to two
files before the first is loaded from a new name: a loader that remembers
what was saved in a variable, or rebuilds the model from its seed, fails.
The file loaded is not even the one saved: the checker writes its arrays,
under the same keys, to a new file with a random amount, drawn afresh and
then forgotten, added to every weight; it keeps only a digest of the new
weights, so only a loader that reads the file (not the checker's frames, nor
a copy it kept of a save) gives them.
"""
import contextlib
import hashlib
import io
import os
import pickle
import tempfile
import zipfile
from unittest import mock

import numpy as np

from minigrad import model_files, module
from minigrad.datasets import make_spirals
from minigrad.exercises import (NOT_FILLED_IN_CODE as NOT_FILLED_IN, describe_error,
                                forbidding, fresh_rng, is_placeholder, report, report_raised,
                                reports_forbidden)
from minigrad.exercises.your_engine import catch_up, keep
from minigrad.tensor_nn import MLP

__all__ = ["check_weights_round_trip", "check_atomic_save", "check_resume"]



def _parameter_names(model):
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or 2 * len(layers) != len(model.parameters()):
        return [f"parameter {i}" for i in range(len(model.parameters()))]
    return [f"{name} of layer {i}" for i in range(len(layers)) for name in ("W", "b")]


def _file_entries(task):
    """:func:`forbidding`'s entries for minigrad's model files and for reading a pickle.

    Writing one is left to :func:`_archive_problem`, which names it better than a
    trap could: an array of Python objects makes np.savez pickle it.
    """
    entries = [(model_files, name, f"minigrad's model_files.{name}") for name in
               ("save", "load", "save_checkpoint", "load_checkpoint", "_atomic_write",
                "_write_npz", "_replaceable")]
    entries += [(module.Module, "save", "minigrad's model.save"),
                (module.Module, "load", "minigrad's MLP.load")]
    entries += [(pickle, name, f"pickle.{name}") for name in ("load", "loads", "Unpickler")]
    if task == "weights":  # the exercise asks for the parameters, by hand
        entries += [(module.Module, "state_dict", "the model's state_dict()"),
                    (module.Module, "load_state_dict", "the model's load_state_dict()"),
                    (module, "checked_state", "minigrad's module.checked_state")]
    return entries


def _randomized(model, rng):
    """``model`` with every parameter drawn afresh: weights that no seed of MLP gives."""
    for p in model.parameters():
        p.data = rng.normal(size=p.data.shape).astype(p.data.dtype)
    return model


# ----- exercise 10.1: weights to a file and back --------------------------------------

def _archive_problem(path):
    """What keeps ``path`` from being an .npz archive of plain arrays (a sentence), or None."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            return ("the file holds pickled objects, which np.load(path, allow_pickle=False) "
                    "refuses: store plain arrays with np.savez")
        return f"the file cannot be read by np.load ({error})"
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        return f"the file cannot be read by np.load ({error})"
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        return "the file holds a single array (.npy); save the parameters together with np.savez"
    with loaded:
        for name in loaded.files:
            try:
                loaded[name]
            # an array of Python objects is refused only when it is read
            except ValueError as error:
                if "pickle" in str(error):
                    return (f"the file's entry {name!r} holds pickled objects, which np.load(path, "
                            "allow_pickle=False) refuses: store plain arrays")
                return f"the file's entry {name!r} cannot be read ({error})"
    return None


def _digest(array):
    """A digest of ``array``'s dtype, shape and numbers: equal digests, equal arrays."""
    array = np.ascontiguousarray(array)
    return hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()


def _rewritten(saved, path, arrays_to_change, rng):
    """Write to ``path`` a new file (another inode, another name) holding the arrays of the
    archive ``saved`` under the same keys, each equal to one of ``arrays_to_change`` moved
    by a random amount drawn from ``rng``; remove ``saved``. Return, for each of
    ``arrays_to_change``, the digest of what the file holds for it (of the array itself if
    the file does not hold it as one array). The new numbers were never in a file that save
    wrote, and are nowhere but in the new file once this returns."""
    digests, arrays = [_digest(a) for a in arrays_to_change], {}
    with np.load(saved, allow_pickle=False) as archive:
        for key in archive.files:
            array = archive[key]
            for i, a in enumerate(arrays_to_change):
                if array.shape == a.shape and array.dtype == a.dtype and np.array_equal(array, a):
                    array = (array + rng.uniform(0.5, 1.5, size=array.shape)).astype(array.dtype)
                    digests[i] = _digest(array)
                    break
            arrays[key] = array
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    os.remove(saved)
    return digests



# twelve arrays: names numbered p0, p1, ..., p11 sort as p0, p1, p10, p11, p2, ...
SIZES = [6, 6, 6, 6, 6, 6]
FEWER = [6, 6, 6, 6, 6]  # ten arrays
MISFIT = [6, 6, 6, 6, 6, 4]  # twelve arrays, the last layer of another shape
BY_HAND = "the exercise asks you to save and load the parameters with NumPy yourself"


def _call_saver(what, save_weights, model, path):
    """Run the reader's ``save_weights(model, path)``: None, or the FAIL it led to."""
    name = os.path.basename(path)
    try:
        with forbidding(_file_entries("weights"), [save_weights], BY_HAND):
            save_weights(model, path)
    except Exception as error:
        return report_raised(what, f"save_weights(model, {name!r})", error)
    if not os.path.exists(path):
        others = sorted(os.listdir(os.path.dirname(path)))
        return report(False, what, f"save_weights wrote no file {name}"
                                   + (f" (it wrote {', '.join(others)})" if others else
                                      " (not filled in yet?)"))
    problem = _archive_problem(path)
    return report(False, what, problem) if problem else None


def _loaded_problem(target, source, digests, other, kind):
    """What is wrong with ``target`` after loading ``source``'s file, rewritten (a sentence),
    or None; ``digests`` are those of the arrays the file holds for ``source``'s
    parameters, ``other`` is the model saved to the second file."""
    for i, (name, p, q) in enumerate(zip(_parameter_names(source), target.parameters(),
                                         source.parameters())):
        if p.data.shape != q.data.shape:
            return (f"after load_weights, {name} has shape {p.data.shape}, "
                    f"the saved one {q.data.shape}")
        if p.data.dtype != q.data.dtype:
            return (f"after load_weights into a {kind} model, {name} has dtype {p.data.dtype}; "
                    "keep the saved dtype")
        if _digest(p.data) == digests[i]:
            continue
        where = f"after load_weights (the {kind} model), {name} differs from the saved one"
        if np.array_equal(p.data, other.parameters()[i].data):
            return (f"{where}: it holds the second model's, saved to the second file. Read the "
                    "file you are given, not what your program remembers of a save")
        if _digest(p.data) in digests:
            return (f"{where}: it holds another of the saved arrays. Are they read back in the "
                    "order they were saved? (The model has 12 arrays, and names such as "
                    "'p10' sort before 'p2')")
        return where
    return None


def check_weights_round_trip(save_weights, load_weights):
    """Exercise 10.1, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 10, 1, _check_weights_round_trip, save_weights=save_weights,
                load_weights=load_weights)


@reports_forbidden("save_weights / load_weights")
def _check_weights_round_trip(save_weights, load_weights):
    """Exercise 10.1: ``save_weights(model, path)`` writes an MLP's parameters to an
    ``.npz`` file of plain arrays; ``load_weights(model, path)`` puts them into a model
    of the same architecture, bit for bit and in the saved dtype, and raises a ValueError,
    changing nothing, when the file does not fit the model.

    For each dtype, two models of twelve arrays with weights drawn at random are saved
    to two files; the first file, rewritten to another name with a random amount added to
    every array, is loaded into a third model (which must then hold the new arrays, known
    to the checker by their digests only). The model's
    ``state_dict``/``load_state_dict``, minigrad's model files and pickle are traps.
    """
    what = "save_weights / load_weights"
    if is_placeholder(save_weights) or is_placeholder(load_weights):
        return report(False, what, NOT_FILLED_IN)
    rng = fresh_rng()
    with tempfile.TemporaryDirectory() as directory:
        for dtype in (np.float64, np.float32):
            kind = np.dtype(dtype).name
            first, second = (os.path.join(directory, f"{which}_{kind}.npz")
                             for which in ("first", "second"))
            source = _randomized(MLP(3, SIZES, seed=0, dtype=dtype), rng)
            other = _randomized(MLP(3, SIZES, seed=0, dtype=dtype), rng)
            for model, path in ((source, first), (other, second)):
                failed = _call_saver(what, save_weights, model, path)
                if failed is not None:
                    return failed
            path = os.path.join(directory, f"weights_{kind}.npz")
            # a name and a file save_weights never saw, every weight moved
            digests = _rewritten(first, path, [p.data for p in source.parameters()], rng)
            target = MLP(3, SIZES, seed=1, dtype=dtype)
            call = f"load_weights(model, {os.path.basename(path)!r})"
            try:
                with forbidding(_file_entries("weights"), [load_weights], BY_HAND):
                    load_weights(target, path)
            except ValueError as error:
                return report(False, what, f"{call} raised ValueError: {error}; but the file fits "
                                           "the model, as save_weights wrote it from one of the "
                                           "same architecture")
            except Exception as error:
                return report_raised(what, call, error)
            problem = _loaded_problem(target, source, digests, other, kind)
            if problem:
                return report(False, what, problem)
        # MLP(3, MISFIT) has as many arrays, but its last layer does not fit: a loader that
        # changes layers while it checks them fails it; MLP(3, FEWER) has fewer arrays
        for sizes in (MISFIT, FEWER):
            label = f"MLP(3, {sizes})"
            wrong = _randomized(MLP(3, sizes, seed=2), rng)
            before = [p.data.copy() for p in wrong.parameters()]
            try:
                with forbidding(_file_entries("weights"), [load_weights], BY_HAND):
                    load_weights(wrong, os.path.join(directory, "weights_float64.npz"))
            except ValueError:
                pass
            except Exception as error:
                return report(False, what, f"loading weights of MLP(3, {SIZES}) into {label} "
                                           f"raised {type(error).__name__} ({error}); raise a "
                                           "ValueError that says what does not fit")
            else:
                return report(False, what, f"loading weights of MLP(3, {SIZES}) into {label} "
                                           "raised no error: a file that does not fit must be "
                                           "refused with a ValueError")
            for name, p, old in zip(_parameter_names(wrong), wrong.parameters(), before):
                if p.data.shape != old.shape or not np.array_equal(p.data, old):
                    return report(False, what, f"the refused load still changed {name} of "
                                               f"{label}: check that everything fits before "
                                               "changing anything")
    return report(True, what, "bit-for-bit round trips in float64 and float32, "
                              "and a clear refusal for a model that does not fit")


# ----- exercise 10.2: an atomic save -------------------------------------------------

WRITE_IT = "the exercise asks you to write the three steps yourself"


class _Interrupted(KeyboardInterrupt):
    """What the checker's writer raises half way, as a Ctrl-C would."""


def check_atomic_save(atomic_save):
    """Exercise 10.2, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 10, 2, _check_atomic_save, atomic_save=atomic_save)


@reports_forbidden("atomic_save")
def _check_atomic_save(atomic_save):
    """Exercise 10.2: ``atomic_save(path, write)`` calls ``write(file)`` with a binary file
    open for writing, and puts what it wrote at ``path`` all at once: written to a temporary
    file in the same directory, flushed and fsync'ed, then renamed over ``path``. If
    ``write`` raises, even KeyboardInterrupt, the old file stays as it was, no temporary file
    is left behind, and the exception reaches the caller. What is written is drawn at random
    on each run; minigrad's own atomic write is a trap."""
    what = "atomic_save"
    if is_placeholder(atomic_save):
        return report(False, what, NOT_FILLED_IN)
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.bin")
        name = os.path.basename(path)
        new = fresh_rng().integers(0, 256, size=10240, dtype=np.uint8).tobytes()

        # 1. a save that succeeds
        with open(path, "wb") as file:
            file.write(b"the old model")
        events, calls = [], []

        def write(file):
            calls.append(file)
            file.write(new[:5000])
            file.write(new[5000:-100])
            file.write(new[-100:])  # small enough to wait in Python's buffer

        def fsync(fd):
            # what Python still holds in its own buffer never reaches the disk by fsync
            number = fd if isinstance(fd, int) else fd.fileno()
            events.append(("fsync", os.fstat(number).st_size))
            return real_fsync(fd)

        def replace(src, dst, *args, **kwargs):
            events.append(("rename", os.fspath(src), os.fspath(dst)))
            return real_replace(src, dst, *args, **kwargs)

        def rename(src, dst, *args, **kwargs):
            events.append(("rename", os.fspath(src), os.fspath(dst)))
            return real_rename(src, dst, *args, **kwargs)

        with mock.patch("os.fsync", fsync), mock.patch("os.replace", replace), \
                mock.patch("os.rename", rename):
            try:
                with forbidding(_file_entries("atomic"), [atomic_save], WRITE_IT):
                    atomic_save(path, write)
            except Exception as error:
                return report_raised(what, f"atomic_save({name!r}, write)", error)
        if not calls:
            return report(False, what, "atomic_save never called write(file) (not filled in yet?)")
        with open(path, "rb") as file:
            contents = file.read()
        if contents != new:
            return report(False, what, f"after atomic_save, {name} does not hold exactly what "
                                       "write(file) wrote")
        renames = [event for event in events if event[0] == "rename"]
        if not renames:
            return report(False, what, "the new file was not put in place by a rename "
                                       "(os.replace): a reader could see it half written")
        _, source, target = renames[-1]
        if os.path.abspath(target) != os.path.abspath(path):
            return report(False, what, "the last rename does not go to the path being saved")
        if os.path.dirname(os.path.abspath(source)) != os.path.dirname(os.path.abspath(path)):
            return report(False, what, "the temporary file is in another directory than the "
                                       "target: a rename is atomic only within one file system")
        fsyncs = [event for event in events[:events.index(renames[-1])] if event[0] == "fsync"]
        if not fsyncs:
            return report(False, what, "nothing was fsync'ed before the rename: after a power cut "
                                       "the new name could point to data that never reached the "
                                       "disk")
        if all(size != len(new) for _, size in fsyncs):
            return report(False, what, "when os.fsync ran, part of what write(file) wrote was "
                                       "still in Python's buffer, not in the file: flush Python's "
                                       "buffer before fsync (file.flush())")
        if sorted(os.listdir(directory)) != [name]:
            return report(False, what, "a successful save left other files in the directory: "
                                       f"{sorted(set(os.listdir(directory)) - {name})}")

        # 2. a save interrupted half way
        def interrupted_write(file):
            file.write(new[:3000])
            raise _Interrupted("the checker's Ctrl-C, half way through the write")

        try:
            with forbidding(_file_entries("atomic"), [atomic_save], WRITE_IT):
                atomic_save(path, interrupted_write)
        except _Interrupted:
            pass
        except Exception as error:
            return report_raised(what, f"atomic_save({name!r}, write) with a write that is "
                                       "interrupted", error)
        else:
            return report(False, what, "a write that was interrupted raised nothing from "
                                       "atomic_save: the caller must learn that the save failed")
        with open(path, "rb") as file:
            if file.read() != new:
                return report(False, what, f"an interrupted save changed {name}: the previous file "
                                           "is lost")
        left = sorted(set(os.listdir(directory)) - {name})
        if left:
            return report(False, what, "an interrupted save left a temporary file behind "
                                       f"({len(left)} extra file): clean up on any exception, "
                                       "KeyboardInterrupt included")

        # 3. a file that does not exist yet
        fresh = os.path.join(directory, "fresh.bin")
        try:
            with forbidding(_file_entries("atomic"), [atomic_save], WRITE_IT):
                atomic_save(fresh, lambda file: file.write(b"first save"))
        except Exception as error:
            return report_raised(what, "atomic_save('fresh.bin', write) for a new file", error)
        if not os.path.exists(fresh):
            return report(False, what, "atomic_save did not create a file that did not exist yet")
        with open(fresh, "rb") as file:
            if file.read() != b"first save":
                return report(False, what, "a new file does not hold what write(file) wrote")
    return report(True, what, "all or nothing, fsync'ed before the rename, nothing left "
                              "behind")


# ----- exercise 10.3: resume exactly ---------------------------------------------------

def _your_engine():
    """The reader's engine, ``yourgrad/tensor.py``, imported afresh, with the pieces of the
    chapters before this one that it lacks filled in from the course's solutions (quietly:
    the chapter's first cell says which)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return catch_up("tensor", 10)


def _resume_setup(engine, seeds, model_seed):
    """A fresh model, Adam and Batches of the reader's ``engine`` for the spirals drawn
    with ``seeds``."""
    data_seed, loader_seed = seeds
    X, y = make_spirals(n_samples=120, n_classes=3, noise=0.05, seed=data_seed)
    model = engine.MLP(2, [16, 3], seed=model_seed)
    optimizer = engine.Adam(model.parameters(), lr=0.02)
    loader = engine.Batches(X, y, 16, loader_seed)
    return model, optimizer, loader


def _train(engine, model, optimizer, loader, epochs):
    for _ in range(epochs):
        for xb, yb in loader:
            loss = engine.CrossEntropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _snapshot(model, optimizer, loader):
    """What a checkpoint must bring back: the weights, the optimizer's state, the epoch."""
    return ([p.data.copy() for p in model.parameters()],
            {key: np.array(value) for key, value in optimizer.state_dict().items()},
            loader.epoch)


def _too_few_numbers(path, snapshot):
    """A sentence if the checkpoint at ``path`` holds fewer numbers than the weights and the
    optimizer's arrays of ``snapshot`` (a state kept somewhere else than in the file:
    in memory, which the next process does not have), else None."""
    weights, state, _ = snapshot
    needed = sum(w.size for w in weights) + sum(state[key].size for key in _moments(state))
    with np.load(path, allow_pickle=False) as archive:
        held = sum(archive[key].size for key in archive.files)
    if held < needed:
        return (f"save_state wrote {held:,} numbers, fewer than the weights and Adam's "
                f"moments hold ({needed:,}): the checkpoint must hold them all, since a new "
                "process has nothing else")
    return None


def _moments(state):
    """The keys of the arrays (Adam's moments) in an optimizer's ``state`` snapshot, in order;
    its other entries are single numbers (the rate, the step count)."""
    return sorted(key for key, value in state.items() if np.ndim(value) > 0)


def _restored_problem(model, optimizer, loader, saved, digests, other):
    """What ``restore_state`` got wrong (a sentence), or None; ``saved`` is the snapshot of
    the run saved to the file restored, ``digests`` those of the weights the file holds
    (rewritten) and of the optimizer's arrays, by key, ``other`` the snapshot of the run
    saved to another file."""
    _, state, epoch = saved
    digests, moment_digests = digests
    for i, (name, p, digest) in enumerate(zip(_parameter_names(model), model.parameters(),
                                              digests)):
        if _digest(p.data) != digest:
            if p.data.shape == other[0][i].shape and np.array_equal(p.data, other[0][i]):
                return (f"after restore_state, {name} holds what was saved to the second file, "
                        "not what the file given to restore_state holds: read the file, not what "
                        "your program remembers of a save")
            return f"after restore_state, {name} is not what it was when saved"
    restored = optimizer.state_dict()
    if set(restored) != set(state) or any(
            _digest(np.asarray(restored[key])) != digest
            for key, digest in moment_digests.items()) or any(
            not np.array_equal(np.asarray(restored[key]), state[key])
            for key in state if key not in moment_digests):
        return ("after restore_state, the optimizer is not in the state the file holds "
                "(Adam remembers more than the learning rate: read all of it from the file)")
    if loader.epoch != epoch:
        return (f"after restore_state, your Batches is at epoch {loader.epoch}, not {epoch}: "
                "the batches that follow would not be those of the uninterrupted run")
    return None


RESUME_BY_HAND = ("the exercise asks you to write the checkpoint with NumPy, "
                  "without minigrad's model files or pickle")


def check_resume(save_state, restore_state):
    """Exercise 10.3, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 10, 3, _check_resume, save_state=save_state,
                restore_state=restore_state)


@reports_forbidden("save_state / restore_state")
def _check_resume(save_state, restore_state):
    """Exercise 10.3: ``save_state(path, model, optimizer, loader)`` writes a checkpoint;
    ``restore_state(path, model, optimizer, loader)`` puts it into freshly made objects, so
    that training carries on exactly as if it had never stopped.

    The checker trains a small spiral classifier, with the reader's own engine (its
    ``MLP``, ``Adam``, ``Batches`` and ``CrossEntropy``; data, seeds and initial weights
    drawn afresh on every run), for 6 epochs in one go, and again for 3 epochs, and saves;
    a second run, trained for 2 epochs from other weights, is saved to a second file. Then
    it makes new objects (a model with other initial weights, a new Adam, new Batches at
    epoch 0), restores the first file, rewritten to a new name with a random amount added
    to the weights in it (so only reading it gives them: the checker keeps their digests),
    puts the weights as saved back, trains 3 more:
    the weights must equal the uninterrupted run's bit for bit. minigrad's model files
    and pickle are traps while the reader's functions run.
    """
    what = "save_state / restore_state"
    if is_placeholder(save_state) or is_placeholder(restore_state):
        return report(False, what, NOT_FILLED_IN)
    try:
        engine = _your_engine()
        seeds = [int(seed) for seed in fresh_rng().integers(0, 2**31, size=5)]
        data, (first_seed, second_seed, fresh_seed) = seeds[:2], seeds[2:]
        reference = _resume_setup(engine, data, first_seed)
        _train(engine, *reference, epochs=6)
    except Exception as error:  # the reader's engine is under test: report, don't crash
        return report(False, what, "training with your engine's MLP, Adam, Batches and "
                                   f"CrossEntropy (yourgrad/tensor.py) raised "
                                   f"{describe_error(error)}")
    with tempfile.TemporaryDirectory() as directory:
        snapshots = []
        for name, model_seed, epochs in (("first.npz", first_seed, 3),
                                         ("second.npz", second_seed, 2)):
            path = os.path.join(directory, name)
            run = _resume_setup(engine, data, model_seed)
            _train(engine, *run, epochs=epochs)
            snapshots.append(_snapshot(*run))
            try:
                with forbidding(_file_entries("resume"), [save_state], RESUME_BY_HAND):
                    save_state(path, *run)
            except Exception as error:
                return report_raised(what, "save_state(path, model, optimizer, loader)", error)
            if not os.path.exists(path):
                return report(False, what, "save_state wrote no file at path"
                                           + (" (not filled in yet?)" if not os.listdir(directory)
                                              else ""))
            problem = _archive_problem(path) or _too_few_numbers(path, snapshots[-1])
            if problem:
                return report(False, what, problem)
            del run  # as if the process had ended
        path = os.path.join(directory, "run.npz")
        # a name and a file save_state never saw, the weights and Adam's moments in it moved
        weights, state, _ = snapshots[0]
        moments = _moments(state)
        digests = _rewritten(os.path.join(directory, "first.npz"), path,
                             weights + [state[key] for key in moments], fresh_rng())
        digests = digests[:len(weights)], dict(zip(moments, digests[len(weights):]))
        model, optimizer, loader = _resume_setup(engine, data, fresh_seed)
        try:
            with forbidding(_file_entries("resume"), [restore_state], RESUME_BY_HAND):
                restore_state(path, model, optimizer, loader)
        except Exception as error:
            return report_raised(what, "restore_state(path, model, optimizer, loader)", error)
        problem = _restored_problem(model, optimizer, loader, snapshots[0], digests,
                                    snapshots[1])
        if problem:
            return report(False, what, problem)
        for p, w in zip(model.parameters(), weights):
            p.data = w.copy()  # the weights as saved, exactly, without the file's move
        optimizer.load_state_dict({key: value.copy() for key, value in state.items()})
        _train(engine, model, optimizer, loader, epochs=3)
    for name, p, q in zip(_parameter_names(model), model.parameters(), reference[0].parameters()):
        if not np.array_equal(p.data, q.data):
            return report(False, what, f"after resuming, {name} differs from the uninterrupted "
                                       "run's")
    return report(True, what, "the resumed run ends with the uninterrupted run's weights, "
                              "bit for bit")
