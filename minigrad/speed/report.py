"""The comparison in words: a table of times and speed-ups, and the claims that hold anywhere.

Absolute times belong to one machine at one moment; :func:`robust_claims`
states only what, with a wide margin, any machine's run bears out.
"""
import textwrap

from minigrad.speed.counts import scalar_nodes
from minigrad.speed.timing import speedup, sweep

# robust_claims says "the speed-up grows more than GROWTH_CLAIM times along a sweep"
# only for sweeps that multiply the scalar engine's nodes at least GROWTH_RANGE times.
GROWTH_CLAIM = 4
GROWTH_RANGE = 16


def robust_claims(results):
    """Claims about the measurements that hold, with a wide margin, on any machine.

    Returns a list of ``(claim, holds)``. Each claim compares times measured
    side by side in this one run (never absolute times), is worded the same
    whatever the numbers, and leaves a margin of several times for noise.
    A claim about growth along a sweep is made only when the sweep multiplies
    the scalar engine's work at least ``GROWTH_RANGE`` times, so that the
    expected growth of the speed-up is several times the one claimed.
    ``holds`` says whether this run bears the claim out.
    """
    rows = results["rows"]
    claims = []

    def add(text, holds):
        claims.append((text, bool(holds)))

    add("the tensor engine is faster than the scalar engine at every size measured",
        all(speedup(row) > 1 for row in rows))
    counted = all("scalar" in row["nodes"] and "tensor" in row["nodes"] for row in rows)
    add("the tensor engine's graph has the same number of nodes at every size, while the scalar "
        "engine's is the formula of chapter 6, which grows with batch x width^2",
        counted and len({row["nodes"]["tensor"] for row in rows}) == 1
        and all(row["nodes"]["scalar"] == scalar_nodes(row["width"], row["batch"]) for row in rows))
    for over, name in (("batch", "batch size"), ("width", "width")):
        rows_of = sweep(results, over)
        first, last = rows_of[0], rows_of[-1]
        if last["nodes"]["scalar"] < GROWTH_RANGE * first["nodes"]["scalar"]:
            continue  # too small a range for a claim with a wide margin
        add(f"the speed-up grows with the {name}: at the largest {name} measured it is more than "
            f"{GROWTH_CLAIM} times what it is at the smallest",
            speedup(last) > GROWTH_CLAIM * speedup(first))
    return claims


def format_claims(claims, width=77):
    """Each claim as ``holds: ...`` or ``DOES NOT HOLD: ...``, wrapped to ``width`` columns."""
    return "\n".join(textwrap.fill(f"{'holds' if ok else 'DOES NOT HOLD'}: {text}", width,
                                   subsequent_indent="    ")
                     for text, ok in claims)


# ----- reporting -----------------------------------------------------------------------

def _ms(seconds):
    return f"{seconds * 1e3:.3f}" if seconds < 0.01 else f"{seconds * 1e3:.1f}"


def format_table(results):
    """A text table, 77 columns or fewer: for each sweep, one line per size with the
    scalar engine's node count, each engine's time per step and the speed-ups."""
    engines = results["engines"]
    head = ["width", "batch", "nodes"] + [f"{e} ms" for e in engines] + ["speed-up"]
    if "torch" in engines:
        head.append("tensor/torch")
    blocks = {}
    for over in ("width", "batch"):
        lines = []
        for row in sweep(results, over):
            cells = [str(row["width"]), str(row["batch"]), f"{row['nodes']['scalar']:,}"]
            cells += [_ms(row["seconds"][e]) for e in engines]
            cells.append(f"{speedup(row):.1f}x")
            if "torch" in engines:
                cells.append(f"{speedup(row, 'torch', 'tensor'):.2f}x")
            lines.append(cells)
        blocks[over] = lines
    every = [line for lines in blocks.values() for line in lines]
    widths = [max(len(head[i]), *(len(line[i]) for line in every)) for i in range(len(head))]

    def fmt(cells):
        return "  ".join(c.rjust(n) for c, n in zip(cells, widths))

    repeats = results["repeats"]
    out = ["Time per training step of MLP(2, [width, width, 1]) on `batch` moons",
           f"points: median of {repeats} run{'' if repeats == 1 else 's'}. nodes: the scalar "
           "engine's graph;",
           "speed-up: scalar time / tensor time, the two measured side by side."]
    if "torch" in engines:
        out.append("tensor/torch: tensor time / PyTorch time (above 1x: PyTorch is faster).")
    for over, fixed in (("width", f"batch {results['batch']}"), ("batch", f"width {results['width']}")):
        out += ["", f"varying the {'width' if over == 'width' else 'batch size'}, at {fixed}:",
                fmt(head), fmt(["-" * n for n in widths])]
        out += [fmt(line) for line in blocks[over]]
    return "\n".join(out)
