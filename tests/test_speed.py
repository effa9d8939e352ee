"""Tests of minigrad.speed, the scalar-vs-tensor comparison (chapter 11 and `course.py speed`).

Nothing here asserts a time: the measurements' shapes, the counts, the
agreement of the engines, the JSON files and the command are what is tested.
The claims are tested on made-up measurements, where the right verdict is known.
"""
import copy
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from minigrad import speed
from minigrad.speed import timing
from minigrad.exercises.ch11 import matmul_work_in_graph

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(widths=[1, 2], batches=[2, 3], width=1, batch=2, repeats=2, min_time=0.001)


@pytest.fixture(scope="module")
def tiny_results():
    return speed.compare(engines=("scalar", "tensor"), **TINY)


@pytest.mark.parametrize("width, batch", [(1, 1), (1, 2), (2, 3), (4, 8), (5, 7), (16, 100)])
def test_node_formula_matches_the_graph(width, batch):
    assert speed.count_nodes("scalar", width, batch) == speed.scalar_nodes(width, batch)


def test_the_tensor_graph_does_not_grow_with_size():
    counts = {speed.count_nodes("tensor", w, b) for w, b in [(1, 1), (4, 8), (32, 200)]}
    assert len(counts) == 1


@pytest.mark.parametrize("width, batch", [(1, 1), (3, 5), (16, 64)])
def test_multiply_add_formula_matches_the_graph(width, batch):
    assert speed.multiply_adds(width, batch) == matmul_work_in_graph(width, batch)


@pytest.mark.parametrize("width, batch", [(4, 8), (16, 50)])
def test_the_engines_compute_the_same_losses(width, batch):
    check = speed.agreement(width, batch, steps=4)
    scalar, tensor = check["losses"]["scalar"], check["losses"]["tensor"]
    assert len(scalar) == len(tensor) == 4
    assert check["max_gap"] <= 1e-12
    assert max(abs(a - b) for a, b in zip(scalar, tensor)) <= 1e-12 * max(scalar)
    assert scalar[-1] < scalar[0]  # they are really training


def test_pytorch_computes_the_same_losses(torch):
    check = speed.agreement(8, 16, steps=3, engines=("scalar", "tensor", "torch"))
    assert check["max_gap"] <= 1e-12


class FakeClock:
    """A ``time.perf_counter`` that moves only when a training step runs, by a chosen amount."""

    def __init__(self):
        self.now = 0.0
        self.cost = 0.0  # seconds that each step takes, from now on

    def __call__(self):
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    """Steps that take the time we say: what measure() reports can then be known exactly.

    Each step still runs the engine's real training step, and is counted."""
    clock = FakeClock()
    clock.losses = []
    monkeypatch.setattr(timing.time, "perf_counter", clock)
    real_make_step = timing.make_step

    def make_step(engine, problem):
        runner = real_make_step(engine, problem)
        real_step = runner.step

        def step():
            clock.losses.append(real_step())
            clock.now += clock.cost
        runner.step = step
        return runner
    monkeypatch.setattr(timing, "make_step", make_step)
    return clock


