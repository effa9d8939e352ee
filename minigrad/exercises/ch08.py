"""Checkers for the exercises of chapter 8: matrix products, initialisation, cross-entropy.

Each prints PASS, or FAIL with what is wrong, without printing the expected
answer; each also returns True or False. Inputs are drawn afresh on every
run; the matrix product's rule is compared with the exact gradients (plain
NumPy) to about 1e-13, and any autograd, PyTorch's included, and the
package's own matrix product are traps while the reader's code runs.
"""
import math
import numbers

import numpy as np

from minigrad import tensor
from minigrad.exercises import (ForbiddenCall, as_gradients, as_numbers, arrays_close,
                                autograd_entries, describe_error, forbidding, fresh_rng,
                                is_unset, not_filled_in, report, reports_forbidden)
from minigrad.exercises.what_runs import without_engines
from minigrad.exercises.ch07 import _check_op, _with_package_rules, rule_entries, rule_problem
from minigrad.exercises.your_engine import keep

__all__ = ["check_matmul", "check_leaky_init", "check_layers"]


# ----- exercise: a matrix product, for stacks too --------------------------------------

_BATCH_CASES = [((3, 2, 4), (4, 5)), ((2, 3, 4), (2, 4, 2)), ((4, 3, 3), (3, 3)),
                ((2, 3, 3), (2, 3, 3)), ((1, 2, 3), (3, 2)), ((4, 3), (3, 5))]


def check_matmul(MatMul, MiniTensor):
    """Exercise 8.1, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 8, 1, _check_matmul, MatMul=MatMul, MiniTensor=MiniTensor)


@reports_forbidden("MatMul(a, b)")
def _check_matmul(MatMul, MiniTensor):
    """Check a reader's ``MatMul(a, b)`` on their ``MiniTensor``, for a stack ``a``
    (batch, n, k) times a shared ``b`` (k, m) or a stack ``b`` (batch, k, m), and for
    plain matrices, on arrays drawn at random: its gradients, summed back to each
    input's shape as the shared loop does, against the exact ones."""
    what = "MatMul(a, b)"
    if is_unset(MatMul) or is_unset(MiniTensor):
        return not_filled_in(what, "MatMul")
    entries = rule_entries(MatMul, getattr(tensor, "MatMul", None))
    entries += [(tensor, "_matmul_backward", "minigrad's matrix product rule")]
    cases = [(shapes, None) for shapes in _BATCH_CASES]
    return _check_op("MatMul", MatMul, lambda leaves, _: MatMul(*leaves),
                     lambda a, b, _: a @ b, _matmul_gradients,
                     MiniTensor, cases, what, entries)


def _batch_gradients(A, B, G):
    """The exact gradients of sum(G * (A @ B)), and the same sums over the sizes of their
    terms: one matrix product per matrix of the stack (einsum), and for a shared b one
    term per matrix, summed."""
    stacked_b = np.broadcast_to(B, A.shape[:-2] + B.shape[-2:])
    found = []
    for f in (lambda x: x, np.abs):
        grad_a = np.einsum("...nm,...km->...nk", f(G), f(stacked_b))
        grad_b = np.einsum("...nk,...nm->...km", f(A), f(G))
        found.append((grad_a, grad_b.sum(axis=0) if grad_b.ndim > B.ndim else grad_b))
    return list(zip(*found))


def _matmul_gradients(G, arrays, _):
    """:func:`_batch_gradients`, each with the hint for a rule that leaves out ``grad``
    (its gradients are those for a ``grad`` of ones)."""
    ignored = [exact for exact, _ in _batch_gradients(*arrays, np.ones_like(G))]
    return [(exact, scale, [(wrong, IGNORES_GRAD)])
            for (exact, scale), wrong in zip(_batch_gradients(*arrays, G), ignored)]


IGNORES_GRAD = ("it is what a grad of ones would give: the chain rule multiplies by the "
                "gradient that arrives, grad")


# ----- exercise: initialising a leaky ReLU ----------------------------------------

_LEAKY_CASES = [(256, 0.0), (256, 0.01), (64, 0.5), (1000, 1.0), (10, 0.2), (3, 0.1)]


def _factor_text(factor):
    """``factor`` (not 1) written so that it visibly differs from 1: ``1.2`` or ``1 + 5e-05``."""
    if abs(factor - 1) >= 0.01:
        return f"{factor:.3g}"
    return f"1 {'+' if factor > 1 else '-'} {abs(factor - 1):.2g}"


