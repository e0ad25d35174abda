"""Reading evaluation sets: JSON lines, one object per line, checked line by line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


class EvalSetError(ValueError):
    """The evaluation file cannot be read, or a line is not what the format asks for."""


def read_jsonl(path: Path, valid: Callable[[object], bool], expected: str) -> list[tuple[int, dict]]:
    """``(line number, object)`` for every non-blank line of ``path``.

    ``valid(row)`` says whether a parsed line has the right shape; ``expected`` describes that
    shape for the error message. Raises :class:`EvalSetError` naming the file and line for a file
    that cannot be read, a line that is not JSON or not valid, and a file without lines.
    """
    rows: list[tuple[int, dict]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"Cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{number}: not JSON ({exc.msg}).") from exc
        if not valid(row):
            raise EvalSetError(f"{path}:{number}: expected {expected}.")
        rows.append((number, row))
    if not rows:
        raise EvalSetError(f"{path} has no evaluation lines.")
    return rows
