"""Checkers for the exercises of chapter 14, a language model of characters.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. Answers are tried on data drawn
afresh on every run (made-up names over a few letters, random tokens and
gradients), whose messages name no drawn number. The reference answers are
written here in plain Python and NumPy, never with the package's layers;
while the reader's code runs, the package's embedding and indexing rules,
any autograd and PyTorch's versions (if imported) are traps.
"""
import contextlib
import math
import sys

import numpy as np

from minigrad import tensor, tensor_embedding
from minigrad.exercises import package_rule_entries
from minigrad.exercises.what_runs import watching
from minigrad.exercises import (ForbiddenCall, as_numbers, autograd_entries, describe_error,
                                forbidding, fresh_rng, is_unset, not_filled_in, report,
                                reports_forbidden, unusable_function)

__all__ = ["check_ngram_loss", "check_embedding_grad", "check_sample_name"]

END = 0  # token 0 is ".", which marks both ends of a name; "a".."z" are 1..26


def _tokens(name):
    return [ord(c) - 96 for c in name]


# ----- exercise: an n-gram model's loss, from counts ------------------------------------

def reference_ngram_loss(train, evaluate, context_size, alpha, pad=None, end=True,
                         log=math.log, smooth_probabilities=False, mean=True):
    """Mean over the predictions of ``evaluate`` of -log P(next | last ``context_size``
    tokens), P from the counts of ``train`` plus ``alpha``. The keyword arguments make the
    usual slips, to recognise them (``pad``: how many start tokens, ``context_size`` if None)."""
    pad = context_size if pad is None else pad

    def windows(names):
        for name in names:
            tokens = [END] * pad + _tokens(name) + [END] * end
            for i in range(max(context_size, 1), len(tokens)):
                yield tuple(tokens[i - context_size:i]), tokens[i]

    pairs, contexts = {}, {}
    for context, token in windows(train):
        pairs[context, token] = pairs.get((context, token), 0) + 1
        contexts[context] = contexts.get(context, 0) + 1
    total, count = 0.0, 0
    for context, token in windows(evaluate):
        seen, row = pairs.get((context, token), 0), contexts.get(context, 0)
        if smooth_probabilities:
            p = (seen / row if row else 0.0) + alpha
        else:
            p = (seen + alpha) / (row + 27 * alpha)
        total -= log(p) if p > 0 else -math.inf
        count += 1
    return total / count if mean else total


def _made_up_names(rng, count, letters):
    """``count`` names of 1 to 7 letters drawn from ``letters``, each letter likelier after
    some letters than after others (so that the contexts matter)."""
    prefer = {a: rng.permutation(letters)[:2] for a in letters}
    names = []
    for _ in range(count):
        name = [rng.choice(letters)]
        for _ in range(int(rng.integers(0, 7))):
            name.append(rng.choice(prefer[name[-1]]) if rng.random() < 0.6 else rng.choice(letters))
        names.append("".join(name))
    return names


_NGRAM_SLIPS = [
    (dict(end=False), "your loss leaves out the end of each name: after its last letter "
                      "the model must predict '.', token 0, too"),
    (dict(pad=1), "a name must start from context_size '.' tokens, not one"),
    (dict(pad=0), "a name must start from context_size '.' tokens: the first letter is "
                  "predicted too, from a context of start tokens"),
    (dict(log=math.log2), "your loss is in bits (log base 2): the chapter measures it in "
                          "nats, with the natural logarithm"),
    (dict(log=math.log10), "your loss uses log base 10: the chapter measures it in nats, "
                           "with the natural logarithm"),
    (dict(mean=False), "your loss is a sum over the predictions; the chapter's is the mean"),
    (dict(smooth_probabilities=True), "alpha must be added to the counts before they are "
                                      "turned into probabilities, not to the probabilities"),
    (dict(alpha=0.0), "your loss is that of the counts alone: is alpha added to every "
                      "count?"),
]


COUNT_IT = "the exercise asks you to count the n-grams yourself"

