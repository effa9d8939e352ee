"""What an answer runs: its Python steps and the modules whose code it runs, traced.

Some exercises ask for something worked out by reasoning (a count by
formula, shapes from the rules) or for work that must not grow with the
data (one matrix product, not a loop over rows). For those, a checker runs
the reader's function under ``sys.settrace`` and ``sys.setprofile`` and
learns two things no trap can tell: whether it ran the code of an engine
(the package's, the reader's ``yourgrad``, micrograd's, PyTorch's; code
copied out of one counts as that one's) or started a thread or a process
or called C through ``ctypes``, where tracing does not follow; and how many Python steps it took. An answer that turns
the tracing off fails. The checkers' own code, running, is not counted
(a helper's original, reached through its trap, only when the checker
called it); nor is what an installed library's code does once called.

Code copied out of the package runs as the package's: by its file, or,
compiled again under another name, by its fingerprint (bytecode, constants
and names, whatever its file, lines or locals). Chapters 12-15, whose
answers a trap alone cannot watch (a module kept in an object, a relay),
run them in :func:`watching` blocks.
"""
import contextlib
import os
import sys
import types

import minigrad
from minigrad.exercises import TRAP_FILE, ForbiddenCall, _HelperTrap, package_copy

__all__ = ["ENGINES", "TooMuchWork", "TracingOff", "TRACING_OFF", "run_traced",
           "watching", "without_engines"]

#: Modules whose Python code an answer asked for by reasoning must not run: engines (the
#: package's checkers excepted, whose traps say more), PyTorch, and other threads, where
#: tracing does not follow.
ENGINES = ("minigrad", "yourgrad", "micrograd", "torch")
_ELSEWHERE = ("threading", "_thread", "concurrent", "multiprocessing", "asyncio")


class TooMuchWork(BaseException):  # not caught as the answer's own error
    """Raised by the tracer when an answer has taken more Python steps than allowed."""


class TracingOff(BaseException):
    """Raised when an answer turned off or replaced the checker's tracing."""


TRACING_OFF = "it turned off or replaced the checker's tracing (sys.settrace or sys.setprofile)"


#: The file name of the code of :func:`forbidding`'s traps.
TRAP_FILE = "<minigrad trap>"

#: Where the package's files are: code copied out of one (its ``__code__`` in a function
#: of the reader's) is still the package's.
_PACKAGE_HOME = os.path.dirname(os.path.abspath(minigrad.__file__)) + os.sep


def _module_of(event, frame, arg):
    """The module whose code a traced event runs: the frame's for a Python call (named by
    its file when the code was copied out of the package's or the reader's engine, by what
    it does when the package's source was compiled again under another name), the C
    function's (or, for a method, its object's type's) for a C call."""
    if event == "c_call":
        owner = getattr(arg, "__self__", None)
        module = getattr(arg, "__module__", None)
        if owner is not None and not isinstance(owner, type(sys)):
            module = type(owner).__module__ if module is None or module == "builtins" \
                else module
        elif isinstance(owner, type(sys)):
            module = owner.__name__
        return module or ""
    name = frame.f_globals.get("__name__", "") or ""
    key = id(frame.f_code), name
    if key not in _python_modules:  # the code kept alive: its id is not reused
        _python_modules[key] = frame.f_code, _module_of_code(frame.f_code, name)
    return _python_modules[key][1]


_python_modules = {}


def _module_of_code(code, name):
    """The module whose Python ``code`` runs, with globals of module ``name``."""
    path = code.co_filename
    if path.startswith(_PACKAGE_HOME) and not name.startswith("minigrad"):
        stem = os.path.splitext(path[len(_PACKAGE_HOME):])[0].replace(os.sep, ".")
        return f"minigrad.{stem}"  # (copied out of it)
    if os.path.basename(os.path.dirname(path)) == "yourgrad" and not name.startswith("yourgrad"):
        return f"yourgrad.{os.path.splitext(os.path.basename(path))[0]}"
    if not name.startswith("minigrad"):
        return package_copy(code, module=True) or name  # compiled again elsewhere
    return name


