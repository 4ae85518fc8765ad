"""The file edge: durable appends, atomic replaces, directory syncs, the single-writer lock.

Every byte the store puts on disk goes through this module, so tests can make the disk fail here
(``os.write``/``os.fdatasync`` raising ``ENOSPC``/``EIO``) and nowhere else.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

try:  # POSIX (Linux, Android, macOS); the lock is advisory and best-effort elsewhere.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILE_MODE = 0o600
DIR_MODE = 0o700


def errno_name(exc: OSError) -> str:
    """``"ENOSPC"``-style name of an OS error, for error parameters and logs (never paths)."""
    return errno.errorcode.get(exc.errno or 0, "EIO")


def sync_data(fd: int) -> None:
    """Flush a file's data (and the metadata needed to read it back) to the device."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover - macOS
        os.fsync(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - defensive; os.write raises instead
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def fsync_dir(path: Path) -> None:
    """Make renames, creations and deletions inside ``path`` durable."""
    if os.name != "posix":  # pragma: no cover - directories can't be opened on Windows
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    temp file in the same directory → write → fsync → ``os.replace`` → fsync the directory.
    On failure the temp file is removed and the ``OSError`` propagates.
    """
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def create_empty(path: Path) -> None:
    """Create (or empty) ``path`` durably: the file and its directory entry are synced."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def truncate_durably(path: Path, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_files(paths: list[Path]) -> None:
    """Delete ``paths`` (missing ones are fine) and sync their directories."""
    dirs = set()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            dirs.add(path.parent)
    for d in dirs:
        fsync_dir(d)


class DirLock:
    """An exclusive advisory lock on ``<dir>/lock`` held while a store is open.

    The kernel drops it when the process dies, so a killed app never leaves a stale lock.
    """

    def __init__(self, directory: Path) -> None:
        self._fd: int | None = os.open(
            directory / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE
        )
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self._fd)
                self._fd = None
                raise

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
