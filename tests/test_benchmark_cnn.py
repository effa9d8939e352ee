"""The CNN benchmark (`python -m benchmarks cnn`): its engines agree, and it reports what it measured."""
import io

import numpy as np

from benchmarks import cnn as bench


def test_cnn_engines_agree_before_and_after_a_step():
    X, y, weights, masks = bench.make_problem(batch=8)
    engines = [bench.MinigradCNN(X, y, weights, masks)]
    try:
        engines.append(bench.TorchCNN(X, y, weights, masks))
    except ImportError:
        pass
    assert np.isfinite(bench.check_agreement(engines))
    for engine in engines:
        engine.step()
    bench.check_agreement(engines)


def test_the_loop_convolution_is_the_same_convolution():
    X, _, weights, _ = bench.make_problem(batch=4)
    for x, w, b in bench.conv_inputs(X, weights):
        np.testing.assert_allclose(bench.Im2colForward(x, w, b).step(), bench.LoopForward(x, w, b).step(),
                                   rtol=1e-12, atol=1e-12)


def test_cnn_benchmark_run_reports_its_ratios():
    out = io.StringIO()
    result = bench.run(batch=4, repeats=1, use_torch=False, out=out, steady_malloc=False)
    text = out.getvalue()
    assert result["torch"] is None and len(result["convolutions"]) == 2
    for c in result["convolutions"]:
        assert f"{c['loops'] / c['im2col']:.1f}x faster" in text
    assert "agreed" in text


def test_cnn_benchmark_is_listed():
    from benchmarks.__main__ import BENCHMARKS
    assert "cnn" in BENCHMARKS