#: What the answers must not run (traced, which sees what traps do not: a module kept in an
#: object, code copied or compiled out of the package or the checkers, a relay).
_WATCHED = ("torch", "micrograd", "minigrad", "yourgrad")  # the reader's own autograd too


def _ngram_entries():
    """:func:`forbidding`'s entries: this checker's own reference (the exercise's answer)."""
    return [(sys.modules[__name__], "reference_ngram_loss",
             "the checker's own reference_ngram_loss")]


@reports_forbidden("ngram_loss(train, evaluate, context_size, alpha)")
def check_ngram_loss(ngram_loss):
    """``ngram_loss(train, evaluate, context_size, alpha)``: the mean negative log-likelihood
    (nats) of the names ``evaluate`` under the model counted on ``train`` with ``alpha`` added
    to every count, contexts of ``context_size`` tokens padded with start tokens. The
    checker's own reference is a trap while it runs."""
    what = "ngram_loss(train, evaluate, context_size, alpha)"
    unusable = unusable_function(what, ngram_loss, "ngram_loss")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    cases = []
    for letters, k, alpha in [("abcde", 1, 1.0), ("abcdefghij", 2, 0.1), ("mnopqrst", 3, 0.5),
                              ("xyz", 2, 2.0)]:
        letters = list(letters)
        cases.append((f"contexts of {k} over {len(letters)} letters, alpha = {alpha:g}",
                      _made_up_names(rng, 60, letters), _made_up_names(rng, 20, letters),
                      k, alpha))
    # a letter never seen in training: only smoothing keeps the loss finite
    train = _made_up_names(rng, 30, list("abc"))
    cases.append(("names with a letter never seen in training, contexts of 1, alpha = 1",
                  train, ["abd", "dd"] + _made_up_names(rng, 5, list("abc")), 1, 1.0))
    for described, train, evaluate, k, alpha in cases:
        try:
            with forbidding(_ngram_entries(), [ngram_loss], COUNT_IT), \
                    watching(COUNT_IT, _WATCHED):
                got = ngram_loss(list(train), list(evaluate), k, alpha)
        except Exception as error:  # the reader's code is under test: report, don't crash
            return report(False, what, f"for {described}, your function raised "
                                       f"{describe_error(error)}")
        if is_unset(got):
            return not_filled_in(what, "ngram_loss")
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(False, what, f"ngram_loss should return one number, got "
                                       f"{type(got).__name__}")
        right = reference_ngram_loss(train, evaluate, k, alpha)
        if abs(got - right) <= 1e-9 * abs(right):
            continue
        if not math.isfinite(got):
            return report(False, what, f"for {described} your loss is {got}: is alpha added "
                                       "to every count, those never seen included?")
        for slip, says in _NGRAM_SLIPS:
            slip = dict(slip)
            expected = reference_ngram_loss(train, evaluate, k, slip.pop("alpha", alpha),
                                            **slip)
            if math.isfinite(expected) and abs(got - expected) <= 1e-9 * abs(expected):
                return report(False, what, f"for {described}: {says}")
        how = "too large" if got > right else "too small"
        return report(False, what, f"for {described} your loss is {how}")
    return report(True, what, f"right in {len(cases)} cases of names drawn at random, "
                              "unseen letters included")


# ----- exercise: the gradient of an embedding lookup -----------------------------------

WRITE_GRAD = "the exercise asks you to write the gradient yourself, without any autograd"


def _lookup_entries():
    """:func:`forbidding`'s entries: autograd, the package's embedding and its indexing rule,
    and PyTorch's embedding if the reader imported it."""
    entries = autograd_entries() + package_rule_entries() + [
        (tensor_embedding.Embedding, "__call__", "minigrad's Embedding"),
        (tensor.GetItem, "_backward", "minigrad's indexing rule (GetItem)")]
    functional = sys.modules.get("torch.nn.functional")
    if functional is not None:  # only if the reader imported it: the checker never does
        entries.append((functional, "embedding", "PyTorch's embedding"))
    return entries