def _starts_a_thread(event, frame, arg):
    """Whether the event, in a module of ``_ELSEWHERE``, starts a thread or a process (an
    import takes ``_thread``'s locks, a generator seeded by the system reads ``threading``'s
    state: neither is work done elsewhere)."""
    name = arg.__name__ if event == "c_call" else frame.f_code.co_name
    return name.startswith("start") or name in ("submit", "map", "run_in_executor")


#: Modules that start processes or call C directly: work there is out of the tracing's
#: sight. Their Python functions (an import's own top level excepted) and C functions count.
_PROCESSES = ("subprocess", "_posixsubprocess", "ctypes", "_ctypes", "_multiprocessing", "pty")
#: The ``os`` functions that start a process (``exec*`` and ``spawn*`` all do too).
_OS_STARTS = ("system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp",
              "startfile")


def _starts_a_process(top, event, frame, arg):
    """Whether the event, in a module of package ``top``, starts another process or calls C
    code directly (``ctypes``), where the tracing does not follow either."""
    name = arg.__name__ if event == "c_call" else frame.f_code.co_name
    if top in _PROCESSES:
        return name != "<module>"
    return top in ("os", "posix", "nt") and (
        name in _OS_STARTS or name.startswith(("exec", "spawn")))


def _checkers_codes(module):
    """The code objects of the checker ``module``'s functions and classes as they stand
    (a helper trapped by :func:`forbidding` has the trap's code), and of what they define
    inside. A helper's original code, which its trap calls for the checker, and which a
    copy made before the check runs too, is not among them: see :func:`_checkers_own`."""
    codes, found = [], set()
    for value in vars(module).values():
        functions = [value] if isinstance(value, types.FunctionType) else \
            [getattr(v, "__func__", v) for v in vars(value).values()] \
            if isinstance(value, type) and value.__module__ == module.__name__ else []
        for function in functions:
            while isinstance(function, types.FunctionType):  # a decorated one's too
                codes.append(function.__code__)
                function = getattr(function, "__wrapped__", None)
    while codes:
        code = codes.pop()
        if code in found:
            continue
        found.add(code)
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                codes.append(constant)
            if isinstance(constant, _HelperTrap):  # what the original defines inside
                codes += [c for c in constant._original.__code__.co_consts
                          if isinstance(c, types.CodeType)]
    return found


def _checkers_own(frame, checkers):
    """Whether ``frame`` runs a checker's code: one of its code objects (``checkers``:
    ``{module: codes}``, filled in as modules come), a trap's, or a trapped helper's
    original called by its trap for the checker's own code (a copy of it, or the original
    called through the trap by another's code, as a relay of the reader's, is not)."""
    module = frame.f_globals.get("__name__", "") or ""
    if not (module.startswith("minigrad.exercises") and _is_checker(module)):
        return frame.f_code.co_filename == TRAP_FILE
    if module not in checkers:  # by id (hashing a code object hashes all it holds)
        codes = _checkers_codes(sys.modules[module])
        checkers[module] = {id(code): code for code in codes}
    code = frame.f_code
    if id(code) in checkers[module] or code.co_filename == TRAP_FILE:
        return True
    trap = frame.f_back
    if trap is None or trap.f_code is not _HelperTrap.__call__.__code__:
        return False
    caller = trap.f_back.f_back if trap.f_back is not None else None
    return caller is not None and _checkers_own(caller, checkers)


def _is_checker(module):
    """Whether ``module`` is one of the checkers' modules, as imported (code from the course's
    solutions, ``exercises/reference/``, compiled by an answer, is an engine's)."""
    return module in sys.modules and not module.startswith("minigrad.exercises.reference")


def _in_a_library(frame):
    """Whether ``frame`` runs an installed library's Python code (NumPy's): what it does is
    not the answer's steps (the answer's call of it, one per use, is)."""
    return f"{os.sep}site-packages{os.sep}" in frame.f_code.co_filename


