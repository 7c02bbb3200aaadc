"""An exclusive lock between processes (xdist workers, parallel runs) on a side file."""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path):
    """Hold an exclusive ``flock`` on PATH (created if needed). Where ``fcntl`` does not exist (Windows) this
    only serialises nothing; callers keep their writes atomic (temporary name, then rename) regardless."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            import fcntl
        except ImportError:
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