def reference_embedding_grad(tokens, grad, vocabulary):
    """dL/dweight[t] = the sum of grad[position] over every position where token t was read."""
    result = np.zeros((vocabulary, grad.shape[-1]))
    for position in np.ndindex(tokens.shape):
        result[tokens[position]] += grad[position]
    return result


@reports_forbidden("embedding_grad(tokens, grad, vocabulary)")
def check_embedding_grad(embedding_grad):
    """``embedding_grad(tokens, grad, vocabulary)``: dL/dweight, shape (vocabulary, D), for
    ``out = weight[tokens]`` (shape tokens.shape + (D,)) and ``grad`` = dL/d(out)."""
    what = "embedding_grad(tokens, grad, vocabulary)"
    unusable = unusable_function(what, embedding_grad, "embedding_grad")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    # (tokens' shape, vocabulary, D): named in the messages; small vocabularies repeat tokens
    cases = [((6,), 4, 3), ((4, 3), 5, 2), ((2, 3, 4), 27, 5), ((8, 8), 27, 24)]
    for _ in range(3):
        cases.append(((int(rng.integers(1, 9)), int(rng.integers(1, 9))),
                      int(rng.integers(2, 30)), int(rng.integers(1, 7))))
    for count, (shape, vocabulary, width) in enumerate(cases):
        tokens = rng.integers(0, vocabulary, size=shape)
        if count == 0:
            tokens[:] = [1, 3, 1, 1, 0, 3]  # token 2 never read, 1 read three times
        # each position's gradient and each column scaled by powers of ten, 1e-6 to 1e6: a
        # rule sums each entry's own terms, exact to its last bits; a difference of two
        # losses rounds at the size of the largest terms, which swamps the small entries
        grad = (rng.normal(size=shape + (width,)) * 10.0 ** rng.uniform(-3, 3, size=shape + (1,))
                * 10.0 ** rng.uniform(-3, 3, size=width))
        described = (f"tokens of shape {shape}, a table of {vocabulary} rows of {width}"
                     if count < 4 else "shapes drawn at random")
        with forbidding(_lookup_entries(), [embedding_grad], WRITE_GRAD), \
                watching(WRITE_GRAD, _WATCHED):
            try:
                got = embedding_grad(tokens.copy(), grad.copy(), vocabulary)
            except Exception as error:  # the reader's code is under test: report, don't crash
                return report(False, what, f"for {described}, your function raised "
                                           f"{describe_error(error)}")
        if is_unset(got):
            return not_filled_in(what, "embedding_grad")
        got = as_numbers(got)
        if got is None or got.shape != (vocabulary, width):
            return report(False, what, f"for {described} the gradient should have the "
                                       "table's shape, (vocabulary, D)"
                          + ("" if got is None else f"; yours has shape {got.shape}"))
        exact = reference_embedding_grad(tokens, grad, vocabulary)
        scale = reference_embedding_grad(tokens, np.abs(grad), vocabulary)
        if np.all(np.abs(got - exact) <= 1e-13 * scale):
            continue
        if np.all(np.abs(got - exact) <= 1e-6 * max(1.0, float(np.abs(exact).max()))):
            return report(False, what, f"for {described}, the gradient is close to the right "
                                       "one but not equal to it, as a numerical derivative "
                                       "(finite differences) would be: the rule must be exact; "
                                       "add up the gradients themselves")
        once = np.zeros_like(exact)
        once[tokens.reshape(-1)] = grad.reshape(-1, width)  # what `g[tokens] += grad` keeps
        if np.all(np.abs(got - once) <= 1e-13 * np.abs(once)):
            return report(False, what, f"for {described}: a token read more than once gets "
                                       "only one of its gradients; with repeated indices, "
                                       "g[tokens] += grad keeps one of them, and the rule must "
                                       "add them all")
        unread = np.setdiff1d(np.arange(vocabulary), tokens)
        if unread.size and np.any(got[unread] != 0):
            return report(False, what, f"for {described}: a token never read gets a "
                                       "gradient; its row was not used, so it gets 0")
        return report(False, what, f"for {described} the gradient is wrong")
    return report(True, what, f"exact in {len(cases)} cases, tokens read several times "
                              "and never included")


