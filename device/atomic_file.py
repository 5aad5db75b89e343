"""Writing a file so that readers see the old one or the new one, never half of one.

The new content goes to a temporary name in the target's folder (same filesystem, so the rename is
atomic), is flushed to disk, made readable by other users (mkstemp makes 0600; the daemon runs as its own
user), and then os.replace puts it in place. If writing fails, the temporary file is removed and the old
file is untouched. It sits at the top of device so the daemon, the CLI, the demo and training share it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def replacing(target: Path | str, suffix: str = ".tmp") -> Iterator[Path]:
    """Yields a temporary path in `target`'s folder (created if missing) for a writer that wants a name;
    when the block ends, that file is flushed to disk and replaces `target`. On any exception in the block
    (or in the flush or rename) the temporary file is removed, `target` is left as it was, and the
    exception goes on.

    `suffix` is for writers that insist on one (Keras saves only to names ending in .keras; numpy's savez
    adds .npz to any other name).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _flush_to_disk(tmp)
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _flush_to_disk(path: Path) -> None:
    """Without this a power cut soon after the rename can leave an empty file under the new name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(target: Path | str, data: bytes) -> None:
    """`data` as `target`, atomically (see `replacing`); OSError when the folder is not writable."""
    with replacing(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: Path | str, text: str, encoding: str = "utf-8") -> None:
    """`text` as `target` in `encoding`, atomically (see `replacing`)."""
    write_bytes(target, text.encode(encoding))