BY_FORMULA = "the exercise asks for the std by formula, from how a layer changes the signal"


def _integral_entries():
    """:func:`forbidding`'s entries for NumPy's numerical integrals (an expectation summed
    on a grid, or by Gauss's rule, rather than worked out)."""
    from numpy.polynomial import hermite, hermite_e
    entries = [(np, name, f"NumPy's {name}") for name in ("trapezoid", "trapz")
               if hasattr(np, name)]
    return entries + [(hermite_e, "hermegauss", "NumPy's hermegauss"),
                      (hermite, "hermgauss", "NumPy's hermgauss")]


def check_leaky_init(std_fn):
    """Check ``std_fn(nin, slope)``: the weight std that keeps a leaky-ReLU layer's signal size,
    for the layer sizes and slopes named in messages and four drawn at random."""
    what = "the initial weight std for a leaky ReLU layer"
    if is_unset(std_fn):
        return not_filled_in(what, "leaky_relu_std")
    rng = fresh_rng()
    drawn = [(int(rng.integers(1, 3000)), float(rng.uniform(0.0, 1.0))) for _ in range(4)]
    for number, (nin, slope) in enumerate(_LEAKY_CASES + drawn):
        named = number < len(_LEAKY_CASES)
        call = f"leaky_relu_std({nin}, {slope})" if named else \
            "leaky_relu_std(nin, slope), for a size and slope drawn at random,"
        try:
            with forbidding(_integral_entries(), [std_fn], BY_FORMULA):
                std = without_engines(BY_FORMULA, std_fn, nin, slope)
        except ForbiddenCall as forbidden:
            return report(False, what, str(forbidden))
        except Exception as error:
            return report(False, what, f"{call} raised {describe_error(error)}")
        if is_unset(std):
            return not_filled_in(what, "leaky_relu_std")
        if not isinstance(std, (numbers.Real, np.floating, np.ndarray)) or np.ndim(std) != 0:
            return report(False, what, f"{call} should return one number")
        std = float(std)
        if not math.isfinite(std) or std <= 0:
            gave = f"{std}:" if named else "a number that is not positive:"
            return report(False, what, f"{call} gave {gave} a standard deviation is a positive "
                                       "number")
        # A layer multiplies the mean square of its signal by nin std² times what the
        # leaky ReLU keeps of it: (1 + slope²) / 2 for inputs symmetric around 0.
        factor = nin * std ** 2 * (1 + slope ** 2) / 2
        if 1e-12 < abs(factor - 1) <= 1e-6:  # a formula is exact to rounding
            return report(False, what, f"{call} is close to the right std but not equal to "
                                       "it, as a numerical estimate (an integral summed on a "
                                       f"grid, a sample's spread) would be: {BY_FORMULA}")
        if abs(factor - 1) > 1e-6:
            if not named:
                change = "grow" if factor > 1 else "shrink"
                return report(False, what, f"with a layer size and slope drawn at random, your "
                                           f"std makes every layer {change} the mean square of the "
                                           "signal, though it is right for the cases named here: "
                                           "compute it from nin and slope")
            return report(False, what, f"with nin = {nin} and slope = {slope}, your std makes "
                                       "every layer multiply the mean square of the signal by "
                                       f"{_factor_text(factor)}; it should stay the same")
    return report(True, what, f"for {len(_LEAKY_CASES)} layer sizes and slopes, and 4 drawn at "
                              "random")


def _softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


# ----- exercise: your engine's cross-entropy and layers -------------------------------

LAYERS = "CrossEntropy, Linear and MLP"
WRITE_THEM = "the exercise asks you to write them on your own MiniTensor"


def layer_entries():
    """Any autograd, and minigrad's tensors, layers and losses."""
    from minigrad import losses, tensor_nn
    entries = autograd_entries()
    entries += [(tensor.Tensor, "__init__", "minigrad's Tensor"),
                (tensor, "log_softmax", "minigrad's log_softmax"),
                (losses, "cross_entropy_loss", "minigrad's cross_entropy_loss"),
                (tensor_nn.Linear, "__init__", "minigrad's Linear"),
                (tensor_nn.MLP, "__init__", "minigrad's MLP"),
                (tensor_nn, "init_std", "minigrad's init_std")]
    return _with_package_rules(entries)


