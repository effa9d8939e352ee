"""Model files and checkpoints: lossless round trips, exact resumption, bad files, atomic saves."""
import errno
import os
import pickle
import zipfile

import numpy as np
import pytest

from minigrad import SGD, Adam, model_files
from minigrad.datasets import DataLoader, make_spirals
from minigrad.tensor_nn import MLP, Layer, Linear
from minigrad.model_files import ModelFileError, load_checkpoint, load_model, save_checkpoint, save_model


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
    assert isinstance(load_model(tmp_path / "layer"), Layer)


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
    assert "minigrad.format.npy" in names and "layers.2.W.npy" in names
    with np.load(path, allow_pickle=False) as archive:  # readable without unpickling
        assert archive["model.sizes"].tolist() == [3, 8, 6, 2]
        assert archive["model.activations"].tolist() == ["tanh", "tanh", "sigmoid"]


def test_saving_something_else_is_refused(tmp_path):
    with pytest.raises(TypeError, match="MLP, Layer or Linear"):
        save_model(object(), tmp_path / "x")


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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resumed_training_continues_exactly(tmp_path, name, dtype):
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

    checkpoint = load_checkpoint(tmp_path / "ckpt")
    model = checkpoint.model
    optimizer = make_optimizer(model.parameters())
    load_checkpoint(tmp_path / "ckpt.npz", optimizer=optimizer)
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
        load_checkpoint(tmp_path / "c", optimizer=Adam(model.parameters()))
    with pytest.raises(ValueError, match="does not match the model given"):
        load_checkpoint(tmp_path / "c", model=MLP(3, [8, 2]))
    with pytest.raises(ValueError, match="does not match the model given"):
        load_checkpoint(tmp_path / "c", model=MLP(3, [8, 6, 2], activation="tanh", last_activation="sigmoid",
                                                  dtype=np.float32))
    model.save(tmp_path / "plain")
    with pytest.raises(ModelFileError, match="no optimizer state"):
        load_checkpoint(tmp_path / "plain", optimizer=Adam(model.parameters()))


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
        info = archive.getinfo("layers.0.W.npy")
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
        load_model(tmp_path / "array.npy")


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
    arrays["layers.0.W"] = np.array([Payload(str(marker))], dtype=object)
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


@pytest.mark.parametrize("changes, message", [
    ({"minigrad.format": np.array("something-else")}, "its format is 'something-else'"),
    ({"minigrad.version": np.array(99)}, "newer minigrad"),
    ({"minigrad.version": None}, "no format version"),
    ({"model.kind": np.array("CNN")}, "unknown model kind 'CNN'"),
    ({"model.sizes": None}, "lacks model.sizes"),
    ({"model.sizes": np.array([3, 8, 6])}, "one activation for each of the 2 layers"),
    ({"model.activations": np.array(["tanh", "gelu", "linear"])}, "unknown activation 'gelu'"),
    ({"layers.1.W": np.zeros((8, 5))}, r"layer 1 should have W of shape \(8, 6\)"),
    ({"layers.2.b": None}, "layers.2.b are missing"),
    ({"layers.0.b": np.zeros(8, dtype=np.int64)}, "dtype"),
    ({"model.kind": np.array(["MLP", "x"])}, "should be a string"),
])
def test_inconsistent_model_files(tmp_path, model, changes, message):
    path = tampered(tmp_path, model, **changes)
    with pytest.raises(ModelFileError, match=r"t\.npz .*" + message):
        load_model(path)


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


def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, model, saved, monkeypatch):
    def interrupted(file, arrays):
        file.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(model_files, "_write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(MLP(3, [2], seed=5), None, tmp_path / "model")
    assert_untouched(tmp_path, saved, model)


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
