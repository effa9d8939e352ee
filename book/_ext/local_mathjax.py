"""Sphinx extension: serve MathJax from the book itself, so its maths renders offline too.

By default the pages load MathJax from a CDN, and a book read without a network
shows raw LaTeX. The PyPI package ``django-static-mathjax`` (in
requirements.txt; it needs no Django to be used this way) carries MathJax 3;
this copies the few files a page needs into ``_static/mathjax``. Without the
package the book falls back to the CDN.
"""
import importlib.util
import shutil
from pathlib import Path

NEEDED = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")


def _mathjax_files():
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        return None
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    return es5 if (es5 / "tex-chtml.js").is_file() else None


def _point_to_local_copy(app, config):
    if _mathjax_files() is not None:
        config.mathjax_path = "mathjax/tex-chtml.js"  # relative to _static


def _copy_mathjax(app, exception):
    source = _mathjax_files()
    if exception is not None or source is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in NEEDED:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def setup(app):
    app.connect("config-inited", _point_to_local_copy)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
