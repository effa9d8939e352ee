"""Model files of Part III's networks: any tree of minigrad's tensor layers, and modules of your own.

A file describes the tree of modules (each by its class name, from a
whitelist, and its settings) and holds every parameter and buffer; these
tests check round trips of a CNN, a batch-normalised net, a transformer and
user modules, bit-for-bit resumption with Adam, the refusals (unknown
classes, crafted configs), that files written before still load, and that
no module of minigrad imports one that imports it back.
"""
import ast
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minigrad import (MLP, Adam, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Layer,
                      LayerNorm, Linear, MaxPool2d, Module, Sequential, TransformerBlock, model_files,
                      tensor_nn)
from minigrad.model_files import ModelFileError, load, load_checkpoint, register, save, save_checkpoint
from minigrad.tensor import Tensor

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def same_state(a, b):
    """The same state dict: names, dtypes and every bit (parameters and buffers)."""
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(
        sa[k].dtype == sb[k].dtype and sa[k].shape == sb[k].shape and sa[k].tobytes() == sb[k].tobytes()
        for k in sa)


def running_statistics(model):
    """Every batch norm's running mean and variance, read from the layers themselves."""
    return [(name, m.running_mean.tobytes(), m.running_var.tobytes()) for name, m in model.named_modules()
            if isinstance(m, (BatchNorm1d, BatchNorm2d)) and m.running_mean is not None]


def modes(model):
    return [(name, m.training) for name, m in model.named_modules()]


def cnn(seed=0):
    return Sequential(Conv2d(1, 4, 3, padding=1, seed=seed), BatchNorm2d(4), MaxPool2d(2), Flatten(),
                      Layer(64, 16, activation="relu", seed=seed + 1), BatchNorm1d(16), Dropout(0.0),
                      Linear(16, 3, seed=seed + 2))


def transformer(seed=0, dtype=np.float64):
    return Sequential(Embedding(11, 8, seed=seed, dtype=dtype),
                      TransformerBlock(8, 2, hidden=16, seed=seed + 1, dtype=dtype),
                      Sequential(LayerNorm(8, dtype=dtype), Linear(8, 11, seed=seed + 2, dtype=dtype)))


def images(seed, n=6):
    return np.random.default_rng(seed).normal(size=(n, 1, 8, 8))


def tokens(seed, n=3, length=5):
    return np.random.default_rng(seed).integers(0, 11, size=(n, length))


# ----- round trips --------------------------------------------------------------------------------

def test_a_cnn_sequential_round_trips_and_predicts_identically(tmp_path):
    model = cnn()
    model(images(0))  # moves the batch norms' running statistics away from 0 and 1
    loaded = Sequential.load(model.save(tmp_path / "cnn"))
    assert [type(m) for m in loaded] == [type(m) for m in model]
    assert model_files._described(loaded) == model_files._described(model)
    assert same_state(loaded, model) and loaded[0].stride == (1, 1) and loaded[0].padding == (1, 1)
    x = images(1)
    assert np.array_equal(loaded(x).data, model(x).data)  # in training mode: batch statistics
    model.eval(), loaded.eval()
    assert np.array_equal(loaded(x).data, model(x).data)  # in evaluation mode: running statistics
    with np.load(tmp_path / "cnn.npz", allow_pickle=False) as archive:  # what the file says
        assert str(archive["model.kind"]) == "Sequential"
        config = json.loads(str(archive["model.config"]))
        assert [layer["module"] for layer in config["layers"]] == [
            "Conv2d", "BatchNorm2d", "MaxPool2d", "Flatten", "Layer", "BatchNorm1d", "Dropout", "Linear"]
        assert config["layers"][0]["config"]["kernel_size"] == [3, 3]
        assert "model.state.layers.1.running_var" in archive.files


