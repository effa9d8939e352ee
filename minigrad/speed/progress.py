"""A progress bar for measurements that take minutes: one line, redrawn on a terminal."""
import sys
import time


class ProgressBar:
    """A one-line progress bar on a terminal (one line per tenth of the work elsewhere)."""

    def __init__(self, stream=None, width=30):
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.start = time.perf_counter()
        self.shown = -1

    def __call__(self, done, total, label):
        fraction = done / total
        elapsed = time.perf_counter() - self.start
        filled = int(self.width * fraction)
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} "
                f"{elapsed:5.1f} s  {label}")
        if self.tty:
            self.stream.write("\r" + line.ljust(78)[:max(78, len(line))])
            if done == total:
                self.stream.write("\n")
        elif int(10 * fraction) > self.shown:
            self.shown = int(10 * fraction)
            self.stream.write(line + "\n")
        self.stream.flush()