@pytest.mark.parametrize("engine", ["scalar", "tensor", "torch"])
def test_measure_reports_seconds_per_step_and_the_median_of_its_runs(engine, fake_clock, request):
    if engine == "torch":
        request.getfixturevalue("torch")  # skips when PyTorch is not installed
    # the warm-up step's, the planning run's (3 steps: long enough), then each run's
    costs = iter([0.004, 0.004, 0.001, 0.005, 0.002])
    fake_clock.cost = next(costs)
    real_one_run = timing._one_run

    def one_run(runner, steps, clock=None):  # each run at its own speed
        seconds = real_one_run(runner, steps, clock)
        fake_clock.cost = next(costs, None)
        return seconds
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timing, "_one_run", one_run)
        result = speed.measure(engine, 2, 4, repeats=3, min_time=0.01)
    assert set(result) == {"engine", "width", "batch", "seconds", "runs", "steps_per_run", "nodes"}
    assert (result["engine"], result["width"], result["batch"]) == (engine, 2, 4)
    assert result["steps_per_run"] == 3  # enough 0.004 s steps for a run to last min_time = 0.01 s
    assert result["runs"] == pytest.approx([0.001, 0.005, 0.002], rel=1e-9)  # seconds per step
    assert result["seconds"] == pytest.approx(0.002, rel=1e-9)  # their median
    assert len(fake_clock.losses) == 1 + 3 + 3 * 3  # warm-up, planning run, 3 runs of 3 steps
    assert fake_clock.losses[-1] < fake_clock.losses[0]  # real training steps
    assert result["nodes"] == (None if engine == "torch" else speed.count_nodes(engine, 2, 4))
    if engine == "scalar":
        assert result["nodes"] == speed.scalar_nodes(2, 4)


@pytest.mark.parametrize("warm_up_seconds, steps", [(1.0, 1), (1e-12, 1000)])
def test_a_run_is_one_step_at_least_and_a_thousand_at_most(warm_up_seconds, steps, monkeypatch):
    """A step slower than min_time still makes a run of one step; a nearly free one, no endless run."""
    class Runner:
        name = "fake"
    monkeypatch.setattr(timing, "_one_run", lambda runner, n, clock=None: warm_up_seconds)
    (runs, steps_per_run), = timing._time_engines([Runner()], repeats=2, min_time=0.01).values()
    assert steps_per_run == steps and runs == [warm_up_seconds] * 2


def test_runs_are_planned_from_warmed_up_steps(fake_clock):
    """A slow first step does not make the timed runs short: the steps per run grow until a
    run of warmed-up steps lasts min_time."""
    costs = iter([0.004,    # the warm-up step: 3 such steps would last 0.012 s
                  0.0015,   # warmed up, 3 steps last 0.0045 s: too short, so 7 steps
                  0.0014,   # 7 steps last 0.0098 s: still short, so 8
                  0.0013,   # 8 steps last 0.0104 s: long enough
                  0.0012, 0.0013])
    fake_clock.cost = next(costs)
    real_one_run = timing._one_run
    lengths = []

    def one_run(runner, steps, clock=None):
        seconds = real_one_run(runner, steps, clock)
        lengths.append((steps, seconds * steps))
        fake_clock.cost = next(costs, None)
        return seconds
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timing, "_one_run", one_run)
        result = speed.measure("tensor", 2, 4, repeats=2, min_time=0.01)
    assert [steps for steps, _ in lengths] == [1, 3, 7, 8, 8, 8]
    assert result["steps_per_run"] == 8
    assert result["runs"] == pytest.approx([0.0012, 0.0013], rel=1e-9)
    assert lengths[3][1] >= 0.01 > lengths[2][1]


def test_a_blocked_import_of_pytorch_counts_as_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what MINIGRAD_TORCH=0 does for the tests
    assert speed.torch_available() is False and speed.import_torch() is None
    assert "torch" not in speed.machine()
    with pytest.raises(ValueError, match="PyTorch is not installed"):
        speed.compare(engines=("scalar", "tensor", "torch"), **TINY)


def test_compare_returns_plain_data_for_every_size_and_engine(tiny_results):
    r = tiny_results
    assert r["format"] == speed.FORMAT and r["engines"] == ["scalar", "tensor"]
    sizes = {(row["width"], row["batch"]) for row in r["rows"]}
    assert sizes == {(1, 2), (2, 2), (1, 3)}  # (1, 2) is in both sweeps, measured once
    for row in r["rows"]:
        assert set(row["seconds"]) == {"scalar", "tensor"}
        assert all(len(runs) == TINY["repeats"] for runs in row["runs"].values())
        assert row["nodes"]["scalar"] == speed.scalar_nodes(row["width"], row["batch"])
        assert row["multiply_adds"] == speed.multiply_adds(row["width"], row["batch"])
    assert [row["width"] for row in speed.sweep(r, "width")] == [1, 2]
    assert [row["batch"] for row in speed.sweep(r, "batch")] == [2, 3]
    json.dumps(r)  # nothing but plain data


