"""System tests: whole processes, notebooks, benchmarks' smoke runs and fuzzing.

Each one is marked ``slow``, so ``pytest -m "not slow"`` is the quick loop while developing;
``make test`` runs them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)
