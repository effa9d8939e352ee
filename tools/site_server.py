"""Serve the built book on this machine, laid out as GitHub Pages serves it.

    python tools/site_server.py [--port 8000] [--dir _build/html]

The book is published under a path (``/minigrad/``, the path of
``html.baseurl`` in _config.yml), and its 404 page links to its styles and
scripts through that path, so the server puts the book there too: ``/``
redirects to it, and an address that matches no file gets the book's
404.html with status 404, as on GitHub Pages. Only the standard library is
used, so `python3 course.py serve` and the browser test can both run it.
Reading the book through a server rather than as ``file://`` matters: the
browser blocks the search page's requests for snippets on ``file://``.
"""
import argparse
import functools
import http.server
import io
import re
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_DIR = ROOT / "_build" / "html"


def base_path(config_path=ROOT / "_config.yml"):
    """The path part of `html: baseurl:` in _config.yml, e.g. "/minigrad/" ("/" without one).

    Read with a regular expression: this module needs only the standard library.
    """
    text = Path(config_path).read_text(encoding="utf-8")
    match = re.search(r"(?m)^\s+baseurl:\s*[\"']?([^\"'\s#]+)", text)
    if not match:
        return "/"
    path = urlsplit(match.group(1)).path or "/"
    return path if path.endswith("/") else path + "/"


class BookHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the built book under ``prefix``; 404.html for anything else."""

    prefix = "/"
    quiet = True

    def send_head(self):
        path = urlsplit(self.path).path
        if path in ("", "/") and self.prefix != "/":
            self.send_response(302)
            self.send_header("Location", self.prefix)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path + "/" == self.prefix:
            self.send_response(301)
            self.send_header("Location", self.prefix)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if not path.startswith(self.prefix) or not self._exists(path):
            return self._not_found()
        return super().send_head()

    def translate_path(self, path):
        path = urlsplit(path).path
        if path.startswith(self.prefix):
            path = "/" + path[len(self.prefix):]
        return super().translate_path(path)

    def _exists(self, path):
        target = Path(self.translate_path(unquote(path)))
        if target.is_dir():  # served as its index.html; no directory listings, as on GitHub Pages
            return (target / "index.html").is_file()
        return target.is_file()

    def _not_found(self):
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"<h1>404 Not Found</h1>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)  # send_head's caller copies it out (except for HEAD)

    def end_headers(self):
        # A reader who rebuilds the book sees the new pages at once.
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):
        if not self.quiet:
            super().log_message(format, *args)


def make_server(directory, prefix="/", port=0, quiet=True):
    """A threading HTTP server for ``directory`` at http://127.0.0.1:<port><prefix> (port 0: any free one)."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise FileNotFoundError(f"{directory} holds no built book (no index.html): run `python3 course.py book`")
    handler = type("Handler", (BookHandler,), {"prefix": prefix, "quiet": quiet})
    server = http.server.ThreadingHTTPServer((HOST, port), functools.partial(handler, directory=str(directory)))
    server.daemon_threads = True
    return server


def url_of(server, prefix):
    host, port = server.server_address[:2]
    return f"http://{host}:{port}{prefix}"


def serve_in_thread(directory, prefix="/", port=0):
    """Start a server in a daemon thread; returns (server, base URL). Stop it with server.shutdown()."""
    server = make_server(directory, prefix, port)
    threading.Thread(target=server.serve_forever, name="book-server", daemon=True).start()
    return server, url_of(server, prefix)


def _port(text):
    """``text`` as a port number, 0 to 65535, else an argparse error saying so."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, got {port}")
    return port


def parse_args(argv=None, prog=None):
    """The command's options, checked (a bad one exits with a usage message, before anything runs)."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve the built book on http://127.0.0.1.")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000; 0: any free port)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the built book (default _build/html)")
    return parser.parse_args(argv)


def serve(args):
    """Serve the book with the options ``args`` (from :func:`parse_args`) until Ctrl+C."""
    prefix = base_path()
    try:
        server = make_server(args.dir, prefix, args.port, quiet=False)
    except FileNotFoundError as error:
        sys.exit(f"error: {error}")
    except OSError as error:
        sys.exit(f"error: cannot listen on {HOST}:{args.port} ({error.strerror}); "
                 f"choose another port with --port")
    print(f"The book is served at {url_of(server, prefix)}  (only on this machine; Ctrl+C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped")
    finally:
        server.server_close()


def main(argv=None):
    serve(parse_args(argv))


if __name__ == "__main__":
    main()
