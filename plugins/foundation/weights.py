"""Where a model's files come from: a local path, or a library's cache, fetched only where
the user's environment allows downloads; and what identifies them in task keys.

Why: features are cached by key, so the key must change when the weights do (a new commit
of a hub model, an overwritten checkpoint file), and a model that is not here must be one
line saying how to get it, not a traceback from deep inside a library.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import import_module
from pathlib import Path
from typing import Any, Sequence

from ferbench.errors import PluginError

_CHUNK = 1 << 20


def offline() -> bool:
    """True where the environment forbids downloads from the Hugging Face Hub (HF_HUB_OFFLINE=1)."""
    from huggingface_hub import constants

    return getattr(constants, "is_offline_mode", lambda: constants.HF_HUB_OFFLINE)()


def hub_file(repo_id: str, filenames: Sequence[str], revision: str | None = None) -> Path | None:
    """The first of `filenames` that the repo has, from the cache (or fetched where downloads
    are allowed); None when none of them is to be had here."""
    from huggingface_hub import hf_hub_download

    for filename in filenames:
        try:
            return Path(hf_hub_download(repo_id, filename, revision=revision, local_files_only=offline()))
        except Exception:  # not cached, offline, unreachable, no such file or repo: try the next name
            continue
    return None


def snapshot_revision(path: Path) -> str:
    """The commit of a file in the Hugging Face cache (`.../snapshots/COMMIT/file`)."""
    parts = path.parts
    return parts[parts.index("snapshots") + 1] if "snapshots" in parts else "unknown revision"


def not_here(what: str, repo_id: str, alternative: str = "") -> PluginError:
    """The one-line error for a model that is neither local nor cached."""
    why = "downloads are off (HF_HUB_OFFLINE=1)" if offline() else "it could not be fetched"
    return PluginError(
        f"{what} is not in the Hugging Face cache and {why}: get it with `hf download {repo_id}`{alternative}"
    )


def local_path(text: str, what: str) -> Path:
    """A user's path, `~` expanded; a missing one is a one-line error."""
    path = Path(os.path.expanduser(text))
    if not path.exists():
        raise PluginError(f"{what}: {path} does not exist")
    return path


def file_digest(path: Path) -> str:
    """sha256 of a file, or of every file in a folder (names and contents), shortened to 16 digits."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return _digest(tuple((str(file.resolve()), file.stat().st_size, file.stat().st_mtime_ns) for file in files))


@lru_cache(maxsize=64)
def _digest(files: tuple[tuple[str, int, int], ...]) -> str:
    """Memoised on each file's size and time: a worker resolves a name once per run, and hashes
    gigabytes of weights only when they changed."""
    hasher = hashlib.sha256()
    for name, _, _ in files:
        hasher.update(Path(name).name.encode() + b"\0")
        with open(name, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                hasher.update(chunk)
    return hasher.hexdigest()[:16]


def import_library(module: str, label: str, hint: str) -> Any:
    """The model's library, or one line saying why it cannot be used here (timm and open_clip
    fail to import beside a torchvision built for another torch)."""
    try:
        return import_module(module)
    except Exception as error:
        raise PluginError(
            f"{label}: {module} cannot be imported here ({type(error).__name__}: {error}); {hint}"
        ) from None
