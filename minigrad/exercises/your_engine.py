"""The reader's own engine, kept in files they can open: ``yourgrad/``.

The exercises of each Part, together, write an engine: ``yourgrad/value.py``
(Part I, the scalar engine) and ``yourgrad/tensor.py`` (Part II). When a
checker passes a piece of it (a class, a function, methods attached to a
class), the piece's source is written into the file, in the course's order,
under a marker line ``# chapter N, exercise M: title``; so the file reads top
to bottom like a package. The directory ``yourgrad/`` is made next to the
notebooks (the kernel's working directory; ``MINIGRAD_YOURGRAD`` names
another) on first use.

The API, for the checkers of both Parts:

``keep(engine, chapter, exercise, check, **answers)``
    Run ``check(**answers)`` (an exercise's checker: prints PASS or FAIL,
    returns a bool). If it passes, write the piece's source, found from the
    answers, into ``yourgrad/<engine>.py``, import that file afresh and run
    ``check`` again, silently, on the same names taken from the file: only
    then is the PASS printed, with ", kept in yourgrad/<engine>.py" (pieces
    of earlier exercises that the file lacks are filled in from the course's
    solutions first, and the PASS says which). A piece that needs a name the
    file does not define (a notebook global, a name a notebook put in
    ``builtins`` or on a module like ``np``) is refused, naming it, as is one
    that imports minigrad, PyTorch, importlib, builtins or __main__ (anywhere
    in it: see ``outside_reaches``); a piece that fails from the file is not
    kept. The keyword names are the names in
    the file (``Value=Value``).

``catch_up(engine, chapter, exercise=0)``
    Fill in, from the reference solution, every piece of the chapters before
    ``chapter`` (with ``exercise``: every piece before that exercise) that the
    file lacks, name each one, and return the module imported afresh
    (``yg = catch_up("value", 3)``, then ``yg.Value``).

``load(engine)``
    The reader's module, imported afresh from the file (no catch-up).

``pieces(engine)``
    The reference's pieces, in the course's order: ``Piece`` tuples
    ``(chapter, exercise, title, source, targets)``.

The reference solutions are files of the same form in the package,
``minigrad/exercises/reference/<engine>.py.txt`` (text, not
modules, so that no answer can import them): one place, which the notebooks'
solution cells agree with (a test checks it), and which ``catch_up`` copies
pieces from. Its marker lines define the pieces: each piece's *targets* are
the names its block defines (``Neuron``) and the class attributes it sets
(``Value.__sub__``).

Writes are atomic (a temporary file, then ``os.replace``); when a piece that
the file holds already is replaced by a new answer, the file as it was is
kept beside it as ``<engine>.py.bak``.
"""
import ast
import builtins
import contextlib
import dis
import importlib
import inspect
import io
import linecache
import os
import re
import sys
import tempfile
import textwrap
import types
from collections import namedtuple
from pathlib import Path

from minigrad.exercises import describe_error, report

__all__ = ["Piece", "keep", "catch_up", "load", "pieces", "engine_directory", "engine_path",
           "piece_source", "outside_reaches", "watching_training", "training_problem",
           "wrapping",
           "EngineError"]

REFERENCE = Path(__file__).resolve().parent / "reference"
MARKER = re.compile(r"^# chapter (\d+), exercise (\d+): (.*?)(?: \(the course's solution\))?$")
FROM_REFERENCE = " (the course's solution)"

Piece = namedtuple("Piece", "chapter exercise title source targets")


class EngineError(RuntimeError):
    """The reader's engine file cannot be used (it does not import, or a piece is unreadable)."""


# ----- where the files are -----------------------------------------------------------

def engine_directory():
    """``yourgrad/`` in the working directory (a notebook's own), or ``$MINIGRAD_YOURGRAD``."""
    return Path(os.environ.get("MINIGRAD_YOURGRAD") or Path.cwd() / "yourgrad")


def engine_path(engine):
    """The reader's file of ``engine`` ("value" or "tensor")."""
    return engine_directory() / f"{engine}.py"


def _shown(engine):
    return f"yourgrad/{engine}.py"


# ----- reading files made of marked blocks ---------------------------------------------