def test_batch_norm_running_statistics_and_eval_mode_survive_a_file(tmp_path):
    model = Sequential(Linear(3, 5, seed=0), BatchNorm1d(5, momentum=0.25), Linear(5, 2, seed=1))
    for seed in range(4):  # training batches move the running statistics
        model(np.random.default_rng(seed).normal(2.0, 3.0, size=(10, 3)))
    assert not np.allclose(model[1].running_mean, 0) and not np.allclose(model[1].running_var, 1)
    model.eval()
    loaded = load(save(model, tmp_path / "bn"))
    assert np.array_equal(loaded[1].running_mean, model[1].running_mean)
    assert np.array_equal(loaded[1].running_var, model[1].running_var)
    assert loaded[1].running_mean is not model[1].running_mean and loaded[1].momentum == 0.25
    assert modes(loaded) == modes(model) and not loaded[1].training
    x = np.random.default_rng(9).normal(size=(1, 3))  # one example: only eval mode can take it
    assert np.array_equal(loaded(x).data, model(x).data)
    model.train()
    assert all(training for _, training in modes(load(save(model, tmp_path / "bn"))))


def test_a_layer_in_eval_mode_inside_a_training_model_stays_so(tmp_path):
    model = cnn()
    model[1].eval()
    loaded = load(save(model, tmp_path / "m"))
    assert modes(loaded) == modes(model) and loaded.training and not loaded[1].training


def test_batch_norm_without_running_statistics_or_affine_round_trips(tmp_path):
    model = Sequential(BatchNorm1d(4, affine=False), BatchNorm2d(3, track_running_stats=False, dtype=np.float32))
    loaded = load(save(model, tmp_path / "m"))
    assert loaded[0].weight is None and loaded[0].running_mean is not None
    assert loaded[1].running_mean is None and loaded[1].weight.dtype == np.float32
    assert model_files._described(loaded) == model_files._described(model)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_embedding_and_transformer_model_round_trips(tmp_path, dtype):
    model = transformer(dtype=dtype)
    loaded = load(save(model, tmp_path / "gpt"))
    assert same_state(loaded, model) and loaded[1].attention.num_heads == 2 and loaded[1].expand.nout == 16
    t = tokens(0)
    out = loaded(t)
    assert out.dtype == dtype and np.array_equal(out.data, model(t).data)


def test_a_tied_sequential_stays_tied_and_other_sharing_is_refused(tmp_path):
    shared = Layer(4, 4, activation="tanh", seed=0)
    model = Sequential(shared, shared, Linear(4, 2, seed=1))
    loaded = load(save(model, tmp_path / "tied"))
    assert loaded[0] is loaded[1] and len(loaded.parameters()) == 4
    assert model.config()["tied_layers"] == [[1, 0]]
    x = np.ones((2, 4))
    assert np.array_equal(loaded(x).data, model(x).data)
    first, second = Linear(4, 4, seed=0), Linear(4, 4, seed=1)
    second.W = first.W  # one weight matrix, two biases: not a whole layer used twice
    with pytest.raises(ValueError, match=r"cannot save this Sequential .*shared \(layers\.1\.W is "
                                         r"layers\.0\.W\)"):
        save(Sequential(first, second), tmp_path / "lm")
    assert not (tmp_path / "lm.npz").exists()


def test_loading_a_tree_does_not_move_the_default_generator(tmp_path):
    path = save(transformer(), tmp_path / "t")
    tensor_nn.manual_seed(0)
    expected = Linear(3, 3).W.data
    tensor_nn.manual_seed(0)
    load(path)
    assert np.array_equal(Linear(3, 3).W.data, expected)


@pytest.mark.parametrize("layer", [
    Conv2d(2, 3, (3, 2), stride=2, padding=1, seed=0), Conv2d(2, 3, 3, bias=False, seed=0), MaxPool2d(2),
    Flatten(), BatchNorm1d(5), BatchNorm2d(4, affine=False), BatchNorm1d(3, track_running_stats=False),
    LayerNorm((2, 3)), LayerNorm(4, elementwise_affine=False), Dropout(0.2), Embedding(7, 3, seed=0),
    TransformerBlock(8, 2, seed=0), TransformerBlock(6, 3, hidden=5, seed=0), Linear(3, 2, seed=0),
    MLP(2, [3, 4], seed=0)], ids=lambda layer: repr(layer).replace(" ", ""))
def test_config_size_counts_exactly_what_a_layer_holds(layer):
    """The size checked before building is the size built: the state dict's numbers."""
    held = sum(value.size for value in layer.state_dict().values())
    assert type(layer).config_size(json.loads(json.dumps(model_files._described(layer)[1]))) == held


# ----- modules of your own ------------------------------------------------------------------------

