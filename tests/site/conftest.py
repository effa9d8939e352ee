"""The browser test's set-up: the built book served on 127.0.0.1, and headless Chromium.

These tests run only when this folder is named on the command line
(`python -m pytest tests/site`, the browser stage of `python3 course.py test`,
after the strict book build); a plain `pytest tests` leaves them out.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright's Python
package (`pip install playwright`, pinned in requirements.txt) through
`executable_path`: Playwright's own browser downloads are never used. Where
either is missing, or the book is not built, every test here is skipped and
says how to enable it.
"""
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BUILD = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("MINIGRAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    # Nothing but this machine resolves: a request for another host fails at once
    # (the test also records it as a failure) instead of reaching the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def _named_on_command_line(config):
    for arg in config.args:
        path = Path(arg.split("::")[0])
        path = (Path(config.invocation_params.dir) / path).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and not _named_on_command_line(config):
        return True
    return None


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


site_server = load_tool("site_server")
setup_cell = load_tool("setup_cell")


@pytest.fixture(scope="session")
def site():
    """The base URL of the built book, served as GitHub Pages serves it (under /minigrad/)."""
    if not (BUILD / "index.html").is_file():
        pytest.skip("the book is not built: run `python3 course.py book` first")
    prefix = site_server.base_path()
    server, url = site_server.serve_in_thread(BUILD, prefix)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright's Python package is missing: `.venv/bin/pip install -r requirements.txt` "
                    "(or `python3 course.py test`, which installs it)")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium is missing ({CHROMIUM}): `sudo apt-get install chromium` on Debian/Ubuntu "
                    "(`python3 course.py test` does it when run as root), or set MINIGRAD_CHROMIUM to a Chromium binary")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots():
    """_build/screenshots/, emptied first: what it holds is from this run."""
    if SCREENSHOTS.is_dir():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
