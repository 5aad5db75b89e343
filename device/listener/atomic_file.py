"""Writing a file so that readers see the old one or the new one, never half of one.

The new content goes to a temporary name in the target's folder (same filesystem), is made readable by
other users (mkstemp makes 0600; the daemon runs as its own user), and then os.replace puts it in
place. If writing fails, the temporary file is removed and the old file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yields a temporary path to write; on leaving the block it replaces `target`.

    `suffix` is for writers that insist on one (Keras saves only to names ending in .keras).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(target: Path, data: bytes) -> None:
    """`data` as `target`, atomically and flushed to disk before it replaces the old file."""
    with replacing(target) as tmp, tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