def _suspect(watched):
    """A quick test of a module's name: may running its code be what ``watched`` (and
    work elsewhere) looks for? Then :func:`_is_found` decides."""
    return tuple(watched) + _ELSEWHERE + _PROCESSES + ("os", "posix", "nt")


def _is_found(module, watched, event, frame, arg):
    """Whether running ``module``'s code in this event is what is looked for: a module of
    ``watched`` (or inside one of them), or work started elsewhere."""
    top = module.partition(".")[0]
    return module in watched or module.startswith(tuple(f"{w}." for w in watched)) or \
        top in _ELSEWHERE and _starts_a_thread(event, frame, arg) or \
        _starts_a_process(top, event, frame, arg)


@contextlib.contextmanager
def _installed(tracer, profiler):
    """Run the block with ``tracer`` and ``profiler``; :class:`TracingOff` if it replaced
    either."""
    before = sys.gettrace(), sys.getprofile()
    sys.settrace(tracer)
    sys.setprofile(profiler)
    try:
        yield
        intact = sys.gettrace() is tracer and sys.getprofile() is profiler
    finally:
        sys.settrace(before[0])
        sys.setprofile(before[1])
    if not intact:
        raise TracingOff


@contextlib.contextmanager
def _tracing(limit, watched):
    """Trace what runs inside the block; yields ``(steps, found)``, lists that the tracer
    fills in: ``[count]`` and the modules of ``watched`` (or starting work elsewhere) run."""
    steps, found, checkers = [0], [], {}
    suspect = _suspect(watched)

    def counted(event, frame, arg):
        module = _module_of(event, frame, arg)
        if event != "c_call" and _checkers_own(frame, checkers):
            return  # the checkers' own code, running (its traps included)
        if not found and module.startswith(suspect) and \
                _is_found(module, watched, event, frame, arg):
            found.append(module)
        if _in_a_library(frame) and (event != "call" or frame.f_back is not None
                                     and _in_a_library(frame.f_back)):
            return  # a library's own work, beyond the answer's call of it
        steps[0] += 1
        if limit is not None and steps[0] > limit:
            raise TooMuchWork(found[0] if found else None)

    def tracer(frame, event, arg):
        counted(event, frame, arg)
        return tracer if event == "call" else None if event == "return" else tracer

    def profiler(frame, event, arg):
        if event == "c_call":
            counted(event, frame, arg)

    with _installed(tracer, profiler):
        yield steps, found


@contextlib.contextmanager
def _watching_calls(watched):
    """Like :func:`_tracing`, without counting: only calls are traced (faster); yields
    ``found``."""
    found, checkers = [], {}
    suspect = _suspect(watched)

    def tracer(frame, event, arg):  # called for calls only: it traces no frame's lines
        if not found:
            module = _module_of(event, frame, arg)
            if module.startswith(suspect) and _is_found(module, watched, event, frame, arg) \
                    and not _checkers_own(frame, checkers):
                found.append(module)

    def profiler(frame, event, arg):
        if event == "c_call" and not found:
            module = _module_of(event, frame, arg)
            if module.startswith(suspect) and _is_found(module, watched, event, frame, arg):
                found.append(module)

    with _installed(tracer, profiler):
        yield found


def run_traced(function, *args, limit=None, watched=()):
    """``(result, steps, module)``: what ``function(*args)`` returns, the Python steps it
    took (lines run and calls made, the checkers' own and what installed libraries'
    code does once called excepted), and the first module among ``watched`` (and those starting
    threads, processes, or C calls through ``ctypes``) whose code it ran, or None. Past
    ``limit`` steps, :class:`TooMuchWork` is raised in the answer; :class:`TracingOff` if
    the answer turned the tracing off."""
    with _tracing(limit, watched) as (steps, found):
        result = function(*args)
    return result, steps[0], found[0] if found else None


#: Python steps (lines run, calls and returns, in the reader's code) that a derivative
#: rule of one number stays well within: a few lines, a helper or two.
RULE_STEPS = 40
TABLE_OF_DIFFERENCES = ("your derivative takes more Python steps than a rule does, as a "
                        "table of differences extrapolated to look exact does (Richardson's): "
                        "the exercise asks for the rule, worked out by hand")


