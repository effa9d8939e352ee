"""Model files and checkpoints: lossless round trips, exact resumption, bad files, atomic saves.

Also the state dicts they are made of (``Module.named_parameters``,
``state_dict``, ``load_state_dict``, the networks' ``config``/``from_config``).
"""
import ast
import errno
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from minigrad import SGD, Adam, ValueMLP, model_files, tensor_nn
from minigrad.datasets import DataLoader, make_spirals
from minigrad.tensor_nn import MLP, Layer, Linear
from minigrad.model_files import ModelFileError, load, load_checkpoint, save, save_checkpoint


def same_parameters(a, b):
    pa, pb = a.parameters(), b.parameters()
    return len(pa) == len(pb) and all(p.data.dtype == q.data.dtype and np.array_equal(p.data, q.data)
                                      for p, q in zip(pa, pb))


@pytest.fixture
def model():
    return MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid", seed=0)


# ----- round trips ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mlp_round_trip_predicts_identically(tmp_path, dtype):
    model = MLP(2, [16, 16, 1], seed=1, dtype=dtype)
    for layer in model.layers:
        layer.b.data[:] = np.random.default_rng(2).normal(size=layer.b.shape)
    written = model.save(tmp_path / "my_model")
    assert written == str(tmp_path / "my_model.npz") and os.path.exists(written)
    loaded = MLP.load(tmp_path / "my_model.npz")
    assert isinstance(loaded, MLP) and same_parameters(model, loaded)
    assert loaded.activations == model.activations and loaded.sizes == model.sizes
    assert all(p.dtype == dtype for p in loaded.parameters())
    X = np.random.default_rng(3).normal(size=(10, 2))
    out, out_loaded = model(X).data, loaded(X).data
    assert out_loaded.dtype == dtype and np.array_equal(out, out_loaded)


def test_extension_handling(tmp_path, model):
    assert model.save(str(tmp_path / "a.npz")) == str(tmp_path / "a.npz")
    model.save(tmp_path / "b")
    assert sorted(os.listdir(tmp_path)) == ["a.npz", "b.npz"]
    assert same_parameters(MLP.load(tmp_path / "b"), model)        # .npz may be left off when loading
    assert same_parameters(MLP.load(str(tmp_path / "b.npz")), model)


def test_every_activation_is_preserved(tmp_path):
    model = MLP.from_layers([Layer(2, 3, a, seed=i) if i == 0 else Layer(3, 3, a, seed=i)
                             for i, a in enumerate(["relu", "tanh", "sigmoid", "linear", "softmax"])])
    model.save(tmp_path / "m")
    assert MLP.load(tmp_path / "m").activations == ["relu", "tanh", "sigmoid", "linear", "softmax"]


@pytest.mark.parametrize("make", [lambda: Layer(4, 3, activation="tanh", seed=0), lambda: Linear(4, 3, seed=0)])
def test_layer_round_trip(tmp_path, make):
    layer = make()
    layer.save(tmp_path / "layer")
    loaded = type(layer).load(tmp_path / "layer")
    assert type(loaded) is type(layer) and loaded.activation == layer.activation
    assert same_parameters(layer, loaded)
    assert isinstance(Layer.load(tmp_path / "layer"), Layer)


def test_loading_the_wrong_kind_is_refused(tmp_path, model):
    model.save(tmp_path / "mlp")
    Layer(2, 2).save(tmp_path / "layer")
    with pytest.raises(ModelFileError, match=r"mlp\.npz holds a MLP, not a Layer"):
        Layer.load(tmp_path / "mlp")
    with pytest.raises(ModelFileError, match=r"layer\.npz holds a Layer, not a MLP"):
        MLP.load(tmp_path / "layer")
    assert isinstance(load(tmp_path / "layer"), Layer)


def test_a_loaded_model_keeps_training_like_the_original(tmp_path, model):
    model.save(tmp_path / "m")
    loaded = MLP.load(tmp_path / "m")
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(20, 3)), rng.uniform(size=(20, 2))
    runs = []
    for m in (model, loaded):
        opt = SGD(m.parameters(), lr=0.5)
        losses = []
        for _ in range(20):
            loss = m(X).mse(T)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        runs.append(losses)
    assert runs[0] == runs[1] and runs[0][-1] < runs[0][0]
    assert same_parameters(model, loaded)


def test_save_writes_plain_arrays_only(tmp_path, model):
    path = model.save(tmp_path / "m")
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
    assert "minigrad.format.npy" in names and "model.state.layers.2.W.npy" in names
    with np.load(path, allow_pickle=False) as archive:  # readable without unpickling
        assert int(archive["minigrad.version"]) == model_files.VERSION == 2
        assert str(archive["model.kind"]) == "MLP"
        assert json.loads(str(archive["model.config"])) == {
            "sizes": [3, 8, 6, 2], "activations": ["tanh", "tanh", "sigmoid"], "dtype": "float64"}
        assert np.array_equal(archive["model.state.layers.1.b"], model.layers[1].b.data)


