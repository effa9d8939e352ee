"""The built book, read in headless Chromium at desktop and phone widths.

For every page of the table of contents (_toc.yml, so new chapters are covered
as soon as they are listed), as a reader in a classroom without internet:

- no JavaScript error (console errors and uncaught exceptions), no failed
  request, no HTTP error, and no request for anything not on 127.0.0.1;
- every figure and graphviz drawing loaded, visible, in its own proportions,
  shown at no less than half its natural size (legible), and raster figures
  stored at twice the pixels they are shown at (sharp on high-density screens);
- maths typeset by MathJax (the local copy), without TeX errors;
- exercise solutions folded, opening on a click (on their title's link too),
  and opened by an address that targets them;
- every link to the book itself resolves, fragment included;
- the sidebar and contents buttons work at 1280 px and at 390 px wide, where
  the chapter list opens from its button (and, on the first page, the search
  button opens the search box);
- the launch buttons open this chapter's notebook on Binder and Colab.

A screenshot of every page at both widths is saved in _build/screenshots/.
"""
import html.parser
import os
import re
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml

from conftest import ROOT, setup_cell, site_server

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MIN_SCALE = 0.5  # a drawing shown below half its size has labels too small to read
TOC = setup_cell.toc_files(ROOT / "_toc.yml")
PUBLIC_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["baseurl"]  # where it is published
TIMING = os.environ.get("MINIGRAD_SITE_TIMING") == "1"


class Laps:
    """With MINIGRAD_SITE_TIMING=1, how long each step of a page's checks took."""

    def __init__(self):
        self.last, self.laps = time.perf_counter(), []

    def __call__(self, name):
        now = time.perf_counter()
        self.laps.append(f"{name} {now - self.last:.1f}")
        self.last = now

    def __str__(self):
        return ", ".join(self.laps) if TIMING else ""


def slug(entry):
    return entry.replace("/", "-")


class Watch:
    """Records what goes wrong while a page loads and is used."""

    def __init__(self, page, expected_statuses=()):
        self.problems = []
        self.expected = set(expected_statuses)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, message):
        expected = any(message.location.get("url") == url for url, _ in self.expected)
        if message.type == "error" and not (expected and "404" in message.text):
            self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _response(self, response):
        if response.status >= 400 and (response.url, response.status) not in self.expected:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            self.problems.append(f"request leaves the machine: {request.url}")


@pytest.fixture(scope="module")
def contexts(browser):
    """A desktop and a phone (390 px wide, touch), in that order."""
    desktop = browser.new_context(viewport=DESKTOP)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    for context in (desktop, phone):
        context.set_default_timeout(20_000)
    yield desktop, phone
    desktop.close()
    phone.close()


def wait_for_maths(page):
    """Wait for MathJax's first typesetting, where the page loads MathJax; True if it did."""
    return page.evaluate("""async () => {
        if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false;
        await MathJax.startup.promise;
        return true;
    }""")


VISIBLE_JS = """el => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
}"""


def visible(page, selector):
    return [page.evaluate(VISIBLE_JS, handle) for handle in page.query_selector_all(selector)]


def first_visible(page, selector):
    """The first visible element that ``selector`` matches (a locator), or None."""
    locator = page.locator(f"{selector} >> visible=true").first
    return locator if locator.count() else None


# --- checks, each returning a list of problems ------------------------------------------

def check_images(page):
    problems = []
    images = page.evaluate("""() => Array.from(document.querySelectorAll('article img')).map(img => {
        const r = img.getBoundingClientRect(), s = getComputedStyle(img);
        return {src: img.currentSrc || img.src, complete: img.complete,
                nw: img.naturalWidth, nh: img.naturalHeight, w: r.width, h: r.height,
                styleWidth: parseFloat(img.style.width) || parseFloat(img.getAttribute('width')) || 0,
                shown: s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0};
    })""")
    for img in images:
        name = img["src"].rsplit("/", 1)[-1][:16] + ("..." if len(img["src"].rsplit("/", 1)[-1]) > 16 else "")
        if not img["complete"] or img["nw"] == 0:
            problems.append(f"figure not loaded: {img['src']}")
            continue
        if not img["shown"]:
            problems.append(f"figure not visible: {name} ({img['w']:.0f}x{img['h']:.0f} px)")
            continue
        svg = urlsplit(img["src"]).path.endswith(".svg")
        intended = img["styleWidth"] or img["nw"]  # a 2x PNG says the width it is meant to be shown at
        scale = img["w"] / intended
        if scale < MIN_SCALE - 1e-9:
            problems.append(f"figure shown at {scale:.2f}x its size, too small to read (below {MIN_SCALE}x): "
                            f"{name}, {intended:.0f} px wide shown at {img['w']:.0f} px")
        ratio = (img["w"] / img["h"]) / (img["nw"] / img["nh"])
        if abs(ratio - 1) > 0.03:
            problems.append(f"figure out of proportion ({ratio:.2f}): {name}")
        if not svg and img["nw"] < 1.9 * img["w"]:
            problems.append(f"raster figure blurry on high-density screens: {name} has {img['nw']} px "
                            f"for {img['w']:.0f} px shown (needs 2x, or SVG)")
    return problems, len(images)


