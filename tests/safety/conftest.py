"""A safety guard with its semantic layer, prepared once per test session (~5 s on 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from masterhall.hall import shared_encoders
from masterhall.safety import SafetyGuard

ROOT = Path(__file__).parents[2]


def read_set(path: Path) -> list[dict]:
    """The rows of a JSONL evaluation set."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def guard() -> SafetyGuard:
    g = SafetyGuard(shared_encoders()["use"])
    g.prepare()
    assert g.state == "ready", g.error_message
    return g