def test_saving_something_else_is_refused(tmp_path):
    with pytest.raises(TypeError, match="MLP, Layer or Linear, not object"):
        save(object(), tmp_path / "x")
    with pytest.raises(TypeError, match="MLP, Layer or Linear, not ValueMLP"):
        save(ValueMLP(2, [2], seed=0), tmp_path / "x")
    assert os.listdir(tmp_path) == []


def test_free_functions_methods_and_old_names_read_and_write_the_same_files(tmp_path, model):
    written = save(model, tmp_path / "free")
    assert written == str(tmp_path / "free.npz")
    assert same_parameters(load(written), model) and same_parameters(MLP.load(written), model)
    assert same_parameters(model_files.load_model(tmp_path / "free"), model)  # the names used before
    assert model_files.save_model(model, tmp_path / "old") == str(tmp_path / "old.npz")
    assert same_parameters(load(tmp_path / "old"), model)
    with pytest.raises(ModelFileError, match="holds a MLP, not a Layer"):
        load(written, expected=Layer)


def test_tensor_nn_does_not_import_model_files_at_import_time():
    """model_files imports tensor_nn; tensor_nn must not import model_files at its top (no cycle)."""
    def module_level_imports(module):
        names = []
        for node in ast.parse(open(module.__file__).read()).body:  # module level only, not in functions
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names += [f"{node.module}.{alias.name}" for alias in node.names]
        return names

    assert "minigrad.tensor_nn" in module_level_imports(model_files)
    networks = module_level_imports(tensor_nn)
    assert "minigrad.tensor.Tensor" in networks  # the walk does see the imports
    assert not any("model_files" in name for name in networks), networks


# ----- checkpoints: resumed training is exactly uninterrupted training ------------------------

def cross_entropy(logits, labels):
    rows = np.arange(len(labels.data))
    return -logits.log_softmax(axis=1)[rows, labels.data.astype(np.intp)].mean()


def run_epochs(model, optimizer, loader, epochs, losses):
    for _ in range(epochs):
        for xb, yb in loader:
            loss = cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())


OPTIMIZERS = {
    "sgd-momentum": lambda params: SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-4),
    "adam": lambda params: Adam(params, lr=0.01),
}