def check_maths(page, typeset):
    stats = page.evaluate("""() => {
        const maths = Array.from(document.querySelectorAll('article .math'));
        return {count: maths.length,
                untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
                errors: Array.from(document.querySelectorAll('article mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent)};
    }""")
    problems = []
    if stats["count"] and not typeset:
        problems.append(f"{stats['count']} formulas but MathJax did not run")
    if stats["untypeset"]:
        problems.append(f"{len(stats['untypeset'])} of {stats['count']} formulas not typeset, e.g. {stats['untypeset'][:3]}")
    if stats["errors"]:
        problems.append(f"TeX errors: {stats['errors'][:5]}")
    return problems, stats["count"]


SOLUTIONS_JS = """() => Array.from(document.querySelectorAll('article .solution.admonition')).map(box => {
    const title = box.querySelector(':scope > .admonition-title');
    return {id: box.id, label: title ? title.textContent.trim() : box.id,
            folded: box.classList.contains('dropdown'),
            open: !box.classList.contains('toggle-hidden') &&
                  Array.from(box.children).filter(c => !c.classList.contains('admonition-title'))
                       .every(c => c.getBoundingClientRect().height > 0)};
})"""


def solution_is_open(page, box):
    return page.evaluate("""box => !box.classList.contains('toggle-hidden') &&
        Array.from(box.children).filter(c => !c.classList.contains('admonition-title'))
             .every(c => { const r = c.getBoundingClientRect(); return r.height > 0; })""", box)


def check_solutions(page):
    """Folded at first; a real click on the first one's title link opens it (and
    stays on the page), a click on each other one's toggle button opens that one."""
    problems = []
    before = page.evaluate(SOLUTIONS_JS)
    for box in before:
        if not box["folded"]:
            problems.append(f"solution not folded (no dropdown class): {box['label']}")
        elif box["open"]:
            problems.append(f"solution shown before it is asked for: {box['label']}")
    if not before or problems:
        return problems, len(before)
    url_before = page.url
    first = page.query_selector(f"[id='{before[0]['id']}'] > .admonition-title")
    (first.query_selector("a") or first.query_selector(".toggle-button") or first).click()
    if page.url != url_before:
        problems.append(f"clicking the solution title's link navigated away ({page.url}): {before[0]['label']}")
    missing = page.evaluate("""() => Array.from(document.querySelectorAll('article .solution.admonition')).slice(1)
        .filter(box => { const b = box.querySelector(':scope > .admonition-title .toggle-button');
                         if (b) b.click(); return !b; }).map(box => box.id)""")
    problems += [f"solution has no toggle button: {box_id}" for box_id in missing]
    after = page.evaluate(SOLUTIONS_JS)
    problems += [f"solution did not open on click: {box['label']}" for box in after if not box["open"]]
    return problems, len(before)