def _split(text):
    """``(header, {(chapter, exercise): (title, block)})`` of a file of marked blocks."""
    header, blocks, key = [], {}, None
    for line in text.splitlines(keepends=True):
        found = MARKER.match(line.rstrip("\n"))
        if found:
            key = (int(found[1]), int(found[2]))
            blocks[key] = [found[3], [line]]
        elif key is None:
            header.append(line)
        else:
            blocks[key][1].append(line)
    return "".join(header), {k: (title, "".join(lines)) for k, (title, lines) in blocks.items()}


def _targets(block):
    """The names a block defines and the class attributes it sets, in its order (a function
    that is set on a class, or given another name, counts as that attribute or name only)."""
    found, body = [], ast.parse(block).body
    attached = {node.value.id for node in body if isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Name)}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if node.name not in attached:
                found.append(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    found.append(f"{target.value.id}.{target.attr}")
                elif isinstance(target, ast.Name):
                    found.append(target.id)
    return tuple(found)


def _reference_text(engine):
    path = REFERENCE / f"{engine}.py.txt"
    if not path.exists():
        engines = sorted(p.name[:-len(".py.txt")] for p in REFERENCE.glob("*.py.txt"))
        raise ValueError(f"no engine called {engine!r}: the course has {engines}")
    return path.read_text()


def pieces(engine):
    """The reference's pieces of ``engine``, in the course's order."""
    _, blocks = _split(_reference_text(engine))
    return [Piece(chapter, exercise, title, _strip_marker(block), _targets(block))
            for (chapter, exercise), (title, block) in sorted(blocks.items())]


def _piece(engine, chapter, exercise):
    for piece in pieces(engine):
        if (piece.chapter, piece.exercise) == (chapter, exercise):
            return piece
    raise ValueError(f"the course's {engine} engine has no piece for chapter {chapter}, "
                     f"exercise {exercise}")


def _strip_marker(block):
    return block.split("\n", 1)[1] if block.startswith("# chapter") else block


def _header(engine):
    header, _ = _split(_reference_text(engine))
    return header


def _assemble(header, blocks):
    """The file's text: the header, then the blocks in the course's order."""
    parts = [header.rstrip("\n") + "\n"]
    for key in sorted(blocks):
        parts.append("\n\n" + blocks[key].rstrip("\n") + "\n")
    return "".join(parts)


def _block(chapter, exercise, title, source, from_reference=False):
    mark = f"# chapter {chapter}, exercise {exercise}: {title}"
    return mark + (FROM_REFERENCE if from_reference else "") + "\n" + source.rstrip("\n") + "\n"


# ----- the source of what a notebook cell defined ------------------------------------

def _cell_text(code):
    """The text of the file or notebook cell that compiled ``code`` (IPython puts its
    cells in linecache)."""
    lines = linecache.getlines(code.co_filename)
    if not lines:
        raise EngineError(f"the source of {code.co_name} cannot be found "
                          f"(was it typed at a prompt, or made with exec?)")
    return "".join(lines)


def _segment(text, kind, name, line):
    """The source of the ``kind`` (def or class) called ``name`` that holds ``line``."""
    found = None
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, kind) and node.name == name \
                and node.lineno <= line <= (node.end_lineno or node.lineno):
            found = node
    if found is None:
        raise EngineError(f"the source of {name} cannot be found in the cell that defined it")
    start = min([found.lineno] + [d.lineno for d in getattr(found, "decorator_list", [])])
    lines = text.splitlines(keepends=True)[start - 1:found.end_lineno]
    return textwrap.dedent("".join(lines))


def _plain_function(obj):
    obj = getattr(obj, "__func__", obj)  # static and class methods
    return obj if isinstance(obj, types.FunctionType) else None


def _borrowed(function, cls):
    """Whether ``function`` was written in an imported module other than ``cls``'s (a method
    taken from a package's class of the same name, whose source is not the reader's)."""
    home = sys.modules.get(function.__module__ or "")
    return home is not None and function.__module__ != cls.__module__ \
        and vars(home) is function.__globals__