@pytest.mark.parametrize("resume", ["into-fresh-objects", "from-the-loaded-model"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resumed_training_continues_exactly(tmp_path, name, dtype, resume):
    X, y = make_spirals(90, n_classes=3, noise=0.05, seed=0)
    make_optimizer = OPTIMIZERS[name]

    # one run of 6 epochs without a break
    straight = MLP(2, [16, 16, 3], seed=1, dtype=dtype)
    straight_losses = []
    run_epochs(straight, make_optimizer(straight.parameters()), DataLoader(X, y, batch_size=16, seed=2),
               6, straight_losses)

    # the same run, stopped after 3 epochs, saved, and resumed from the file in fresh objects
    model = MLP(2, [16, 16, 3], seed=1, dtype=dtype)
    optimizer, loader, losses = make_optimizer(model.parameters()), DataLoader(X, y, batch_size=16, seed=2), []
    run_epochs(model, optimizer, loader, 3, losses)
    save_checkpoint(model, optimizer, tmp_path / "ckpt", epoch=loader.epoch, losses=losses)
    del model, optimizer, loader, losses

    if resume == "into-fresh-objects":  # as examples/train_long.py does
        model = MLP(2, [16, 16, 3], seed=7, dtype=dtype)  # other weights: they must come from the file
        optimizer = make_optimizer(model.parameters())
        checkpoint = load_checkpoint(tmp_path / "ckpt", model, optimizer)
        assert checkpoint.model is model
    else:
        model = load_checkpoint(tmp_path / "ckpt").model
        optimizer = make_optimizer(model.parameters())
        checkpoint = load_checkpoint(tmp_path / "ckpt.npz", model=model, optimizer=optimizer)
    loader = DataLoader(X, y, batch_size=16, seed=2)
    loader.epoch = checkpoint.info["epoch"]
    losses = checkpoint.info["losses"]
    run_epochs(model, optimizer, loader, 3, losses)

    assert losses == straight_losses          # bit for bit, every step
    assert same_parameters(model, straight)
    assert all(p.dtype == dtype for p in model.parameters())


def test_without_the_optimizer_state_adam_would_diverge_from_the_straight_run(tmp_path):
    X, y = make_spirals(60, n_classes=3, noise=0.05, seed=0)
    straight = MLP(2, [8, 3], seed=1)
    run_epochs(straight, Adam(straight.parameters(), lr=0.01), DataLoader(X, y, batch_size=20, seed=2), 4, [])
    model = MLP(2, [8, 3], seed=1)
    loader = DataLoader(X, y, batch_size=20, seed=2)
    run_epochs(model, Adam(model.parameters(), lr=0.01), loader, 2, [])
    run_epochs(model, Adam(model.parameters(), lr=0.01), loader, 2, [])  # a fresh Adam: m, v, t lost
    assert not same_parameters(model, straight)


def test_load_checkpoint_into_an_existing_model_and_optimizer(tmp_path, model):
    optimizer = Adam(model.parameters(), lr=0.003)
    loss = model(np.ones((4, 3))).sum()
    loss.backward()
    optimizer.step()
    save_checkpoint(model, optimizer, tmp_path / "c", step=1)
    other = MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid", seed=9)
    other_optimizer = Adam(other.parameters(), lr=0.1)
    checkpoint = load_checkpoint(tmp_path / "c", other, other_optimizer)
    assert checkpoint.model is other and same_parameters(model, other)
    assert other_optimizer.t == 1 and other_optimizer.lr == 0.003
    for a, b in zip(optimizer.m + optimizer.v, other_optimizer.m + other_optimizer.v):
        assert np.array_equal(a, b)
    assert checkpoint.optimizer_type == "Adam" and checkpoint.info == {"step": 1}
    assert same_parameters(MLP.load(tmp_path / "c"), model)  # a checkpoint is a model file too


def test_checkpoint_mismatches_are_reported(tmp_path, model):
    save_checkpoint(model, SGD(model.parameters()), tmp_path / "c")
    with pytest.raises(ValueError, match="state of a SGD optimizer, not of a Adam"):
        load_checkpoint(tmp_path / "c", model, Adam(model.parameters()))
    with pytest.raises(ValueError, match="does not match the model given"):
        load_checkpoint(tmp_path / "c", model=MLP(3, [8, 2]))
    with pytest.raises(ValueError, match="does not match the model given"):
        load_checkpoint(tmp_path / "c", model=MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid",
                                                  dtype=np.float32))
    model.save(tmp_path / "plain")
    with pytest.raises(ModelFileError, match="no optimizer state"):
        load_checkpoint(tmp_path / "plain", model, Adam(model.parameters()))


def test_checkpoint_info_round_trips_exactly(tmp_path, model):
    rng = np.random.default_rng(123)
    rng.normal(size=5)
    info = dict(epoch=7, best=0.1 + 0.2, name="run-1", flags=[True, None], shape=(2, 3),
                half=np.float32(0.1), big=2**100, nested={"a": [1.5, {"b": np.arange(3)}]},
                rng_state=rng.bit_generator.state, nan=float("nan"))
    save_checkpoint(model, None, tmp_path / "c", **info)
    loaded = load_checkpoint(tmp_path / "c").info
    assert loaded["epoch"] == 7 and loaded["best"] == 0.1 + 0.2 and loaded["name"] == "run-1"
    assert loaded["flags"] == [True, None] and loaded["shape"] == (2, 3) and loaded["big"] == 2**100
    assert loaded["half"] == np.float32(0.1) and loaded["half"].dtype == np.float32
    assert loaded["nested"]["a"][0] == 1.5 and np.array_equal(loaded["nested"]["a"][1]["b"], np.arange(3))
    assert np.isnan(loaded["nan"])
    restored = np.random.default_rng()
    restored.bit_generator.state = loaded["rng_state"]
    assert np.array_equal(restored.normal(size=4), rng.normal(size=4))
    with pytest.raises(TypeError, match="cannot save a"):
        save_checkpoint(model, None, tmp_path / "d", thing=object())


# ----- bad files ------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no file .*nothing here or .*nothing here\.npz"):
        MLP.load(tmp_path / "nothing here")
    with pytest.raises(FileNotFoundError, match=r"gone\.npz"):
        load_checkpoint(tmp_path / "gone.npz")


def test_truncated_file(tmp_path, model):
    data = open(model.save(tmp_path / "m"), "rb").read()
    for cut in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=r"cut\.npz is truncated or damaged"):
            MLP.load(tmp_path / "cut.npz")


def test_damaged_file(tmp_path, model):
    data = bytearray(open(model.save(tmp_path / "m"), "rb").read())
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        info = archive.getinfo("model.state.layers.0.W.npy")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"bad\.npz"):
        MLP.load(tmp_path / "bad.npz")


def test_foreign_npz(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(3), labels=np.arange(4))
    with pytest.raises(ModelFileError, match=r"other\.npz is an \.npz archive but not a minigrad model.*labels, weights"):
        MLP.load(tmp_path / "other.npz")


@pytest.mark.parametrize("content, message", [
    (b"layer sizes: 2, 16, 1\nthese are my notes\n", "is not a NumPy .npz archive"),
    (bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8)), "is not a NumPy .npz archive"),
    (b"", "is empty"),
])
def test_text_garbage_and_empty_files(tmp_path, content, message):
    (tmp_path / "notes.txt").write_bytes(content)
    with pytest.raises(ModelFileError, match=r"notes\.txt " + message):
        MLP.load(tmp_path / "notes.txt")


def test_zip_of_something_else(tmp_path):
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as archive:
        archive.writestr("minigrad.format.npy", "just text")
    with pytest.raises(ModelFileError, match=r"notes\.zip is a zip archive holding something other than NumPy arrays"):
        MLP.load(tmp_path / "notes.zip")