def works_like_a_table(rule, *args, limit=RULE_STEPS):
    """:data:`TABLE_OF_DIFFERENCES` if ``rule(*args)``, run once more traced (its value
    judged already), takes more than ``limit`` Python steps, as differences at several
    steps combined do; else None."""
    try:
        run_traced(rule, *args, limit=limit)
    except TooMuchWork:
        return TABLE_OF_DIFFERENCES
    except Exception:  # noqa: BLE001 - judged already: this run only counts its steps
        return None
    return None


def loop_in_python(function, argument_sets, looping, task, limit=5000, watched=()):
    """Why ``function`` works through its arrays piece by piece in Python (a sentence), or
    None: ``looping`` if its Python steps (traced) pass ``limit``, or grow by 16 or more
    from the first of ``argument_sets`` (the smallest) to any other, as a loop's do; what
    it ran of ``watched`` (or another thread or process), or that it turned the tracing
    off, said with ``task``. An error says nothing here: the checker reports it on its
    own cases."""
    steps = []
    for args in argument_sets:
        try:
            _, count, elsewhere = run_traced(function, *args, limit=limit, watched=watched)
        except TooMuchWork:
            return looping
        except TracingOff:
            return f"your function: {TRACING_OFF}"
        except Exception:  # noqa: BLE001 - reported by the checker on its own cases
            return None
        if elsewhere is not None:
            return (f"your function runs the code of {elsewhere} (an engine, or another "
                    f"thread or process, where the checker cannot count its steps): {task}")
        steps.append(count)
    if max(steps[1:]) - steps[0] >= 16:
        return looping
    return None


def works_entry_by_entry(work):
    """Whether an answer's Python steps (``work``: entries of the inputs and steps, per
    case) grow with the inputs' sizes, by more than a step for every entry more: a loop over
    the entries, as finite differences make. A whole-array rule takes as many steps at every
    size (a few more where it branches, on a stack of matrices say)."""
    return any(more_steps >= 1.5 * more_entries
               for entries, steps in work for others, fewer in work
               for more_entries, more_steps in [(entries - others, steps - fewer)]
               if more_entries >= 12)


def without_engines(task, function, *args):
    """``function(*args)``, traced; :class:`ForbiddenCall` (saying ``task``, what the
    exercise asks instead) if it ran the code of another's engine (the package's, its
    checkers' copied out, PyTorch's) or of another thread, or turned the tracing off. The
    reader's ``yourgrad`` is theirs: a piece kept there is judged again from the file."""
    try:
        result, _, module = run_traced(function, *args,
                                    watched=[e for e in ENGINES if e != "yourgrad"])
    except TracingOff:
        raise ForbiddenCall(f"your answer: {TRACING_OFF}") from None
    if module is not None:
        raise ForbiddenCall(f"your answer runs the code of {module} (an engine, or another "
                            f"thread): {task}")
    return result


@contextlib.contextmanager
def watching(task, watched):
    """Run the block (a checker calling the reader's answer) traced: :class:`ForbiddenCall`
    (saying ``task``) if the answer ran the code of one of ``watched`` (modules, or
    packages' modules), code copied or compiled out of one, another thread or process, or
    turned the tracing off. Checkers whose exercise lets part of the package run (the
    ``Tensor`` a rule builds on) watch only the modules the exercise asks to write."""
    try:
        with _watching_calls(watched) as found:
            yield
    except TracingOff:
        raise ForbiddenCall(f"your answer: {TRACING_OFF}") from None
    except BaseException:
        if found:
            raise ForbiddenCall(_runs_the_code_of(found[0], task)) from None
        raise
    if found:
        raise ForbiddenCall(_runs_the_code_of(found[0], task))


def _runs_the_code_of(module, task):
    return (f"your answer runs the code of {module} (an engine, code the exercise asks you "
            f"to write, or another thread or process): {task}")