def test_progress_is_reported_for_every_run():
    calls = []
    speed.compare(engines=("scalar", "tensor"), progress=lambda *a: calls.append(a),
                  **{**TINY, "widths": [1], "batches": [2]})
    total = 1 * 2 * (TINY["repeats"] + 1)  # one size, two engines, warm-up + repeats
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert all(c[1] == total and "width 1 batch 2" in c[2] for c in calls)


def _fake(seconds_by_size, width=4, batch=8, widths=(4, 32), batches=(8, 256)):
    """Results with the given {(width, batch): (scalar s, tensor s)} and true node counts."""
    rows = [{"width": w, "batch": b, "seconds": {"scalar": s, "tensor": t},
             "nodes": {"scalar": speed.scalar_nodes(w, b), "tensor": 21}}
            for (w, b), (s, t) in seconds_by_size.items()]
    return {"engines": ["scalar", "tensor"], "width": width, "batch": batch, "repeats": 1,
            "widths": list(widths), "batches": list(batches), "rows": rows}


def test_claims_hold_when_the_numbers_bear_them_out():
    results = _fake({(4, 8): (1.0, 0.1), (32, 8): (30.0, 0.12), (4, 256): (20.0, 0.1)})
    claims = speed.robust_claims(results)
    assert len(claims) == 4 and all(holds for _, holds in claims)
    assert speed.format_claims(claims).count("holds: ") == 4


def test_claims_fail_when_the_numbers_do_not():
    results = _fake({(4, 8): (1.0, 2.0), (32, 8): (30.0, 0.12), (4, 256): (20.0, 0.1)})
    verdict = dict(speed.robust_claims(results))
    assert verdict["the tensor engine is faster than the scalar engine at every size measured"] is False
    slow_growth = _fake({(4, 8): (1.0, 0.1), (32, 8): (3.0, 0.1), (4, 256): (20.0, 0.1)})
    width_claim = [c for c in speed.robust_claims(slow_growth) if "with the width" in c[0]]
    assert width_claim and width_claim[0][1] is False
    assert "DOES NOT HOLD: " in speed.format_claims(speed.robust_claims(slow_growth))
    wrong_count = copy.deepcopy(results)
    wrong_count["rows"][0]["nodes"]["tensor"] = 22
    assert dict(speed.robust_claims(wrong_count))[next(t for t, _ in speed.robust_claims(results)
                                                       if "nodes" in t)] is False


def test_growth_claims_need_a_wide_range():
    narrow = _fake({(4, 8): (1.0, 0.1), (5, 8): (1.5, 0.1), (4, 9): (1.1, 0.1)},
                   widths=(4, 5), batches=(8, 9))
    assert len(speed.robust_claims(narrow)) == 2  # no claim about growth over a range this small


def test_table_lists_every_size_with_its_speedup():
    results = _fake({(4, 8): (1.0, 0.1), (32, 8): (30.0, 0.12), (4, 256): (20.0, 0.1)})
    table = speed.format_table(results)
    lines = table.splitlines()
    assert all(len(line) <= 77 for line in lines)  # fits a terminal and the book's column
    rows = [line.split() for line in lines if line[:5].strip().isdigit()]
    assert [row[:2] for row in rows] == [["4", "8"], ["32", "8"], ["4", "8"], ["4", "256"]]
    assert [row[-1] for row in rows] == ["10.0x", "250.0x", "10.0x", "200.0x"]
    assert "varying the width, at batch 8:" in table and "varying the batch size, at width 4:" in table
    assert f"{speed.scalar_nodes(32, 8):,}" in table


def test_json_round_trips(tiny_results, tmp_path):
    path = tmp_path / "speed.json"
    speed.save_json(tiny_results, path)
    assert speed.load_json(path) == tiny_results


