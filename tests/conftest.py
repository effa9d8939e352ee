"""Shared test settings and fixtures.

Hypothesis runs a modest number of examples by default so the whole suite stays
quick on a shared machine; ``HYPOTHESIS_PROFILE=thorough pytest`` runs many more.
No profile has a deadline: a slow moment of the machine must not fail a test.

``MINIGRAD_TORCH=0`` (as in the GitHub workflow) runs the tests as if PyTorch
were not installed, even where it is: every comparison with it skips, and what
remains must still catch a wrong gradient or a wrong optimizer step.
"""
import gc
import os
import random
import shutil
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

if os.environ.get("MINIGRAD_TORCH") == "0":
    sys.modules["torch"] = None  # `import torch` now raises ImportError, as where it is absent


@pytest.fixture(autouse=True)
def own_engine_directory(tmp_path, monkeypatch):
    """Checkers keep a passing piece in the reader's ``yourgrad/``: in a test, a temporary
    one (``MINIGRAD_YOURGRAD``), and the ``yourgrad`` modules are forgotten afterwards."""
    monkeypatch.setenv("MINIGRAD_YOURGRAD", str(tmp_path / "yourgrad"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path / "yourgrad"
    for name in [name for name in sys.modules if name.split(".")[0] == "yourgrad"]:
        del sys.modules[name]


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or the test is skipped (with the reason) when it is not installed.

    Make its tensors with ``dtype=torch.float64``: comparisons are in double precision.
    """
    return pytest.importorskip("torch", reason="PyTorch is not installed; comparisons with it are skipped")


@pytest.fixture
def seeded_random():
    """Python's global ``random`` seeded (and restored afterwards), for code that draws from it,
    such as a network built without a ``seed``."""
    state = random.getstate()
    random.seed(12345)
    yield random
    random.setstate(state)


@pytest.fixture
def dot_executable():
    """Graphviz's ``dot`` program, or the test is skipped when it is not installed."""
    path = shutil.which("dot")
    if path is None:
        pytest.skip("graphviz's `dot` program is not installed (apt-get install graphviz)")
    return path


@pytest.fixture
def live_nodes():
    """A counter of the live objects of a node class, with the cycle collector off.

    A graph freed by reference counting alone brings the count back to where it
    was; one caught in a reference cycle stays counted. Only the class asked for
    is counted, so garbage left by other tests or threads does not matter.
    """
    gc.collect()
    gc.disable()
    try:
        yield lambda kind: sum(1 for obj in gc.get_objects() if issubclass(type(obj), kind))
    finally:
        gc.enable()