class CharModel(Module):
    """A user's model composed of minigrad's layers, describing itself by its constructor's arguments."""

    def __init__(self, vocabulary, width, heads, seed=None):
        rng = np.random.default_rng(seed)
        self.vocabulary, self.width, self.heads = vocabulary, width, heads
        self.embed = Embedding(vocabulary, width, seed=rng)
        self.blocks = [TransformerBlock(width, heads, seed=rng) for _ in range(2)]
        self.norm = BatchNorm1d(width)
        self.head = Linear(width, vocabulary, seed=rng)

    def __call__(self, t):
        x = self.embed(t)
        for block in self.blocks:
            x = block(x)
        b, n, c = x.shape
        return self.head(self.norm(x.reshape(b * n, c))).reshape(b, n, self.vocabulary)

    def parameters(self):
        modules = [self.embed, *self.blocks, self.norm, self.head]
        return [p for m in modules for p in m.parameters()]

    def config(self):
        return {"vocabulary": self.vocabulary, "width": self.width, "heads": self.heads}


class Residual(Module):
    """A user's container: it is given the module it wraps."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, x):
        return x + self.inner(x)

    def parameters(self):
        return self.inner.parameters()

    def config(self):
        return {"inner": self.inner}


class Square(Module):
    """A user's layer that does not describe its settings."""

    def __call__(self, x):
        return x * x


@pytest.fixture
def registered(monkeypatch):
    """CharModel and Residual registered for one test (KINDS restored afterwards)."""
    monkeypatch.setattr(model_files, "KINDS", dict(model_files.KINDS))
    register(CharModel)
    register(Residual)


def test_a_module_of_your_own_is_refused_on_save_until_registered(tmp_path):
    model = CharModel(11, 8, 2, seed=0)
    with pytest.raises(TypeError, match=r"cannot save a CharModel: a model file .*not CharModel\) and modules of classes "
                                        r"given to minigrad\.model_files\.register"):
        model.save(tmp_path / "m")
    nested = Sequential(Linear(2, 2, seed=0), Square())
    with pytest.raises(TypeError, match=r"cannot save this network: its layers\.1 is a Square; .*not Square\)"):
        save(nested, tmp_path / "m")
    assert os.listdir(tmp_path) == []  # never a file that lost part of the network


def test_a_registered_module_of_your_own_round_trips(tmp_path, registered):
    model = CharModel(11, 8, 2, seed=0)
    t = tokens(1)
    model(t)  # batch norm statistics
    loaded = CharModel.load(model.save(tmp_path / "char"))
    assert type(loaded) is CharModel and loaded.config() == model.config() and same_state(loaded, model)
    model.eval(), loaded.eval()
    assert np.array_equal(loaded(t).data, model(t).data)
    wrapped = Sequential(Residual(Sequential(Linear(3, 3, seed=0), LayerNorm(3))), Linear(3, 1, seed=1))
    again = load(save(wrapped, tmp_path / "res"))
    assert type(again[0]) is Residual and type(again[0].inner[1]) is LayerNorm
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert np.array_equal(again(x).data, wrapped(x).data)


def test_a_registered_module_without_config_is_refused_naming_it(tmp_path, registered):
    register(Square)
    with pytest.raises(TypeError, match=r"a Square does not describe its settings.*config\(\) method"):
        save(Sequential(Square()), tmp_path / "m")


def test_a_file_naming_a_class_not_registered_here_is_refused(tmp_path, registered, monkeypatch):
    path = save(Sequential(Residual(Linear(2, 2, seed=0))), tmp_path / "m")
    monkeypatch.delitem(model_files.KINDS, "Residual")
    with pytest.raises(ModelFileError, match=r"m\.npz is not a valid minigrad model file: .*unknown module "
                                             r"class 'Residual'; .*model_files\.register"):
        load(path)


def test_register_refuses_what_is_not_a_module_or_takes_a_known_name(registered):
    with pytest.raises(TypeError, match="subclass of minigrad.Module"):
        register(int)
    impostor = type("Conv2d", (Module,), {})
    with pytest.raises(ValueError, match=r"'Conv2d' means minigrad's <class 'minigrad\.tensor_conv\.Conv2d'>"):
        register(impostor)
    assert model_files.KINDS["Conv2d"] is Conv2d
    assert register(CharModel) is CharModel  # registering again is harmless
    again = register(type("CharModel", (CharModel,), {}))  # the class defined again, in a notebook
    assert model_files.KINDS["CharModel"] is again


