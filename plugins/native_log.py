"""A native library's routine log notices kept out of a run's stderr.

Native runtimes (LiteRT's TFLite interpreter; before it, mediapipe's C++ graph) log start-up
notices (XNNPACK, TFLite, a feedback manager) straight to file descriptor 2, in glog's or
TFLite's format, past Python's warnings and absl's settings, some from their own threads at
moments Python cannot see. Silencing fd 2 for a while after each face
still let one through now and then. Instead, around such code fd 2 becomes a pipe whose
reader drops glog's info and warning lines and passes everything else on at once: errors,
Python's own writes, a progress bar's redraws.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

# glog's info and warning lines ("W0000 00:00:1795943212.90 11383 file.cc:114] ..."), TFLite's
# "INFO: ..." and absl's note that logging is not initialised; errors (E, F) pass.
NOTICE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ [^\]\n]*\]|INFO:|WARNING: All log messages before absl::InitializeLog)"
    rb"[^\n]*(?:\n|$)",
    re.MULTILINE,
)
_DRAIN_TIMEOUT_S = 5.0  # the reader ends when the pipe closes; never wait for it longer


NOTICE_START = re.compile(rb"(?:[IW]\d{4} |INFO:|WARNING:)")  # TFLite writes "INFO: " and its message apart


def _forward(read_end: int, destination: int) -> None:
    pending = b""  # an unfinished line that may be a notice, held until its end arrives
    with os.fdopen(read_end, "rb", buffering=0) as source:
        while chunk := source.read(65536):
            data = pending + chunk
            line_start = data.rfind(b"\n") + 1
            pending = data[line_start:] if NOTICE_START.match(data, line_start) else b""
            kept = NOTICE.sub(b"", data[: len(data) - len(pending)])
            if kept:
                os.write(destination, kept)
    if kept := NOTICE.sub(b"", pending):
        os.write(destination, kept)


class _Fd2Filter:
    """The filter on fd 2, shared by every thread of the process (fd 2 is one for them all):
    the first user puts it in place, the last one out takes it away."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = -1
        self._reader: threading.Thread | None = None

    def enter(self) -> None:
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            sys.stderr.flush()
            read_end, write_end = os.pipe()
            self._saved = os.dup(2)
            os.dup2(write_end, 2)
            os.close(write_end)
            self._reader = threading.Thread(target=_forward, args=(read_end, self._saved), name="glog-filter")
            self._reader.daemon = True
            self._reader.start()

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users:
                return
            sys.stderr.flush()
            os.dup2(self._saved, 2)  # the pipe's last write end closes, so the reader sees its end
            assert self._reader is not None
            self._reader.join(_DRAIN_TIMEOUT_S)
            os.close(self._saved)


_FILTER = _Fd2Filter()


@contextmanager
def glog_notices_dropped() -> Iterator[None]:
    """Within the block, the notices NOTICE matches are dropped from fd 2; the rest passes."""
    _FILTER.enter()
    try:
        yield
    finally:
        _FILTER.leave()