def check_navigation(page, width_name):
    """The visible sidebar and contents buttons do what they say.

    On a phone the chapter list is left open, for the screenshot.
    """
    problems = []
    if width_name == "desktop":
        toggle = first_visible(page, ".primary-toggle")
        if toggle is None:
            return ["desktop: no visible button for the chapter list"]
        state = """() => {
            const s = document.querySelector('#pst-primary-sidebar');
            const hidden = s.classList.contains('pst-sidebar-hidden'), seen = getComputedStyle(s).visibility;
            return hidden && seen === 'hidden' ? 'hidden' : (!hidden && seen === 'visible' ? 'shown' : 'moving');
        }"""
        if desktop_state(page, state) != "shown":
            problems.append("desktop: the chapter list is not shown at first")
        toggle.click()
        if not wait_state(page, state, "hidden"):
            problems.append("desktop: the sidebar button did not hide the chapter list")
        toggle.click()
        if not wait_state(page, state, "shown"):
            problems.append("desktop: the sidebar button did not bring the chapter list back")
        return problems
    for kind, dialog, link in (("secondary", "#pst-secondary-sidebar-modal", "nav a"),
                               ("primary", "#pst-primary-sidebar-modal", "nav.bd-links a.reference")):
        button = first_visible(page, f".{kind}-toggle")
        if button is None:
            if kind == "primary" or page.query_selector("#pst-secondary-sidebar nav a"):
                problems.append(f"phone: no visible {kind} sidebar button")
            continue
        button.click()
        try:
            page.wait_for_selector(f"{dialog}[open]", timeout=2_000)
        except Exception:
            problems.append(f"phone: the {kind} sidebar button did not open {dialog}")
            continue
        if first_visible(page, f"{dialog} {link}") is None:
            problems.append(f"phone: {dialog} opened with no visible link in it")
        if kind == "secondary":
            still_open = close_dialogs(page)
            if still_open:
                problems.append(f"phone: Escape left {still_open} open")
    return problems


def desktop_state(page, state_js):
    return page.evaluate(state_js)


def wait_state(page, state_js, wanted, timeout=3_000):
    try:
        page.wait_for_function(f"() => ({state_js})() === {wanted!r}", timeout=timeout)
        return True
    except Exception:
        return False


def close_dialogs(page):
    page.keyboard.press("Escape")
    try:
        page.wait_for_function("() => !document.querySelector('dialog[open]')", timeout=2_000)
    except Exception:
        pass
    return page.evaluate("() => Array.from(document.querySelectorAll('dialog[open]')).map(d => d.id)")


def check_search_button(page, width_name):
    button = first_visible(page, ".search-button, .search-button-field")
    if button is None:
        return [f"{width_name}: no visible search button"]
    button.click()
    try:
        page.wait_for_selector("#pst-search-dialog[open]", timeout=2_000)
    except Exception:
        return [f"{width_name}: the search button did not open the search box"]
    still_open = close_dialogs(page)
    return [f"{width_name}: Escape left {still_open} open"] if still_open else []


def check_launch_buttons(page, entry):
    if not (ROOT / f"{entry}.ipynb").is_file():
        return []
    url, branch = setup_cell.repository(ROOT / "_config.yml")
    owner_repo = urlsplit(url).path.strip("/")
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('.dropdown-launch-buttons a')).map(a => a.href)")
    wanted = {
        "Binder": f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{entry}.ipynb",
        "Colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{entry}.ipynb",
    }
    return [f"no {name} launch button to {href} (found {hrefs})" for name, href in wanted.items() if href not in hrefs]


def check_metadata(page, entry, site):
    """Description, social metadata, canonical address and a favicon that loads."""
    head = page.evaluate("""() => {
        const meta = name => { const m = document.querySelector(`meta[name="${name}"], meta[property="${name}"]`);
                               return m ? m.content : null; };
        const link = rel => { const l = document.querySelector(`link[rel="${rel}"]`); return l ? l.href : null; };
        return {description: meta('description'), title: meta('og:title'), ogDescription: meta('og:description'),
                image: meta('og:image'), url: meta('og:url'), canonical: link('canonical'), icon: link('icon')};
    }""")
    problems = [f"no {key} in the page's head" for key, value in head.items() if not value]
    page_url = f"{PUBLIC_URL}{entry}.html"
    if head["canonical"] and head["canonical"] != page_url:
        problems.append(f"canonical address {head['canonical']}, not {page_url}")
    if head["url"] and head["url"] != page_url:
        problems.append(f"og:url {head['url']}, not {page_url}")
    if head["image"] and head["image"].startswith(PUBLIC_URL):
        status, _ = fetch_ids(site + head["image"][len(PUBLIC_URL):])
        if status != 200:
            problems.append(f"og:image {head['image']} is not in the built book")
    if head["icon"]:
        status, _ = fetch_ids(head["icon"])
        if status != 200:
            problems.append(f"favicon {head['icon']}: HTTP {status}")
    return problems


# --- links ----------------------------------------------------------------------------

class IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)


_fetched = {}


def fetch_ids(url):
    """(HTTP status, ids in the document) of an address of the book, each fetched once."""
    if url not in _fetched:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status, body = error.code, b""
        ids = set()
        if status == 200 and url.split("?")[0].endswith((".html", "/")):
            collector = IdCollector()
            collector.feed(body.decode("utf-8", "replace"))
            ids = collector.ids
        _fetched[url] = (status, ids)
    return _fetched[url]


def check_links(page, site, skip=()):
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    problems, checked = [], set()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(site))
    for href in hrefs:
        if href.startswith(PUBLIC_URL):  # the published address of one of the book's own pages
            href = site + href[len(PUBLIC_URL):]
        if not href.startswith(origin + "/") or href in checked or urldefrag(href)[0] in skip:
            continue
        checked.add(href)
        address, fragment = urldefrag(href)
        status, ids = fetch_ids(address)
        if status != 200:
            problems.append(f"link to a missing page (HTTP {status}): {href}")
        elif fragment and address.split("?")[0].endswith((".html", "/")):
            if unquote(fragment) not in ids:
                problems.append(f"link to a missing anchor: {href}")
    return problems, len(checked)


# --- the tests --------------------------------------------------------------------------

def solution_ids_in(html_text):
    return re.findall(r'<div class="solution dropdown admonition" id="([^"]+)"', html_text)


class Preloader:
    """Opens each page at both widths, and the next page of the book while this one is checked.

    The machine's two cores then each have a page to render (MathJax's typesetting
    is most of a chapter's load time) while the test talks to the browser. Tabs
    are reused from page to page: a new tab costs
    a new renderer process.
    """

    AHEAD = 1  # pages loading while one is checked (2 was no faster here)

    def __init__(self, site, contexts):
        self.site, self.contexts, self.open = site, contexts, {}
        self.idle = [[] for _ in contexts]

    def _tab(self, index):
        if self.idle[index]:
            page, watch = self.idle[index].pop()
            watch.problems = []
            return page, watch
        page = self.contexts[index].new_page()
        return page, Watch(page)

    def _start(self, entry):
        if entry in self.open:
            return
        url = f"{self.site}{entry}.html"
        with urllib.request.urlopen(url, timeout=10) as response:
            solutions = solution_ids_in(response.read().decode("utf-8", "replace"))
        # The phone opens the page at its last solution's address: that must open it.
        addresses = (url, f"{url}#{solutions[-1]}" if solutions else url)
        tabs = []
        for index, address in enumerate(addresses):
            page, watch = self._tab(index)
            page.goto(address, wait_until="commit")
            tabs.append((page, watch))
        self.open[entry] = (url, solutions, tabs)

    def get(self, entry):
        self._start(entry)
        for following in TOC[TOC.index(entry) + 1:][:self.AHEAD]:
            self._start(following)
        return self.open.pop(entry)

    def release(self, tabs):
        for index, (page, watch) in enumerate(tabs):
            page.goto("about:blank")  # stops whatever the page still does
            self.idle[index].append((page, watch))

    def close(self):
        for tabs in [tabs for _, _, tabs in self.open.values()] + [[t] for idle in self.idle for t in idle]:
            for page, _ in tabs:
                page.close()


@pytest.fixture(scope="module")
def preloader(site, contexts):
    loader = Preloader(site, contexts)
    yield loader
    loader.close()


def save_figure_shots(page, entry, screenshots, problems):
    """A picture of each figure a problem names, beside the page's screenshots."""
    for index, img in enumerate(page.query_selector_all("article img")):
        name = (img.get_attribute("src") or "").rsplit("/", 1)[-1][:16]
        if name and any(name in problem for problem in problems):
            img.screenshot(path=str(screenshots / f"{slug(entry)}-figure-{index}.png"))