def _log_sum_exp_rows(Z):
    top = Z.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True)))[:, 0]


def _cross_entropy_problem(CrossEntropy, MiniTensor, rng):
    """What is wrong with the reader's CrossEntropy (a sentence), or None."""
    large = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0], [0.0, -1000.0, 1000.0]])
    cases = [("random logits of shape (5, 4)", rng.normal(size=(5, 4)) * 2),
             ("a single row of logits", rng.normal(size=(1, 6))),
             ("logits as large as ±1000", large + rng.normal(size=(3, 3))),
             ("a row of logits near -1000 next to a row near +1000",
              np.array([[-1000.0, -1001.0, -999.5], [1000.0, 0.0, -1000.0]])
              + rng.normal(size=(2, 3)))]
    for described, Z in cases:
        n, k = Z.shape
        targets = rng.integers(0, k, size=n)
        try:
            with np.errstate(all="ignore"):
                node = CrossEntropy(MiniTensor(Z.copy()), targets.copy())
        except Exception as error:  # the reader's code is under test: report, don't crash
            return f"CrossEntropy for {described} raised {describe_error(error)}"
        if is_unset(getattr(node, "data", None)):
            return "CrossEntropy's __init__ records no result (not filled in yet?)"
        loss = as_numbers(node.data)
        if loss is None or loss.size != 1:
            return f"CrossEntropy for {described} should record one number, the mean loss"
        expected = float(np.mean(_log_sum_exp_rows(Z) - Z[np.arange(n), targets]))
        if not np.isfinite(loss.item()):
            return (f"CrossEntropy for {described} gives inf or nan: does the softmax overflow, "
                    "or take the log of 0? Shift each row by its own largest logit")
        if not abs(loss.item() - expected) <= 1e-12 * max(1.0, abs(expected)):
            return f"CrossEntropy's loss for {described} is wrong"
        G = float(rng.uniform(0.5, 2.0))
        try:
            with np.errstate(all="ignore"):
                local = as_gradients(node._backward(np.array(G)))
        except Exception as error:
            return f"CrossEntropy._backward for {described} raised {describe_error(error)}"
        if local is None or len(local) != 1:
            return "CrossEntropy._backward must return a tuple with one gradient: (g,)"
        g = as_numbers(local[0])
        if g is None or g.shape != Z.shape:
            return (f"the gradient of the logits for {described} should have their shape "
                    f"{Z.shape}")
        probabilities = _softmax_rows(Z)
        one_hot = np.eye(k)[targets]
        exact = G * (probabilities - one_hot) / n
        hints = [(exact / G, IGNORES_GRAD),
                 (exact * n, f"it is {n} times too large, and the logits have {n} rows")]
        if n == 1:  # one row: a missing /n cannot show
            hints.pop()
        problem = rule_problem("the logits", g, exact, G * (probabilities + one_hot) / n,
                               described, hints)
        if problem:
            return problem
    return None


def _weights_of(layer, MiniTensor, nin, nout, call):
    """(W, b) arrays of a reader's layer, or a sentence saying what is wrong."""
    try:
        params = list(layer.parameters())
    except AttributeError as error:
        return f"{call}.parameters() raised AttributeError: {error} (not filled in yet?)"
    except Exception as error:
        return f"{call}.parameters() raised {describe_error(error)}"
    if len(params) != 2 or not all(isinstance(p, MiniTensor) for p in params):
        return f"{call}.parameters() should be [W, b], two MiniTensors"
    W, b = (np.asarray(p.data) for p in params)
    if W.shape != (nin, nout) or b.shape != (nout,):
        return (f"{call} has W of shape {W.shape} and b of shape {b.shape}; a layer from "
                f"{nin} inputs to {nout} neurons needs ({nin}, {nout}) and ({nout},)")
    return W, b