def test_a_subclass_of_a_known_layer_is_not_saved_as_its_parent(tmp_path):
    class WideConv(Conv2d):
        pass

    with pytest.raises(TypeError, match=r"not WideConv\)"):
        save(Sequential(WideConv(1, 2, 3, seed=0)), tmp_path / "m")


# ----- crafted files --------------------------------------------------------------------------------

def rewritten(tmp_path, model, config):
    arrays = dict(model_files._model_arrays(model))
    arrays["model.config"] = np.array(json.dumps(config))
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


def small_config():
    return json.loads(json.dumps(model_files._described(Sequential(Conv2d(1, 2, 3, seed=0)))[1]))


def test_a_nested_config_asking_for_a_huge_layer_is_refused_before_allocating(tmp_path):
    config = small_config()
    config["layers"][0]["config"]["out_channels"] = 10**9
    path = rewritten(tmp_path, Sequential(Conv2d(1, 2, 3, seed=0)), config)
    with pytest.raises(ModelFileError, match=r"bad\.npz .*describes a Sequential of 10,000,000,000 "
                                             r"numbers, but its weights hold only 20"):
        load(path)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["layers"][0].update(module="os.system"), r"unknown module class 'os\.system'"),
    (lambda c: c["layers"][0]["config"].update(stride=[0, 1]), r"stride must be an integer >= 1"),
    (lambda c: c["layers"][0]["config"].update(extra={"a": 1}), r"settings are numbers, strings"),
    (lambda c: c["layers"][0]["config"].update(extra=1), r"unexpected keyword argument 'extra'"),
    (lambda c: c["layers"][0]["config"].pop("in_channels"), r"in_channels"),
    (lambda c: c.update(tied_layers=[[0, 0]]), r"pairs \[later, earlier\]"),
    (lambda c: c["layers"].append(None), r"empty \(None\) but tied to none"),
])
def test_a_crafted_tree_is_refused_with_the_reason(tmp_path, change, message):
    config = small_config()
    change(config)
    path = rewritten(tmp_path, Sequential(Conv2d(1, 2, 3, seed=0)), config)
    with pytest.raises(ModelFileError, match=r"bad\.npz is not a valid minigrad model file: .*" + message):
        load(path)


def test_a_bad_list_of_evaluating_modules_is_refused(tmp_path):
    arrays = dict(model_files._model_arrays(cnn().eval()))
    arrays["model.eval_modules"] = np.array(json.dumps(["layers.99"]))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"model\.eval_modules should list modules of the model"):
        load(tmp_path / "bad.npz")


# ----- checkpoints resume bit for bit -----------------------------------------------------------

def train_cnn(model, optimizer, steps, start):
    losses = []
    for step in range(start, start + steps):
        rng = np.random.default_rng(step)
        x, labels = rng.normal(size=(8, 1, 8, 8)), rng.integers(0, 3, size=8)
        loss = -model(x).log_softmax(axis=1)[np.arange(8), labels].mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_transformer(model, optimizer, steps, start):
    losses = []
    for step in range(start, start + steps):
        t = tokens(step, n=4, length=6)
        logits = model(t[:, :-1])
        b, n, v = logits.shape
        loss = -logits.reshape(b * n, v).log_softmax(axis=1)[np.arange(b * n), t[:, 1:].reshape(-1)].mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("resume", ["into-fresh-objects", "from-the-loaded-model"])
@pytest.mark.parametrize("make, train", [(cnn, train_cnn), (transformer, train_transformer)],
                         ids=["cnn-batchnorm", "transformer"])
