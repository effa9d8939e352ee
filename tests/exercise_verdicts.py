"""What the exercise checkers' tests share: running a checker and reading its verdict."""


def run(capsys, checker, *args):
    """The checker's verdict (True or False) and its message, with the wrapped lines
    joined again; the message must start with the verdict and fit a notebook's
    77-character column."""
    ok = checker(*args)
    out = capsys.readouterr().out
    assert out.startswith("PASS" if ok else "FAIL"), out
    assert all(len(line) <= 77 for line in out.splitlines()), f"a line too wide for the column: {out}"
    return ok, " ".join(out.split())