def _class_source(cls):
    """A class's source, also for a class defined in a notebook cell (where
    ``inspect.getsource`` raises): found through one of its own methods."""
    for member in vars(cls).values():
        function = _plain_function(member)
        if function is not None and not _borrowed(function, cls) \
                and function.__qualname__.startswith(cls.__qualname__ + "."):
            code = function.__code__
            return _segment(_cell_text(code), ast.ClassDef, cls.__name__, code.co_firstlineno)
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        raise EngineError(f"the source of class {cls.__name__} cannot be found: "
                          "define it in a notebook cell or a file") from None


def _function_source(function):
    code = function.__code__
    return _segment(_cell_text(code), ast.FunctionDef, function.__name__, code.co_firstlineno)


def piece_source(targets, answers):
    """The source of a piece whose ``targets`` are given by ``answers`` (name -> object):
    a class or function as written (one of another name followed by
    ``target = its_name``), and for ``Owner.attr`` the function set there
    followed by the line that sets it (unless it is written in the class itself)."""
    parts, written = [], set()
    for target in targets:
        owner_name, _, attribute = target.partition(".")
        if owner_name not in answers:
            raise EngineError(f"the piece needs {owner_name}, which the checker was not given")
        owner = answers[owner_name]
        if not attribute:
            if owner_name in written:
                continue
            written.add(owner_name)
            if isinstance(owner, type):
                parts.append(_class_source(owner))
            elif _plain_function(owner) is not None:
                owner = _plain_function(owner)
                parts.append(_function_source(owner))
            else:
                raise EngineError(f"{owner_name} should be a class or a function, "
                                  f"got {type(owner).__name__}")
            if owner.__name__ != owner_name:  # the reader's name, and the file's
                parts.append(f"{owner_name} = {owner.__name__}\n")
            continue
        member = vars(owner).get(attribute) if isinstance(owner, type) else None
        function = _plain_function(member)
        if function is None:
            raise EngineError(f"{target} should be a function set on {owner_name}, got "
                              f"{type(member).__name__}")
        if function.__qualname__ == f"{owner.__qualname__}.{attribute}" and owner_name in written:
            continue  # written inside the class
        parts.append(_function_source(function))
        parts.append(f"{target} = {function.__name__}\n")
    return "\n\n".join(part.rstrip("\n") + "\n" for part in parts)


# ----- names a piece needs -------------------------------------------------------------