def _linear_problem(Linear, MiniTensor, rng):
    """What is wrong with the reader's Linear (a sentence), or None."""
    nin, nout = 6, 4
    seed = int(rng.integers(2**31))
    layers = []
    for relu, draw in ((True, seed), (True, seed), (False, seed), (True, seed + 1)):
        call = f"Linear({nin}, {nout}, rng" + ("" if relu else ", relu=False") + ")"
        try:
            layers.append(Linear(nin, nout, np.random.default_rng(draw), relu=relu))
        except Exception as error:
            return f"{call} raised {describe_error(error)}"
        found = _weights_of(layers[-1], MiniTensor, nin, nout, call)
        if isinstance(found, str):
            return found
        if np.any(found[1] != 0):
            return (f"{call} starts with a bias that is not zero: start b at zeros "
                    "(np.zeros(nout)); the scale argument counts on every sum starting "
                    "centred at 0, and a bias of ones shifts them all by 1")
    same, again, _, other = (layer.parameters()[0].data for layer in layers)
    if not np.array_equal(same, again):
        return "two Linear layers made with generators of the same seed differ: draw W from rng"
    if np.array_equal(same, other):
        return ("Linear layers made with generators of different seeds have the same W: "
                "draw W from rng")
    x = rng.normal(size=(7, nin))
    for layer, relu in ((layers[0], True), (layers[2], False)):
        W, b = (np.asarray(p.data) for p in layer.parameters())
        try:
            out = as_numbers(layer(MiniTensor(x.copy())).data)
        except Exception as error:
            said = describe_error(error)
            return (f"calling a Linear layer on a batch raised {said}" +
                    (": is MatMul (exercise 8.1) missing or unfinished? The exercise's cell "
                     "takes it from yourgrad/tensor.py" if "MatMul" in said else ""))
        z = x @ W + b
        expected = np.maximum(z, 0.0) if relu else z
        if out is None or out.shape != expected.shape or not arrays_close(out, expected, 1e-12):
            return ("a Linear layer's output on a batch is wrong" +
                    (" (with relu=True it is relu(x @ W + b))" if relu else
                     " (with relu=False it is x @ W + b)"))
    # He's scale makes the factor below 1, Xavier's 2 nin / (nin + nout), about 1.14 here
    # (1/nin, the forward pass's own wish for a layer with no ReLU, passes too: 1)
    for relu, low, high, which in ((True, 0.9, 1.1, "followed by a ReLU"),
                                   (False, 0.9, 1.5, "giving the scores (relu=False)")):
        nin, nout = 400, 300
        W = Linear(nin, nout, np.random.default_rng(seed), relu=relu).parameters()[0].data
        # a layer multiplies the mean square of its signal by nin σ², halved by a ReLU
        factor = nin * float(np.mean(np.asarray(W) ** 2)) / (2 if relu else 1)
        if not relu and 1.8 <= factor <= 2.2:
            return ("the last layer (relu=False) has He's scale, which doubles the mean square "
                    "of the scores: its factor 2 makes up for the half a ReLU zeroes, and no "
                    "ReLU follows this layer. Use Xavier's, σ² = 2/(nin + nout)")
        if not low <= factor <= high:
            how = "grow" if factor > 1 else "shrink"
            return (f"the initial weights of a layer {which} make the signal {how} from layer "
                    "to layer: a layer multiplies the mean square of its signal by "
                    "nin σ² (halved by a ReLU); choose σ to keep that near 1 (He, or Xavier "
                    "for the last layer)")
    return None


def _mlp_gradients(weights, X, y):
    """Loss and gradients of the mean cross-entropy of a ReLU MLP, by hand in NumPy."""
    activations = [X]
    for i, (W, b) in enumerate(weights):
        z = activations[-1] @ W + b
        activations.append(np.maximum(z, 0.0) if i < len(weights) - 1 else z)
    Z = activations[-1]
    n = len(Z)
    grad = (_softmax_rows(Z) - np.eye(Z.shape[1])[y]) / n
    found = []
    for i in reversed(range(len(weights))):
        W, _ = weights[i]
        found.append((activations[i].T @ grad, grad.sum(axis=0)))
        grad = (grad @ W.T) * (activations[i] > 0)
    return Z, list(reversed(found))