def test_a_checkpoint_resumes_adam_bit_for_bit(tmp_path, make, train, resume):
    k, n = 3, 4
    straight = make(seed=0)
    straight_losses = train(straight, Adam(straight.parameters(), lr=0.01), k + n, 0)

    model = make(seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    losses = train(model, optimizer, k, 0)
    save_checkpoint(model, optimizer, tmp_path / "ckpt", step=k, losses=losses)
    del model, optimizer
    if resume == "into-fresh-objects":
        model = make(seed=5)  # other weights and statistics: they must come from the file
        model(images(99) if make is cnn else tokens(99))  # and other running statistics
        optimizer = Adam(model.parameters(), lr=0.5)
        checkpoint = load_checkpoint(tmp_path / "ckpt", model, optimizer)
    else:
        model = load_checkpoint(tmp_path / "ckpt").model
        optimizer = Adam(model.parameters())
        checkpoint = load_checkpoint(tmp_path / "ckpt", model, optimizer)
    assert optimizer.t == k and optimizer.lr == 0.01
    losses = checkpoint.info["losses"] + train(model, optimizer, n, checkpoint.info["step"])

    assert losses == straight_losses  # every step, bit for bit
    assert same_state(model, straight)  # the parameters and the running statistics
    assert running_statistics(model) == running_statistics(straight)


def dropping_transformer(seed=0):
    """Two blocks whose dropouts draw from one generator, and a dropout of its own generator."""
    rng = np.random.default_rng(seed)
    return Sequential(Embedding(11, 8, seed=rng), TransformerBlock(8, 2, hidden=16, dropout=0.2, seed=rng),
                      TransformerBlock(8, 2, hidden=16, dropout=0.3, seed=rng), Dropout(0.1, seed=seed + 1),
                      Linear(8, 11, seed=rng))


@pytest.mark.parametrize("resume", ["into-fresh-objects", "from-the-loaded-model"])
def test_a_checkpoint_resumes_dropout_bit_for_bit(tmp_path, resume):
    straight = dropping_transformer()
    straight_losses = train_transformer(straight, Adam(straight.parameters(), lr=0.01), 5, 0)
    model = dropping_transformer()
    optimizer = Adam(model.parameters(), lr=0.01)
    losses = train_transformer(model, optimizer, 2, 0)
    save_checkpoint(model, optimizer, tmp_path / "ckpt")
    if resume == "into-fresh-objects":
        model = dropping_transformer(seed=4)
        optimizer = Adam(model.parameters())
        load_checkpoint(tmp_path / "ckpt", model, optimizer)
    else:
        model = load_checkpoint(tmp_path / "ckpt").model
        optimizer = Adam(model.parameters())
        load_checkpoint(tmp_path / "ckpt", model, optimizer)
    assert model[1].dropout.rng is model[2].dropout.rng  # shared as they were
    assert model[3].rng is not model[1].dropout.rng
    losses += train_transformer(model, optimizer, 3, 2)
    assert losses == straight_losses and same_state(model, straight)


def test_a_loaded_dropout_draws_from_a_generator_of_its_own(tmp_path):
    layer = Dropout(0.5)  # draws from minigrad's default generator
    path = save(layer, tmp_path / "d")
    tensor_nn.manual_seed(0)
    loaded = load(path)
    assert loaded.rng is not tensor_nn._default_rng
    assert loaded.rng.bit_generator.state == layer.rng.bit_generator.state
    other = Dropout(0.5, seed=np.random.Generator(np.random.MT19937(0)))
    with pytest.raises(TypeError, match=r"cannot save the generator rng, which draws from a MT19937"):
        save(other, tmp_path / "mt")


@pytest.mark.parametrize("change, message", [
    (lambda g: g["states"][0]["state"].update(state=2 ** 128), "is not the state of a PCG64 generator"),
    (lambda g: g["states"][0].update(bit_generator="MT19937"), "is not the state of a PCG64 generator"),
    (lambda g: g["uses"].pop(), r"should name each of the model's generators"),
    (lambda g: g["uses"][0].__setitem__(2, 5), r"should name each of the model's generators"),
    (lambda g: g.update(extra=1), "should hold states and uses"),
])
def test_a_damaged_generator_entry_is_refused(tmp_path, change, message):
    arrays = dict(model_files._model_arrays(dropping_transformer()))
    generators = json.loads(str(arrays["model.generators"]))
    change(generators)
    arrays["model.generators"] = np.array(json.dumps(generators))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"bad\.npz .*model\.generators entry is damaged: .*" + message):
        load(tmp_path / "bad.npz")