def _global_names(code):
    """The global names ``code`` (and the functions and classes inside it) reads; a name a
    class body reads after setting it (``_op = "+"``, then ``_op``) is the class's own."""
    names, stored = set(), set()
    for instruction in dis.get_instructions(code):
        if instruction.opname == "LOAD_GLOBAL" or (instruction.opname == "LOAD_NAME"
                                                   and instruction.argval not in stored):
            names.add(instruction.argval)
        elif instruction.opname == "STORE_NAME" and code.co_name != "<module>":
            stored.add(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


# the builtins as Python made them: a name a notebook puts there later is not in a fresh kernel
_BUILTIN_NAMES = frozenset(vars(builtins))
#: Where Python's own builtins are defined (``open`` is ``io``'s).
_BUILTIN_MODULES = ("builtins", "_sitebuiltins", "io")


def _is_builtin(name):
    found = vars(builtins).get(name, _BUILTIN_NAMES)
    return name in _BUILTIN_NAMES and found is not _BUILTIN_NAMES \
        and getattr(found, "__module__", "builtins") in _BUILTIN_MODULES


def _missing_names(source, namespace):
    """The names ``source`` reads that neither ``namespace`` nor Python's own builtins hold
    (a name a notebook put in ``builtins`` counts as missing)."""
    return sorted(name for name in _global_names(compile(source, "<piece>", "exec"))
                  if name not in namespace and not _is_builtin(name))


def _planted_attributes(source, namespace):
    """The ``module.name`` that ``source`` reads where ``module`` is a module of
    ``namespace`` and ``name`` is a function or class some other code put on it
    (``np.adam_step = ...`` in a notebook): a fresh kernel's module lacks it."""
    tree, planted = ast.parse(source), set()
    modules = {name: value for name, value in namespace.items()
               if isinstance(value, types.ModuleType)}
    for node in ast.walk(tree):  # the piece's own imports, inside functions too
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name if alias.asname else alias.name.split(".")[0]
                if name in sys.modules:
                    modules[alias.asname or name] = sys.modules[name]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        module = modules.get(node.value.id)
        if not isinstance(module, types.ModuleType):
            continue
        found = getattr(module, node.attr, None)
        home = getattr(found, "__module__", None)
        if home == "builtins" and _is_standard(module):
            continue  # a type of Python's own that the module names (types.FunctionType)
        if isinstance(found, (types.FunctionType, type)) and isinstance(home, str) \
                and home.split(".")[0] != module.__name__.split(".")[0]:
            planted.add(f"{node.value.id}.{node.attr}")
    return sorted(planted)


def _is_standard(module):
    """Whether ``module`` is one of Python's standard library (built in, or in its home)."""
    path = getattr(module, "__file__", None)
    return path is None or os.path.abspath(path).startswith(
        os.path.join(sys.base_prefix, "lib") + os.sep) and "site-packages" not in path


OUTSIDE_MODULES = ("minigrad", "torch", "importlib", "builtins", "__main__")
OUTSIDE_NAMES = ("__import__", "get_ipython", "eval", "exec", "compile")


def _names_of_sys(tree):
    """The names ``tree`` binds to the ``sys`` module: ``sys``, and each ``import sys as
    name`` or ``name = sys``."""
    names = {"sys"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname for alias in node.names
                      if alias.name == "sys" and alias.asname}
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) \
                and node.value.id in names:
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def outside_reaches(source):
    """How ``source`` (a piece, or a whole engine file) reaches code outside the reader's
    engine, in its order: each ``import`` of minigrad, PyTorch, importlib, builtins or
    __main__ anywhere in it (inside functions too), and each use of ``__import__``,
    ``get_ipython``, ``eval``, ``exec``, ``compile`` or ``sys.modules`` (written out, or reached
    through ``getattr``, ``vars`` or ``__dict__`` of ``sys``)."""
    found = []
    tree = ast.parse(source)
    sys_names = _names_of_sys(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {alias.name}" for alias in node.names
                      if alias.name.split(".")[0] in OUTSIDE_MODULES]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] in OUTSIDE_MODULES:
                found.append(f"from {node.module} import ...")
            elif node.module == "sys" and any(a.name in ("modules", "__dict__")
                                              for a in node.names):
                found.append("sys.modules")
        elif isinstance(node, ast.Name) and node.id in OUTSIDE_NAMES:
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in ("modules", "__dict__") \
                and isinstance(node.value, ast.Name) and node.value.id in sys_names:
            found.append("sys.modules")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "vars") and node.args \
                and isinstance(node.args[0], ast.Name) and node.args[0].id in sys_names:
            found.append("sys.modules")
    return found


# ----- writing and importing -----------------------------------------------------------

