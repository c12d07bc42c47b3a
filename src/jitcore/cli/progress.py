"""A progress bar on stderr while a command measures: tqdm when installed, else a plain one.

Shown only when stderr is a terminal (a pipe or a log file gets no bar).
"""

import shutil
import sys
import time

__all__ = ["progress_bar"]


class _PlainBar:
    """What ``bench`` uses of ``tqdm``: ``update(n)``, ``set_postfix_str(text)``, ``close()``."""

    def __init__(self, total, desc, stream):
        self.total, self.desc, self.stream = total, desc, stream
        self.done, self.postfix, self.start = 0.0, "", time.perf_counter()

    def update(self, n=1):
        self.done += n
        self._draw()

    def set_postfix_str(self, text):
        self.postfix = text
        self._draw()

    def _draw(self):
        width = 30
        filled = min(width, int(width * self.done / self.total)) if self.total else width
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{elapsed:5.1f}s {self.postfix[:40]:<40}")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _NoBar(_PlainBar):
    def __init__(self):
        super().__init__(0, "", None)

    def _draw(self):
        pass

    def close(self):
        pass


def progress_bar(total, desc, enabled=True):
    """A bar over ``total`` units of work: tqdm if importable, else a plain one; none off a terminal."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total, desc, sys.stderr)
    # the size from shutil, which falls back to 80x24: tqdm draws nothing on a terminal
    # that reports a size of 0 (some pseudo-terminals do)
    columns, lines = shutil.get_terminal_size()
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, ncols=columns, nrows=lines,
                bar_format="{desc} {bar} {elapsed}<{remaining}{postfix}")
