"""Writing export files: whole or not at all, with errors an investigator can act on."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from workbench.domain.errors import InvalidInput


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside `target`, renamed onto it when the block succeeds and removed
    when it fails, so a failed export never leaves half a file where the old one was."""
    target = Path(target)
    if target.is_dir():
        raise InvalidInput("output file", str(target), "is a directory")
    if not target.parent.is_dir():
        raise InvalidInput("output file", str(target), "is in a folder that does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        os.replace(partial, target)
    except OSError as exc:
        raise InvalidInput(
            "output file", str(target), f"cannot be written ({exc.strerror or exc})"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def write_atomically(target: str | os.PathLike, payload: bytes) -> Path:
    with atomic_path(target) as partial:
        partial.write_bytes(payload)
    return Path(target)
