"""How a command's result reaches the terminal: JSON for scripts, text for people."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class CommandResult:
    """`data` is printed as JSON with --json; `text` is what a person reads otherwise.
    `exit_code` 1 means the command ran but found problems (verify, integrity)."""

    data: Any
    text: str
    exit_code: int = 0


def emit(result: CommandResult, as_json: bool) -> int:
    if as_json:
        json.dump(result.data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    elif result.text:
        print(result.text)
    return result.exit_code


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
