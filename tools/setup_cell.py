"""Put the course's set-up cell first among the code cells of every chapter.

    python tools/setup_cell.py           insert or update it in every notebook of _toc.yml
    python tools/setup_cell.py --check   only report the notebooks that lack it (exit 1 if any)

The cell installs the course's package from its repository where ``minigrad``
cannot be imported (on Colab, for instance), and does nothing anywhere else, so
a notebook's stored outputs stay the same. It also asks for figures at twice
the pixel density ("retina" PNGs), sharp on high-density screens. The
repository's address and branch are read from _config.yml (``repository:``),
the one place where they are set.

Running it again changes nothing: a notebook is rewritten only when its cell
is missing, out of date or not first. The cell is recognised by its id
(``course-setup``); it is tagged ``remove-cell``, so the book does not show it.
"""
import argparse
import copy
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CELL_ID = "course-setup"
DISTRIBUTION = "minigrad-course"  # the name in pyproject.toml; `import minigrad` stays
MAX_LINE = 77  # the course's limit for code lines in notebooks

TEMPLATE = '''\
# Set-up: installs the course's package where it is missing (on Colab,
# for instance) and does nothing anywhere else.
import importlib, importlib.util, shutil, subprocess, sys
if importlib.util.find_spec("minigrad") is None:
    url = "git+{repository}@{branch}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    f"{distribution} @ {{url}}"], check=True)
    importlib.invalidate_caches()
    if shutil.which("dot") is None and "google.colab" in sys.modules:
        subprocess.run(["apt-get", "install", "-y", "-qq", "graphviz"],
                       check=True)
%config InlineBackend.figure_format = "retina"'''


def repository(config_path=ROOT / "_config.yml"):
    """The repository's URL and branch, as _config.yml sets them."""
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    repo = config.get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch")
    if not url or not branch:
        raise ValueError(f"{config_path}: `repository:` needs both `url` and `branch` "
                         f"(found url={url!r}, branch={branch!r})")
    return url.rstrip("/"), branch


def cell_source(config_path=ROOT / "_config.yml"):
    url, branch = repository(config_path)
    source = TEMPLATE.format(repository=url, branch=branch, distribution=DISTRIBUTION)
    too_long = [line for line in source.splitlines() if len(line) > MAX_LINE]
    if too_long:
        raise ValueError(f"the set-up cell would have lines over {MAX_LINE} characters "
                         f"(is the repository URL in {config_path} that long?): {too_long}")
    return source


def toc_files(toc_path=ROOT / "_toc.yml"):
    """Every `file:` (and the root) of the table of contents, in reading order, without suffix."""
    toc = yaml.safe_load(Path(toc_path).read_text(encoding="utf-8"))
    found = [toc["root"]] if toc.get("root") else []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return found


def toc_notebooks(root=ROOT):
    """The notebooks listed in _toc.yml, as paths (an entry may name the file with or without .ipynb)."""
    root = Path(root)
    paths = []
    for entry in toc_files(root / "_toc.yml"):
        stem = entry[:-len(".ipynb")] if entry.endswith(".ipynb") else entry
        path = root / f"{stem}.ipynb"
        if path.is_file():
            paths.append(path)
    return paths


def new_cell(source):
    import nbformat  # here, not at the top: the browser test reads the toc without it
    cell = nbformat.v4.new_code_cell(source=source, metadata={"tags": ["remove-cell"]})
    cell["id"] = CELL_ID
    return cell


def is_setup_cell(cell):
    return cell.get("id") == CELL_ID


def first_code_cell(nb):
    return next((cell for cell in nb.cells if cell.cell_type == "code"), None)


def is_up_to_date(nb, source):
    cell = first_code_cell(nb)
    return (cell is not None and is_setup_cell(cell) and cell.source == source
            and "remove-cell" in cell.metadata.get("tags", [])
            and sum(is_setup_cell(c) for c in nb.cells) == 1)


def apply(nb, source):
    """Make ``nb`` start its code with the set-up cell; return True if ``nb`` changed."""
    if is_up_to_date(nb, source):
        return False
    existing = [cell for cell in nb.cells if is_setup_cell(cell)]
    cell = copy.deepcopy(existing[0]) if existing else new_cell(source)
    if cell.cell_type != "code":
        raise ValueError(f"a {cell.cell_type} cell has the set-up cell's id {CELL_ID!r}")
    if cell.source != source:
        cell.source = source
        cell.outputs = []
        cell.execution_count = None
    tags = cell.metadata.setdefault("tags", [])
    if "remove-cell" not in tags:
        tags.append("remove-cell")
    nb.cells = [c for c in nb.cells if not is_setup_cell(c)]
    position = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(position, cell)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook lacks the cell")
    args = parser.parse_args(argv)
    import nbformat
    source = cell_source()
    notebooks = toc_notebooks()
    if not notebooks:
        sys.exit(f"no notebook is listed in {ROOT / '_toc.yml'}")
    stale = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            if not is_up_to_date(nb, source):
                stale.append(path)
            continue
        if apply(nb, source):
            nbformat.validate(nb)
            nbformat.write(nb, path)
            print(f"set-up cell written: {path.relative_to(ROOT)}")
        else:
            print(f"already up to date:  {path.relative_to(ROOT)}")
    if args.check:
        for path in stale:
            print(f"missing or out of date: {path.relative_to(ROOT)}")
        if stale:
            print("run: python tools/setup_cell.py")
            sys.exit(1)
        print(f"all {len(notebooks)} notebooks start with the set-up cell")


if __name__ == "__main__":
    main()