# ----- exercise: sampling a name --------------------------------------------------------

MAX_CALLS = 100


class _NeverEnds(BaseException):
    """Raised by the checker's model when one name asked it for too many tokens (a
    BaseException, so that the reader's own `except Exception` does not swallow it)."""


#: The shape of the checker's model's letter probabilities, put in a random order: uneven,
#: so that drawing with other probabilities (sharpened, flattened) shows in the counts.
_BASE = np.array([0.05, 0.1, 0.15, 0.25, 0.45])
NAMES_PER_RUN = 1000


class _Model:
    """A made-up model over a few letters: its next-token probabilities depend on the last
    ``context_size`` tokens. Records every context it is given."""

    def __init__(self, rng, context_size, letters):
        self.context_size = context_size
        self.letters = letters
        self.calls = []
        self.base = rng.permutation(_BASE)
        self.end = 0.25

    def kind(self, context):
        """Which of the model's 6 distributions ``context`` gets: -1 for the first letter,
        else the shift of the base distribution."""
        if all(t == END for t in context):
            return -1
        return sum(context) % len(self.letters)  # the context matters

    def distribution(self, kind):
        probs = np.zeros(27)
        if kind == -1:  # the first letter: the base distribution
            probs[self.letters] = self.base
            return probs
        probs[self.letters] = np.roll(self.base, kind) * (1 - self.end)
        probs[END] = self.end
        return probs

    def probabilities(self, context):
        context = [int(t) for t in np.asarray(context).reshape(-1)]
        self.calls.append(context)
        if len(self.calls) > MAX_CALLS:  # a right answer gets there once in 10^12 names
            raise _NeverEnds
        return self.distribution(self.kind(context))


def _always_likeliest(model, tokens):
    """Whether each of ``tokens`` (those drawn after the model's calls, in order) is the
    likeliest token of the distribution the model gave at that call, over 10 draws or more."""
    if len(tokens) < 10:
        return False
    return all(model.distribution(model.kind(context))[token]
               == model.distribution(model.kind(context)).max()
               for context, token in zip(model.calls, tokens))


def _sample_problem(sample_name, model, generator, count=NAMES_PER_RUN):
    """(names, draws, problem): ``count`` names drawn with ``generator`` and the
    counts of the tokens drawn from each of the model's distributions (a dict: kind -> 27
    counts), or the first thing wrong."""
    names, draws, uniforms = [], {}, _UniformOnly()
    for _ in range(count):
        model.calls = []
        try:
            uniforms.top_up(generator)
            name = sample_name(model.probabilities, model.context_size, uniforms)
        except _NeverEnds:
            drawn = [context[-1] for context in model.calls[1:]]
            if model.context_size and _always_likeliest(model, drawn):
                return None, None, ("your function always draws the likeliest token, so a name "
                                    "never ends ('.' is never the likeliest): draw each token "
                                    "at random with rng, with the probabilities the model "
                                    "gives")
            return None, None, (f"one name asked the model for more than {MAX_CALLS} tokens "
                                "without ending: does your loop stop when token 0 is drawn, "
                                "and does each drawn token enter the context?")
        except Exception as error:  # the reader's code is under test: report, don't crash
            return None, None, f"your function raised {describe_error(error)}"
        if is_unset(name):
            return None, None, "not filled in"
        if not isinstance(name, str):
            return None, None, f"sample_name should return a string, got {type(name).__name__}"
        if not model.calls:
            return None, None, "your function never asked the model for probabilities"
        k = model.context_size
        expected = [END] * k
        for step, context in enumerate(model.calls):
            if len(context) != k:
                return None, None, (f"the model was given a context of {len(context)} tokens; "
                                    f"it reads the last context_size = {k}")
            if context != expected and step == 0:
                return None, None, ("the first context given to the model is wrong: a name "
                                    "starts from context_size '.' tokens (token 0)")
            if context != expected:
                return None, None, (f"a later context given to the model is not the last {k} "
                                    "tokens: drop the oldest token and append the one just "
                                    "drawn")
            if step < len(name):
                expected = expected[1:] + [ord(name[step]) - 96]
        if len(model.calls) != len(name) + 1:
            return None, None, ("a name ends when the model draws '.', token 0, and the '.' "
                                "is not part of the name: the model is asked once per letter, "
                                "and once more for the '.'")
        if not all(c in "abcdefghijklmnopqrstuvwxyz" for c in name):
            return None, None, "the name should hold letters a-z only (token t is chr(96 + t))"
        for context, token in zip(model.calls, _tokens(name) + [END]):
            draws.setdefault(model.kind(context), np.zeros(27))[token] += 1
        names.append(name)
    return names, draws, None


