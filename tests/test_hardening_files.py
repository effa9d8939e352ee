"""Issue 15, round 2 of hardening: model files, and the commands' arguments.

* tied weights keep their sharing through a model file and a checkpoint;
* ``save`` respects the file it replaces (write permission, mode, symlink);
* every damaged model file gives ModelFileError naming the file (a fuzz test);
* crafted files cannot make loading allocate more than the file holds, or
  recurse without bound;
* ``python -m minigrad.speed``, ``course.py serve`` and ``examples/train_long.py``
  check their arguments before doing any work.

(gradcheck's items of the issue are tested in ``test_gradcheck.py``.)
"""
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minigrad import SGD, Adam, model_files, speed
from minigrad.model_files import ModelFileError, load, load_checkpoint, save, save_checkpoint
from minigrad.tensor_nn import MLP, Layer, Linear

ROOT = Path(__file__).resolve().parent.parent


def fingerprint(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def same_parameters(a, b):
    pa, pb = a.parameters(), b.parameters()
    return len(pa) == len(pb) and all(np.array_equal(p.data, q.data) for p, q in zip(pa, pb))


def write_archive(path, arrays):
    """An .npz file of exactly ``arrays`` (name -> array or raw bytes of a member), as NumPy writes it."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in arrays.items():
            with archive.open(name + ".npy", "w") as member:
                if isinstance(value, bytes):
                    member.write(value)
                else:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return path


def model_arrays(model):
    return dict(model_files._model_arrays(model))


def tied_model(seed=0):
    shared = Layer(3, 3, activation="tanh", seed=seed)
    return MLP.from_layers([shared, shared, Linear(3, 2, seed=seed + 1)])


def train(model, optimizer, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        X, target = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
        loss = ((model(X) - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


# ----- 6. tied weights ------------------------------------------------------------------------


def test_tied_layers_stay_tied_through_a_model_file(tmp_path):
    model = tied_model()
    assert len(model.parameters()) == 4  # W and b of the shared layer, W and b of the last
    loaded = MLP.load(model.save(tmp_path / "tied"))
    assert loaded.layers[0] is loaded.layers[1] and len(loaded.parameters()) == 4
    assert loaded.config() == model.config() and loaded.config()["tied_layers"] == [[1, 0]]
    X = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_array_equal(loaded(X).data, model(X).data)
    loaded.layers[0].W.data[0, 0] += 1.0  # one layer: a change shows through both paths
    assert loaded.layers[1].W.data[0, 0] == loaded.layers[0].W.data[0, 0]


def test_a_two_layer_tied_mlp_has_two_parameters_after_loading(tmp_path):
    shared = Layer(4, 4, activation="relu", seed=3)
    model = MLP.from_layers([shared, shared])
    loaded = load(save(model, tmp_path / "two"))
    assert len(loaded.parameters()) == 2 and same_parameters(loaded, model)


@pytest.mark.parametrize("make_optimizer", [lambda ps: Adam(ps, lr=0.01),
                                            lambda ps: SGD(ps, lr=0.05, momentum=0.9)])
def test_a_checkpoint_of_a_tied_model_resumes_exactly(tmp_path, make_optimizer):
    model = tied_model()
    optimizer = make_optimizer(model.parameters())
    train(model, optimizer, 3)
    path = save_checkpoint(model, optimizer, tmp_path / "c", step=3)

    resumed = tied_model(seed=7)  # other weights: all of them come from the file
    resumed_optimizer = make_optimizer(resumed.parameters())
    info = load_checkpoint(path, resumed, resumed_optimizer).info
    assert info == {"step": 3} and same_parameters(resumed, model)
    train(model, optimizer, 2, seed=1)
    train(resumed, resumed_optimizer, 2, seed=1)
    assert same_parameters(resumed, model)  # carried on exactly as if it had never stopped

    checkpoint = load_checkpoint(path)  # or build both from the file
    rebuilt = checkpoint.model
    assert rebuilt.layers[0] is rebuilt.layers[1]
    make_optimizer(rebuilt.parameters()).load_state_dict(checkpoint.optimizer_state)


def test_a_tied_checkpoint_does_not_restore_into_an_untied_model(tmp_path):
    model = tied_model()
    path = save_checkpoint(model, None, tmp_path / "c")
    untied = MLP.from_layers([Layer(3, 3, "tanh", seed=0), Layer(3, 3, "tanh", seed=0), Linear(3, 2)])
    with pytest.raises(ValueError, match="does not match the model given"):
        load_checkpoint(path, untied)


def test_sharing_a_model_file_cannot_keep_is_refused_before_writing(tmp_path):
    model = MLP(3, [3, 3], seed=0)
    model.layers[1].W = model.layers[0].W  # one weight matrix, two biases: not a whole layer
    with pytest.raises(ValueError, match=r"cannot save this MLP .*shared \(layers\.1\.W is layers\.0\.W\); "
                                         r"a model file keeps sharing only of whole layers"):
        model.save(tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_a_file_giving_one_shared_parameter_two_values_is_refused(tmp_path):
    arrays = model_arrays(tied_model())
    arrays["model.state.layers.1.W"] = arrays["model.state.layers.1.W"] + 1.0
    path = write_archive(tmp_path / "t.npz", arrays)
    with pytest.raises(ModelFileError, match=r"t\.npz .*layers\.1\.W and layers\.0\.W name one shared "
                                             r"parameter, but the state gives them different values"):
        load(path)


@pytest.mark.parametrize("tied, message", [
    ([[0, 1]], r"pairs \[later, earlier\]"),
    ([[1, 1]], r"pairs \[later, earlier\]"),
    ([[5, 0]], r"pairs \[later, earlier\]"),
    ("1,0", r"pairs \[later, earlier\]"),
    ([[2, 0]], r"cannot tie layer 2 .* to layer 0"),  # layer 2 is 3 -> 2 wide, layer 0 is 3 -> 3
])
def test_a_bad_tied_layers_entry_is_refused(tmp_path, tied, message):
    arrays = model_arrays(tied_model())
    config = json.loads(str(arrays["model.config"]))
    config["tied_layers"] = tied
    arrays["model.config"] = np.array(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"t\.npz .*" + message):
        load(write_archive(tmp_path / "t.npz", arrays))


# ----- 8. save respects the file it replaces ------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_save_keeps_the_mode_of_the_file_it_replaces(tmp_path, mode):
    path = MLP(2, [3], seed=0).save(tmp_path / "m")
    os.chmod(path, mode)
    MLP(2, [3], seed=1).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert same_parameters(MLP.load(path), MLP(2, [3], seed=1))


def test_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "runs").mkdir()
    real = MLP(2, [3], seed=0).save(tmp_path / "runs" / "real.npz")
    os.chmod(real, 0o600)
    link = tmp_path / "latest.npz"
    link.symlink_to(os.path.join("runs", "real.npz"))
    new = MLP(2, [3], seed=1)
    assert new.save(link) == str(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("runs", "real.npz")
    assert same_parameters(MLP.load(real), new)  # the file the link points to was replaced
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert sorted(os.listdir(tmp_path / "runs")) == ["real.npz"]  # no temporary file left


def test_save_refuses_a_file_it_may_not_write_and_leaves_it(tmp_path, monkeypatch):
    path = MLP(2, [3], seed=0).save(tmp_path / "m")
    os.chmod(path, 0o444)
    before = fingerprint(path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == path and mode == os.W_OK
                        else real_access(p, mode, **kw))  # as for a user who is not root
    for write in (lambda: MLP(2, [3], seed=1).save(path),
                  lambda: save_checkpoint(MLP(2, [3], seed=1), None, path)):
        with pytest.raises(PermissionError, match=r"cannot save to .*m\.npz: you may not write to this file "
                                                  r"\(mode 0444\)"):
            write()
        assert fingerprint(path) == before and os.listdir(tmp_path) == ["m.npz"]


SAVE_OVER_IT = """
import sys
from minigrad import MLP
try:
    MLP(2, [3], seed=1).save(sys.argv[1])
except PermissionError as error:
    print(error)
    sys.exit(3)
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_save_refuses_a_read_only_file_as_the_system_does(tmp_path):
    # root ignores file modes: drop the capabilities that let it, as a normal user has none
    path = MLP(2, [3], seed=0).save(tmp_path / "m")
    os.chmod(path, 0o444)
    before = fingerprint(path)
    command = [sys.executable, "-c", SAVE_OVER_IT, path]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot drop the right to write anything")
        caps = "-dac_override,-dac_read_search,-fowner"
        command = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"] + command
    run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run.returncode != 3 and "Operation not permitted" in run.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {run.stderr.strip()}")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "you may not write to this file (mode 0444)" in run.stdout
    assert fingerprint(path) == before and os.listdir(tmp_path) == ["m.npz"]


# ----- 9. every damaged file: ModelFileError naming the file ---------------------------------


@pytest.fixture
def checkpoint_bytes(tmp_path):
    model = MLP(2, [4, 3], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    train_data = np.random.default_rng(0).normal(size=(6, 2))
    loss = (model(train_data) ** 2).mean()
    loss.backward()
    optimizer.step()
    path = save_checkpoint(model, optimizer, tmp_path / "good", epoch=3, note="kept")
    return model, optimizer.state_dict(), Path(path).read_bytes()


def damaged_copies(data, n, seed):
    """``n`` damaged versions of ``data``: single bytes replaced, single bits flipped, truncations."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        copy = bytearray(data)
        where = int(rng.integers(len(data)))
        if k % 3 == 0:
            copy[where] = (copy[where] + int(rng.integers(1, 256))) % 256
        elif k % 3 == 1:
            copy[where] ^= 1 << int(rng.integers(8))
        else:
            copy = copy[:where]
        yield k, bytes(copy)


def test_fuzz_every_damaged_checkpoint_loads_correctly_or_names_the_file(tmp_path, checkpoint_bytes):
    model, optimizer_state, data = checkpoint_bytes
    path = tmp_path / "damaged.npz"
    outcomes = {"loaded": 0, "refused": 0}
    for k, damaged in damaged_copies(data, 240, seed=15):
        path.write_bytes(damaged)
        try:
            checkpoint = load_checkpoint(path)
        except ModelFileError as error:
            assert str(path) in str(error), (k, str(error))
            outcomes["refused"] += 1
        else:  # a change the file's checks cannot see must not change what it holds
            assert same_parameters(checkpoint.model, model), k
            assert checkpoint.info == {"epoch": 3, "note": "kept"}, k
            assert checkpoint.optimizer_type == "Adam"
            assert json.dumps(checkpoint.optimizer_state, default=lambda a: a.tolist()) == \
                json.dumps(optimizer_state, default=lambda a: a.tolist()), k
            outcomes["loaded"] += 1
    directory_start = data.rindex(b"PK\x01\x02")  # damage within the zip's directory and end record
    rng = np.random.default_rng(16)
    for k in range(120):
        copy = bytearray(data)
        where = directory_start + int(rng.integers(len(data) - directory_start))
        copy[where] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(copy))
        try:
            checkpoint = load_checkpoint(path)
        except ModelFileError as error:
            assert str(path) in str(error), (k, str(error))
            outcomes["refused"] += 1
        else:
            assert same_parameters(checkpoint.model, model) and checkpoint.info == {"epoch": 3, "note": "kept"}
            assert checkpoint.optimizer_state is not None
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 200  # most damage is seen; the rest hits bytes that hold no data


def directory_entry(data, member):
    """The offset of ``member``'s entry in the central directory of the zip ``data``."""
    entry = data.index(b"PK\x01\x02")
    while not data[entry + 46:].startswith(member.encode()):
        entry = data.index(b"PK\x01\x02", entry + 4)
    return entry


DAMAGED_OR_FOREIGN = r"bad\.npz is damaged or not a minigrad model file: its "


@pytest.mark.parametrize("offset, value, message", [
    (8, 0x0001, DAMAGED_OR_FOREIGN + r"member 'model\.kind' is marked as encrypted"),
    (10, 99, DAMAGED_OR_FOREIGN + r"member 'model\.kind' uses compression method 99, which NumPy never"),
    (10, 14, DAMAGED_OR_FOREIGN + r"member 'model\.kind' uses compression method 14"),  # LZMA
    (24, 0xFFFFFFF0, r"bad\.npz is damaged: its member 'model\.kind' declares 4,294,967,280 bytes"),
])
def test_zip_fields_the_issue_found_give_model_file_errors(tmp_path, offset, value, message):
    data = bytearray(Path(MLP(2, [3], seed=0).save(tmp_path / "m")).read_bytes())
    entry = directory_entry(data, "model.kind.npy")
    struct.pack_into("<H" if offset < 20 else "<L", data, entry + offset, value)  # flags, method, size
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "bad.npz")


def test_patched_data_and_a_bad_offset_give_model_file_errors(tmp_path):
    data = bytearray(Path(MLP(2, [3], seed=0).save(tmp_path / "m")).read_bytes())
    patched = bytearray(data)
    patched[directory_entry(data, "model.kind.npy") + 8] |= 0x20  # flags: "compressed patched data"
    (tmp_path / "patched.npz").write_bytes(bytes(patched))
    with pytest.raises(ModelFileError, match=r"patched\.npz is truncated or damaged"):
        load(tmp_path / "patched.npz")
    end = data.rindex(b"PK\x05\x06")
    moved = bytearray(data)
    struct.pack_into("<L", moved, end + 16, 0xFFFFFF00)  # where the directory starts: far off
    (tmp_path / "moved.npz").write_bytes(bytes(moved))
    with pytest.raises(ModelFileError, match=r"moved\.npz is truncated or damaged"):
        load(tmp_path / "moved.npz")


def test_a_directory_that_lists_fewer_members_than_the_end_record_is_damaged(tmp_path):
    path = save_checkpoint(MLP(2, [3], seed=0), None, tmp_path / "c", epoch=1)
    data = bytearray(Path(path).read_bytes())
    end = data.rindex(b"PK\x05\x06")
    size = struct.unpack_from("<L", data, end + 12)[0]
    last_entry = data.rindex(b"PK\x01\x02")
    struct.pack_into("<L", data, end + 12, size - (end - last_entry))  # a directory one entry short
    (tmp_path / "short.npz").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"short\.npz is (damaged: its zip directory lists|truncated or damaged)"):
        load_checkpoint(tmp_path / "short.npz")  # never a checkpoint quietly without its info