def test_npy_file(tmp_path):
    np.save(tmp_path / "array.npy", np.ones((2, 2)))
    with pytest.raises(ModelFileError, match=r"array\.npy holds a single NumPy array"):
        load(tmp_path / "array.npy")


def test_directory(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(ModelFileError, match="is a directory"):
        MLP.load(tmp_path / "folder.npz")


class Payload:
    """Unpickling this would run code: it must never happen."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pwned')",)


def test_pickled_objects_are_never_loaded(tmp_path, model):
    marker = tmp_path / "marker"
    arrays = dict(model_files._model_arrays(model))
    arrays["model.state.layers.0.W"] = np.array([Payload(str(marker))], dtype=object)
    np.savez(tmp_path / "evil.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"evil\.npz holds pickled Python objects"):
        MLP.load(tmp_path / "evil.npz")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(ModelFileError, match=r"evil\.pkl is not a NumPy \.npz archive"):
        MLP.load(tmp_path / "evil.pkl")
    assert not marker.exists()


def tampered(tmp_path, model, **changes):
    arrays = dict(model_files._model_arrays(model))
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    np.savez(tmp_path / "t.npz", **arrays)
    return tmp_path / "t.npz"


def config(**changes):
    """The fixture model's config as stored in a file, with ``changes``."""
    value = {"sizes": [3, 8, 6, 2], "activations": ["tanh", "tanh", "sigmoid"], "dtype": "float64"}
    value.update(changes)
    return np.array(json.dumps(value))


@pytest.mark.parametrize("changes, message", [
    ({"minigrad.format": np.array("something-else")}, "its format is 'something-else'"),
    ({"minigrad.version": np.array(99)}, "newer minigrad"),
    ({"minigrad.version": None}, "no format version"),
    ({"minigrad.version": np.array(0)}, "no format version"),
    ({"model.kind": np.array("CNN")}, "unknown model kind 'CNN'"),
    ({"model.kind": np.array(["MLP", "x"])}, "model.kind should be a string"),
    ({"model.config": None}, "lacks model.config"),
    ({"model.config": np.array("{sizes: [3")}, "model.config is not valid JSON"),
    ({"model.config": np.array("[3, 8, 6, 2]")}, "does not describe a MLP: a MLP's config is a dict"),
    ({"model.config": np.array('{"sizes": [3, 8, 6, 2], "dtype": "float64"}')},
     "does not describe a MLP: .*missing activations"),
    ({"model.config": config(sizes=[3, 8, 6])}, "one activation for each of its 2 layers"),
    ({"model.config": config(sizes=[3, 0, 6, 2])}, "positive integer, got 0"),
    ({"model.config": config(activations=["tanh", "gelu", "linear"])}, "unknown activation 'gelu'"),
    ({"model.config": config(dtype="int64")}, "float64 or float32 numbers, not int64"),
    ({"model.config": config(dtype="float32")}, r"layers\.0\.W has dtype float64, expected float32"),
    ({"model.state.layers.1.W": np.zeros((8, 5))}, r"layers\.1\.W has shape \(8, 5\), expected \(8, 6\)"),
    ({"model.state.layers.2.b": None}, r"missing \['layers\.2\.b'\]"),
    ({"model.state.layers.3.W": np.zeros((2, 2))}, r"unexpected \['layers\.3\.W'\]"),
    ({"model.state.layers.0.b": np.zeros(8, dtype=np.int64)}, "layers.0.b has dtype int64, expected float64"),
])
def test_inconsistent_model_files_are_refused_with_the_reason(tmp_path, model, changes, message):
    path = tampered(tmp_path, model, **changes)
    with pytest.raises(ModelFileError, match=r"t\.npz .*" + message):
        load(path)


def version_1_arrays(model):
    """What minigrad wrote before the state-dict layout (file format version 1)."""
    layers = model.layers if isinstance(model, MLP) else [model]
    arrays = {"minigrad.format": np.array("minigrad-model"), "minigrad.version": np.array(1),
              "model.kind": np.array("MLP" if isinstance(model, MLP) else type(model).__name__),
              "model.sizes": np.array([layers[0].nin] + [layer.nout for layer in layers], dtype=np.int64),
              "model.activations": np.array([layer.activation for layer in layers])}
    for i, layer in enumerate(layers):
        arrays[f"layers.{i}.W"], arrays[f"layers.{i}.b"] = layer.W.data, layer.b.data
    return arrays


@pytest.mark.parametrize("make", [lambda: MLP(3, [8, 6, 2], activation="tanh", seed=0, dtype=np.float32),
                                  lambda: Layer(4, 3, activation="sigmoid", seed=0), lambda: Linear(4, 3, seed=0)],
                         ids=["MLP", "Layer", "Linear"])
def test_files_of_format_version_1_still_load(tmp_path, make):
    model = make()
    np.savez_compressed(tmp_path / "old.npz", **version_1_arrays(model))
    loaded = load(tmp_path / "old")
    assert type(loaded) is type(model) and loaded.config() == model.config() and same_parameters(loaded, model)


def test_a_damaged_version_1_file_is_refused_with_the_reason(tmp_path, model):
    arrays = version_1_arrays(model)
    arrays["layers.1.W"] = np.zeros((8, 5))
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"old\.npz .*layers\.1\.W has shape \(8, 5\), expected \(8, 6\)"):
        load(tmp_path / "old.npz")
    del arrays["model.sizes"]
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"old\.npz .*lacks model\.sizes"):
        load(tmp_path / "old.npz")


