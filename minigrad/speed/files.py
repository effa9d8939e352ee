"""Measurements saved as JSON, to compare machines; read back with a clear error if incomplete."""
import json
import math

from minigrad.speed.engines import ENGINES
from minigrad.speed.timing import FORMAT, sweep


def save_json(results, path):
    """Write ``results`` (from :func:`compare`) to ``path`` as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


def load_json(path):
    """Results saved by :func:`save_json`, or a ValueError saying why the file is not such results."""
    try:
        with open(path, encoding="utf-8") as f:
            results = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a JSON file ({error})") from None
    if not isinstance(results, dict) or results.get("format") != FORMAT:
        raise ValueError(f"{path} does not hold minigrad.speed results (no \"format\": \"{FORMAT}\")")
    _check_results(results, path)
    return results


def _check_results(results, path):
    """A ValueError naming ``path`` unless ``results`` hold all that the table, the claims
    and the charts read."""
    def fail(what):
        return ValueError(f"{path} does not hold complete minigrad.speed results: {what}")

    def whole(value):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1

    for key in ("engines", "repeats", "width", "batch", "widths", "batches", "rows"):
        if key not in results:
            raise fail(f"it has no {key!r}")
    engines = results["engines"]
    if not (isinstance(engines, list) and {"scalar", "tensor"} <= set(map(str, engines)) <= set(ENGINES)):
        raise fail(f"its engines should include 'scalar' and 'tensor', from {ENGINES}; got {engines!r}")
    for key in ("widths", "batches"):
        if not (isinstance(results[key], list) and results[key] and all(map(whole, results[key]))):
            raise fail(f"its {key!r} should list positive whole numbers, got {results[key]!r}")
    for key in ("repeats", "width", "batch"):
        if not whole(results[key]):
            raise fail(f"its {key!r} should be a positive whole number, got {results[key]!r}")
    if not isinstance(results["rows"], list):
        raise fail("its 'rows' should be a list")
    for i, row in enumerate(results["rows"]):
        seconds = row.get("seconds") if isinstance(row, dict) else None
        nodes = row.get("nodes") if isinstance(row, dict) else None
        if not (whole(row.get("width")) and whole(row.get("batch")) and isinstance(seconds, dict)
                and isinstance(nodes, dict) and whole(nodes.get("scalar"))):
            raise fail(f"row {i} should hold a width, a batch, nodes and seconds, got {row!r}")
        for engine in engines:
            taken = seconds.get(engine)
            if not (isinstance(taken, (int, float)) and not isinstance(taken, bool)
                    and 0 < taken < math.inf):
                raise fail(f"row {i} should give {engine}'s seconds as a positive number, got {taken!r}")
    for over in ("width", "batch"):
        try:
            sweep(results, over)
        except ValueError as error:
            raise fail(error) from None