def test_load_json_says_what_is_wrong(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="broken.json is not a JSON file"):
        speed.load_json(broken)
    other = tmp_path / "other.json"
    other.write_text('{"rows": []}')
    with pytest.raises(ValueError, match="does not hold minigrad.speed results"):
        speed.load_json(other)


def test_plot_draws_on_given_axes_or_a_file(tiny_results, tmp_path):
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3)
    assert speed.plot(tiny_results, axes) is fig
    assert len(axes[0].get_lines()) == 2 and len(axes[2].get_lines()) == 2
    plt.close(fig)
    path = tmp_path / "chart.png"
    speed.plot(tiny_results, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="3 Axes"):
        speed.plot(tiny_results, axes[:2])


@pytest.mark.parametrize("call, error, message", [
    (lambda: speed.make_problem(0, 4), ValueError, "width must be at least 1"),
    (lambda: speed.make_problem(4, "8"), TypeError, "batch must be a positive whole number"),
    (lambda: speed.make_step("gpu", speed.make_problem(2, 2)), ValueError, "unknown engine 'gpu'"),
    (lambda: speed.make_step("scalar", (2, 2)), TypeError, "needs a Problem"),
    (lambda: speed.compare(widths=[], **{k: v for k, v in TINY.items() if k != "widths"}),
     ValueError, "widths lists no size"),
    (lambda: speed.compare(widths=[4, 2], batches=[2], repeats=1), ValueError, "must grow"),
    (lambda: speed.compare(engines=("scalar",), **TINY), ValueError, "needs the scalar and the tensor"),
    (lambda: speed.sweep({"widths": [1], "batch": 2, "rows": []}, "width"), ValueError, "no measurement"),
    (lambda: speed.sweep({}, "depth"), ValueError, "'width' or 'batch'"),
    (lambda: speed.count_nodes("torch", 2, 2), ValueError, "scalar and tensor"),
])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_command_measures_and_saves(tmp_path, capsys):
    json_path, png_path = tmp_path / "m.json", tmp_path / "m.png"
    code = speed.main(["--widths", "1,2", "--batches", "2,3", "--width", "1", "--batch", "2",
                       "--repeats", "1", "--no-torch", "--json", str(json_path), "--plot", str(png_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "their losses differ by at most" in out and "speed-up" in out
    assert "holds: the tensor engine's graph has the same number of nodes" in out
    assert "12/12" in err  # the progress bar reached the end: 3 sizes x 2 engines x (warm-up + 1 run)
    results = speed.load_json(json_path)
    assert results["engines"] == ["scalar", "tensor"] and len(results["rows"]) == 3
    assert png_path.stat().st_size > 1000
    # --load shows saved measurements without measuring
    assert speed.main(["--load", str(json_path)]) == 0
    out, err = capsys.readouterr()
    assert "measurements loaded from" in out and "varying the width" in out and err == ""


def test_the_command_rejects_bad_options(capsys):
    for argv, message in [(["--widths", "8,4"], "growing positive sizes"),
                          (["--repeats", "0"], "positive whole number"),
                          (["--widths", "a,b"], "sizes separated by commas"),
                          (["--load", "/nonexistent/file.json"], "No such file")]:
        with pytest.raises(SystemExit) as exit_info:
            speed.main(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_python_m_minigrad_speed_runs_in_a_fresh_interpreter(tmp_path):
    run = subprocess.run([sys.executable, "-m", "minigrad.speed", "--widths", "1", "--batches", "2",
                          "--width", "1", "--batch", "2", "--repeats", "1", "--no-torch"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "varying the batch size" in run.stdout
    assert "[" in run.stderr and "4/4" in run.stderr  # progress on stderr, not mixed into the table


# ----- where the time goes (minigrad.speed.breakdown) -------------------------------------

@pytest.mark.parametrize("width, batch", [(1, 1), (3, 5), (16, 40)])
def test_numpy_by_hand_takes_the_tensor_engines_steps(width, batch):
    problem = speed.make_problem(width, batch)
    engine = speed.make_step("tensor", problem)
    layers = problem.weights()
    for _ in range(3):
        assert speed.numpy_step(layers, problem.X, problem.labels) == pytest.approx(engine.step(), rel=1e-12)
    for (W, b), layer in zip(layers, engine.model.layers):  # the same updates, not only the same losses
        assert W == pytest.approx(layer.W.data, rel=1e-12, abs=1e-15)
        assert b == pytest.approx(layer.b.data, rel=1e-12, abs=1e-15)


def test_collector_share_times_the_collector_and_puts_it_back():
    import gc
    frozen, callbacks = gc.get_freeze_count(), list(gc.callbacks)
    r = speed.collector_share(8, 64, repeats=2, min_time=0.001)
    assert (r["width"], r["batch"], r["nodes"], r["frozen"]) == (8, 64, speed.scalar_nodes(8, 64), True)
    assert r["seconds"] > 0 and r["without_collector"] > 0 and r["collector"] >= 0
    # a graph of 12,908 nodes allocates far more than the 700 objects that start a collection
    assert r["collections"][0] >= 1
    assert gc.isenabled() and gc.callbacks == callbacks and gc.get_freeze_count() == frozen
    unfrozen = speed.collector_share(2, 2, repeats=1, min_time=0.001, freeze=False)
    assert unfrozen["frozen"] is False and gc.get_freeze_count() == frozen


def test_tensor_breakdown_parts_add_up_to_the_step():
    r = speed.tensor_breakdown(4, 8, repeats=2, min_time=0.001)
    assert r["multiply_adds"] == speed.multiply_adds(4, 8)
    parts = r["bookkeeping"] + r["calls"] + r["arithmetic"] + r["array_extra"]
    assert parts == pytest.approx(r["seconds"], rel=1e-9) and r["calls"] > 0


def test_plot_breakdown_draws_both_steps(tmp_path):
    import matplotlib.pyplot as plt
    scalar = [{"width": 4, "batch": 8, "frozen": True, "seconds": 0.01, "collector": 0.001},
              {"width": 8, "batch": 64, "frozen": False, "seconds": 0.1, "collector": 0.04}]
    tensor = [{"width": 8, "batch": 16, "seconds": 2e-4, "bookkeeping": 1.2e-4, "calls": 6e-5,
               "arithmetic": 1e-5, "array_extra": -1e-6}]  # a part slightly below 0: noise, drawn as 0
    fig, axes = plt.subplots(1, 2)
    assert speed.plot_breakdown(scalar, tensor, axes) is fig
    assert len(axes[0].patches) == 2 * 2 and len(axes[1].patches) == 4
    widths = [p.get_width() for p in axes[1].patches]
    assert min(widths) == 0 and sum(widths) == pytest.approx(1.0)
    plt.close(fig)
    speed.plot_breakdown(scalar, tensor, tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="2 Axes"):
        speed.plot_breakdown(scalar, tensor, [axes[0]])


def test_the_package_is_split_without_cycles():
    """Each module of minigrad.speed imports only those listed before it (and never cli)."""
    import ast
    order = ["sizes", "engines", "counts", "timing", "breakdown", "report", "plots", "files",
             "progress", "cli"]
    for i, name in enumerate(order):
        tree = ast.parse((ROOT / "minigrad" / "speed" / f"{name}.py").read_text())
        imported = {node.module.rsplit(".", 1)[-1] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module
                    and node.module.startswith("minigrad.speed.")}
        assert imported <= set(order[:i]), (name, imported - set(order[:i]))


def test_a_run_can_be_timed_by_another_clock():
    class Runner:
        name = "idle"

        def step(self):
            pass
    ticks = iter([2.0, 2.5])
    assert timing._one_run(Runner(), 5, clock=lambda: next(ticks)) == pytest.approx(0.1)
