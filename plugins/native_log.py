"""A native library's routine log notices kept out of a run's stderr.

mediapipe's C++ graph logs start-up notices (XNNPACK, TFLite, the feedback manager) straight
to file descriptor 2 in glog's format, past Python's warnings and absl's settings, some from
its own threads at moments Python cannot see. Silencing fd 2 for a while after each face
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


def _forward(read_end: int, destination: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as source:
        while chunk := source.read(65536):
            kept = NOTICE.sub(b"", chunk)
            if kept:
                os.write(destination, kept)


@contextmanager
def glog_notices_dropped() -> Iterator[None]:
    """Within the block, the notices NOTICE matches are dropped from fd 2; the rest passes."""
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    saved = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)
    reader = threading.Thread(target=_forward, args=(read_end, saved), name="glog-filter", daemon=True)
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last write end closes, so the reader sees its end
        reader.join(_DRAIN_TIMEOUT_S)
        os.close(saved)
