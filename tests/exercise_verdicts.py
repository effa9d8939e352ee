"""What the exercise checkers' tests share: running a checker and reading its verdict (a
PASS that reads the same on every run, a FAIL that says why), and running code as a
notebook cell."""
import itertools
import linecache

_cells = itertools.count()


def run_cell(source, namespace=None):
    """Run ``source`` as IPython runs a notebook cell: compiled under a made-up file name
    that only linecache knows (so ``inspect.getsource`` of a class raises); returns the
    namespace."""
    namespace = {} if namespace is None else namespace
    name = f"<ipython-input-{next(_cells)}-cell>"
    linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
    exec(compile(source, name, "exec"), namespace)
    return namespace


def run(capsys, checker, *args):
    """The checker's verdict (True or False) and its message, with the wrapped lines
    joined again; the message must start with the verdict and fit a notebook's
    77-character column."""
    ok = checker(*args)
    out = capsys.readouterr().out
    assert out.startswith("PASS" if ok else "FAIL"), out
    assert all(len(line) <= 77 for line in out.splitlines()), f"a line too wide for the column: {out}"
    return ok, " ".join(out.split())


def passes_the_same_way(capsys, checker, answer, runs=3):
    """The answer PASSES on several runs (inputs drawn afresh), with the same text each time."""
    texts = set()
    for _ in range(runs):
        ok, out = run(capsys, checker, answer)
        assert ok is True, out
        texts.add(out)
    assert len(texts) == 1, texts


def fails_saying(capsys, checker, answer, says):
    """The answer FAILS with a message that contains ``says``; returns the message."""
    ok, out = run(capsys, checker, answer)
    assert ok is False, out
    assert says in out, out
    return out
