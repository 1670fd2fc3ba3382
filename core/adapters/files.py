"""Files at rest that are the owner's alone: var/ and what is kept in it (the database, the audit key,
stored media, evidence packs) and the exports the command line writes.

Folders are 0700 and files 0600 from the moment they exist: a folder is made with that mode (mkdir
can only narrow it further through the umask, so a chmod after it never widens anything), and a file
is written under a temporary name that mkstemp creates 0600, then renamed or linked into place, so
nobody ever sees it half written or readable by others."""
from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger(__name__)


def private_dir(path: str | os.PathLike) -> Path:
    """`path` as a folder; each missing folder on the way is created 0700. Existing ones are left as
    they are (a parent such as /srv is not ours to change; see `narrow` for folders that are)."""
    missing, folder = [], Path(path)
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it at the same moment, with the same mode
        os.chmod(folder, PRIVATE_DIR)  # an unusual umask (say 0277) would have left it unusable
    return Path(path)


def narrow(path: str | os.PathLike, mode: int) -> Path:
    """Take away from an existing path of ours every permission beyond `mode`, with a warning (an
    older installation, or a copy made with the default umask, may have left it readable)."""
    path = Path(path)
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        log.warning("%s was open to other users (mode %04o); narrowing it to %04o", path, current, mode)
        os.chmod(path, current & mode)
    return path


def private_file(path: str | os.PathLike) -> Path:
    """An empty 0600 file at `path` unless one exists, which is then narrowed to 0600. For files a
    library creates on first use (SQLite keeps the mode of an existing database file)."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        narrow(path, PRIVATE_FILE)
    return path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def open_private(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Write `path` owner-only and whole: the handle writes a 0600 temporary file beside it, which
    replaces `path` only when the block ends without an error (a failed export leaves no half file)."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def write_private(path: str | os.PathLike, data: bytes) -> Path:
    with open_private(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def create_private_once(path: str | os.PathLike, data: bytes) -> bool:
    """Publish `data` at `path` (0600, whole) unless `path` already exists; True when this call did.
    The complete file is linked to its final name, and a link never replaces an existing file: of
    two processes racing, one creates it and the other keeps what the first wrote."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        _fsync_dir(path.parent)
        return True
    finally:
        os.unlink(temporary)