def test_a_checkpoint_restores_the_modes_and_refuses_another_architecture(tmp_path):
    model = cnn().eval()
    path = save_checkpoint(model, None, tmp_path / "c")
    other = cnn(seed=3)
    load_checkpoint(path, other)
    assert modes(other) == modes(model) and same_state(other, model)
    different = Sequential(Conv2d(1, 4, 3, padding=0, seed=0), *list(cnn())[1:])
    before = different.state_dict()
    with pytest.raises(ValueError, match=r"(?s)c\.npz holds Sequential\(.*which does not match the model given"):
        load_checkpoint(path, different)
    assert all(np.array_equal(before[k], v) for k, v in different.state_dict().items())


# ----- files written before Part III ------------------------------------------------------------

def test_files_written_by_format_2_before_part_3_still_load():
    """tests/data holds files that the code at commit dec3f5a wrote (before this change), made by

        MLP(3, [4, 2], activation="tanh", seed=0)                            mlp_version2.npz
        MLP.from_layers([shared, shared]), shared = Layer(2, 2, "relu", seed=1)   tied_mlp_version2.npz
        the first, after 3 Adam steps (lr 0.01) on default_rng(0)'s normal batches of 5,
        save_checkpoint(model, optimizer, ..., step=3)                    checkpoint_version2.npz
    """
    mlp = MLP.load(DATA / "mlp_version2.npz")
    assert same_state(mlp, MLP(3, [4, 2], activation="tanh", seed=0))
    tied = load(DATA / "tied_mlp_version2")
    assert tied.layers[0] is tied.layers[1] and same_state(tied.layers[0], Layer(2, 2, "relu", seed=1))

    model = MLP(3, [4, 2], activation="tanh", seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(3):
        X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
        loss = ((model(X) - T) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    restored = MLP(3, [4, 2], activation="tanh", seed=4)
    restored_optimizer = Adam(restored.parameters())
    checkpoint = load_checkpoint(DATA / "checkpoint_version2.npz", restored, restored_optimizer)
    assert checkpoint.info == {"step": 3} and restored_optimizer.t == 3 and restored_optimizer.lr == 0.01
    for p, q in zip(model.parameters(), restored.parameters()):  # 1e-12: BLAS may round otherwise
        np.testing.assert_allclose(q.data, p.data, rtol=0, atol=1e-12)
    with zipfile.ZipFile(DATA / "mlp_version2.npz") as archive:
        assert "model.eval_modules.npy" not in archive.namelist()  # what the old files lack


def test_an_mlp_file_is_written_as_before_part_3(tmp_path):
    """Readers of format 2 before Part III read an MLP file written now: the same members."""
    model = MLP(3, [4, 2], activation="tanh", seed=0)
    with np.load(save(model, tmp_path / "m"), allow_pickle=False) as new, \
            np.load(DATA / "mlp_version2.npz", allow_pickle=False) as old:
        assert sorted(new.files) == sorted(old.files)
        assert all(np.array_equal(new[name], old[name]) for name in old.files)


# ----- no module of minigrad imports one that imports it back --------------------------------------

def imported_modules(path, package="minigrad"):
    """The modules of ``package`` that the file ``path`` imports, at its top or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        # imports this scan could not follow would hide a cycle: the package uses none
        assert not (isinstance(node, ast.ImportFrom) and node.level), f"{path}: a relative import"
        assert not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
                    in ("import_module", "__import__")), f"{path}: an import by a function call"
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:  # from minigrad import tensor_nn: the module minigrad.tensor_nn
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if module_file(candidate) else node.module)
    return {name for name in names if name == package or name.startswith(package + ".")}


def module_file(name):
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_no_module_of_minigrad_imports_one_that_imports_it_back():
    """An AST scan of every file of the package, deferred imports (inside functions) included.

    The package's ``__init__`` (the module ``minigrad``) is in the graph too:
    it imports the modules to export their names, so a module that imported
    ``minigrad`` itself while ``__init__`` imports it would be a cycle.
    """
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (ROOT / "minigrad").rglob("*.py")}
    graph = {name: imported_modules(path) - {name} for name, path in files.items()}
    assert "minigrad.model_files" in graph["minigrad"] and "minigrad.tensor_nn" in graph["minigrad.model_files"]
    cycles = []
    for start in graph:  # a depth-first search from each module for a path back to it
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join(path + [start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    assert not cycles, cycles
    assert not any("model_files" in name for layer in ("tensor_nn", "tensor_conv", "tensor_norm",
                                                       "tensor_embedding", "tensor_attention", "module")
                   for name in graph[f"minigrad.{layer}"])
