"""How a command's result reaches the terminal: JSON for scripts, text for people."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CommandResult:
    """`data` is printed as JSON with --json; `text` is what a person reads otherwise.
    `exit_code` 1 means the command ran but found problems (verify, integrity).
    `warnings` are about what was accepted but may mislead (a lookalike domain): each is
    one line on stderr, and with --json also the `warnings` list of a dict `data`."""

    data: Any
    text: str
    exit_code: int = 0
    warnings: list[str] = field(default_factory=list)
    # True when the command printed its warnings itself as soon as it knew them (a long
    # lookup run warns before it starts, not when it ends): they then go only in the JSON.
    warnings_shown: bool = False


EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE


def emit(result: CommandResult, as_json: bool) -> int:
    """Print the result; a terminal that cannot show a character, or a reader that went
    away (`| head`), must not turn a finished command into a traceback."""
    if not result.warnings_shown:
        warn(result.warnings)
    if as_json and result.warnings and isinstance(result.data, dict):
        result.data.setdefault("warnings", list(result.warnings))
    try:
        if as_json:
            text = json.dumps(result.data, ensure_ascii=False, indent=2, default=str)
            if not _can_encode(text):
                # Still one valid JSON document, with \uXXXX escapes for what cannot be shown.
                text = json.dumps(result.data, ensure_ascii=True, indent=2, default=str)
            sys.stdout.write(text + "\n")
        elif result.text:
            if not _can_encode(result.text) and hasattr(sys.stdout, "reconfigure"):
                sys.stdout.reconfigure(errors="backslashreplace")
            print(result.text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the same error again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return result.exit_code


def warn(warnings: list[str]) -> None:
    """Print each warning on stderr now, one line each."""
    for warning in warnings:
        _warn(warning)


def _warn(warning: str) -> None:
    # One line each, with control characters from the data made visible; a terminal that
    # cannot show a character gets an escape rather than an error.
    line = f"workbench: warning: {_printable(warning)}\n"
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    try:
        sys.stderr.write(line.encode(encoding, "backslashreplace").decode(encoding))
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass  # a warning that cannot be shown must not fail a command that worked


def _can_encode(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    return True


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """A plain text table; control characters from the data are made visible."""
    cells = [[_printable(value) for value in row] for row in rows]
    widths = [
        max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
        for i, h in enumerate(headers)
    ]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _printable(value: Any) -> str:
    text = "" if value is None else str(value)
    # Text from servers under investigation must not drive the terminal (escape codes).
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