#: How far above its degrees of freedom the chi-square statistic of a right answer's counts
#: may go, in standard normal deviations (Wilson and Hilferty's cube-root approximation):
#: 6 of them, so that a right answer fails about one run in 10^9.
_DEVIATIONS = 6.0


def _chi_square_bound(freedom):
    """The chi-square statistic with ``freedom`` degrees of freedom that chance exceeds with
    the probability a normal number exceeds ``_DEVIATIONS``."""
    spread = 2 / (9 * freedom)
    return freedom * (1 - spread + _DEVIATIONS * math.sqrt(spread)) ** 3


def _chi_square(model, draws, letters_only=False):
    """The chi-square statistic of the counts ``draws`` against the model's distributions
    and its degrees of freedom (``letters_only``: among the letters, '.' left out)."""
    statistic, freedom = 0.0, 0
    for kind, counts in draws.items():
        probs = model.distribution(kind)
        possible = probs > 0
        if letters_only:
            possible[END] = False
        if possible.sum() < 2 or counts[possible].sum() == 0:
            continue
        expected = counts[possible].sum() * probs[possible] / probs[possible].sum()
        statistic += float(np.sum((counts[possible] - expected) ** 2 / expected))
        freedom += int(possible.sum()) - 1
    return statistic, freedom


def _counts_problem(model, draws, k):
    """A sentence if the tokens drawn (``draws``, from :func:`_sample_problem` over two
    independent runs) do not follow the model's distributions, by a chi-square test on
    every draw (the first letters, the letters after them and the '.'); None if they do."""
    if any(np.any(counts[model.distribution(kind) == 0]) for kind, counts in draws.items()):
        return (f"with context_size = {k}, your function drew a token that the model gives "
                "no chance: token t must be drawn with probability p[t]")
    statistic, freedom = _chi_square(model, draws)
    if statistic <= _chi_square_bound(freedom):
        return None
    statistic, freedom = _chi_square(model, draws, letters_only=True)
    if statistic <= _chi_square_bound(freedom):  # the letters are right: the '.' is not
        return (f"with context_size = {k}, the names are not as long as the model's "
                "probability of '.' makes them")
    return (f"with context_size = {k}, the tokens drawn do not follow the model's "
            "probabilities: draw each token with the very probabilities the model gives it")


UNIFORM_TASK = ("the exercise asks you to draw every random number with rng.random(), from "
                "the generator rng")
UNIFORM_ONLY = ("the exercise asks you to draw each token with rng.random() (a uniform number "
                "placed among the cumulative probabilities), not with rng.{name} as the "
                "chapter does")


def _random_entries():
    """:func:`forbidding`'s entries for a sampler: NumPy's and Python's other sources of
    random numbers (a generator of its own would draw what ``rng`` should)."""
    import random
    entries = [(np.random, name, f"NumPy's np.random.{name}")
               for name in ("default_rng", "Generator", "RandomState", "seed", "random", "rand",
                            "uniform", "choice", "multinomial", "permutation", "shuffle")]
    entries += [(random, name, f"Python's random.{name}")
                for name in ("Random", "random", "uniform", "choice", "choices", "seed")]
    # the generator behind np.random's functions, reached by its private name
    entries += [(np.random.mtrand, "_rand", "NumPy's global generator (mtrand._rand)")]
    return entries