@pytest.mark.parametrize("entry", TOC)
def test_page(entry, site, preloader, screenshots):
    started = time.perf_counter()
    url, solution_ids, tabs = preloader.get(entry)
    (desktop, watch_desktop), (phone, watch_phone) = tabs
    problems = []
    figures = maths = solutions = links = 0
    lap = Laps()
    try:
        # The next page loads meanwhile; the one being used must be in front, or
        # its sidebar's slide (a CSS transition) never ends.
        desktop.bring_to_front()
        desktop.wait_for_load_state("load")
        lap("load")
        typeset = wait_for_maths(desktop)
        lap("maths")
        found, maths = check_maths(desktop, typeset)
        problems += found
        # Where a reader lands: the top of the page, its maths typeset.
        desktop.screenshot(path=str(screenshots / f"{slug(entry)}-desktop.png"))
        found, solutions = check_solutions(desktop)
        problems += found
        lap("solutions")
        found, figures = check_images(desktop)
        problems += found
        logo = first_visible(desktop, ".navbar-brand img")
        if logo is None or not logo.evaluate("img => img.complete && img.naturalWidth > 0"):
            problems.append("desktop: the logo is not shown")
        problems += check_launch_buttons(desktop, entry)
        problems += check_metadata(desktop, entry, site)
        lap("figures")
        found, links = check_links(desktop, site)
        problems += found
        lap("links")
        if entry == TOC[0]:  # one template for every page: its search button is checked once
            problems += check_search_button(desktop, "desktop")
        problems += check_navigation(desktop, "desktop")
        lap("controls")
        save_figure_shots(desktop, entry, screenshots, problems)
        lap("screenshot")

        phone.bring_to_front()
        phone.wait_for_load_state("load")
        wait_for_maths(phone)
        lap("phone load")
        if solution_ids:
            box = phone.query_selector(f"[id='{solution_ids[-1]}']")
            if box is None or not solution_is_open(phone, box):
                problems.append(f"phone: the address #{solution_ids[-1]} did not open that solution")
        if entry == TOC[0]:
            problems += check_search_button(phone, "phone")
        problems += check_navigation(phone, "phone")  # leaves the chapter list open
        phone.screenshot(path=str(screenshots / f"{slug(entry)}-phone.png"))
        lap("phone checks")
    finally:
        problems = watch_desktop.problems + [f"phone: {p}" for p in watch_phone.problems] + problems
        preloader.release(tabs)
    seconds = time.perf_counter() - started
    print(f"\n{entry}: {figures} figures, {maths} formulas, {solutions} solutions, "
          f"{links} links checked, {seconds:.1f} s {lap}")
    assert not problems, f"{entry}: {len(problems)} problems\n  " + "\n  ".join(problems)


def test_the_404_page_works_from_a_nested_address(site, contexts, screenshots):
    desktop, _ = contexts
    page = desktop.new_page()
    missing = f"{site}notebooks/no/such/chapter.html"
    watch = Watch(page, expected_statuses={(missing, 404)})
    response = page.goto(missing)
    page.wait_for_load_state("load")
    problems = list(watch.problems)
    if response.status != 404:
        problems.append(f"status {response.status}, not 404")
    heading = page.query_selector("article h1")
    if heading is None or "not found" not in heading.inner_text().lower():
        problems.append("no 'Page not found' heading")
    styled = page.evaluate("() => Array.from(document.styleSheets).filter(s => s.href && s.href.includes('pydata-sphinx-theme')).length")
    if not styled:
        problems.append("the theme's styles did not load")
    if first_visible(page, ".navbar-brand img") is None:
        problems.append("the logo is not shown")
    found, links = check_links(page, site, skip={missing})  # its skip link points to itself
    problems += found
    if links < 5:
        problems.append(f"only {links} links to the book on the 404 page")
    page.screenshot(path=str(screenshots / "404-desktop.png"))
    page.close()
    assert not problems, "\n".join(problems)


def test_search_shows_results_with_snippets(site, contexts):
    desktop, _ = contexts
    page = desktop.new_page()
    watch = Watch(page)
    page.goto(f"{site}search.html?q=derivative")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#search-results ul.search li p.context')", timeout=20_000)
    snippets = page.evaluate("() => Array.from(document.querySelectorAll('#search-results li p.context')).map(p => p.textContent)")
    page.close()
    assert not watch.problems, watch.problems
    assert any("derivative" in s.lower() for s in snippets), snippets[:3]


def test_the_address_without_the_book_path_leads_to_the_book(site):
    prefix = site_server.base_path(ROOT / "_config.yml")
    root = site[: -len(prefix)] + "/"
    with urllib.request.urlopen(root, timeout=10) as response:  # follows the redirect
        assert response.status == 200 and response.url.rstrip("/") == site.rstrip("/")
        assert re.search(rb"<meta http-equiv=\"Refresh\"|book/intro.html", response.read(), re.I)