def _write_atomically(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _ensure_package(directory):
    init = directory / "__init__.py"
    if not init.exists():
        _write_atomically(init, '"""Your own engine, written in the course\'s exercises."""\n')


def _execute(engine, text, path):
    """A fresh module ``yourgrad.<engine>`` made by running ``text`` (the file's text)."""
    name = f"yourgrad.{engine}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__package__ = "yourgrad"
    linecache.checkcache(str(path))  # tracebacks and getsource read the new text
    exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - the reader's own file
    return module


def _install(engine, module):
    """Make ``import yourgrad.<engine>`` give ``module`` from now on."""
    directory = engine_directory()
    parent = str(directory.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    package = sys.modules.get("yourgrad")
    if package is None or Path(getattr(package, "__file__", "") or "").parent != directory:
        package = types.ModuleType("yourgrad")
        package.__file__ = str(directory / "__init__.py")
        package.__path__ = [str(directory)]
        sys.modules["yourgrad"] = package
    sys.modules[f"yourgrad.{engine}"] = module
    setattr(package, engine, module)


def load(engine):
    """The reader's ``yourgrad/<engine>.py``, imported afresh; EngineError if it is missing
    or does not import."""
    path = engine_path(engine)
    if not path.exists():
        raise EngineError(f"{_shown(engine)} does not exist yet: run the chapter's catch-up cell")
    text = path.read_text()
    try:
        module = _execute(engine, text, path)
    except Exception as error:
        raise EngineError(f"{path} does not import: {describe_error(error)}") from error
    _install(engine, module)
    return module


# ----- keeping a piece ------------------------------------------------------------------

def _silently(check, answers):
    """``check(**answers)`` with its printing caught: (verdict, what it printed)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            verdict = bool(check(**answers))
        except Exception as error:  # the file's code is under test: report, don't crash
            print(f"FAIL: the check raised {describe_error(error)}")
            verdict = False
    return verdict, printed.getvalue()


def keep(engine, chapter, exercise, check, **answers):
    """Judge the answers with ``check``; keep a passing piece in the reader's file.

    Returns the verdict. What is printed is the checker's own FAIL, or its
    PASS (with "kept in yourgrad/<engine>.py" added to its first line, or on
    a line of its own where the first would pass 77 characters) once
    the piece, written into the file and imported from it, has passed again.
    """
    verdict, printed = _silently(check, answers)
    if not verdict:
        sys.stdout.write(printed)
        return False
    piece = _piece(engine, chapter, exercise)
    what = printed.split("\n", 1)[0].removeprefix("PASS: ")
    try:
        source = piece_source(piece.targets, answers)
        ast.parse(source)
    except (EngineError, SyntaxError) as error:
        return report(False, what, f"passed, but cannot be kept in {_shown(engine)}: {error}")
    outside = outside_reaches(source)
    if outside:
        return report(False, what, f"passed here, but not kept: your code uses `{outside[0]}`: "
                                   f"{_shown(engine)} works alone, without minigrad, PyTorch "
                                   "or the notebook's state")
    path = engine_path(engine)
    old_text = path.read_text() if path.exists() else None
    header, blocks = _split(old_text) if old_text is not None else (_header(engine), {})
    blocks = {key: block for key, (_, block) in blocks.items()}
    earlier = _fill_in(engine, blocks, (chapter, exercise))
    # the course's solution handed in (taken from the file a catch-up filled in, or copied
    # from the folded cell) stays marked as the course's: it is not the reader's work
    borrowed = _same_code(source, piece.source)
    blocks[(chapter, exercise)] = _block(chapter, exercise, piece.title, source,
                                         from_reference=borrowed)
    text = _assemble(header, blocks)
    # Later chapters' pieces may redefine what this one defines (chapter 4 redoes
    # chapter 2's operators), so the piece is judged in the file as it stands up
    # to it, as when it was first written; the whole file must still import.
    upto = _assemble(header, {key: block for key, block in blocks.items()
                              if key <= (chapter, exercise)})
    _ensure_package(path.parent)
    try:
        module = _execute(engine, text, path)
        judged = module if upto == text else _execute(engine, upto, path)
    except Exception as error:
        return report(False, what, f"passed here, but not kept: {_shown(engine)} with it does "
                                   f"not import ({describe_error(error)}): fix the file, or "
                                   "delete it and run the chapter's catch-up cell")
    missing = _missing_names(source, vars(judged)) + _planted_attributes(source, vars(judged))
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        return report(False, what, f"passed here, but not kept: your code uses {names}, which "
                                   f"this notebook defines but {_shown(engine)} does not. Write "
                                   "the piece with the file's own names (import what it needs "
                                   "inside it)")
    from_file = {name: getattr(judged, name, None) for name in answers}
    again, printed_again = _silently(check, from_file)
    if not again:
        lines = printed_again.strip().splitlines()
        why = " ".join(line.strip() for line in lines[1:] or lines)
        return report(False, what, f"passed here, but not kept: taken from the file alone it "
                                   f"fails: {why}")
    if old_text is not None and (chapter, exercise) in _split(old_text)[1]:
        _write_atomically(path.with_name(path.name + ".bak"), old_text)
    _write_atomically(path, text)
    _install(engine, module)
    first, _, rest = printed.partition("\n")
    kept = f"kept in {_shown(engine)}"
    joined = f"{first}, {kept}" if len(first) + len(kept) <= 75 else f"{first}\n  {kept}"
    sys.stdout.write(f"{joined}\n{rest}")
    if borrowed:
        print("  (line for line the course's solution: kept, and counted as the course's)")
    if earlier:
        numbers = ", ".join(f"{piece.chapter}.{piece.exercise}" for piece in earlier)
        print(f"  (with the course's solutions to exercise{'s' if len(earlier) > 1 else ''} "
              f"{numbers}, which it builds on)")
    return True


def _code_lines(source):
    """The lines of ``source`` that hold code, stripped: what two copies of a piece share
    however they are indented, spaced out or commented."""
    lines = (line.split("#", 1)[0].strip() for line in source.splitlines())
    return [line for line in lines if line]


def _same_code(source, reference):
    """Whether every line of code of ``source`` (three at least) is also a line of
    ``reference`` (the checker's answers may be some of a piece's definitions, in another
    order)."""
    mine, theirs = _code_lines(source), set(_code_lines(reference))
    return len(mine) >= 3 and all(line in theirs for line in mine)


def _fill_in(engine, blocks, before):
    """Add to ``blocks`` the reference's pieces before ``before`` that it lacks; return them."""
    filled = []
    for piece in pieces(engine):
        key = (piece.chapter, piece.exercise)
        if key < before and key not in blocks:
            blocks[key] = _block(*key, piece.title, piece.source, from_reference=True)
            filled.append(piece)
    return filled


# ----- catching up ----------------------------------------------------------------------

def catch_up(engine, chapter, exercise=0, quiet=False):
    """Fill in the reference's pieces of chapters before ``chapter`` (with ``exercise``: the
    pieces before that exercise of ``chapter``) that the reader's file lacks, say which, and
    return the module imported afresh. ``quiet``: say nothing when nothing is filled in now
    (for a cell in the middle of a chapter, whose output should not depend on how the
    reader came to it)."""
    path = engine_path(engine)
    before = (chapter, exercise)
    where = f"exercise {chapter}.{exercise}" if exercise else f"chapter {chapter}"
    needed = [piece for piece in pieces(engine) if (piece.chapter, piece.exercise) < before]
    fresh = not path.exists()
    header, blocks = (_header(engine), {}) if fresh else _split(path.read_text())
    blocks = {key: block for key, (_, block) in blocks.items()}
    filled = _fill_in(engine, blocks, before)
    if filled:
        _ensure_package(path.parent)
        _write_atomically(path, _assemble(header, blocks))
    module = load(engine)
    if quiet and not filled:
        return module
    # a piece an earlier catch-up filled in is marked as the course's, and counts as such
    yours = sum(1 for piece in needed
                if not blocks[piece.chapter, piece.exercise].split("\n", 1)[0]
                .endswith(FROM_REFERENCE))
    earlier = len(needed) - yours - len(filled)
    if not needed:
        print(f"{_shown(engine)}: nothing to catch up before {where}")
    elif fresh:
        last = needed[-1].chapter
        chapters = f"chapter {last}" if needed[0].chapter == last \
            else f"chapters {needed[0].chapter}-{last}"
        print(f"{_shown(engine)} did not exist: made it from the course's solutions to "
              f"{chapters} ({len(filled)} pieces)")
    else:
        if filled:
            rest = ", the rest filled in from the course's solutions" + (
                f" ({earlier} of them earlier; now these):" if earlier else ":")
        else:
            rest = (f"\n  (the other {earlier}: the course's solutions, filled in earlier)"
                    if earlier else "")
        print(f"{_shown(engine)}: {yours} of the {len(needed)} pieces before {where} "
              "are yours" + rest)
        for piece in filled:
            print(f"  chapter {piece.chapter}, exercise {piece.exercise}: {piece.title}")
    return module


# ----- watching a training loop (the milestones) -------------------------------------------

@contextlib.contextmanager
def wrapping(cls, method, wrapper):
    """Run ``wrapper(found, *args, **kwargs)`` for each call of ``cls.method`` while the block
    runs, ``found`` being the method as it was."""
    original, found = cls.__dict__.get(method), getattr(cls, method)

    def wrapped(*args, **kwargs):
        return wrapper(found, *args, **kwargs)
    setattr(cls, method, wrapped)
    try:
        yield
    finally:
        if original is None:
            delattr(cls, method)
        else:
            setattr(cls, method, original)


def _reaches_all(root, parameters):
    """Whether the graph under ``root`` (followed through ``_prev``) holds every parameter."""
    wanted, seen, stack = {id(p) for p in parameters}, set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            wanted.discard(id(node))
            stack.extend(getattr(node, "_prev", ()))
    return not wanted


def _copied(gradient):
    # a number, an array or None ("no gradient yet"): a copy that later writes cannot change
    return gradient if gradient is None or isinstance(gradient, (int, float)) \
        else _numpy().array(gradient, copy=True)


def _same(gradient, left):
    if gradient is None or left is None:
        return gradient is left
    return _numpy().array_equal(gradient, left)


def _numpy():
    import numpy  # the tensor engine's; the scalar engine's milestone needs no arrays
    return numpy


@contextlib.contextmanager
def watching_training(Node, Optimizer, parameters):
    """Watch ``Node.backward()`` and ``Optimizer.step()`` while a reader's training loop
    runs: yields a record with the number of backward() calls and, for each step(), None
    where no backward() came since the last step(), else the value of the last backward()'s
    root, whether that root's graph reaches every parameter, and whether step() saw the
    gradients exactly as that backward() left them."""
    record = types.SimpleNamespace(backward_calls=0, steps=[], parameters=parameters,
                                   stepped=None, moved_between=None)
    last = []

    def backward(found, root, *args, **kwargs):
        record.backward_calls += 1
        result = found(root, *args, **kwargs)
        last[:] = [(getattr(root, "data", None), _reaches_all(root, parameters),
                    [_copied(p.grad) for p in parameters])]
        return result

    def step(found, *args, **kwargs):
        if last:
            data, reaches, left = last.pop()
            untouched = all(_same(p.grad, g) for p, g in zip(parameters, left))
            record.steps.append((data, reaches, untouched))
        else:
            record.steps.append(None)
        if record.stepped is not None and record.moved_between is None and not all(
                _same(p.data, d) for p, d in zip(parameters, record.stepped)):
            record.moved_between = len(record.steps) - 1
        result = found(*args, **kwargs)
        record.stepped = [_copied(p.data) for p in parameters]  # as step() left them
        return result
    with wrapping(Node, "backward", backward), wrapping(Optimizer, "step", step):
        yield record


def training_problem(record, steps, losses=None, unit="step"):
    """What is wrong with how a training loop used backward() and step() (a sentence), or
    None: ``steps`` step() calls, each after a backward() on a root reaching every
    parameter, whose gradients step() saw unchanged; with ``losses`` (the loop's
    returned losses), each root's value is that step's loss. ``unit`` names a step in
    the sentences ("batch": one step per batch)."""
    if len(record.steps) != steps:
        return (f"train called your optimizer's step() {len(record.steps)} times in {steps} "
                f"{unit}es: one step() per {unit}" if unit.endswith("h") else
                f"train called your optimizer's step() {len(record.steps)} times in {steps} "
                f"{unit}s: one step() per {unit}")
    for i, seen in enumerate(record.steps):
        if seen is None:
            return (f"in {unit} {i} train called step() without a backward() before it: each "
                    "step's gradients must come from backward()")
        data, reaches, untouched = seen
        if losses is not None and not _equal_number(data, losses[i]):
            return (f"in {unit} {i} the backward() before step() was not called on the loss that "
                    "train returns for that step: call loss.backward() on the step's loss")
        if not reaches:
            return (f"in {unit} {i} the loss that backward() was called on does not reach every "
                    "parameter of the network: build it from the model's outputs")
        if not untouched:
            return (f"in {unit} {i} the gradients changed between backward() and step(): step() "
                    "must use the gradients that backward() left")
    if record.moved_between is not None:
        return (f"before the step() of {unit} {record.moved_between} the parameters changed "
                "outside step(): only the optimizer's step() may change them")
    if record.stepped is not None and not all(
            _same(p.data, d) for p, d in zip(record.parameters, record.stepped)):
        return ("the parameters changed after the last step(): the trained model is the one "
                "the optimizer's steps made")
    return None


def _equal_number(data, loss):
    return isinstance(data, (int, float)) and abs(data - loss) <= 1e-12 * abs(loss) + 1e-15
