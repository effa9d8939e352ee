"""Checkers for the exercises of chapter 4, Neurons, layers and MLPs."""
import math
import numbers
import random

from minigrad import value_nn
from minigrad.exercises import (EXACT, ForbiddenCall, describe_error, forbidding, fresh_rng,
                                is_placeholder, model_entries, not_filled_in, report,
                                reports_forbidden, sources, traced)
from minigrad.exercises import rule_verdict
from minigrad.exercises.ch03 import rules_by_differences
from minigrad.exercises.what_runs import TooMuchWork, run_traced
from minigrad.exercises.your_engine import keep
from minigrad.value_nn import ValueMLP

# shapes shown in the exercise, then some it does not show
PARAM_SHAPES = [(2, [16, 16, 1]), (3, [4, 4, 1]), (64, [32, 16, 10]),
                (1, [1]), (5, [7]), (10, [3, 3, 3, 2])]

WITHOUT_BUILDING = ("the exercise asks for the count (or the weights) by formula, without "
                    "building a model")


def _parameter_count(nin, nouts):
    """Each layer has one weight per input and one bias for each of its neurons."""
    sizes = [nin] + list(nouts)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))


@reports_forbidden("parameter counts")
def check_param_count(n_parameters):
    """Exercise 4.1: ``n_parameters(nin, nouts)`` counts an MLP's parameters by formula, for the
    shapes of the exercise, others, and some drawn at random, with building a model a trap."""
    what = "parameter counts"
    if is_placeholder(n_parameters):
        return not_filled_in(what)
    rng = fresh_rng()
    drawn = [(int(rng.integers(1, 30)),
              [int(n) for n in rng.integers(1, 30, size=int(rng.integers(1, 5)))])
             for _ in range(4)]
    for number, (nin, nouts) in enumerate(PARAM_SHAPES + drawn):
        named = number < len(PARAM_SHAPES)
        call = f"n_parameters({nin}, {nouts})" if named \
            else "for a shape drawn at random, n_parameters"
        try:
            with forbidding(model_entries(n_parameters), [n_parameters], WITHOUT_BUILDING):
                got = n_parameters(nin, list(nouts))
        except Exception as error:
            return report(False, what, f"{call} raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        actual = _parameter_count(nin, nouts)
        if got != actual:
            if isinstance(got, numbers.Real):
                how = "too many" if got > actual else "too few"
            else:
                how = "not a number"
            if not named:
                return report(False, what, f"{call} gives {how}, though it is right for the shapes "
                                           "named here: compute the count from nin and nouts")
            return report(False, what, f"{call} = {got!r}: {how} "
                                       f"(checked against MLP({nin}, {nouts}))")
    return report(True, what, f"{len(PARAM_SHAPES)} shapes, some of them not in the exercise, "
                              "and more drawn at random")


#: What the one neuron's weight and bias are computed from, expanding the chain: running
#: the chain at two inputs instead (y(1) - y(0), y(0)) computes w from the biases too.
WEIGHT_SOURCES = {"w1", "w2", "w3"}
BIAS_SOURCES = {"b1", "w2", "b2", "w3", "b3"}


@reports_forbidden("one neuron for three")
def check_linear_collapse(collapse):
    """Exercise 4.2: ``collapse(w1, b1, w2, b2, w3, b3)`` returns the ``(w, b)`` of the one
    neuron that computes what three linear neurons in a chain compute; tried on one chain
    named in messages and four drawn at random, with building a model a trap. The six
    parameters are :func:`traced` floats: w and b must be computed from the parameters that
    expanding the chain uses, not read off the chain's outputs at two inputs."""
    what = "one neuron for three"
    if is_placeholder(collapse):
        return not_filled_in(what)
    names = ["w1", "b1", "w2", "b2", "w3", "b3"]
    rng = fresh_rng()
    chains = [[0.8, -0.5, 1.5, 0.25, -2.0, 0.4]]  # biases too: zeros would hide mistakes
    chains += [[round(float(v), 3)
                for v in rng.choice([-1, 1], size=6) * rng.uniform(0.3, 2, size=6)]
               for _ in range(4)]
    answers = []
    for trial, values in enumerate(chains):
        try:
            parameters = [traced(v, name) for name, v in zip(names, values)]
            with forbidding(model_entries(collapse), [collapse], WITHOUT_BUILDING):
                answer = collapse(*parameters)
        except Exception as error:
            return report(False, what, f"collapse raised {describe_error(error)}")
        if is_placeholder(answer):
            return not_filled_in(what)
        try:
            w_traced, b_traced = answer
            w, b = float(w_traced), float(b_traced)
        except (TypeError, ValueError):
            return report(False, what, f"collapse should return two numbers (w, b), got {answer!r}")
        w1, b1, w2, b2, w3, b3 = values
        slope, at0 = w3 * w2 * w1, w3 * (w2 * b1 + b2) + b3  # the chain at x = 0, and its slope
        wrong = [name for name, got, right in (("w", w, slope), ("b", b, at0))
                 if not math.isclose(got, right, rel_tol=1e-9, abs_tol=1e-12)]
        if wrong:
            given = ", ".join(f"{n} = {v}" for n, v in zip(names, values)) if trial == 0 else \
                "six numbers drawn at random"
            return report(False, what, f"with {given}: your {' and '.join(wrong)} "
                                       f"{'is' if len(wrong) == 1 else 'are'} not right")
        w1, b1, w2, b2, w3, b3 = parameters
        answers.append((w_traced, b_traced, w3 * w2 * w1, w3 * (w2 * b1 + b2) + b3))
    # what they are computed from, once the numbers are right everywhere
    for w_traced, b_traced, w_rule, b_rule in answers:
        for name, got, needed, rule in (("w", w_traced, WEIGHT_SOURCES, w_rule),
                                        ("b", b_traced, BIAS_SOURCES, b_rule)):
            used = sources(got)
            if used - needed:
                return report(False, what, f"your {name} is computed from "
                                           f"{min(used - needed)} too: that is running the "
                                           "chain on numbers and reading the line off its "
                                           "outputs; expand the chain by hand instead")
            verdict = rule_verdict(got, rule, needed, name, "the six parameters",
                                   "expand the chain by hand instead")
            if verdict is not None:
                return report(False, what, verdict)
    return report(True, what, "for five chains of three neurons with non-zero biases, four of them "
                              "drawn at random")


def _relu_network(seed, hidden):
    model = ValueMLP(1, [hidden, 1], activation="relu", seed=seed)
    rng = random.Random(f"biases {seed}")  # not the model's own stream: bends would coincide
    for neuron in model.layers[0].neurons:
        neuron.b.data = rng.uniform(-1.5, 1.5)  # the model starts biases at 0: every bend at x = 0
    return model


READ_OFF = ("the exercise asks you to read each bend off its neuron's weight and bias, not "
            "to search for it by running the network")
#: Running the package's network, its layers or its neurons: a search for the bends.
_RUNNING_THE_NETWORK = [(klass, "__call__", f"minigrad's {klass.__name__}")
                        for klass in (value_nn.Neuron, value_nn.ValueLayer, value_nn.ValueMLP)]


#: Python steps that reading 8 bends off their neurons' weights stays well within.
BENDS_STEPS = 400


def check_bends(bends):
    """Exercise 4.3: ``bends(model)`` lists where a one-input ReLU network's hidden
    neurons switch on or off (the x where each neuron's sum is 0), in increasing order,
    read off the weights: running the network (to search for the bends) is a trap."""
    what = "where a ReLU network bends"
    # networks not seen before
    seeds = [int(seed) for seed in fresh_rng().integers(0, 2**31, size=3)]
    for seed, hidden in zip(seeds, [3, 5, 8]):
        model = _relu_network(seed, hidden)
        try:
            with forbidding(_RUNNING_THE_NETWORK, [bends], READ_OFF):
                got = bends(model)
        except ForbiddenCall as forbidden:
            return report(False, what, str(forbidden))
        except Exception as error:
            return report(False, what, f"bends raised {describe_error(error)}")
        if is_placeholder(got):
            return not_filled_in(what)
        try:
            got = [float(x) for x in got]
        except (TypeError, ValueError):
            return report(False, what, f"bends should return a list of numbers, got {got!r}")
        right = sorted(-n.b.data / n.w[0].data for n in model.layers[0].neurons)
        if len(got) != len(right):
            return report(False, what, f"a network with {hidden} hidden neurons: you found "
                                       f"{len(got)} bends, it has {len(right)}")
        if got != sorted(got):
            return report(False, what, "list the bends in increasing order (sorted)")
        # element by element: each hidden neuron's bend exactly once
        for x, r in zip(got, right):
            if math.isclose(x, r, rel_tol=1e-9, abs_tol=1e-12):
                continue
            if any(math.isclose(x, other, rel_tol=1e-9, abs_tol=1e-12) for other in right):
                return report(False, what, f"a network with {hidden} hidden neurons: one of your "
                                           "bends is listed more than once, and another neuron's "
                                           "bend is missing")
            return report(False, what, f"a network with {hidden} hidden neurons: at one of your "
                                       "bends no hidden neuron's sum is 0, so nothing switches "
                                       "there")
    # reading the bends off takes a few steps a neuron; a search (bisection) hundreds
    try:
        run_traced(bends, _relu_network(seeds[0], 8), limit=BENDS_STEPS)
    except TooMuchWork:
        return report(False, what, "your bends takes more Python steps than reading 8 "
                                   f"bends off their weights does, as a search does: {READ_OFF}")
    except Exception:  # noqa: BLE001 - judged already; this run only counts its steps
        pass
    return report(True, what, "on three random networks with non-zero biases")


# ----- your engine: the operations that are left (4.4), and networks (4.5) ---------------

OWN = "the exercise asks you to write it in your own engine"


def _stable_sigmoid(x):
    e = math.exp(-abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


def _more_cases(x, y):
    """(text, build(a, b), value, [d/da, d/db]) at a = x, b = y (x > 0 where log needs it)."""
    s = _stable_sigmoid(x)
    return [
        ("-a", lambda a, b: -a, -x, [-1.0, 0.0]),
        ("a - b", lambda a, b: a - b, x - y, [1.0, -1.0]),
        ("a - 2.0", lambda a, b: a - 2.0, x - 2.0, [1.0, 0.0]),
        ("2.0 - a", lambda a, b: 2.0 - a, 2.0 - x, [-1.0, 0.0]),
        ("a / b", lambda a, b: a / b, x / y, [1 / y, -x / (y * y)]),
        ("a / 2.0", lambda a, b: a / 2.0, x / 2.0, [0.5, 0.0]),
        ("2.0 / a", lambda a, b: 2.0 / a, 2.0 / x, [-2.0 / (x * x), 0.0]),
        ("a.log()", lambda a, b: a.log(), math.log(x) if x > 0 else math.nan, [1 / x, 0.0]),
        ("a.relu()", lambda a, b: a.relu(), max(x, 0.0), [1.0 if x > 0 else 0.0, 0.0]),
        ("(-a).relu()", lambda a, b: (-a).relu(), max(-x, 0.0), [-1.0 if x < 0 else 0.0, 0.0]),
        ("a.sigmoid()", lambda a, b: a.sigmoid(), s, [s * (1 - s), 0.0]),
        # a gradient other than 1 arrives at the node
        ("2.5 * a.log()", lambda a, b: 2.5 * a.log(), 2.5 * math.log(x) if x > 0 else math.nan,
         [2.5 / x, 0.0]),
        ("a.relu() * b", lambda a, b: a.relu() * b, max(x, 0.0) * y,
         [y if x > 0 else 0.0, max(x, 0.0)]),
        ("a.sigmoid() * b", lambda a, b: a.sigmoid() * b, s * y, [y * s * (1 - s), s]),
    ]


def check_more_operations(Value, Log, ReLU, Sigmoid):
    """Exercise 4.4: the reader's engine gets ``Log``, ``ReLU`` and ``Sigmoid`` classes with
    their rules, and ``-a``, ``a - b``, ``a / b`` (and with a number on either side) built
    from the operations it has. Values and gradients (through the reader's ``backward()``)
    are compared with the exact ones at numbers shown and drawn at random, the sigmoid also
    at ±1000. A pass keeps the piece in yourgrad/value.py."""
    if any(is_placeholder(answer) for answer in (Value, Log, ReLU, Sigmoid)):
        return not_filled_in("the operations that are left")
    return keep("value", 4, 4, _check_more_operations, Value=Value, Log=Log, ReLU=ReLU,
                Sigmoid=Sigmoid)


@reports_forbidden("the operations that are left")
def _check_more_operations(Value, Log, ReLU, Sigmoid):
    from minigrad.exercises import autograd_entries, package_rule_entries
    what = "the operations that are left"
    for name, cls in {"Log": Log, "ReLU": ReLU, "Sigmoid": Sigmoid}.items():
        if not (isinstance(cls, type) and issubclass(cls, Value)):
            return report(False, what, f"{name} should be a class derived from your Value, "
                                       f"got {cls!r}")
    rng = fresh_rng()
    points = [(1.5, -0.8, "at a = 1.5, b = -0.8"), (0.4, 2.5, "at a = 0.4, b = 2.5")]
    points += [(float(rng.uniform(0.1, 4.0)), float(rng.choice([-1, 1]) * rng.uniform(0.3, 3.0)),
                "at a, b drawn at random")]
    answers = [Value, Log, ReLU, Sigmoid]
    for x, y, at in points:
        for sign in (1.0, -1.0):
            for text, build, value, slopes in _more_cases(sign * x, y):
                if "log" in text and sign < 0:
                    continue
                a, b = Value(sign * x), Value(y)
                try:
                    with forbidding(autograd_entries() + package_rule_entries(), answers, OWN):
                        out = build(a, b)
                        if is_placeholder(out):
                            return not_filled_in(what)
                        out.backward()
                except Exception as error:
                    return report(False, what, f"{text} {at} raised {describe_error(error)}")
                got_value = getattr(out, "data", None)
                if not isinstance(got_value, numbers.Real) or not math.isclose(
                        got_value, value, rel_tol=1e-12, abs_tol=1e-300):
                    return report(False, what, f"{text} {at} computes the wrong value")
                for leaf, slope, label in zip((a, b), slopes, ("a", "b")):
                    if not math.isclose(leaf.grad, slope, rel_tol=1e-12, abs_tol=1e-15):
                        if math.isclose(leaf.grad, slope, rel_tol=1e-5, abs_tol=1e-8):
                            return report(False, what, f"{text} {at}, d/d{label}: {EXACT}")
                        return report(False, what, f"{text} {at}: d/d{label} is not the "
                                                   "derivative: check the rule (does it multiply "
                                                   "by the gradient that arrives?), or how the "
                                                   "operation is built from others")
    for name, node_of in [("Log", lambda a: a.log()), ("ReLU", lambda a: a.relu()),
                          ("Sigmoid", lambda a: a.sigmoid())]:
        node = node_of(Value(0.7))
        if type(node).__name__ != name and not isinstance(node, {"Log": Log, "ReLU": ReLU,
                                                                  "Sigmoid": Sigmoid}[name]):
            return report(False, what, f"a.{name.lower()}() should make a {name} node, "
                                       f"got {type(node).__name__}")
    # a difference of ReLU's values is exact away from its corner: right beside the corner
    # only the rule is
    for x, slope in ((1e-9, 1.0), (-1e-9, 0.0)):
        a = Value(x)
        try:
            with forbidding(autograd_entries() + package_rule_entries(), answers, OWN):
                a.relu().backward()
        except Exception as error:
            return report(False, what, f"relu at a = {x:g} raised {describe_error(error)}")
        if a.grad != slope:
            return report(False, what, f"relu's rule at a = {x:g}, right beside 0, gives "
                                       f"{a.grad!r}: it is 1 for a > 0 and 0 otherwise, "
                                       "however close to 0 (a difference of relu's values "
                                       "straddles the corner there)")
    try:
        nodes = {"Log": Value(1.3).log(), "ReLU": Value(0.8).relu(),
                 "Sigmoid": Value(0.4).sigmoid()}
    except Exception:  # noqa: BLE001 - judged already
        nodes = {}
    problem = rules_by_differences(nodes)
    if problem is not None:
        return report(False, what, problem)
    for x in (1000.0, -1000.0):
        a = Value(x)
        try:
            out = a.sigmoid()
            out.backward()
        except Exception as error:
            return report(False, what, f"sigmoid at a = {x:g} raised {describe_error(error)}: "
                                       "compute it without e^-a for a < 0")
        if out.data != (1.0 if x > 0 else 0.0) and not math.isclose(out.data, _stable_sigmoid(x),
                                                                      abs_tol=1e-300):
            return report(False, what, f"sigmoid at a = {x:g} gives {out.data!r}")
    return report(True, what, "-, / and numbers on either side, log, relu and sigmoid (also "
                              "at ±1000): values and gradients exact")


def _forward_by_hand(model_layers, x, activation):
    """The network's output computed in floats from its parameters' data."""
    act = {"relu": lambda z: max(z, 0.0), "tanh": math.tanh, "sigmoid": _stable_sigmoid,
           "linear": lambda z: z}
    for i, layer in enumerate(model_layers):
        last = i == len(model_layers) - 1
        x = [act["linear" if last else activation](
            n.b.data + math.fsum(w.data * xi for w, xi in zip(n.w, x))) for n in layer.neurons]
    return x


def _most_negative(model_layers, x, activation):
    """The network's most negative nonzero output at ``x`` (inf if all are 0). The checker
    tries the network where this is lowest: there an activation wrongly put on the last
    layer shows in the output itself (a ReLU would make it 0). An output of exactly 0 (a
    dead hidden layer, biases 0) would hide it from the output and show it only in a
    gradient."""
    return min((out for out in _forward_by_hand(model_layers, x, activation) if out != 0),
               default=math.inf)


def check_network(Value, activate, Neuron, Layer, MLP):
    """Exercise 4.5: ``Neuron``, ``Layer`` and ``MLP`` of the chapter, on the reader's own
    ``Value``. Tried on shapes and seeds drawn at random: the parameters (count, all distinct
    Values of theirs, the same for the same seed), the output against the network computed
    by hand from them, and the gradients of the reader's ``backward()`` against minigrad's.
    minigrad's networks are traps. A pass keeps them in yourgrad/value.py."""
    answers = (Value, activate, Neuron, Layer, MLP)
    if any(is_placeholder(answer) for answer in answers):
        return not_filled_in("your network")
    return keep("value", 4, 5, _check_network, Value=Value, activate=activate, Neuron=Neuron,
                Layer=Layer, MLP=MLP)


@reports_forbidden("your network")
def _check_network(Value, activate, Neuron, Layer, MLP):
    from minigrad import module, value_nn
    from minigrad.exercises import autograd_entries
    what = "your network"
    entries = [(klass, "__init__", f"minigrad's {klass.__name__}")
               for klass in (value_nn.Neuron, value_nn.ValueLayer, value_nn.ValueMLP)]
    entries += [(module.Module, "parameters", "minigrad's parameters()")] + autograd_entries()
    rng = fresh_rng()
    shapes = [(3, [4, 4, 1], "relu"), (2, [3, 2], "tanh")]
    shapes += [(int(rng.integers(1, 5)), [int(n) for n in rng.integers(2, 6, size=2)] + [1],
                str(rng.choice(["relu", "tanh", "sigmoid"])))]
    for number, (nin, nouts, activation) in enumerate(shapes):
        shown = f"MLP({nin}, {nouts}, activation={activation!r})" if number < 2 \
            else "an MLP of a shape drawn at random"
        seed = int(rng.integers(0, 2**31))
        candidates = rng.uniform(-2, 2, size=(32, nin)).tolist()
        try:
            with forbidding(entries, [Value, activate, Neuron, Layer, MLP], OWN):
                model, again = MLP(nin, nouts, activation, seed), MLP(nin, nouts, activation, seed)
                params = model.parameters()
                if is_placeholder(params):
                    return not_filled_in(what)
                params = list(params)
                layers = getattr(model, "layers", None)
                x = candidates[0] if layers is None else min(
                    candidates, key=lambda point: _most_negative(layers, point, activation))
                out = model(x)
        except Exception as error:
            return report(False, what, f"{shown} raised {describe_error(error)}")
        if is_placeholder(out) or not params:
            return not_filled_in(what)
        sizes = [nin] + nouts
        count = sum((i + 1) * o for i, o in zip(sizes, sizes[1:]))
        if len(params) != count:
            return report(False, what, f"{shown} has {len(params)} parameters, not {count}: one "
                                       "weight per input and a bias for each neuron")
        if not all(isinstance(p, Value) for p in params) or len({id(p) for p in params}) != count:
            return report(False, what, f"the parameters of {shown} should be {count} different "
                                       "Values of your engine")
        if [p.data for p in params] != [p.data for p in again.parameters()]:
            return report(False, what, "two networks made with the same seed should start with "
                                       "the same weights (draw them from random.Random(seed))")
        if layers is None:
            return report(False, what, "an MLP should keep its layers in model.layers")
        expected = _forward_by_hand(layers, x, activation)
        outs = out if isinstance(out, list) else [out]
        if nouts[-1] == 1 and isinstance(out, list):
            return report(False, what, "a last layer of one neuron should give its output "
                                       "itself, not a list of one")
        if len(outs) != len(expected) or not all(
                math.isclose(o.data, e, rel_tol=1e-9, abs_tol=1e-12)
                for o, e in zip(outs, expected)):
            return report(False, what, f"{shown}: the output is not what its weights compute "
                                       "(hidden layers with the activation, the last linear)")
        # the gradients of the first output, with the reader's backward, against minigrad's
        from minigrad.value import Value as PackageValue
        with forbidding(entries, [Value, activate, Neuron, Layer, MLP], OWN):
            outs[0].backward()
        mirror = [PackageValue(p.data) for p in params]
        _package_forward(mirror, sizes, x, activation)[0].backward()
        wrong = [i for i, (p, m) in enumerate(zip(params, mirror))
                 if not math.isclose(p.grad, m.grad, rel_tol=1e-9, abs_tol=1e-12)]
        if wrong:
            return report(False, what, f"{shown}: the gradients of {len(wrong)} parameters "
                                       "differ from minigrad's: are the parameters listed "
                                       "weights first, then the bias, neuron by neuron?")
    return report(True, what, "parameters, outputs and gradients, on shapes and seeds drawn at "
                              "random")


def _package_forward(params, sizes, x, activation):
    """The network of ``sizes`` on minigrad's Values ``params`` (in the order of the
    chapter's ``parameters()``), at the input ``x``."""
    params = iter(params)
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        outs = []
        for _ in range(fan_out):
            w = [next(params) for _ in range(fan_in)]
            z = next(params)
            for wi, xi in zip(w, x):
                z = z + wi * xi
            outs.append(z if last else getattr(z, activation)())
        x = outs
    return x