# ----- 10. crafted files: nothing allocated or recursed beyond what the file holds ------------


def npy_member_declaring(shape, dtype="<f8", data=b"\0" * 16):
    """The bytes of a .npy member whose header declares ``shape`` but which holds only ``data``."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    stream = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(stream, header)
    return stream.getvalue() + data


@pytest.mark.parametrize("shape", [(10**6, 10**6), (10**12,), (0, 10**12, 3)])
def test_a_member_declaring_a_huge_shape_is_refused_before_allocating(tmp_path, shape):
    arrays = model_arrays(MLP(2, [3], seed=0))
    arrays["model.state.layers.0.W"] = npy_member_declaring(shape)
    with pytest.raises(ModelFileError, match=r"huge\.npz is damaged: its array 'model\.state\.layers\.0\.W' "
                                             r"declares shape .* bytes\), but holds 16 bytes"):
        load(write_archive(tmp_path / "huge.npz", arrays))


def test_a_member_holding_more_than_it_declares_is_refused(tmp_path):
    arrays = model_arrays(MLP(2, [3], seed=0))
    arrays["model.state.layers.0.b"] = npy_member_declaring((3,), data=b"\0" * 32)
    with pytest.raises(ModelFileError, match=r"declares shape \(3,\) of float64 \(24 bytes\), but holds 32"):
        load(write_archive(tmp_path / "long.npz", arrays))


@pytest.mark.parametrize("config, message", [
    ({"sizes": [10**9, 10**9], "activations": ["relu"], "dtype": "float64"},
     r"describes a MLP of 1,000,000,001,000,000,000 numbers, but its weights hold only 9"),
    ({"sizes": [2, 10**6, 10**6, 3], "activations": ["relu"] * 3, "dtype": "float64"},
     r"describes a MLP of .* numbers, but its weights hold only"),
])
def test_a_config_describing_a_huge_network_is_refused_before_allocating(tmp_path, config, message):
    arrays = model_arrays(MLP(2, [3], seed=0))
    arrays["model.config"] = np.array(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"big\.npz is not a valid minigrad model file: its config " + message):
        load(write_archive(tmp_path / "big.npz", arrays))


def test_a_huge_layer_config_is_refused_before_allocating(tmp_path):
    arrays = model_arrays(Layer(2, 3, seed=0))
    arrays["model.config"] = np.array(json.dumps({"nin": 10**8, "nout": 10**8, "activation": "relu",
                                                  "dtype": "float64"}))
    with pytest.raises(ModelFileError, match=r"describes a Layer of .* numbers, but its weights hold only 9"):
        load(write_archive(tmp_path / "big.npz", arrays))


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, r"model\.config is nested more than 100 levels deep"),
    ("[" * 100_000, r"model\.config is (nested more than 100 levels deep|not valid JSON)"),
    ('{"sizes": ' + "[" * 100 + "]" * 100 + "}", r"model\.config is nested more than 100 levels deep"),
    (json.dumps({"sizes": [2, 3], "activations": ["relu"], "dtype": "float64", "pad": "x" * 1_000_001}),
     r"model\.config is 1,000,\d{3} characters long"),
])
def test_a_config_is_bounded_in_nesting_and_length(tmp_path, text, message):
    arrays = model_arrays(MLP(2, [3], seed=0))
    arrays["model.config"] = np.array(text)
    with pytest.raises(ModelFileError, match=r"deep\.npz is not a valid minigrad model file: its (" + message + ")"):
        load(write_archive(tmp_path / "deep.npz", arrays))


def nested(levels):
    value = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_checkpoint_info_is_bounded_in_nesting_on_save_and_on_load(tmp_path):
    model = MLP(2, [3], seed=0)
    path = save_checkpoint(model, None, tmp_path / "ok", **nested(33))  # info itself + 32 levels
    assert load_checkpoint(path).info == nested(33)
    with pytest.raises(ValueError, match="cannot save data nested more than 33 levels deep"):
        save_checkpoint(model, None, tmp_path / "deep", **nested(34))
    assert not (tmp_path / "deep.npz").exists()
    arrays = model_arrays(model)
    arrays["info.json"] = np.array("[" * 50_000 + "]" * 50_000)
    with pytest.raises(ModelFileError, match=r"crafted\.npz is not a valid minigrad checkpoint: its info "
                                             r"entry is nested more than 100 levels deep"):
        load_checkpoint(write_archive(tmp_path / "crafted.npz", arrays))
    arrays["info.json"] = np.array(json.dumps({"__array__": -1}))
    with pytest.raises(ModelFileError, match=r"crafted\.npz is not a valid minigrad checkpoint: its info "
                                             r"entry is damaged \(no stored array -1\)"):
        load_checkpoint(write_archive(tmp_path / "crafted.npz", arrays))


def test_a_sound_archive_written_by_hand_still_loads(tmp_path):
    model = tied_model()
    loaded = load(write_archive(tmp_path / "hand.npz", model_arrays(model)))
    assert same_parameters(loaded, model) and loaded.layers[0] is loaded.layers[1]


# ----- 16. python -m minigrad.speed checks its files before measuring ------------------------


@pytest.fixture
def no_measuring(monkeypatch):
    def measuring(*args, **kwargs):
        raise AssertionError("measured before checking the output files")
    from minigrad.speed import cli
    monkeypatch.setattr(cli, "compare", measuring)
    monkeypatch.setattr(cli, "agreement", measuring)


@pytest.mark.parametrize("argv, message", [
    (["--json", "/missing/x.json"], "--json /missing/x.json: there is no directory /missing"),
    (["--plot", "x.txt"], "--plot x.txt: matplotlib cannot save a chart as .txt; use one of"),
    (["--plot", "chart.PNG2"], "cannot save a chart as .png2"),
    (["--json", "{tmp}"], "that is a directory, not a file"),
    (["--plot", "/missing/dir/chart.png"], "there is no directory /missing/dir"),
])
def test_speed_checks_output_files_before_measuring(argv, message, tmp_path, capsys, no_measuring):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        speed.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    ({"format": speed.FORMAT}, "it has no 'engines'"),
    ({"format": speed.FORMAT, "engines": ["scalar"], "repeats": 1, "width": 1, "batch": 2,
      "widths": [1], "batches": [2], "rows": []}, "its engines should include 'scalar' and 'tensor'"),
    ({"format": speed.FORMAT, "engines": ["scalar", "tensor"], "repeats": 1, "width": 1, "batch": 2,
      "widths": [1], "batches": [2], "rows": []}, r"the results have no measurement for \(width, batch\) = \(1, 2\)"),
    ({"format": speed.FORMAT, "engines": ["scalar", "tensor"], "repeats": 1, "width": 1, "batch": 2,
      "widths": [1], "batches": [2], "rows": [{"width": 1, "batch": 2, "nodes": {"scalar": 5},
                                               "seconds": {"scalar": 0.1}}]},
     "row 0 should give tensor's seconds as a positive number, got None"),
    ({"format": speed.FORMAT, "engines": ["scalar", "tensor"], "repeats": "5", "width": 1, "batch": 2,
      "widths": [1], "batches": [2], "rows": []}, "its 'repeats' should be a positive whole number"),
])
def test_speed_load_of_incomplete_results_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"r\.json does not hold complete minigrad\.speed results: " + message):
        speed.load_json(path)
    with pytest.raises(SystemExit) as exit_info:
        speed.main(["--load", str(path)])
    assert exit_info.value.code == 2 and "does not hold complete" in capsys.readouterr().err


def test_speed_load_accepts_complete_results_and_checks_a_plot_path(tmp_path, capsys):
    results = {"format": speed.FORMAT, "engines": ["scalar", "tensor"], "repeats": 1, "width": 1,
               "batch": 2, "widths": [1], "batches": [2], "min_time": 0.01,
               "rows": [{"width": 1, "batch": 2, "nodes": {"scalar": 50, "tensor": 9},
                         "seconds": {"scalar": 0.2, "tensor": 0.1}}]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results))
    assert speed.main(["--load", str(path)]) == 0
    assert "varying the width" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        speed.main(["--load", str(path), "--plot", str(tmp_path / "chart.txt")])
    assert not (tmp_path / "chart.txt").exists()


# ----- 17. course.py serve checks --port before building the book ---------------------------


def load_site_server():
    spec = importlib.util.spec_from_file_location("site_server_under_test", ROOT / "tools" / "site_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("port, message", [
    ("abc", "a port is a whole number from 0 to 65535, got 'abc'"),
    ("70000", "a port is a whole number from 0 to 65535, got 70000"),
    ("-1", "a port is a whole number from 0 to 65535, got -1"),
])
def test_serve_refuses_a_bad_port_before_anything_else(port, message, capsys):
    server = load_site_server()
    with pytest.raises(SystemExit) as exit_info:
        server.parse_args(["--port", port])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert server.parse_args(["--port", "0"]).port == 0
    assert server.parse_args([]).port == 8000


@pytest.mark.parametrize("port", ["abc", "65536"])
def test_course_py_serve_fails_on_the_port_without_building(tmp_path, port):
    # a copy of course.py and the server, with no built book next to them: a build would start
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "course.py", tmp_path / "course.py")
    shutil.copy(ROOT / "tools" / "site_server.py", tmp_path / "tools" / "site_server.py")
    process = subprocess.Popen([sys.executable, str(tmp_path / "course.py"), "serve", "--port", port],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               start_new_session=True)  # its own group: a build it started can be stopped
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("course.py serve --port with a bad port ran on (building the book?)")
    assert process.returncode == 2, out + err
    assert "python3 course.py serve: error: argument --port: a port is a whole number from 0 to 65535" in err
    assert "building" not in out + err and not (tmp_path / ".venv").exists()


# ----- 18. examples/train_long.py refuses a number of epochs below 1 ----------------------------


@pytest.mark.parametrize("option, value", [("--epochs", "0"), ("--epochs", "-3"), ("--stop-after", "0"),
                                           ("--epochs", "many")])
def test_train_long_refuses_epochs_below_one(tmp_path, option, value):
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "train_long.py"), str(tmp_path / "run"),
                          option, value], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"argument {option}: expected a positive whole number" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "run" / "checkpoint.npz").exists()


def test_train_long_run_refuses_epochs_below_one_when_called(tmp_path):
    spec = importlib.util.spec_from_file_location("train_long", ROOT / "examples" / "train_long.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for epochs in (0, -1, 2.5):
        with pytest.raises(ValueError, match="epochs must be a positive whole number"):
            module.run(str(tmp_path), epochs)
    with pytest.raises(ValueError, match="stop_after must be a positive whole number"):
        module.run(str(tmp_path), 3, stop_after=0)