def _mlp_problem(MLP, CrossEntropy, MiniTensor, rng):
    """What is wrong with the reader's MLP (a sentence), or None."""
    sizes = [5, 4, 3]
    seed = int(rng.integers(2**31))
    call = f"MLP(2, {sizes}, seed)"
    try:
        models = [MLP(2, sizes, seed=s) for s in (seed, seed, seed + 1)]
    except Exception as error:
        return f"{call} raised {describe_error(error)}"
    try:
        params = [list(model.parameters()) for model in models]
    except Exception as error:
        return f"{call}.parameters() raised {describe_error(error)}"
    shapes = [(2, 5), (5,), (5, 4), (4,), (4, 3), (3,)]
    if [np.shape(p.data) for p in params[0]] != shapes:
        return (f"{call}.parameters() should be W and b of each layer in turn, of shapes "
                f"{', '.join(map(str, shapes))}")
    if not all(np.array_equal(p.data, q.data) for p, q in zip(params[0], params[1])):
        return "two MLPs made with the same seed differ"
    if all(np.array_equal(p.data, q.data) for p, q in zip(params[0], params[2])):
        return "MLPs made with different seeds are the same"
    model, mine = models[0], params[0]
    X, y = rng.normal(size=(8, 2)), rng.integers(0, 3, size=8)
    weights = [(np.asarray(mine[i].data), np.asarray(mine[i + 1].data)) for i in (0, 2, 4)]
    Z, expected = _mlp_gradients(weights, X, y)
    try:
        logits = model(MiniTensor(X.copy()))
        CrossEntropy(logits, y.copy()).backward()
    except Exception as error:
        return f"the forward or backward pass of an MLP raised {describe_error(error)}"
    if not arrays_close(as_numbers(logits.data), Z, 1e-12):
        return (f"the scores of {call} are wrong: a ReLU after every layer but the last, "
                "whose scores go to the loss as they are")
    names = [f"{name} of layer {i}" for i in range(3) for name in ("W", "b")]
    for name, p, exact in zip(names, mine, (g for pair in expected for g in pair)):
        if p.grad is None or np.shape(p.grad) != exact.shape:
            return f"after backward(), {name} has no gradient of its shape"
        if not np.all(np.abs(p.grad - exact) <= 1e-11 * max(1.0, float(np.abs(exact).max()))):
            return (f"after backward() through the MLP and CrossEntropy, the gradient of {name} "
                    "is wrong")
    # a training loop's batches are plain arrays (chapter 9's Batches): the same model, again
    twin, on_array = models[1], "called on a NumPy array of examples, as a training loop does,"
    try:
        logits = twin(X.copy())
        CrossEntropy(logits, y.copy()).backward()
    except Exception as error:
        return (f"{call} {on_array} raised {describe_error(error)}: does __call__ wrap an "
                "array in a MiniTensor?")
    if not isinstance(logits, MiniTensor) or not arrays_close(as_numbers(logits.data), Z, 1e-12):
        return f"{call} {on_array} does not give the scores as a MiniTensor"
    if any(p.grad is None or not arrays_close(p.grad, exact, 1e-11)
           for p, exact in zip(params[1], (g for pair in expected for g in pair))):
        return f"{call} {on_array} gets wrong gradients from backward()"
    return None


def check_layers(CrossEntropy, Linear, MLP, MiniTensor):
    """Exercise 8.3, kept in the reader's ``yourgrad/tensor.py`` when it passes."""
    return keep("tensor", 8, 3, _check_layers, CrossEntropy=CrossEntropy, Linear=Linear,
                MLP=MLP, MiniTensor=MiniTensor)


@reports_forbidden(LAYERS)
def _check_layers(CrossEntropy, Linear, MLP, MiniTensor):
    """Your engine's ``CrossEntropy(logits, targets)`` (the mean over the rows, one
    operation with an exact rule, finite for logits of ±1000), ``Linear(nin, nout, rng,
    relu=True)`` (W and b drawn from ``rng`` with a scale that keeps the signal's size)
    and ``MLP(nin, sizes, seed)`` (its scores and, through CrossEntropy and the reader's
    own backward, every gradient against NumPy by hand); on data drawn afresh on every
    run, with minigrad's tensors, layers, losses and any autograd as traps."""
    answers = dict(CrossEntropy=CrossEntropy, Linear=Linear, MLP=MLP, MiniTensor=MiniTensor)
    unset = [name for name, answer in answers.items() if is_unset(answer)]
    if unset:
        return not_filled_in(LAYERS, unset[0])
    rng = fresh_rng()
    with forbidding(layer_entries(), list(answers.values()), WRITE_THEM):
        problem = (_cross_entropy_problem(CrossEntropy, MiniTensor, rng)
                   or _linear_problem(Linear, MiniTensor, rng)
                   or _mlp_problem(MLP, CrossEntropy, MiniTensor, rng))
    if problem:
        return report(False, LAYERS, problem)
    return report(True, LAYERS, "the loss and its exact gradient, also for logits of ±1000; "
                                "layers drawn from rng at a sound scale; an MLP's scores and "
                                "gradients, through your own backward()")
