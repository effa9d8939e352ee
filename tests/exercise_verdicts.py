"""What the exercise checkers' tests share: running a checker and reading its verdict,
and running code as a notebook cell."""
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
