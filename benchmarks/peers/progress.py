"""A progress bar on stderr: tqdm when installed, else a plain one-line counter."""

import sys
import time

__all__ = ["progress_bar"]


class _PlainBar:
    """A minimal ``tqdm`` stand-in: ``update(1)``, ``set_postfix_str(text)``, ``close()``."""

    def __init__(self, total, desc, stream):
        self.total, self.desc, self.stream = total, desc, stream
        self.done, self.postfix, self.start = 0, "", time.perf_counter()

    def update(self, n=1):
        self.done += n
        self._draw()

    def set_postfix_str(self, text):
        self.postfix = text
        self._draw()

    def _draw(self):
        width = 30
        filled = int(width * self.done / self.total) if self.total else width
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{self.done}/{self.total} {elapsed:5.1f}s {self.postfix[:40]:<40}")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def progress_bar(total, desc, enabled=True):
    """A progress bar over ``total`` steps; tqdm if importable, else :class:`_PlainBar`."""
    if not enabled:
        return _PlainBar(total, desc, _NullStream())
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total, desc, sys.stderr)
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=True, dynamic_ncols=True)


class _NullStream:
    def write(self, text):
        pass

    def flush(self):
        pass