def test_damaged_checkpoint_state(tmp_path, model):
    path = save_checkpoint(model, Adam(model.parameters()), tmp_path / "c")
    with np.load(path, allow_pickle=False) as archive:
        arrays = dict(archive)
    arrays["optimizer.state.json"] = np.array("{not json")
    np.savez(tmp_path / "c2.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"c2\.npz is not a valid minigrad checkpoint"):
        load_checkpoint(tmp_path / "c2.npz")


# ----- atomic saves --------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path, model):
    path = model.save(tmp_path / "model")
    return path, open(path, "rb").read()


def assert_untouched(tmp_path, saved, model):
    path, before = saved
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    assert same_parameters(MLP.load(path), model)


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, model, saved, monkeypatch):
    def disk_full(file, arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model_files, "_write_npz", disk_full)
    with pytest.raises(OSError, match="No space left"):
        MLP(3, [2], seed=5).save(tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


class Unusual(BaseException):
    """An exception that is no Exception, like KeyboardInterrupt and SystemExit."""


STOPS = [KeyboardInterrupt, SystemExit, GeneratorExit, Unusual, MemoryError, RuntimeError]
SAVES = {"save": lambda model, path: save(model, path),
         "save_checkpoint": lambda model, path: save_checkpoint(model, SGD(model.parameters(), momentum=0.9),
                                                                path, epoch=3)}


@pytest.mark.parametrize("how", SAVES)
@pytest.mark.parametrize("stop", STOPS, ids=lambda e: e.__name__)
def test_an_interrupted_save_leaves_the_previous_file_intact_and_no_temporary_file(
        tmp_path, model, saved, monkeypatch, stop, how):
    def interrupted(file, arrays):
        file.write(b"PK")
        raise stop

    monkeypatch.setattr(model_files, "_write_npz", interrupted)
    with pytest.raises(stop):
        SAVES[how](MLP(3, [2], seed=5), tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


@pytest.mark.parametrize("stop", STOPS, ids=lambda e: e.__name__)
def test_an_interrupted_first_save_leaves_no_file_at_all(tmp_path, model, monkeypatch, stop):
    def interrupted(*args):
        raise stop

    with monkeypatch.context() as patch:
        patch.setattr(model_files, "_write_npz", interrupted)
        with pytest.raises(stop):
            model.save(tmp_path / "first")
    assert os.listdir(tmp_path) == []
    with monkeypatch.context() as patch:  # interrupted at the very last step, the rename
        patch.setattr(os, "replace", interrupted)
        with pytest.raises(stop):
            model.save(tmp_path / "first")
    assert os.listdir(tmp_path) == []


def test_a_failed_fsync_or_rename_leaves_the_previous_file_intact(tmp_path, model, saved, monkeypatch):
    def fail(*args):
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", fail)
        with pytest.raises(OSError, match="Input/output"):
            MLP(3, [2], seed=5).save(tmp_path / "model")
    assert_untouched(tmp_path, saved, model)
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", fail)
        with pytest.raises(OSError, match="Input/output"):
            MLP(3, [2], seed=5).save(tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


def test_save_replaces_the_old_file_and_uses_normal_permissions(tmp_path, model, saved):
    path, _ = saved
    new = MLP(3, [2], seed=5)
    new.save(path)
    assert same_parameters(MLP.load(path), new)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_save_into_a_missing_directory(tmp_path, model):
    with pytest.raises(FileNotFoundError, match="there is no directory"):
        model.save(tmp_path / "no" / "such" / "model")


# ----- names: save and load agree on the file, and a directory is not a file ------------------

@pytest.mark.parametrize("name", ["runs/", "runs" + os.sep, ".", "runs/.", "runs/.."])
def test_saving_to_a_directory_name_is_refused_naming_the_path(tmp_path, model, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    os.mkdir("runs")
    with pytest.raises(ValueError, match=f"cannot save to {name!r}: that names a directory, not a file"):
        model.save(name)
    with pytest.raises(ValueError, match="names a directory"):
        save_checkpoint(model, None, name)
    assert os.listdir(tmp_path) == ["runs"] and os.listdir("runs") == []  # no hidden runs/.npz


def test_saving_over_a_directory_is_refused(tmp_path, model):
    (tmp_path / "folder.npz").mkdir()
    for name in ("folder", "folder.npz"):
        with pytest.raises(IsADirectoryError, match=r"cannot save to .*folder\.npz: it is a directory"):
            model.save(tmp_path / name)
    assert os.listdir(tmp_path / "folder.npz") == []


def test_save_and_load_agree_on_a_name_that_is_also_a_directory(tmp_path, model):
    (tmp_path / "runs").mkdir()
    assert model.save(tmp_path / "runs") == str(tmp_path / "runs.npz")
    assert same_parameters(MLP.load(tmp_path / "runs"), model)  # the file, not the directory
    assert same_parameters(load(str(tmp_path / "runs")), model)
    save_checkpoint(model, None, tmp_path / "runs", epoch=1)
    assert load_checkpoint(tmp_path / "runs").info == {"epoch": 1}


def test_load_reads_the_file_save_wrote_even_when_the_bare_name_is_another_file(tmp_path, model):
    (tmp_path / "m").write_text("some notes that happen to be called m")
    model.save(tmp_path / "m")
    assert same_parameters(MLP.load(tmp_path / "m"), model)
    (tmp_path / "m.npz").unlink()
    with pytest.raises(ModelFileError, match=r"m is not a NumPy \.npz archive"):  # then the name itself
        MLP.load(tmp_path / "m")


# ----- saving checks the model first, with the checks loading applies ------------------------

@pytest.mark.parametrize("spoil, message", [
    (lambda m: setattr(m.layers[1].b, "data", np.zeros((1, 6))), r"layer 1: .*b of shape \(1, 6\)"),
    (lambda m: setattr(m.layers[0].W, "data", np.zeros(8)), r"layer 0: .*W of shape \(8,\)"),
    (lambda m: setattr(m.layers[2].b, "data", m.layers[2].b.data.astype(np.float32)),
     r"layer 2: .*both float64 or both float32"),
    (lambda m: m.layers.__setitem__(1, Layer(8, 6, seed=0, dtype=np.float32)), "an MLP holds one dtype"),
    (lambda m: m.layers.__setitem__(1, Layer(7, 6, seed=0)), "layer 1 takes inputs of width 7"),
    (lambda m: setattr(m.layers[0], "activation", "gelu"), "unknown activation 'gelu'"),
])
def test_a_model_that_would_not_load_back_is_refused_before_the_good_file_is_touched(
        tmp_path, model, saved, spoil, message):
    spoiled = MLP(3, [8, 6, 2], seed=3)
    spoil(spoiled)
    for how in SAVES.values():
        with pytest.raises(ValueError, match=r"cannot save this MLP to .*model\.npz: .*" + message):
            how(spoiled, tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


def test_save_runs_the_loading_checks_on_what_it_would_write(tmp_path, model, saved):
    liar = MLP(3, [8, 6, 2], seed=3)
    liar.config = lambda: {"sizes": [3, 8, 6, 2], "activations": ["relu", "relu", "linear"],
                           "dtype": "float32"}  # says float32, holds float64
    with pytest.raises(ValueError, match=r"would not load back: .*layers\.0\.W has dtype float64, "
                                         "expected float32"):
        liar.save(tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


# ----- problems of access are reported as such, not as a damaged file ---------------------------

def test_a_file_that_cannot_be_read_is_a_permission_error_not_a_damaged_file(tmp_path, model, monkeypatch):
    path = model.save(tmp_path / "m")

    def no_permission(name, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(name))

    monkeypatch.setattr(model_files, "open", no_permission, raising=False)
    for read in (MLP.load, load, load_checkpoint):
        with pytest.raises(PermissionError, match=r"Permission denied.*m\.npz") as caught:
            read(path)
        assert not isinstance(caught.value, ModelFileError)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="file permissions do not stop the root user")
def test_an_unreadable_file_on_disk_is_a_permission_error(tmp_path, model):
    path = model.save(tmp_path / "m")
    os.chmod(path, 0)
    try:
        with pytest.raises(PermissionError, match=r"m\.npz"):
            MLP.load(path)
    finally:
        os.chmod(path, 0o644)


def test_a_directory_that_cannot_be_written_is_a_permission_error_naming_the_file(tmp_path, model,
                                                                                monkeypatch):
    def no_permission(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(model_files.tempfile, "mkstemp", no_permission)
    with pytest.raises(PermissionError, match=r"cannot save to .*m\.npz: Permission denied"):
        model.save(tmp_path / "m")
    assert os.listdir(tmp_path) == []


# ----- checkpoints: a model and its optimizer are restored together, or not at all ----------------

def trained(seed, steps=2):
    """A model and its Adam after a few steps, so that the optimizer's state is not zeros."""
    model = MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid", seed=seed)
    optimizer = Adam(model.parameters(), lr=0.003)
    X = np.random.default_rng(seed).normal(size=(5, 3))
    for _ in range(steps):
        loss = model(X).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def snapshot(model, optimizer):
    return [p.data.copy() for p in model.parameters()], optimizer.state_dict()


def assert_same_snapshot(before, after):
    (weights, state), (weights_after, state_after) = before, after
    assert all(np.array_equal(a, b) for a, b in zip(weights, weights_after))
    assert state.keys() == state_after.keys()
    assert all(np.array_equal(state[key], state_after[key]) for key in state)


def test_an_optimizer_without_its_model_is_refused(tmp_path):
    model, optimizer = trained(0)
    save_checkpoint(model, optimizer, tmp_path / "c")
    other, other_optimizer = trained(1)
    before = snapshot(other, other_optimizer)
    with pytest.raises(ValueError, match=r"optimizer=\.\.\.\) needs model= too"):
        load_checkpoint(tmp_path / "c", optimizer=other_optimizer)
    assert_same_snapshot(before, snapshot(other, other_optimizer))


def test_an_optimizer_of_another_model_is_refused_when_restoring(tmp_path):
    model, optimizer = trained(0)
    save_checkpoint(model, optimizer, tmp_path / "c")
    target, target_optimizer = trained(1)
    stranger, stranger_optimizer = trained(2)
    reordered = Adam(list(reversed(target.parameters())))
    for wrong in (stranger_optimizer, reordered, Adam(target.parameters()[:2])):
        before = snapshot(target, target_optimizer)
        with pytest.raises(ValueError, match="does not optimize the model given.*same objects in the same order"):
            load_checkpoint(tmp_path / "c", target, wrong)
        assert_same_snapshot(before, snapshot(target, target_optimizer))


def test_an_optimizer_of_another_model_is_refused_when_saving(tmp_path):
    model, _ = trained(0)
    _, stranger_optimizer = trained(1)
    with pytest.raises(ValueError, match=r"cannot save a checkpoint to .*c\.npz: the Adam given does not optimize"):
        save_checkpoint(model, stranger_optimizer, tmp_path / "c")
    with pytest.raises(TypeError, match="should be a minigrad optimizer"):
        save_checkpoint(model, "adam", tmp_path / "c")
    assert os.listdir(tmp_path) == []


def with_optimizer_state(path, target, **changes):
    """A copy of the checkpoint ``path`` whose optimizer state has ``changes``."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = dict(archive)
    document = json.loads(str(arrays["optimizer.state.json"]))
    entries = dict(document["__dict__"])
    entries.update(changes)
    document["__dict__"] = [[key, value] for key, value in entries.items()]
    arrays["optimizer.state.json"] = np.array(json.dumps(document))
    np.savez(target, **arrays)
    return target


@pytest.mark.parametrize("changes, message", [
    ({"lr": -0.001}, r"lr must be a finite number > 0, got -0\.001"),
    ({"beta2": 1.5}, r"beta2 must be a finite number in \[0, 1\), got 1\.5"),
    ({"eps": 0.0}, r"eps must be a finite number > 0, got 0\.0"),
    ({"weight_decay": -1.0}, r"weight_decay must be a finite number >= 0, got -1\.0"),
    ({"t": -3}, "t must be 0 or more, got -3"),
    ({"m.0": [[1.0, 2.0]]}, r"m\.0 has shape \(1, 2\) but parameter 0 has shape \(3, 8\)"),
])
def test_a_failing_optimizer_restore_leaves_model_and_optimizer_untouched(tmp_path, changes, message):
    model, optimizer = trained(0)
    path = save_checkpoint(model, optimizer, tmp_path / "c")
    bad = with_optimizer_state(path, tmp_path / "bad.npz", **changes)
    target, target_optimizer = trained(1)
    before = snapshot(target, target_optimizer)
    with pytest.raises(ModelFileError, match=r"bad\.npz holds an optimizer state that cannot be restored: "
                                             ".*" + message):
        load_checkpoint(bad, target, target_optimizer)
    assert_same_snapshot(before, snapshot(target, target_optimizer))
    load_checkpoint(path, target, target_optimizer)  # the good file still restores everything
    assert_same_snapshot(snapshot(model, optimizer), snapshot(target, target_optimizer))


def test_a_checkpoint_of_another_optimizer_type_leaves_the_model_untouched(tmp_path):
    model, _ = trained(0)
    save_checkpoint(model, SGD(model.parameters(), momentum=0.5), tmp_path / "c")
    target, target_optimizer = trained(1)
    before = snapshot(target, target_optimizer)
    with pytest.raises(ValueError, match="state of a SGD optimizer, not of a Adam"):
        load_checkpoint(tmp_path / "c", target, target_optimizer)
    assert_same_snapshot(before, snapshot(target, target_optimizer))


def test_an_optimizer_whose_settings_were_spoiled_is_not_saved(tmp_path, model):
    optimizer = Adam(model.parameters())
    optimizer.lr = float("nan")  # set by hand, after the constructor's checks
    with pytest.raises(ValueError, match=r"cannot save a checkpoint to .*c\.npz: the optimizer's state would "
                                         "not load back: Adam: lr must be a finite number > 0, got nan"):
        save_checkpoint(model, optimizer, tmp_path / "c")
    assert os.listdir(tmp_path) == []


# ----- state dicts: the learned numbers by name, for both engines ------------------------------

def test_named_parameters_follow_the_attributes_in_the_order_of_parameters(model):
    names = [name for name, _ in model.named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    layer = Layer(2, 3, seed=0)
    assert [(name, p) for name, p in layer.named_parameters()] == [("W", layer.W), ("b", layer.b)]
    scalar = ValueMLP(2, [3, 1], seed=0)
    assert [p for _, p in scalar.named_parameters()] == scalar.parameters()
    assert scalar.named_parameters()[0][0] == "layers.0.neurons.0.w.0"
    assert scalar.named_parameters()[2][0] == "layers.0.neurons.0.b"


def test_state_dict_is_a_snapshot_and_load_state_dict_copies_it_in(model):
    state = model.state_dict()
    before = state["layers.0.W"].copy()
    model.layers[0].W.data += 1.0  # later training does not change the snapshot
    assert np.array_equal(state["layers.0.W"], before)
    other = MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid", seed=9)
    other.load_state_dict(state)
    assert np.array_equal(other.layers[0].W.data, before)
    state["layers.0.W"][0, 0] = 123.0  # nor does changing the dict afterwards change the model
    assert other.layers[0].W.data[0, 0] != 123.0


def test_a_value_network_has_a_state_dict_too():
    a, b = ValueMLP(2, [3, 1], seed=0), ValueMLP(2, [3, 1], seed=1)
    b.load_state_dict(a.state_dict())
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]
    assert b([0.5, -1.0]).data == a([0.5, -1.0]).data


@pytest.mark.parametrize("change, error, message", [
    (lambda s: s.pop("layers.1.b"), ValueError, r"missing \['layers\.1\.b'\]"),
    (lambda s: s.update(extra=np.zeros(2)), ValueError, r"unexpected \['extra'\]"),
    (lambda s: s.update({"layers.2.W": np.zeros((2, 6))}), ValueError,
     r"layers\.2\.W has shape \(2, 6\), expected \(6, 2\)"),
    (lambda s: s.update({"layers.2.b": np.zeros(2, np.float32)}), ValueError,
     "layers.2.b has dtype float32, expected float64"),
    (lambda s: s.update({"layers.2.b": [0.0, 0.0]}), TypeError, "layers.2.b should be a NumPy array"),
])
def test_load_state_dict_refuses_a_state_that_does_not_fit_and_changes_nothing(model, change, error, message):
    state = MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid", seed=9).state_dict()
    change(state)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    assert all(np.array_equal(p.data, q) for p, q in zip(model.parameters(), before))


def test_a_layer_used_twice_is_one_parameter_set_named_under_both_paths(tmp_path):
    shared = Layer(3, 3, activation="tanh", seed=0)
    model = MLP.from_layers([shared, shared, Linear(3, 1, seed=1)])
    assert model.parameters() == [shared.W, shared.b, model.layers[2].W, model.layers[2].b]
    assert [name for name, _ in model.named_parameters()] == ["layers.0.W", "layers.0.b", "layers.2.W",
                                                            "layers.2.b"]
    assert list(model.state_dict()) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b",
                                        "layers.2.W", "layers.2.b"]
    loaded = MLP.load(model.save(tmp_path / "shared"))  # the file keeps the sharing (issue 15)
    X = np.random.default_rng(0).normal(size=(4, 3))
    assert np.array_equal(loaded(X).data, model(X).data) and loaded.layers[0] is loaded.layers[1]
    assert len(loaded.parameters()) == 4 and loaded.config() == model.config()


def test_from_config_builds_the_architecture_without_drawing_random_numbers(tmp_path, model):
    path = model.save(tmp_path / "m")
    tensor_nn.manual_seed(0)
    expected = MLP(2, [2]).layers[0].W.data
    for build in (lambda: MLP.from_config(model.config()), lambda: load(path),
                  lambda: Linear.from_config({"nin": 2, "nout": 2, "dtype": "float32"})):
        tensor_nn.manual_seed(0)
        built = build()
        assert np.array_equal(MLP(2, [2]).layers[0].W.data, expected)  # the generator did not move
    assert type(built) is Linear and built.dtype == np.float32 and not built.W.data.any()
    assert MLP.from_config(model.config()).config() == model.config()


@pytest.mark.parametrize("make, config, message", [
    (Layer.from_config, {"nin": 2, "nout": 3, "dtype": "float64"}, "missing activation"),
    (Linear.from_config, {"nin": 2, "nout": 3, "activation": "relu", "dtype": "float64"}, "unexpected activation"),
    (MLP.from_config, {"sizes": [2], "activations": [], "dtype": "float64"}, "at least one layer"),
    (MLP.from_config, {"sizes": [2, 3], "activations": ["relu"], "dtype": "float64", "seed": 1},
     "unexpected seed"),
])
def test_from_config_refuses_a_config_that_is_not_its_own(make, config, message):
    with pytest.raises(ValueError, match=message):
        make(config)
