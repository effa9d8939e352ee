"""The charts: time per step against width and batch size, the speed-up, and where the time goes."""
import os
import sys

from minigrad.speed.timing import speedup, sweep

_STYLE = {"scalar": ("tab:red", "o"), "tensor": ("tab:blue", "s"), "torch": ("tab:gray", "^")}


def plot(results, target=None):
    """Log-log charts of time per step against width and against batch size, and the speed-up.

    ``target`` is a file name (the figure is saved there and closed), a list of
    three matplotlib Axes to draw on, or None (a new figure). Returns the Figure.
    """
    import matplotlib
    import matplotlib.ticker
    if isinstance(target, (str, os.PathLike)) and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # only a file is wanted: no window, on any machine
    import matplotlib.pyplot as plt

    if target is None or isinstance(target, (str, os.PathLike)):
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.6))
    else:
        axes = list(target)
        if len(axes) != 3:
            raise ValueError(f"plot draws on 3 Axes (width, batch, speed-up), got {len(axes)}")
        fig = axes[0].figure
    for ax, over in zip(axes[:2], ("width", "batch")):
        rows = sweep(results, over)
        xs = [row[over] for row in rows]
        for engine in results["engines"]:
            color, marker = _STYLE[engine]
            ax.loglog(xs, [row["seconds"][engine] * 1e3 for row in rows], marker=marker,
                      color=color, label=f"{engine} engine" if engine != "torch" else "PyTorch")
        fixed = f"batch {results['batch']}" if over == "width" else f"width {results['width']}"
        ax.set(xlabel=over, ylabel="ms per training step", title=f"against {over} ({fixed})")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
    ax = axes[2]
    for over, style in (("width", "o-"), ("batch", "s--")):
        rows = sweep(results, over)
        ax.loglog([row["nodes"]["scalar"] for row in rows], [speedup(row) for row in rows], style,
                  color="tab:purple", label=f"varying {over}")
    ax.set(xlabel="scalar engine's nodes per step", ylabel="scalar time / tensor time",
           title="the tensor engine's speed-up")
    ax.minorticks_off()
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if isinstance(target, (str, os.PathLike)):
        fig.savefig(target, dpi=120)
        plt.close(fig)
    return fig


_PARTS = [("bookkeeping", "Python: the graph's bookkeeping", "tab:orange"),
          ("calls", "Python: NumPy's calls", "tab:olive"),
          ("arithmetic", "arrays: the arithmetic", "tab:blue"),
          ("array_extra", "arrays: the engine's other work", "tab:cyan")]


def _ms_label(seconds):
    """``0.399 ms``, ``21.3 ms``, ``1,330 ms``: three significant digits, no exponent."""
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.3g} ms"


def _shares(parts):
    """Each part's share of their sum, a negative part (noise) drawn as 0."""
    parts = [max(0.0, p) for p in parts]
    total = sum(parts) or 1.0
    return [p / total for p in parts]


def plot_breakdown(scalar, tensor, target=None):
    """Bars of shares: the collector in the scalar step (``scalar``: results of
    :func:`~minigrad.speed.breakdown.collector_share`), and Python's overhead and
    the work on arrays in the tensor step (``tensor``: results of
    :func:`~minigrad.speed.breakdown.tensor_breakdown`), each bar labelled with
    its size and time. ``target``: a file name, two Axes, or None. Returns the Figure.
    """
    import matplotlib
    import matplotlib.ticker
    if isinstance(target, (str, os.PathLike)) and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if target is None or isinstance(target, (str, os.PathLike)):
        fig, axes = plt.subplots(1, 2, figsize=(9, 4),
                                 gridspec_kw={"width_ratios": [1, 1.3]})
    else:
        axes = list(target)
        if len(axes) != 2:
            raise ValueError(f"plot_breakdown draws on 2 Axes (scalar, tensor), got {len(axes)}")
        fig = axes[0].figure
    ax = axes[0]
    labels = [f"w {r['width']}, B {r['batch']}" + ("" if r["frozen"] else "\nnot frozen")
              + f"\n{_ms_label(r['seconds'])}" for r in scalar]
    shares = [_shares([r["collector"], r["seconds"] - r["collector"]]) for r in scalar]
    rows = range(len(scalar))
    ax.barh(rows, [s[1] for s in shares], color="tab:red", label="building and walking the graph")
    ax.barh(rows, [s[0] for s in shares], left=[s[1] for s in shares], color="tab:gray",
            label="the garbage collector")
    ax.set_yticks(list(rows), labels)
    ax.set(title="scalar step", xlabel="share of the step's time", xlim=(0, 1))
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax = axes[1]
    labels = [f"w {r['width']}, B {r['batch']}\n{_ms_label(r['seconds'])}" for r in tensor]
    shares = [_shares([r[key] for key, _, _ in _PARTS]) for r in tensor]
    rows = range(len(tensor))
    left = [0.0] * len(tensor)
    for i, (_, label, color) in enumerate(_PARTS):
        ax.barh(rows, [s[i] for s in shares], left=left, color=color, label=label)
        left = [a + s[i] for a, s in zip(left, shares)]
    ax.set_yticks(list(rows), labels)
    ax.set(title="tensor step", xlabel="share of the step's time", xlim=(0, 1))
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False,
              columnspacing=1.0)
    for ax in axes:
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    fig.tight_layout()
    if isinstance(target, (str, os.PathLike)):
        fig.savefig(target, dpi=120)
        plt.close(fig)
    return fig