class _UniformOnly:
    """The generator handed to the reader's sampler: only ``random`` (and ``uniform``) may
    be used, since the exercise asks for the draw that the chapter does not show. It holds
    no generator (which ``choice`` could be found on), only uniform numbers a generator
    drew in advance, topped up by the checker before each name (:meth:`top_up`): the
    numbers, in order, that the generator's own ``random()`` would give."""

    __slots__ = ("_drawn", "_used")

    def __init__(self):
        self._drawn, self._used = np.empty(0), 0

    def top_up(self, generator):
        """Have ``DRAWS_PER_NAME`` numbers ready, the ones left first, then ``generator``'s."""
        left = self._drawn[self._used:]
        self._drawn = np.concatenate([left, generator.random(DRAWS_PER_NAME - len(left))])
        self._used = 0

    def random(self, size=None):
        count = 1 if size is None else int(np.prod(size))
        if self._used + count > len(self._drawn):
            raise RuntimeError(f"your function drew more than {DRAWS_PER_NAME} uniform "
                               "numbers for one name")
        numbers = self._drawn[self._used:self._used + count]
        self._used += count
        return float(numbers[0]) if size is None else numbers.reshape(size)

    def uniform(self, low=0.0, high=1.0, size=None):
        return low + (high - low) * self.random(size)

    def __getattr__(self, name):
        raise ForbiddenCall(UNIFORM_ONLY.format(name=name))


#: The uniform numbers ready for one name: a few for each token the model may give.
DRAWS_PER_NAME = 8 * (MAX_CALLS + 1)


@reports_forbidden("sample_name(next_probabilities, context_size, rng)")
def check_sample_name(sample_name):
    """``sample_name(next_probabilities, context_size, rng)``: one name drawn token by token
    from ``next_probabilities(context)`` (27 probabilities, from the last ``context_size``
    tokens), with the NumPy generator ``rng`` (its ``random()`` only), until token 0 is
    drawn. The counts of the
    tokens drawn over two runs of ``NAMES_PER_RUN`` names must pass a chi-square test
    against the model's probabilities; a third, shorter run, with the first run's seed,
    must begin with the same names."""
    what = "sample_name(next_probabilities, context_size, rng)"
    unusable = unusable_function(what, sample_name, "sample_name")
    if unusable is not None:
        return unusable
    rng = fresh_rng()
    for k in (1, 3):
        letters = sorted(rng.choice(np.arange(1, 27), size=5, replace=False).tolist())
        seed = int(rng.integers(2 ** 32))
        runs, draws = [], {}
        for generator in (np.random.default_rng(seed), np.random.default_rng(seed + 1),
                          np.random.default_rng(seed)):
            model = _Model(np.random.default_rng(seed), k, letters)
            count = NAMES_PER_RUN if len(runs) < 2 else NAMES_PER_RUN // 10
            # the last, short run traced (tracing every draw would slow the check down)
            traced = watching(UNIFORM_TASK, _WATCHED) if len(runs) == 2 else \
                contextlib.nullcontext()
            with forbidding(_random_entries(), [sample_name], UNIFORM_TASK), traced:
                names, drawn, problem = _sample_problem(sample_name, model,
                                                        generator, count)
            if problem == "not filled in":
                return not_filled_in(what, "sample_name")
            if problem is not None:
                return report(False, what, f"with context_size = {k}: {problem}")
            runs.append(names)
            if len(runs) == 2:  # runs 0 and 1 are independent; 2 repeats 0
                for kind, counts in drawn.items():
                    draws[kind] = draws.get(kind, 0) + counts
                problem = _counts_problem(model, draws, k)
                if problem is not None:
                    return report(False, what, problem)
            elif len(runs) == 1:
                draws = drawn
        if runs[0][:len(runs[2])] != runs[2]:
            return report(False, what, "two generators made from the same seed gave different "
                                       "names: draw every random number from rng")
        if runs[0] == runs[1]:
            return report(False, what, "generators made from different seeds gave the same "
                                       "names: draw every random number from rng")
    return report(True, what, "names drawn with the model's probabilities (a chi-square "
                              "test on every token drawn), reproducible from a seed, for "
                              "context sizes 1 and 3")
