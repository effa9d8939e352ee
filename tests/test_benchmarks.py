"""The tensor benchmark (`python -m benchmarks tensor`): its engines agree, and it reports what it measured."""
import io

import numpy as np
import pytest

from benchmarks import tensor as bench


@pytest.mark.parametrize("size", list(bench.SIZES))
def test_benchmark_engines_agree(size):
    layers, batch, _, _ = bench.SIZES[size]
    if size == "large":
        batch = 16  # the same layers, fewer examples: quick
    X, y, weights = bench.make_problem(layers, batch)
    engines = [bench.MinigradMLP(X, y, weights), bench.NumpyMLP(X, y, weights)]
    try:
        engines.append(bench.TorchMLP(X, y, weights))
    except ImportError:
        pass
    loss = bench.check_agreement(engines)
    assert np.isfinite(loss)
    # and one step moves all of them the same way
    for engine in engines:
        engine.step()
    bench.check_agreement(engines)


def test_benchmark_main_prints_a_table(capsys):
    assert bench.main(["--sizes", "small", "--repeats", "1", "--no-torch", "--system-malloc"]) == 0
    out = capsys.readouterr().out
    assert "[2, 16, 16, 2]" in out and "minigrad/NumPy" in out and "agreed" in out


def test_benchmark_rejects_unknown_sizes():
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "huge"])


def test_benchmark_run_returns_results():
    out = io.StringIO()
    (result,) = bench.run(["small"], repeats=1, use_torch=False, out=out, steady_malloc=False)
    layers, batch, _, _ = bench.SIZES["small"]
    assert (result["size"], result["layers"], result["batch"], result["torch"]) == ("small", layers, batch, None)
    X, y, weights = bench.make_problem(layers, batch)  # the loss it reports is the problem's loss
    assert result["loss"] == bench.check_agreement([bench.MinigradMLP(X, y, weights), bench.NumpyMLP(X, y, weights)])
    assert f"{result['minigrad'] / result['numpy']:.2f}x" in out.getvalue()  # and the table shows its ratio
