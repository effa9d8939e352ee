"""Helpers for the course's notebooks."""
import inspect


def show_source(*objects):
    """Display the source code of functions or classes of the package, highlighted as Python.

    The chapters print the package's real code with this, so that the book and
    the package cannot drift apart. (The text that nbval compares is the
    Markdown source: it changes exactly when the code does.)
    """
    from IPython.display import Markdown, display  # only where a notebook runs

    blocks = "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects)
    display(Markdown(f"```python\n{blocks}\n```"))
